"""公摊 arithmetic: largest remainder, ties, zero weights, pro-rata by days occupied."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.billing.analysis.base import Period, parse_period
from hub.billing.sharing import (
    ShareError,
    ShareGroup,
    allocate,
    occupied_days,
    resolve_members,
    split_largest_remainder,
)
from hub.ledger.accounts import ACCOUNT_SCHEMA, Account

D = Decimal
OCT = Period.month(2026, 10)


def account(account_id: str, **extra: object) -> Account:
    return Account.from_config(ACCOUNT_SCHEMA({"id": account_id, **extra}))


def amounts(group: ShareGroup, cost: str, bases: dict[str, tuple[Decimal, int]]
            ) -> dict[str, Decimal]:
    return {line.account_id: line.amount for line in allocate(group, OCT, D(cost), bases)}


def test_100_yuan_by_area_30_30_40() -> None:
    group = ShareGroup("stairs", "area")
    shares = amounts(group, "100.00", {"r1": (D(30), 31), "r2": (D(30), 31), "r3": (D(40), 31)})
    assert shares == {"r1": D("30.00"), "r2": D("30.00"), "r3": D("40.00")}
    assert sum(shares.values()) == D("100.00")


def test_100_yuan_equally_the_extra_fen_goes_to_the_lowest_account_id() -> None:
    # 10000 fen / 3 = 3333 r 1 each: equal remainders, so the one fen left goes to the
    # smallest account id ("a1" < "b2" < "c3"), whatever order they come in.
    group = ShareGroup("stairs", "equal")
    shares = amounts(group, "100.00", {"c3": (D(1), 31), "a1": (D(1), 31), "b2": (D(1), 31)})
    assert shares == {"a1": D("33.34"), "b2": D("33.33"), "c3": D("33.33")}
    assert sum(shares.values()) == D("100.00")


def test_largest_remainders_win_before_ids() -> None:
    # 100 fen by 1:1:1:4 -> quotas 14.29, 14.29, 14.29, 57.14: floors 14,14,14,57 (99);
    # the largest remainder (.2857 of the first three) gets it, the first id among them.
    shares = split_largest_remainder(100, {"d": Fraction(4), "b": Fraction(1),
                                           "a": Fraction(1), "c": Fraction(1)})
    assert shares == {"a": 15, "b": 14, "c": 14, "d": 57}


def test_move_in_mid_month_pays_pro_rata_by_days() -> None:
    # r1 (30 m²) moved in on 17 October: 15 of 31 days, weight 30*15/31 = 450/31.
    # weights 450/31, 30, 40 -> sum 2620/31; quotas of 10000 fen: 1717.56, 3549.62,
    # 4732.82; floors 1717+3549+4732 = 9998; the 2 fen go to r3 (.82) and r2 (.62).
    tenant = account("r1", area=30, move_in="2026-10-17")
    assert occupied_days(tenant, OCT) == 15
    group = ShareGroup("stairs", "area")
    shares = amounts(group, "100.00", {"r1": (D(30), 15), "r2": (D(30), 31),
                                       "r3": (D(40), 31)})
    assert shares == {"r1": D("17.17"), "r2": D("35.50"), "r3": D("47.33")}
    assert sum(shares.values()) == D("100.00")


def test_occupied_days_of_move_in_and_out() -> None:
    assert occupied_days(account("a"), OCT) == 31
    assert occupied_days(account("a", move_out="2026-10-10"), OCT) == 10
    assert occupied_days(account("a", move_in="2026-10-31"), OCT) == 1
    assert occupied_days(account("a", move_in="2026-10-05", move_out="2026-10-06"), OCT) == 2
    assert occupied_days(account("a", move_out="2026-09-30"), OCT) == 0
    assert occupied_days(account("a", move_in="2026-11-01"), OCT) == 0


def test_consumption_split_is_not_pro_rated() -> None:
    group = ShareGroup("pump", "consumption")
    shares = amounts(group, "10.00", {"r1": (D("1.5"), 3), "r2": (D("3.5"), 31)})
    assert shares == {"r1": D("3.00"), "r2": D("7.00")}


def test_a_member_with_zero_weight_pays_nothing() -> None:
    group = ShareGroup("stairs", "persons")
    shares = amounts(group, "0.05", {"r1": (D(0), 31), "r2": (D(1), 31), "r3": (D(1), 31),
                                     "r4": (D(3), 0)})
    assert shares == {"r1": D("0.00"), "r2": D("0.03"), "r3": D("0.02"), "r4": D("0.00")}


def test_all_zero_weights_name_the_group() -> None:
    group = ShareGroup("stairs", "persons")
    with pytest.raises(ShareError, match=r"share group 'stairs'.*zero"):
        allocate(group, OCT, D("12.00"), {"r1": (D(0), 31), "r2": (D(2), 0)})


def test_a_zero_cost_splits_into_zeros_without_error() -> None:
    group = ShareGroup("stairs", "persons")
    assert amounts(group, "0.00", {"r1": (D(0), 31)}) == {"r1": D("0.00")}


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        split_largest_remainder(-1, {"a": Fraction(1)})
    with pytest.raises(ValueError):
        split_largest_remainder(1, {"a": Fraction(-1)})


def test_members_from_tags_of_accounts_and_of_their_meters() -> None:
    found = resolve_members(
        ["x9"], {"building": "A"},
        {"r1": {"building": "A"}, "r2": {}, "r3": {}, "r4": {"building": "B"}},
        [("r2", {"building": "A", "floor": "1"}), ("r3", {"building": "B"}),
         (None, {"building": "A"}), ("own", {"building": "A"})],
        common=["own"])
    assert found == ["r1", "r2", "x9"]


def test_periods() -> None:
    assert parse_period("2026-10") == OCT and OCT.days == 31 and OCT.label == "2026-10"
    assert parse_period("2026-02-28").end == date(2026, 3, 1)
    assert OCT.previous().label == "2026-09" and OCT.year_before().label == "2025-10"
    assert Period.month(2026, 1).previous().label == "2025-12"
    assert Period.day(date(2024, 2, 29)).year_before().start == date(2023, 2, 28)
    with pytest.raises(ValueError, match="2026-13"):
        parse_period("2026-13")


weights = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=3),
    st.fractions(min_value=0, max_value=10_000, max_denominator=1000), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(cost=st.integers(0, 10_000_000), weights=weights)
def test_shares_always_sum_exactly_to_the_cost(cost: int, weights: dict[str, Fraction]) -> None:
    if not any(weights.values()):
        with pytest.raises(ZeroDivisionError):
            split_largest_remainder(cost, weights)
        return
    shares = split_largest_remainder(cost, weights)
    assert sum(shares.values()) == cost
    whole = sum(weights.values())
    for key, share in shares.items():
        exact = cost * weights[key] / whole
        assert exact - 1 < share < exact + 1  # never more than one fen off the exact share
        if weights[key] == 0:
            assert share == 0
    assert split_largest_remainder(cost, dict(reversed(list(weights.items())))) == shares


@settings(max_examples=100, deadline=None)
@given(cost=st.decimals(min_value=0, max_value=100_000, places=2),
       areas=st.lists(st.decimals(min_value=0, max_value=500, places=2), min_size=1,
                      max_size=8),
       days=st.data())
def test_allocations_sum_to_the_cost_for_any_money(cost: Decimal, areas: list[Decimal],
                                                   days: st.DataObject) -> None:
    bases = {f"r{i:02d}": (area, days.draw(st.integers(0, 31))) for i, area in enumerate(areas)}
    group = ShareGroup("g", "area")
    if not any(area * d for area, d in bases.values()):
        if cost:
            with pytest.raises(ShareError):
                allocate(group, OCT, cost, bases)
        return
    lines = allocate(group, OCT, cost, bases)
    assert sum(line.amount for line in lines) == cost
    assert all(line.amount == line.amount.quantize(D("0.01")) for line in lines)
