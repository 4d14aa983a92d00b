"""Tariff YAML through the real loader: every problem named with file:line and key path."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from common import collect, line_of, wait_for, write
from tariff_support import MODELS_PLUGIN, use

from hub.billing import tariffs as tariffs_plugin
from hub.billing.tariff import TariffError
from hub.billing.tariffs import TariffBook
from hub.bootstrap import prepare
from hub.core import Hub
from hub.events import EventCatalog
from hub.util.calendar import holidays_version, newest_official_year

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "config" / "tariffs.yaml"

HUB = """
site: {name: test, time_zone: Asia/Shanghai}
plugins: {dirs: [plugins]}
links: [{id: bus1, type: tariff_test_link}]
meters: !include meters.yaml
tariffs: !include tariffs.yaml
"""

BAD_TARIFFS = """
- id: overlap
  type: tou
  prices: {peak: 1.0, valley: 0.3}
  schedules:
    day:
      - {start: "00:00", band: valley}
      - {start: "08:00", band: peak}
      - {start: "08:00", band: valley}
- id: gaps
  type: tou
  prices: {peak: 1.0, valley: 0.3}
  schedules:
    day:
      - {start: "06:00", band: valley}
      - {start: "08:00", end: "11:00", band: peak}
      - {start: "12:00", band: valley}
- id: unsorted
  type: tou
  prices: {peak: 1.0, valley: 0.3}
  schedules:
    day:
      - {start: "00:00", band: valley}
      - {start: "08:00", end: "12:00", band: peak}
      - {start: "07:00", band: valley}
- id: fifteen
  type: tou
  prices: {peak: 1.0, valley: 0.3}
  schedules:
    day: [{start: "00:00", band: valley}, {start: "01:00", band: peak},
          {start: "02:00", band: valley}, {start: "03:00", band: peak},
          {start: "04:00", band: valley}, {start: "05:00", band: peak},
          {start: "06:00", band: valley}, {start: "07:00", band: peak},
          {start: "08:00", band: valley}, {start: "09:00", band: peak},
          {start: "10:00", band: valley}, {start: "11:00", band: peak},
          {start: "12:00", band: valley}, {start: "13:00", band: peak},
          {start: "14:00", band: valley}]
- id: zones
  type: tou
  prices: {peak: 1.0, valley: 0.3}
  schedules:
    normal: [{start: "00:00", band: valley}]
    summer: [{start: "00:00", band: peek}]
  zones:
    - {start: "01-01", schedule: normal}
    - {start: "07-01", schedule: sumer}
- id: tiers
  type: tiered
  tier_period: yearly
  tiers:
    - {up_to: 2880, price: 0.4883}
    - {up_to: 2000, price: 0.5383}
    - {price: 0.7883}
- id: negative
  type: flat
  price: -0.5
- id: typo
  type: flatt
- id: water_tou
  type: tou
  unit: m3
  prices: {flat: 1}
  schedules: {day: [{start: "00:00", band: flat}]}
- id: versions
  type: flat
  versions:
    - {valid_from: 2025-07-01, price: 0.62}
    - {valid_from: 2025-01-01, price: 0.60, prise: 1}
- id: gap_between_versions
  type: flat
  versions:
    - {valid_from: 2025-01-01, valid_until: 2025-03-31, price: 0.60}
    - {valid_from: 2025-05-01, price: 0.62}
- id: order_and_price
  type: tiered
  tier_period: yearly
  tiers: [{up_to: 4800, price: 0.5}, {up_to: 2880, price: 0.6}, {price: -0.7}]
- id: gap_between_versions
  type: flat
  price: abc
- id: version_drops_a_band
  type: tou
  prices: {peak: 1.0, flat: 0.6, valley: 0.3}
  schedules:
    day: [{start: "00:00", band: valley}, {start: "08:00", band: peak}]
  versions:
    - {valid_from: 2025-01-01}
    - {valid_from: 2025-07-01, prices: {peak: 1.1, flat: 0.55}}
