"""Tier prices per band (Shanghai's 阶梯+峰谷) and the rules for the month that crosses a tier."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import voluptuous as vol
from tariff_support import SHANGHAI, D, build, history, lines_by_key, rounded_total, use

from hub.billing.tariff import round_fen


def sh(**changes: Any) -> dict[str, Any]:
    return {**SHANGHAI, **changes}


# 1 July 2025: 10 kWh in the valley (00–06), then 10 kWh at peak (06–22), 3110 already used:
# the valley's 10 kWh fill tier 1 up to 3120, the peak's 10 kWh are all above it.
NIGHT_THEN_DAY = [use("2025-07-01T00:00", "2025-07-01T06:00", "10"),
                  use("2025-07-01T06:00", "2025-07-01T22:00", "10")]


def rounded(lines: Any) -> dict[str, Decimal]:
    return {key: round_fen(amount) for key, (_q, _p, amount) in lines_by_key(lines).items()}


def test_one_line_per_band_and_tier_at_the_band_price_plus_its_surcharge() -> None:
    # 24 kWh over one day, 1 kWh an hour, 3110 used before: 00–06 valley 6 and 06–10 peak 4
    # reach 3120; then 10–22 peak 12 and 22–24 valley 2 are tier 2
    lines = build(SHANGHAI).charges([use("2025-08-01T00:00", "2025-08-02T00:00", "24")],
                                    history=history(y2025_01_01="3110"))
    assert lines_by_key(lines) == {
        "valley/tier1": (D(6), D("0.307"), D("1.842")),
        "peak/tier1": (D(4), D("0.617"), D("2.468")),
        "peak/tier2": (D(12), D("0.677"), D("8.124")),
        "valley/tier2": (D(2), D("0.337"), D("0.674")),
    }
    assert all(line.component == "energy" for line in lines)  # no separate surcharge lines
    assert rounded_total(lines) == D("13.10")  # 1.84 + 2.47 + 8.12 + 0.67


def test_tier_prices_per_band_are_the_same_as_surcharges_per_band() -> None:
    as_prices = sh(tier_surcharges=[
        {"up_to": 3120, "surcharge": 0},
        {"up_to": 4800, "prices": {"peak": "0.677", "valley": "0.337"}},
        {"prices": {"peak": "0.977", "valley": "0.487"}}])
    usage = [use("2025-08-01T00:00", "2025-08-02T00:00", "24")]
    spent = history(y2025_01_01="4790")
    assert lines_by_key(build(as_prices).charges(usage, history=spent)) \
        == lines_by_key(build(SHANGHAI).charges(usage, history=spent))
    # 4790 used: 00–06 valley 6 and 06–10 peak 4 in tier 2, the rest tier 3
    assert lines_by_key(build(SHANGHAI).charges(usage, history=spent))["peak/tier3"] \
        == (D(12), D("0.977"), D("11.724"))


def test_time_order_the_default_fills_tiers_in_the_order_used() -> None:
    lines = build(SHANGHAI).charges(NIGHT_THEN_DAY, history=history(y2025_01_01="3110"))
    assert rounded(lines) == {"valley/tier1": D("3.07"), "peak/tier2": D("6.77")}
    assert rounded_total(lines) == D("9.84")  # 10 × 0.307 + 10 × 0.677


def test_shanghai_the_crossing_month_at_tier_1_prices_plus_a_flat_surcharge() -> None:
    # by hand, the published rule: peak 10 × 0.617 + valley 10 × 0.307 = 9.24, and the 10 kWh
    # above 3120 pay 0.05 each = 0.50: 9.74
    lines = build(sh(crossing_month="shanghai")).charges(NIGHT_THEN_DAY,
                                                       history=history(y2025_01_01="3110"))
    assert lines_by_key(lines) == {
        "valley/tier1": (D(10), D("0.307"), D("3.070")),
        "peak/tier2/crossing": (D(10), D("0.667"), D("6.670")),
    }
    assert rounded_total(lines) == D("9.74")


def test_shanghai_from_the_next_month_on_the_per_band_surcharges() -> None:
    tariff = build(sh(crossing_month="shanghai"))
    # July crossed 3120; in August the tier-2 kWh pay 0.06 at peak and 0.03 in the valley
    lines = tariff.charges([use("2025-08-01T00:00", "2025-08-01T06:00", "10"),
                            use("2025-08-01T06:00", "2025-08-01T22:00", "10")],
                           history=history(y2025_01_01="3130"))
    assert rounded(lines) == {"valley/tier2": D("3.37"), "peak/tier2": D("6.77")}


def test_shanghai_knows_the_month_start_from_a_history_that_tells_it() -> None:
    """Readings are charged one by one: the history holds this month's earlier readings."""

    class Months:
        def __call__(self, period_start: date) -> Decimal:
            return D(3125)  # 3110 before July, 15 in July so far

        def before(self, period_start: date, month: date) -> Decimal:
            assert (period_start, month) == (date(2025, 1, 1), date(2025, 7, 1))
            return D(3110)

    lines = build(sh(crossing_month="shanghai")).charges(
        [use("2025-07-20T08:00", "2025-07-20T09:00", "5")], history=Months())
    # July is the month that crossed 3120: its tier-2 kWh pay the flat 0.05
    assert lines_by_key(lines) == {"peak/tier2/crossing": (D(5), D("0.667"), D("3.335"))}


