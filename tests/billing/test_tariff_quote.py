"""``meterhub tariff quote`` in a real subprocess, against the shipped example tariffs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import yaml
from common import TZ, write
from tariff_support import build

from hub.billing.bills import MeterBilling, compute_bill
from hub.billing.charging import ChargeState, slice_usage
from hub.billing.periods import BillPeriod
from hub.billing.tariff import Occupancy
from hub.billing.tariffs import QuoteError, read_intervals

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "tariffs.yaml"

USAGE = """
start,end,kwh
2025-06-30T00:00,2025-07-01T00:00,24
2025-07-01T00:00,2025-07-01T12:00,12
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    write(tmp_path / "hub.yaml", f"""
        site: {{name: test, time_zone: Asia/Shanghai, language: en}}
        tariffs: !include {EXAMPLES}
    """)
    write(tmp_path / "usage.csv", USAGE)
    return tmp_path


def quote(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("METERHUB_")}
    return subprocess.run(
        [sys.executable, "-m", "hub", "tariff", "quote", *args, "-c", str(site / "hub.yaml")],
        cwd=site, env=env, capture_output=True, text=True, timeout=30, check=False)


def test_quote_a_tou_tariff(site: Path) -> None:
    result = quote(site, "guangdong_commercial_tou", "--intervals", str(site / "usage.csv"))
    assert result.returncode == 0, result.stderr
    # 30 June (normal day): valley 8, flat 9, peak 7; 1 July 00–12 (summer): valley 8, flat 2,
    # peak 1, sharp 1
    assert json.loads(result.stdout) == {
        "tariff": "guangdong_commercial_tou", "type": "tou", "unit": "kWh",
        "lines": [
            {"component": "energy", "key": "valley", "quantity": "16", "unit": "kWh",
             "unit_price": "0.247", "amount": "3.95", "price_from": None},
            {"component": "energy", "key": "flat", "quantity": "11", "unit": "kWh",
             "unit_price": "0.65", "amount": "7.15", "price_from": None},
            {"component": "energy", "key": "peak", "quantity": "8", "unit": "kWh",
             "unit_price": "1.105", "amount": "8.84", "price_from": None},
            {"component": "energy", "key": "sharp", "quantity": "1", "unit": "kWh",
             "unit_price": "1.38125", "amount": "1.38", "price_from": None},
        ],
        "total": "21.32",
    }


def test_quote_a_tiered_tariff_with_earlier_usage(site: Path) -> None:
    result = quote(site, "beijing_residential", "--intervals", str(site / "usage.csv"),
                   "--used", "2870")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    # 10 kWh left in tier 1 (4.883 → 4.88), 26 kWh in tier 2 (13.9958 → 14.00)
    assert [(line["key"], line["quantity"], line["amount"]) for line in body["lines"]] == [
        ("tier1", "10", "4.88"), ("tier2", "26", "14.00")]
    assert body["total"] == "18.88"