- id: dates_and_a_bad_version
  type: flat
  versions:
    - {valid_from: 2025-07-01, price: 0.62}
    - {valid_from: 2025-01-01, price: 0.60}
    - {valid_from: 2025-09-01, price: abc}
- id: base_price_bad
  type: flat
  price: -1
  versions:
    - {valid_from: 2024-01-01}
    - {valid_from: 2025-01-01, price: 1.00}
"""


def problems_of(folder: Path) -> list[str]:
    return [str(problem) for problem in prepare(folder / "hub.yaml").problems]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    write(tmp_path / "hub.yaml", HUB)
    write(tmp_path / "plugins" / "tariff_test_models.py", MODELS_PLUGIN)
    write(tmp_path / "meters.yaml", "[]\n")
    return tmp_path


def test_bad_tariffs_are_reported_with_file_line_and_path(site: Path) -> None:
    path = write(site / "tariffs.yaml", BAD_TARIFFS)
    found = problems_of(site)

    def at(needle: str, occurrence: int = 1) -> str:
        return f"tariffs.yaml:{line_of(path, needle, occurrence)} "

    expected = [
        at('{start: "08:00", band: valley}') + "tariffs[0].schedules.day[2].start: overlap: "
        "starts at the same time as the previous segment, got 08:00",
        at('{start: "06:00", band: valley}') + "tariffs[1].schedules.day[0].start: gap: "
        "00:00–06:00 is not covered (the first segment must start at 00:00), got 06:00",
        at('end: "11:00"') + "tariffs[1].schedules.day[1].end: gap: 11:00–12:00 is not "
        "covered (the next segment starts at 12:00), got 11:00",
        at('{start: "07:00", band: valley}') + "tariffs[2].schedules.day[2].start: overlap: "
        "starts before the previous segment's start 08:00 (list segments in time order), "
        "got 07:00",
        at("day: [{start") + "tariffs[3].schedules.day: at most 14 segments in a day "
        "schedule (DL/T 645), this one has 15",
        at("band: peek") + "tariffs[4].schedules.summer[0].band: this band has no price "
        "(prices: peak, valley), got 'peek'",
        at("schedule: sumer") + "tariffs[4].zones[1].schedule: unknown schedule (schedules: "
        "normal, summer), got 'sumer'",
        at("up_to: 2000") + "tariffs[5].tiers[1].up_to: tiers out of order: up_to must be "
        "above the previous tier's 2880 (list tiers from low to high), got 2000",
        at("price: -0.5") + "tariffs[6].price: a price cannot be negative, got -0.5",
        at("type: flatt") + "tariffs[7].type: unknown tariff type (known: flat, multi_rate, "
        "tiered, tou), got 'flatt'",
        at("unit: m3") + "tariffs[8].unit: expected one of kWh, got 'm3'",
        at("valid_from: 2025-01-01") + "tariffs[9].versions[1].valid_from: valid_from must be "
        "after the previous version's 2025-07-01 (list versions oldest first), got 2025-01-01",
        at("prise: 1") + "tariffs[9].versions[1].prise: unknown key 'prise' (did you mean "
        "'price'?)",
        at("valid_until: 2025-03-31") + "tariffs[10].versions[0].valid_until: gap: "
        "2025-04-01 – 2025-04-30 would have no price (the next version is valid from "
        "2025-05-01; end this one on 2025-04-30 or leave valid_until out), got 2025-03-31",
        # one mistake does not hide another in the same list
        at("up_to: 4800") + "tariffs[11].tiers[2].price: a price cannot be negative, got -0.7",
        at("up_to: 4800") + "tariffs[11].tiers[1].up_to: tiers out of order: up_to must be "
        "above the previous tier's 4800 (list tiers from low to high), got 2880",
        at("price: abc") + "tariffs[12].price: expected a number, got 'abc'",
        at("id: gap_between_versions", 2) + "tariffs[12].id: duplicate id "
        "'gap_between_versions' (first used at item 10), got 'gap_between_versions'",
        # a mistake that only a version's own keys make is named at the version
        at("prices: {peak: 1.1") + "tariffs[13].versions[1].schedules.day[0].band: this band "
        "has no price (prices: flat, peak), got 'valley'",
        at("price: abc}") + "tariffs[14].versions[2].price: expected a number, got 'abc'",
        at("valid_from: 2025-01-01, price: 0.60}") + "tariffs[14].versions[1].valid_from: "
        "valid_from must be after the previous version's 2025-07-01 (list versions oldest "
        "first), got 2025-01-01",
        # the base entry's own mistake stays at the base, even when a version overrides it
        at("price: -1") + "tariffs[15].price: a price cannot be negative, got -1",
    ]
    for line in expected:
        assert line in found, f"missing: {line}\nfound:\n" + "\n".join(found)
    assert len(found) == len(expected), "\n".join(found)


def test_meters_must_name_a_tariff_that_suits_them(site: Path) -> None:
    write(site / "tariffs.yaml", f"!include {EXAMPLES}\n")
    meters = write(site / "meters.yaml", """
        - {id: r101_e, model: tt_elec, link: bus1, address: "1", tariff: beijing_residentail}
        - {id: r101_w, model: tt_water, link: bus1, address: "2", tariff: beijing_residential}
        - {id: r102_e, model: tt_elec, link: bus1, address: "3", tariff: guangdong_commercial_4rate}
        - {id: r103_e, model: tt_tou, link: bus1, address: "4", tariff: guangdong_commercial_4rate}
        - {id: r104_e, model: tt_elec, link: bus1, address: "5"}
        - {id: r104_w, model: tt_water, link: bus1, address: "6", tariff: beijing_water}
    """)
    found = problems_of(site)
    assert found == [
        f"meters.yaml:{line_of(meters, 'r101_e')} meters[0].tariff: unknown tariff "
        "'beijing_residentail' (tariffs: beijing_residential, beijing_residential_tou, "
        "beijing_water, guangdong_commercial_4rate, guangdong_commercial_tou, park_shop_tou, "
        "room_electricity, shanghai_residential_tou)",
        f"meters.yaml:{line_of(meters, 'r101_w')} meters[1].tariff: tariff "
        "'beijing_residential' is priced per kWh, but model 'tt_water' measures water (m3)",
        f"meters.yaml:{line_of(meters, 'r102_e')} meters[2].tariff: tariff "
        "'guangdong_commercial_4rate' prices the meter's own TOU registers, but model "
        "'tt_elec' keeps none",
    ]


def test_a_modbus_meter_measures_what_its_register_map_says(site: Path) -> None:
    """The kind of a map-driven model is per meter: a water map's meter takes water tariffs
    and gets water's default tariff."""
    write(site / "tariffs.yaml", f"!include {EXAMPLES}\n")
    write(site / "hub.yaml", HUB.replace("type: tariff_test_link}]", "type: rs485, "
                                         "port: /dev/null}]") + """
tariff_defaults:
  - {kind: electricity, tariff: beijing_residential}
  - {kind: water, tariff: beijing_water}
""")
    maps = REPO / "config" / "modbus_maps"
    meters = write(site / "meters.yaml", f"""
        - {{id: w1, model: modbus, link: bus1, address: 1,
            options: {{map: !include {maps / "water_meter.yaml"}}}, tariff: beijing_water}}
        - {{id: w2, model: modbus, link: bus1, address: 2,
            options: {{map: !include {maps / "water_meter.yaml"}}},
            tariff: beijing_residential}}
        - {{id: w3, model: modbus, link: bus1, address: 3,
            options: {{map: !include {maps / "water_meter.yaml"}}}}}
        - {{id: e1, model: modbus, link: bus1, address: 4,
            options: {{map: !include {maps / "dds238_2.yaml"}}}}}
    """)
    prepared = prepare(site / "hub.yaml")
    assert [str(problem) for problem in prepared.problems] == [
        f"meters.yaml:{line_of(meters, 'tariff: beijing_residential')} meters[1].tariff: "
        "tariff 'beijing_residential' is priced per kWh, but model 'modbus' measures water "
        "(m3)"]
    book = TariffBook.from_config(prepared.config, prepared.plugins.registries)
    by_id = {meter["id"]: meter for meter in prepared.config.block("meters")}
    assert book.for_meter(by_id["w3"]).id == "beijing_water"
    assert book.for_meter(by_id["e1"]).id == "beijing_residential"