def test_shanghai_a_month_entering_tier_3_pays_its_flat_surcharge_there_only() -> None:
    lines = build(sh(crossing_month="shanghai")).charges(NIGHT_THEN_DAY,
                                                       history=history(y2025_01_01="4790"))
    # tier 2 was entered in an earlier month (per band: valley + 0.03); tier 3 this month
    assert lines_by_key(lines) == {
        "valley/tier2": (D(10), D("0.337"), D("3.370")),
        "peak/tier3/crossing": (D(10), D("0.917"), D("9.170")),
    }


def test_proportional_spreads_the_months_tiers_over_its_bands() -> None:
    # the month used 20 kWh, half valley, half peak; 10 of them are tier 1 and 10 tier 2, so
    # each band has 5 kWh in each tier: 5 × 0.307 + 5 × 0.617 + 5 × 0.337 + 5 × 0.677 = 9.69
    lines = build(sh(crossing_month="proportional")).charges(
        NIGHT_THEN_DAY, history=history(y2025_01_01="3110"))
    assert lines_by_key(lines) == {
        "valley/tier1": (D(5), D("0.307"), D("1.535")),
        "peak/tier1": (D(5), D("0.617"), D("3.085")),
        "valley/tier2": (D(5), D("0.337"), D("1.685")),
        "peak/tier2": (D(5), D("0.677"), D("3.385")),
    }
    assert rounded_total(lines) == D("9.71")  # each line rounded half-up: 1.54 3.09 1.69 3.39


def test_proportional_prices_each_month_on_its_own() -> None:
    tariff = build(sh(crossing_month="proportional"))
    # July: 10 valley, reaching 3120 exactly; August: 10 valley + 10 peak, all tier 2
    lines = tariff.charges([use("2025-07-31T00:00", "2025-07-31T06:00", "10"),
                            *[use(u.start.isoformat()[:16].replace("07-01", "08-01"),
                                  u.end.isoformat()[:16].replace("07-01", "08-01"),
                                  u.quantity) for u in NIGHT_THEN_DAY]],
                           history=history(y2025_01_01="3110"))
    assert rounded(lines) == {"valley/tier1": D("3.07"), "valley/tier2": D("3.37"),
                              "peak/tier2": D("6.77")}


def test_register_based_tiers_spread_over_the_registers() -> None:
    tariff = build({"id": "sh_meter", "type": "multi_rate",
                    "prices": {"peak": "0.617", "valley": "0.307"},
                    "tier_period": "yearly", "tier_surcharges": SHANGHAI["tier_surcharges"]})
    # the meter counted 30 peak (t2) and 10 valley (t4); 3100 used: 20 tier 1, 20 tier 2
    lines = tariff.charges([use("2025-07-01T00:00", "2025-07-02T00:00", "40", t2="30",
                                t4="10")], history=history(y2025_01_01="3100"))
    assert lines_by_key(lines) == {
        "peak/tier1": (D(15), D("0.617"), D("9.255")),
        "valley/tier1": (D(5), D("0.307"), D("1.535")),
        "peak/tier2": (D(15), D("0.677"), D("10.155")),
        "valley/tier2": (D(5), D("0.337"), D("1.685")),
    }


