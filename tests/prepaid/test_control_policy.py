"""Property tests of the pure trip rules: policy.decide, daily times, refusals by holds."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.ledger import ProtectionWindows, Thresholds, TripMode
from hub.prepaid.policy import (
    WAIT_WINDOW,
    Decision,
    Hold,
    HoldKind,
    decide,
    manual_refusal,
    next_daily,
    postpaid_applies_at,
)

TZ = ZoneInfo("Asia/Shanghai")
NOW_MIN = datetime(2025, 1, 1, tzinfo=TZ)
NOW_MAX = datetime(2027, 12, 31, tzinfo=TZ)

moments = st.datetimes(min_value=NOW_MIN.replace(tzinfo=None),
                       max_value=NOW_MAX.replace(tzinfo=None)).map(
    lambda d: d.replace(tzinfo=TZ))
money = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False,
                    allow_infinity=False)
overdrafts = st.decimals(min_value=0, max_value=200, places=2)
times = st.times().map(lambda t: t.replace(microsecond=0))
holiday_sets = st.frozensets(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
                             max_size=20)
windows = st.builds(
    ProtectionWindows,
    nights=st.none() | st.tuples(times, times),
    weekends=st.booleans(),
    holidays=st.booleans(),
    dates=st.frozensets(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
                        max_size=5),
)


@st.composite
def holds(draw: st.DrawFn, kinds: tuple[HoldKind, ...] = tuple(HoldKind)) -> list[Hold]:
    """0..3 holds, each active or already ended relative to any moment in range."""
    out = []
    for _ in range(draw(st.integers(0, 3))):
        until = draw(st.none() | moments)
        out.append(Hold(draw(st.sampled_from(kinds)), "test", until))
    return out


def _active(items: list[Hold], now: datetime, kind: HoldKind) -> bool:
    return any(h.kind is kind and h.active(now) for h in items)


def _verdict(data: st.DataObject, *, balance: Decimal | None = None,
             hold_list: list[Hold] | None = None, mode: TripMode | None = None,
             postpaid: bool | None = None, delayed_due: bool | None = None) -> tuple[
                 Decimal, Thresholds, list[Hold], datetime, ProtectionWindows,
                 frozenset[date], Decision]:
    thresholds = Thresholds(overdraft=data.draw(overdrafts))
    value = balance if balance is not None else data.draw(money)
    items = hold_list if hold_list is not None else data.draw(holds())
    now = data.draw(moments)
    protection = data.draw(windows)
    days_off = data.draw(holiday_sets)
    verdict = decide(
        balance=value, thresholds=thresholds,
        mode=mode or data.draw(st.sampled_from(list(TripMode))),
        relay_open=data.draw(st.sampled_from([None, True, False])), holds=items, now=now,
        windows=protection, is_holiday=days_off.__contains__,
        is_workday=lambda day: False,
        delayed_due=data.draw(st.booleans()) if delayed_due is None else delayed_due,
        postpaid_overdue=postpaid)
    return value, thresholds, items, now, protection, days_off, verdict.decision


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_no_trip_above_the_trip_level_without_force_off(data: st.DataObject) -> None:
    value, thresholds, items, now, _w, _d, decision = _verdict(data)
    if value > thresholds.trip_level and not _active(items, now, HoldKind.FORCE_OFF):
        assert decision not in (Decision.TRIP, Decision.WAIT)


@settings(max_examples=300, deadline=None)
@given(st.data(), money)
def test_no_trip_above_the_trip_level_with_any_keep_on_hold_window_or_mode(
        data: st.DataObject, extra: Decimal) -> None:
    thresholds_floor = Decimal("0.01") + abs(extra)  # strictly above any trip level (<= 0)
    _v, _t, _items, _now, _w, _d, decision = _verdict(
        data, balance=thresholds_floor,
        hold_list=data.draw(holds(kinds=(HoldKind.KEEP_ON,))))
    assert decision not in (Decision.TRIP, Decision.WAIT)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_keep_on_never_trips(data: st.DataObject) -> None:
    items = data.draw(holds(kinds=(HoldKind.KEEP_ON,)))
    _v, _t, items, now, _w, _d, decision = _verdict(data, hold_list=items)
    if _active(items, now, HoldKind.KEEP_ON):
        assert decision is not Decision.TRIP
        assert decision is not Decision.WAIT


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_force_off_never_closes(data: st.DataObject) -> None:
    _v, _t, items, now, _w, _d, decision = _verdict(data)
    if _active(items, now, HoldKind.FORCE_OFF):
        assert decision in (Decision.TRIP, Decision.NOTHING)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_an_arrears_trip_is_never_inside_a_protection_window(data: st.DataObject) -> None:
    _v, _t, items, now, protection, days_off, decision = _verdict(data)
    if decision is Decision.TRIP and not _active(items, now, HoldKind.FORCE_OFF):
        assert not protection.protects(now, days_off.__contains__, lambda day: False)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_never_mode_only_alarms(data: st.DataObject) -> None:
    _v, _t, items, now, _w, _d, decision = _verdict(data, mode=TripMode.NEVER)
    if not _active(items, now, HoldKind.FORCE_OFF):
        assert decision in (Decision.NOTHING, Decision.CLOSE)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_delayed_mode_trips_only_at_its_check(data: st.DataObject) -> None:
    _v, _t, items, now, _w, _d, decision = _verdict(data, mode=TripMode.DELAYED,
                                                   delayed_due=False)
    if not _active(items, now, HoldKind.FORCE_OFF):
        assert decision is not Decision.TRIP


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_postpaid_not_overdue_never_trips_whatever_the_balance(data: st.DataObject) -> None:
    _v, _t, items, now, _w, _d, decision = _verdict(data, postpaid=False)
    if not _active(items, now, HoldKind.FORCE_OFF):
        assert decision not in (Decision.TRIP, Decision.WAIT)


def test_arrears_in_immediate_mode_trips_and_a_window_defers_to_its_end() -> None:
    thresholds = Thresholds()
    night = ProtectionWindows(nights=(time(22), time(7)))
    common = {"balance": Decimal("-0.01"), "thresholds": thresholds,
              "mode": TripMode.IMMEDIATE, "relay_open": False, "holds": [],
              "windows": night, "is_holiday": lambda d: False, "is_workday": lambda d: False}
    day = decide(now=datetime(2026, 3, 2, 12, tzinfo=TZ), **common)  # type: ignore[arg-type]
    assert day.decision is Decision.TRIP
    late = decide(now=datetime(2026, 3, 2, 23, tzinfo=TZ), **common)  # type: ignore[arg-type]
    assert late.decision is Decision.WAIT and late.reason == WAIT_WINDOW
    assert late.retry_at == datetime(2026, 3, 3, 7, tzinfo=TZ)


@settings(max_examples=300, deadline=None)
@given(moments, times)
def test_next_daily_is_the_next_local_occurrence(now: datetime, at: time) -> None:
    due = next_daily(now, at)
    assert now < due <= now + timedelta(days=1)
    local = due.astimezone(TZ)
    assert local.time() == at


def test_postpaid_policy_starts_after_the_last_grace_day() -> None:
    now = datetime(2026, 3, 1, tzinfo=TZ)
    assert postpaid_applies_at(date(2026, 3, 10), 5, now) == datetime(2026, 3, 16, tzinfo=TZ)
    assert postpaid_applies_at(date(2026, 3, 10), 0, now) == datetime(2026, 3, 11, tzinfo=TZ)


@settings(max_examples=200, deadline=None)
@given(holds(), moments)
def test_manual_refusals_follow_the_holds(items: list[Hold], now: datetime) -> None:
    close = manual_refusal(Decision.CLOSE, items, now)
    trip = manual_refusal(Decision.TRIP, items, now)
    assert (close is not None) == _active(items, now, HoldKind.FORCE_OFF)
    assert (trip is not None) == _active(items, now, HoldKind.KEEP_ON)
    if close is not None:
        assert "force-off" in close