def test_the_shipped_examples_validate_and_price(site: Path) -> None:
    write(site / "tariffs.yaml", f"!include {EXAMPLES}\n")
    prepared = prepare(site / "hub.yaml")
    assert prepared.problems == []
    book = TariffBook.from_config(prepared.config, prepared.plugins.registries)
    assert len(book) == 8
    water = book.get("beijing_water")
    lines = water.charges([use("2025-03-01T00:00", "2025-04-01T00:00", "200")])
    # 180 m³ at 5, 20 m³ at 7
    assert sum((line.amount for line in lines), Decimal(0)) == Decimal(1040)
    with pytest.raises(TariffError, match="unknown tariff 'nope'"):
        book.get("nope")
    with pytest.raises(TariffError, match="meter 'r1' has no tariff"):
        book.for_meter({"id": "r1"})


def test_tariffs_as_a_mapping_of_id_to_entry(site: Path) -> None:
    path = write(site / "tariffs.yaml", """
        residential: {type: flat, price: 0.4883}
        water: {type: flat, unit: m3, price: -5}
    """)
    assert problems_of(site) == [f"tariffs.yaml:{line_of(path, 'water')} tariffs.water.price: "
                                 "a price cannot be negative, got -5"]


def test_calendar_block_problems_have_positions(site: Path) -> None:
    write(site / "tariffs.yaml", "[]\n")
    hub = (site / "hub.yaml").read_text(encoding="utf-8")
    path = write(site / "hub.yaml", hub + "calendar:\n  holidays: [2027-01-01]\n"
                 "  workdays: [2027-01-01]\n")
    line = line_of(path, "workdays")
    assert problems_of(site) == [f"hub.yaml:{line} calendar.workdays[0]: also listed under "
                                 "holidays (a day is one or the other), got 2027-01-01"]
    path = write(site / "hub.yaml", hub + "calendar:\n  holidays: ['2027-13-01']\n")
    assert problems_of(site) == [f"hub.yaml:{line_of(path, '2027-13-01')} calendar.holidays[0]: "
                                 "expected a date like 2025-07-01, got '2027-13-01'"]


async def test_setup_offers_the_tariff_book_to_billing(site: Path) -> None:
    write(site / "tariffs.yaml", f"!include {EXAMPLES}\n")
    prepared = prepare(site / "hub.yaml")
    hub = Hub(prepared.config, prepared.plugins)
    tariffs_plugin.setup(hub)
    book = hub.component("tariffs", TariffBook)
    assert book.ids()[0] == "beijing_residential"
    assert book.calendar.time_zone == ZoneInfo("Asia/Shanghai")
    # pricing a date of a year the calendar does not know raises an alarm, once, from the
    # thread pricing runs in (the ledger's database thread)
    seen = collect(hub, "calendar_unknown_year")
    await asyncio.to_thread(book.calendar.day_type, date(2199, 5, 1))
    await asyncio.to_thread(book.calendar.day_type, date(2199, 5, 2))
    await wait_for(lambda: seen, timeout=10)
    await asyncio.sleep(0.05)
    assert [event.data for event in seen] == [{
        "year": 2199, "newest_known": newest_official_year(),
        "holidays_version": holidays_version()}]
    assert EventCatalog().check_data("calendar_unknown_year", seen[0].data) == []