def test_a_move_in_pro_rates_the_thresholds_of_band_tiers() -> None:
    from hub.billing.tariff import Occupancy

    # moving in on 1 July 2025: 3120 × 184 / 365 = 1572.82
    lines = build(SHANGHAI).charges([use("2025-07-01T06:00", "2025-07-01T22:00", "10")],
                                    history=history(y2025_01_01="1570"),
                                    occupancy=Occupancy(move_in=date(2025, 7, 1)))
    assert {key: value[0] for key, value in lines_by_key(lines).items()} \
        == {"peak/tier1": D("2.82"), "peak/tier2": D("7.18")}


@pytest.mark.parametrize(("changes", "path", "message"), [
    ({"tier_surcharges": [{"up_to": 3120, "surcharge": 0},
                          {"surcharge": {"peak": "0.06"}}]},
     ["tier_surcharges", 1, "surcharge"], "no surcharge for band 'valley'"),
    ({"tier_surcharges": [{"up_to": 3120, "surcharge": 0},
                          {"surcharge": {"peak": "0.06", "valley": "0.03", "flat": "0.1"}}]},
     ["tier_surcharges", 1, "surcharge", "flat"], "band 'flat' has no price under prices"),
    ({"tier_surcharges": [{"up_to": 3120, "surcharge": 0},
                          {"surcharge": {"peak": "-0.06", "valley": "0.03"}}]},
     ["tier_surcharges", 1, "surcharge", "peak"], "a price cannot be negative"),
    ({"tier_surcharges": [{"up_to": 3120, "surcharge": 0},
                          {"surcharge": "0.05", "prices": {"peak": "1", "valley": "1"}}]},
     ["tier_surcharges", 1], "not both"),
    ({"crossing_month": "shanghai",
      "tier_surcharges": [{"up_to": 3120, "surcharge": 0},
                          {"surcharge": {"peak": "0.06", "valley": "0.03"}}]},
     ["tier_surcharges", 1], "crossing_month: shanghai needs the tier's flat surcharge"),
    ({"crossing_month": "shanghai", "tier_surcharges": [{"up_to": 3120, "surcharge": 0},
                                                        {"surcharge": "0.05"}]},
     ["crossing_month"], "applies to tier surcharges per band"),
    ({"crossing_month": "by_hand"}, ["crossing_month"], "expected one of"),
])
def test_wrong_band_tiers_are_named_where_they_are(changes: dict[str, Any], path: list[Any],
                                                   message: str) -> None:
    with pytest.raises(vol.Invalid) as caught:
        build(sh(**changes))
    errors = caught.value.errors if isinstance(caught.value, vol.MultipleInvalid) \
        else [caught.value]
    found = [([getattr(p, "schema", p) for p in e.path], e.error_message) for e in errors]
    assert any(where == path and message in text for where, text in found), found


def test_charging_history_tells_the_months_before_one() -> None:
    from common import TZ

    from hub.billing.charging import TierUsage

    tiers = TierUsage({"2025-05": D(3000), "2025-06": D(110), "2025-07": D(15)}, TZ)
    yearly = tiers.history("yearly")
    assert yearly(date(2025, 1, 1)) == D(3125)
    assert yearly.before(date(2025, 1, 1), date(2025, 7, 1)) == D(3110)  # type: ignore[attr-defined]
    assert tiers.history("monthly").before(  # type: ignore[attr-defined]
        date(2025, 7, 1), date(2025, 7, 1)) == D(0)


