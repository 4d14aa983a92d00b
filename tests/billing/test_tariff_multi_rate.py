"""multi_rate: prices on the meter's own tariff registers T1..T4 (and more)."""

from __future__ import annotations

import pytest
import voluptuous as vol
from tariff_support import D, build, history, lines_by_key, use

from hub.billing.tariff import TariffError

FOUR = {"id": "shop", "type": "multi_rate",
        "prices": {"sharp": "1.2", "peak": "1.0", "flat": "0.62", "valley": "0.3"}}


def test_each_register_at_its_price() -> None:
    lines = build(FOUR).charges([use("2025-03-01T00:00", "2025-04-01T00:00", "61.5",
                                     t1="1.5", t2="10", t3="20", t4="30")])
    assert lines_by_key(lines) == {"sharp": (D("1.5"), D("1.2"), D("1.80")),
                                   "peak": (D(10), D("1.0"), D("10.0")),
                                   "flat": (D(20), D("0.62"), D("12.40")),
                                   "valley": (D(30), D("0.3"), D("9.0"))}


def test_registers_are_split_in_time_at_a_price_change() -> None:
    tariff = build({"id": "shop", "type": "multi_rate", "versions": [
        {"valid_from": "2025-01-01", "prices": {"peak": "1.0", "valley": "0.3"}},
        {"valid_from": "2025-07-01", "prices": {"peak": "1.1", "valley": "0.4"}}]})
    lines = tariff.charges([use("2025-06-30T00:00", "2025-07-02T00:00", "30", t2="20", t4="10")])
    assert lines_by_key(lines) == {
        "peak@2025-01-01": (D(10), D("1.0"), D("10.0")),
        "valley@2025-01-01": (D(5), D("0.3"), D("1.5")),
        "peak@2025-07-01": (D(10), D("1.1"), D("11.0")),
        "valley@2025-07-01": (D(5), D("0.4"), D("2.0")),
    }


def test_named_band_on_an_explicit_register() -> None:
    tariff = build({"id": "deep", "type": "multi_rate",
                    "prices": {"deep_valley": "0.2", "flat": "0.6"},
                    "registers": {"deep_valley": "t5"}})
    lines = tariff.charges([use("2025-03-01T00:00", "2025-03-02T00:00", "3", t3="1", t5="2")])
    assert lines_by_key(lines) == {"deep_valley": (D(2), D("0.2"), D("0.4")),
                                   "flat": (D(1), D("0.6"), D("0.6"))}


def test_a_register_that_moved_without_a_price_is_an_error() -> None:
    tariff = build({"id": "three", "type": "multi_rate",
                    "prices": {"peak": "1.0", "flat": "0.6", "valley": "0.3"}})
    # the sharp register (T1) counted nothing: fine
    tariff.charges([use("2025-03-01T00:00", "2025-03-02T00:00", "3",
                        t1="0", t2="1", t3="1", t4="1")])
    with pytest.raises(TariffError, match="no price for register energy_import_t1"):
        tariff.charges([use("2025-03-01T00:00", "2025-03-02T00:00", "4",
                            t1="1", t2="1", t3="1", t4="1")])


def test_multi_rate_with_tier_surcharges() -> None:
    tariff = build({**FOUR, "tier_period": "yearly",
                    "tier_surcharges": [{"up_to": 100, "surcharge": 0}, {"surcharge": "0.05"}]})
    lines = tariff.charges([use("2025-03-01T00:00", "2025-04-01T00:00", "40",
                                t1="0", t2="10", t3="20", t4="10")],
                           history=history(y2025_01_01="90"))
    assert lines_by_key(lines)["tier_surcharge:tier2"] == (D(30), D("0.05"), D("1.50"))


def test_a_band_without_a_register_is_a_config_error() -> None:
    with pytest.raises(vol.Invalid, match="band 'deep_valley' needs the meter register"):
        build({"id": "x", "type": "multi_rate", "prices": {"deep_valley": "0.2"}})
    with pytest.raises(vol.Invalid, match="would share register t1 with band 'sharp'"):
        build({"id": "x", "type": "multi_rate", "prices": {"sharp": "1", "t1": "2"}})
