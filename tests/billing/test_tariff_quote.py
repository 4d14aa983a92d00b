"""``meterhub tariff quote`` in a real subprocess, against the shipped example tariffs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tariff_support import write

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "tariffs.yaml"

USAGE = """
start,end,kwh
2025-06-30T00:00,2025-07-01T00:00,24
2025-07-01T00:00,2025-07-01T12:00,12
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    write(tmp_path / "hub.yaml", f"""
        site: {{name: test, time_zone: Asia/Shanghai}}
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
