"""Amounts at the ledger's edge: what becomes fen, and which sign each kind of entry takes
(the one-fen boundaries, found by tools/mutate.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.ledger.entries import (
    CREDIT_KINDS,
    DEBIT_KINDS,
    EntryKind,
    LedgerError,
    check_sign,
    from_fen,
    to_fen,
)


@pytest.mark.parametrize("amount", [1.5, 150, "1.50", Decimal("Infinity"),
                                    Decimal("-Infinity"), Decimal("NaN")])
def test_only_a_finite_decimal_becomes_fen(amount: object) -> None:
    with pytest.raises(LedgerError, match="must be an exact decimal"):
        to_fen(amount)  # type: ignore[arg-type]


def test_fen_of_two_decimals_and_back() -> None:
    assert to_fen(Decimal("-0.01")) == -1 and to_fen(Decimal("12.3")) == 1230
    assert from_fen(-1) == Decimal("-0.01") and str(from_fen(1230)) == "12.30"
    with pytest.raises(LedgerError, match="more than 2 decimals"):
        to_fen(Decimal("0.001"))


@pytest.mark.parametrize("kind", sorted(DEBIT_KINDS))
def test_a_debit_of_one_fen_above_zero_is_refused(kind: EntryKind) -> None:
    check_sign(kind, -1)  # one fen owed: fine
    with pytest.raises(LedgerError, match="is a debit"):
        check_sign(kind, 1)


@pytest.mark.parametrize("kind", sorted(CREDIT_KINDS))
def test_a_credit_of_one_fen_below_zero_is_refused(kind: EntryKind) -> None:
    check_sign(kind, 1)
    with pytest.raises(LedgerError, match="is a credit"):
        check_sign(kind, -1)


@pytest.mark.parametrize("kind", list(EntryKind))
def test_no_kind_takes_zero(kind: EntryKind) -> None:
    with pytest.raises(LedgerError, match="other than 0"):
        check_sign(kind, 0)