def test_check_config_names_a_wrong_band_tier_at_its_line(tmp_path: Any) -> None:
    from common import line_of, write
    from tariff_support import MODELS_PLUGIN

    from hub.bootstrap import prepare

    write(tmp_path / "hub.yaml", "site: {name: t, time_zone: Asia/Shanghai}\n"
          "plugins: {dirs: [plugins]}\ntariffs: !include tariffs.yaml\n")
    write(tmp_path / "plugins" / "tariff_test_models.py", MODELS_PLUGIN)
    path = write(tmp_path / "tariffs.yaml", """
        - id: sh
          type: tou
          prices: {peak: 0.617, valley: 0.307}
          schedules: {day: [{start: "00:00", band: valley}, {start: "06:00", band: peak}]}
          tier_period: yearly
          tier_surcharges:
            - {up_to: 3120, surcharge: 0}
            - {up_to: 4800, surcharge: {peak: 0.06, valey: 0.03}}
            - {surcharge: {peak: 0.36, valley: 0.18}}
    """)
    found = [str(problem) for problem in prepare(tmp_path / "hub.yaml").problems]
    where = f"tariffs.yaml:{line_of(path, 'valey: 0.03')} tariffs[0].tier_surcharges[1]"
    assert any(text.startswith(f"{where}.surcharge: no surcharge for band 'valley' (every "
                               "priced band needs one: peak, valley)") for text in found), found
    assert f"{where}.surcharge.valey: band 'valey' has no price under prices (bands: peak, " \
        "valley), got 0.03" in found, found
    assert len(found) == 2, found


def test_a_move_out_re_tiers_band_tiers_by_the_periods_band_usage() -> None:
    from common import TZ

    from hub.billing.bills import band_totals, move_out_tier_lines
    from hub.billing.charging import ChargeState
    from hub.billing.periods import BillPeriod
    from hub.billing.tariff import Occupancy

    tariff = build(SHANGHAI)
    state = ChargeState("m1", "a1", BillPeriod(date(2025, 6, 1), date(2025, 7, 1)))
    for line in tariff.charges([use("2025-06-01T00:00", "2025-06-01T06:00", "500"),
                                use("2025-06-01T06:00", "2025-06-01T22:00", "1500")]):
        state.apply(line, 1)
    bands = band_totals("sh", [state], date(2025, 1, 1), date(2026, 1, 1))
    assert bands == {"valley": D(500), "peak": D(1500)}
    lines = move_out_tier_lines(
        meter_id="m1", tariff=tariff, parts=[(date(2025, 1, 1), D(2000))],
        tier_start=date(2025, 1, 1), charged_with=None,
        final=Occupancy(None, date(2025, 6, 30)), tz=TZ, bands=bands)
    # 3120 × 181 / 365 = 1547.18: 452.82 kWh move to tier 2, spread 1 : 3 over valley and
    # peak: 113.205 valley and 339.615 peak kWh pay 0.03 and 0.06 more
    assert {(line.key, line.quantity, line.amount) for line in lines} == {
        ("valley/tier1", D("-113.205"), D("-34.75")),
        ("valley/tier2", D("113.205"), D("38.15")),
        ("peak/tier1", D("-339.615"), D("-209.54")),
        ("peak/tier2", D("339.615"), D("229.92")),
    }
    assert sum(line.amount for line in lines) == D("23.78")  # 23.77305 exact


@pytest.mark.parametrize("rule", ["time_order", "shanghai"])
def test_readings_charged_one_by_one_add_up_to_the_month_priced_at_once(rule: str) -> None:
    """As charging does: each reading priced with the tier history of the months so far."""
    from common import TZ

    from hub.billing.charging import TierUsage

    tariff = build(sh(crossing_month=rule))
    readings = [use(f"2025-07-{day:02d}T{hour:02d}:00", f"2025-07-{day:02d}T{hour + 4:02d}:00",
                    "7.5") for day in (1, 2, 3) for hour in (2, 10, 16)]
    readings += [use("2025-08-01T10:00", "2025-08-01T14:00", "8")]
    tiers = TierUsage({"2025-06": D(3100)}, TZ)
    one_by_one: dict[str, Decimal] = {}
    for reading in readings:
        for line in tariff.charges([reading], history=tiers.history("yearly")):
            one_by_one[line.key] = one_by_one.get(line.key, D(0)) + line.amount
        tiers.add(reading, 1)
    at_once = {line.key: line.amount
               for line in tariff.charges(readings, history=history(y2025_01_01="3100"))}
    assert one_by_one == at_once
    # July crossed 3120 (67.5 kWh on top of 3100); August pays the per-band surcharge
    assert ("peak/tier2/crossing" in at_once) == (rule == "shanghai")
    assert "peak/tier2" in at_once