def test_quote_from_the_tariffs_file_itself(site: Path) -> None:
    """``-c config/tariffs.yaml`` (a list of tariffs, not a hub.yaml) works as given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("METERHUB_")}
    args = [sys.executable, "-m", "hub", "tariff", "quote", "beijing_residential",
            "--intervals", str(site / "usage.csv"), "-c", str(EXAMPLES), "--used", "2870"]
    result = subprocess.run(args, cwd=site, env=env, capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"] == "18.88"
    broken = write(site / "tariffs.yaml", "- {id: x, type: flat, unit: kWh, price: -1}\n")
    args[args.index(str(EXAMPLES))] = str(broken)
    result = subprocess.run(args, cwd=site, env=env, capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 1
    assert f"{broken}:1 tariffs[0].price：价格不能为负数，实际为 -1" in result.stderr


def test_quote_errors_name_the_problem(site: Path) -> None:
    unknown = quote(site, "nope", "--intervals", str(site / "usage.csv"))
    assert unknown.returncode == 1
    assert "error: unknown tariff 'nope' (tariffs: beijing_residential," in unknown.stderr
    bad = write(site / "bad.csv", "start,end,kwh\n2025-07-01T00:00,2025-07-01T01:00,1\n"
                "2025-07-01T01:00,2025-07-01T25:00,1\n")
    result = quote(site, "room_electricity", "--intervals", str(bad))
    assert result.returncode == 1
    assert f"error: {bad}:3: end '2025-07-01T25:00' is not an ISO time" in result.stderr
    early = write(site / "early.csv", "2024-12-31T23:00,2025-01-01T01:00,2\n")
    result = quote(site, "room_electricity", "--intervals", str(early))
    assert result.returncode == 1
    assert "error: tariff 'room_electricity' has no price valid at 2024-12-31T23:00:00+08:00" \
        in result.stderr


@pytest.mark.parametrize(("text", "message"), [
    ("2025-07-01T00:00,2025-07-02T00:00,Infinity\n",
     ":1: quantity 'Infinity' is not a finite number"),
    ("2025-07-01T00:00,2025-07-02T00:00,NaN\n", ":1: quantity 'NaN' is not a finite number"),
    ("2025-07-01T00:00,2025-07-02T00:00,1e400000000\n",
     ":1: quantity '1e400000000' is more than 1,000,000,000 (a typo?)"),
    ("2025-07-01T00:00,2025-07-02T00:00,-3\n", ":1: quantity '-3' is negative"),
    ("start,end,kwh,t3\n2025-07-01T00:00,2025-07-02T00:00,1,x\n",
     ":2: t3 'x' is not a number"),
    ("2025-07-01T00:00,2025-07-02T00:00,1,000\n",
     ":1: 4 values but 3 columns (start,end,quantity); write numbers without thousands"),
    ("July 1,2025-07-02T00:00,1\n",
     ":1: not a header of start,end,kwh (optionally t1..t63): unknown column(s) 'July 1'"),
    ("start,kwh\n2025-07-01T00:00,1\n",
     ":1: not a header of start,end,kwh (optionally t1..t63): start and end are both"),
    ("2025-07-01T00:00,2025-07-02T00:00,5\n2025-07-01T12:00,2025-07-03T00:00,1\n",
     ": line 2 (2025-07-01T12:00:00+08:00 – 2025-07-03T00:00:00+08:00) overlaps line 1 "
     "(2025-07-01T00:00:00+08:00 – 2025-07-02T00:00:00+08:00)"),
])
def test_usage_rows_that_cannot_be_priced_are_named(tmp_path: Path, text: str,
                                                     message: str) -> None:
    path = write(tmp_path / "usage.csv", text)
    with pytest.raises(QuoteError) as caught:
        read_intervals(path, TZ)
    assert f"{path}{message}" in str(caught.value)


def test_rows_out_of_order_are_sorted_and_trailing_empty_cells_ignored(tmp_path: Path) -> None:
    path = write(tmp_path / "usage.csv", "2025-07-02T00:00,2025-07-03T00:00,2,,\n"
                 "2025-07-01T00:00,2025-07-02T00:00,1\n")
    assert [(u.start.day, u.quantity, u.sources) for u in read_intervals(path, TZ)] == [
        (1, 1, ("line 2",)), (2, 2, ("line 1",))]


def test_quote_refuses_an_impossible_used_quantity(site: Path) -> None:
    for used in ("-500", "NaN"):
        result = quote(site, "beijing_residential", "--intervals", str(site / "usage.csv"),
                       "--used", used)
        assert result.returncode == 2
        assert f"argument --used: --used '{used}' is " in result.stderr


# --- a bill period's fixed fees and minimum charge --------------------------------------------

# room_electricity (config/tariffs.yaml): 0.60 until 30 June 2025, 0.62 from 1 July; fees
# service_fee 5.00 and meter_rent 2.00 a month; minimum charge 10.00 a month.
PERIOD_USAGE = """
start,end,kwh
2025-06-22T08:00,2025-06-22T09:00,2
2025-07-14T23:00,2025-07-15T01:00,2
"""


def rows(body: dict[str, Any]) -> list[tuple[str, str, str | None, str, str, str]]:
    return [(x["component"], x["key"], x["price_from"], x["quantity"], x["unit_price"],
             x["amount"]) for x in body["lines"]]


def as_bill(tariff_id: str, csv: Path, period: BillPeriod, settlement_day: int,
            occupancy: Occupancy) -> list[tuple[str, str, str | None, str]]:
    """The same usage charged and billed in-process (charge state, then compute_bill)."""
    entry = next(e for e in yaml.safe_load(EXAMPLES.read_text(encoding="utf-8"))
                 if e["id"] == tariff_id)
    tariff = build(entry)
    start, end = (datetime.combine(day, time(0), tzinfo=TZ) for day in (period.start, period.end))
    usage = [slice_usage(item, start, end) for item in read_intervals(csv, TZ)]
    state = ChargeState("m1", "a1", period)
    for line in tariff.charges(usage, occupancy=occupancy):
        state.apply(line, 1)
    bill = compute_bill(bill_id="b1", account_id="a1", account_name="A", kind="monthly",
                        billing="postpaid", period=period, settlement_day=settlement_day,
                        meters=[MeterBilling("m1", tariff, state)], occupancy=occupancy,
                        due_date=None)
    return [(x.component, x.key, x.price_from.isoformat() if x.price_from else None,
             str(x.amount)) for x in bill.lines] + [("total", "", None, str(bill.total))]


def test_quote_a_bill_period_with_fees_and_minimum(site: Path) -> None:
    csv = write(site / "period.csv", PERIOD_USAGE)
    result = quote(site, "room_electricity", "--intervals", str(csv),
                   "--period", "2025-06-15:2025-07-14", "--move-in", "2025-06-21")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["period"] == {"start": "2025-06-15", "end": "2025-07-14",
                              "move_in": "2025-06-21", "move_out": None}
    # Usage: 2 kWh on 22 June at 0.60; of the 2 kWh from 23:00 on 14 July to 01:00 on the
    # 15th only the hour inside the period, 1 kWh, at 0.62 (split as charging splits it).
    # Fees: the period 15 June – 14 July is one month of 30 days; occupied from 21 June: 10
    # days at the first price version (21–30 June) and 14 at the second (1–14 July):
    #   service_fee 5.00 × 10/30 = 1.666666667 → 1.67, × 14/30 = 2.333333333 → 2.33
    #   meter_rent  2.00 × 10/30 = 0.666666667 → 0.67, × 14/30 = 0.933333333 → 0.93
    # Minimum: 10.00 × (10 + 14)/30 = 8.00 over the occupied days; the lines add up to
    # 1.20 + 0.62 + 1.67 + 0.67 + 2.33 + 0.93 = 7.42, so the top-up is 0.58.
    assert rows(body) == [
        ("energy", "usage", "2025-01-01", "2", "0.60", "1.20"),
        ("energy", "usage", "2025-07-01", "1", "0.62", "0.62"),
        ("fixed", "service_fee", "2025-01-01", "0.333333333", "5.00", "1.67"),
        ("fixed", "meter_rent", "2025-01-01", "0.333333333", "2.00", "0.67"),
        ("fixed", "service_fee", "2025-07-01", "0.466666667", "5.00", "2.33"),
        ("fixed", "meter_rent", "2025-07-01", "0.466666667", "2.00", "0.93"),
        ("minimum", "minimum", None, "1", "0.58", "0.58"),
    ]
    assert body["total"] == "8.00"
    # exactly what a bill of that period has
    period = BillPeriod(date(2025, 6, 15), date(2025, 7, 15))
    assert [(c, k, p, a) for c, k, p, _q, _u, a in rows(body)] + [
        ("total", "", None, body["total"])] == as_bill(
        "room_electricity", csv, period, 15, Occupancy(date(2025, 6, 21), None))


def test_quote_a_final_bill_period(site: Path) -> None:
    csv = write(site / "final.csv", "2025-07-03T10:00,2025-07-03T11:00,1\n")
    result = quote(site, "room_electricity", "--intervals", str(csv),
                   "--period", "2025-07-01:2025-07-10", "--move-out", "2025-07-10")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    # 10 of July's 31 days: fees 5.00 × 10/31 = 1.612903226 → 1.61 and 2.00 × 10/31 =
    # 0.645161290 → 0.65; minimum 10.00 × 10/31 = 3.225806452 → 3.23; lines 0.62 + 1.61 +
    # 0.65 = 2.88, top-up 0.35
    assert [(x[0], x[1], x[5]) for x in rows(body)] == [
        ("energy", "usage", "0.62"), ("fixed", "service_fee", "1.61"),
        ("fixed", "meter_rent", "0.65"), ("minimum", "minimum", "0.35")]
    assert body["total"] == "3.23"
    period = BillPeriod(date(2025, 7, 1), date(2025, 7, 11))
    assert [(c, k, p, a) for c, k, p, _q, _u, a in rows(body)] + [
        ("total", "", None, body["total"])] == as_bill(
        "room_electricity", csv, period, 1, Occupancy(None, date(2025, 7, 10)))


def test_quote_a_settlement_day_31_period_counts_its_last_days(site: Path) -> None:
    csv = write(site / "late.csv", "2025-03-29T00:00,2025-03-31T00:00,2\n")
    result = quote(site, "room_electricity", "--intervals", str(csv),
                   "--period", "2025-02-28:2025-03-30", "--move-in", "2025-03-29")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    # 28 February – 30 March is settlement day 31's period: one month of 31 days, 2 of them
    # occupied: 5.00 × 2/31 → 0.32, 2.00 × 2/31 → 0.13, minimum 10.00 × 2/31 → 0.65
    assert [(x[0], x[1], x[5]) for x in rows(body)] == [
        ("energy", "usage", "1.20"), ("fixed", "service_fee", "0.32"),
        ("fixed", "meter_rent", "0.13")]
    assert body["total"] == "1.65"
    period = BillPeriod(date(2025, 2, 28), date(2025, 3, 31))
    assert [(c, k, p, a) for c, k, p, _q, _u, a in rows(body)] + [
        ("total", "", None, body["total"])] == as_bill(
        "room_electricity", csv, period, 31, Occupancy(date(2025, 3, 29), None))


def test_quote_period_problems_are_named(site: Path) -> None:
    csv = write(site / "period.csv", PERIOD_USAGE)
    alone = quote(site, "room_electricity", "--intervals", str(csv), "--move-in", "2025-06-21")
    assert alone.returncode == 1
    assert "error: --move-in and --move-out pro-rate a bill period: give --period too" \
        in alone.stderr
    long = quote(site, "room_electricity", "--intervals", str(csv),
                 "--period", "2025-06-15:2026-06-15")
    assert long.returncode == 2
    assert "lasts at most 12 bill months: from 2025-06-15 it ends by 2026-06-14, got " \
        "2026-06-15" in long.stderr
    outside = quote(site, "room_electricity", "--intervals", str(csv),
                    "--period", "2025-07-01:2025-07-31")
    assert outside.returncode == 1
    assert "error: line 2 (2025-06-22T08:00:00+08:00 – 2025-06-22T09:00:00+08:00) lies " \
        "outside the period 2025-07-01 – 2025-07-31" in outside.stderr
    away = quote(site, "room_electricity", "--intervals", str(csv),
                 "--period", "2025-06-15:2025-07-14", "--move-out", "2025-06-01")
    assert away.returncode == 1
    assert "does not live there in the period 2025-06-15 – 2025-07-14" in away.stderr


def test_quote_a_year_of_yearly_tiers_after_a_move_in(site: Path) -> None:
    csv = write(site / "year.csv", """
        start,end,kwh
        2025-07-10T00:00,2025-07-11T00:00,1000
        2025-10-10T00:00,2025-10-11T00:00,1000
    """)
    result = quote(site, "beijing_residential", "--intervals", str(csv),
                   "--period", "2025-01-01:2025-12-31", "--move-in", "2025-07-01")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    # 2880 kWh a year × 184 / 365 days occupied = 1451.84: July's 1000 kWh are tier 1; of
    # October's, 451.84 more fill tier 1 and 548.16 are tier 2 (the months count on)
    assert [(x["period"], x["key"], x["quantity"], x["amount"]) for x in body["lines"]] == [
        ("2025-07-01", "tier1", "1000", "488.30"),
        ("2025-10-01", "tier1", "451.84", "220.63"),
        ("2025-10-01", "tier2", "548.16", "295.07"),
    ]
    assert len(body["months"]) == 12
    assert body["months"][9] == {"start": "2025-10-01", "end": "2025-10-31", "total": "515.70"}
    assert body["total"] == "1004.00"


def test_quote_the_shanghai_crossing_month_by_hand(site: Path) -> None:
    csv = write(site / "july.csv", """
        start,end,kwh
        2025-07-01T00:00,2025-07-01T06:00,10
        2025-07-01T06:00,2025-07-01T22:00,10
    """)
    result = quote(site, "shanghai_residential_tou", "--intervals", str(csv), "--used", "3110")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    # July crosses 3120: peak 10 × 0.617 + valley 10 × 0.307 + the 10 kWh above 3120 × 0.05
    # = 9.74, as one line per band and tier
    assert [(x["key"], x["quantity"], x["unit_price"], x["amount"]) for x in body["lines"]] == [
        ("valley/tier1", "10", "0.307", "3.07"),
        ("peak/tier2/crossing", "10", "0.667", "6.67"),
    ]
    assert body["total"] == "9.74"
