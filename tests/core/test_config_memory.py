"""Validated amounts are shared: 10,000 accounts with the same limits hold one Decimal each."""

from __future__ import annotations

from decimal import Decimal

import pytest
import voluptuous as vol

from hub import validation as cv


def test_the_same_amount_is_one_object_whatever_it_was_written_as() -> None:
    first = cv.money("5000")
    assert first == Decimal("5000.00") and str(first) == "5000.00"
    assert cv.money(5000) is first
    assert cv.money(Decimal("5000.0")) is first
    assert cv.money("5000.00") is first


def test_sharing_keeps_the_exact_amount_and_sign() -> None:
    assert str(cv.money("-0")) == "-0.00" and str(cv.money("0")) == "0.00"
    assert str(cv.money("12.5")) == "12.50"
    with pytest.raises(vol.Invalid, match="at most 2 decimals"):
        cv.money("1.005")
    # beyond the table's size amounts are still right, only not shared
    amounts = [cv.money(str(n)) for n in range(10_000, 10_000 + 5000)]
    assert [str(amount) for amount in amounts[-3:]] == ["14997.00", "14998.00", "14999.00"]
    assert len(cv._AMOUNTS) <= cv._MAX_SHARED_AMOUNTS  # a bounded table
