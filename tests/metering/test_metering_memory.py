"""What a hub holds per meter stays small at 10,000 meters: no per-meter copies of what meters
share, no __dict__ on the per-meter objects, no whole reading kept where two values do."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from common import start_hub, wait_for

from hub.bootstrap import prepare
from hub.core import Hub
from hub.ledger import AccountBook
from hub.metering.alarms import AlarmMonitor
from hub.metering.reading import Reading
from hub.metering.service import MeteringService
from hub.storage import Storage
from hub.util.memory import shared_mapping
from hub.yamlload import NodeDict

CONFIG = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {read_on_start: false}
alarms:
  rules:
    - {tags: {building: B}, over_current: {above: 20}}
links:
  - {id: sim1, type: sim}
  - {id: dtus, type: tcp_dtu, listen: "127.0.0.1:0"}
meters:
  - {id: a1, model: ddsy, link: sim1, address: "1", tags: {building: A}}
  - {id: a2, model: ddsy, link: dtus, address: "2", tags: {building: A},
     link_options: {dtu: "861234567800000"}}
  - {id: b1, model: ddsy, link: sim1, address: "3", tags: {building: B}}
  - {id: own, model: ddsy, link: sim1, address: "4", tags: {building: A},
     alarms: {over_current: {above: 10}}}
"""


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    async with start_hub(tmp_path, CONFIG) as instance:
        yield instance


def test_the_per_meter_objects_have_no_dict(tmp_path: Path) -> None:
    (tmp_path / "hub.yaml").write_text(CONFIG, encoding="utf-8")
    prepared = prepare(tmp_path / "hub.yaml", data_dir=tmp_path / "data")
    assert not prepared.problems
    entry = prepared.config.blocks["meters"][0]
    assert entry.model is not None and entry.model.name == "ddsy"
    assert not hasattr(entry, "__dict__")  # MeterEntry: __slots__
    # the loader's mapping keeps a position table per key; the validated entry must not
    # hold it (link_options was kept as the loader's NodeDict, 10,000 of them)
    options = prepared.config.blocks["meters"][1]["link_options"]
    assert options == {"dtu": "861234567800000"} and type(options) is dict
    assert not any(isinstance(value, NodeDict) and value.key_pos
                   for entry in prepared.config.blocks["meters"] for value in entry.values())


async def test_meters_hold_no_dict_and_share_their_loaded_texts(hub: Hub) -> None:
    meters = hub.component("metering", MeteringService).meters
    assert not hasattr(meters["a1"], "__dict__")  # Meter: slots
    # one str object for the same text written 4 times in hub.yaml (keys and values)
    assert meters["a1"].config["link"] is meters["b1"].config["link"]
    assert meters["a1"].config["model"] is meters["a2"].config["model"]
    assert meters["a1"].tags["building"] is meters["a2"].tags["building"]


async def test_meters_matching_the_same_rules_share_one_thresholds_table(hub: Hub) -> None:
    monitor = hub.component("metering.alarms", AlarmMonitor)
    a1, a2, b1, own = (monitor.thresholds(meter) for meter in ("a1", "a2", "b1", "own"))
    assert a1 is a2  # building A: no rule matches, no alarms of their own
    assert b1 is not a1 and b1["over_current"]["above"] == Decimal(20)
    assert own is not a1 and own["over_current"]["above"] == Decimal(10)
    assert a1["over_current"] != b1["over_current"]


async def test_the_alarm_monitor_keeps_no_reading(hub: Hub) -> None:
    monitor = hub.component("metering.alarms", AlarmMonitor)
    when = datetime(2025, 7, 1, tzinfo=UTC)
    for register in ({"energy_import_total": Decimal(5)},
                     {"energy_import_total": Decimal(5), "energy_export_total": Decimal(1)}):
        reading = Reading("a1", when, registers=register, values={"voltage": Decimal(220)},
                          device="1")
        monitor.check(reading)
        gc.collect()
        # what reverse_energy compares is kept (device, export register), not the reading
        assert not [holder for holder in gc.get_referrers(reading)
                    if holder is not globals() and holder is not locals()]
    reverse = Reading("a1", when, registers={"energy_export_total": Decimal("1.5")},
                      device="1")
    alarms: list[str] = []
    hub.bus.listen("alarm", lambda event: alarms.append(event.data["kind"]))
    monitor.check(reverse)
    await hub.block_till_done()
    assert alarms == ["reverse_energy"]


ACCOUNTS = """
accounts:
  - {id: r1, name: Room 1}
  - {id: r2, name: Room 2, max_recharge: 5000}
"""


async def test_accounts_are_read_from_their_validated_entries_not_copies(tmp_path: Path) -> None:
    async with start_hub(tmp_path, CONFIG + ACCOUNTS) as instance:
        book = instance.component("accounts", AccountBook)
        entries = instance.config.block("accounts")
        assert book.yaml["r1"] is entries[0] and book.yaml["r2"] is entries[1]
        # the same amount, defaulted or written, is one Decimal for every account
        assert book.accounts["r1"].max_recharge is book.accounts["r2"].max_recharge
        assert book.accounts["r1"].deposit is book.accounts["r2"].deposit


async def test_equal_options_and_tags_are_one_read_only_mapping(tmp_path: Path) -> None:
    async with start_hub(tmp_path, CONFIG + ACCOUNTS) as instance:
        meters = instance.component("metering", MeteringService).meters
        # one model, the same options: one mapping for every meter's MeterRef
        assert meters["a1"].ref.options is meters["b1"].ref.options
        assert meters["a1"].ref.options == meters["a1"].config["options"]
        # the same tags (building A): one mapping; another building's is another
        assert meters["a1"].tags is meters["a2"].tags is meters["own"].tags
        assert meters["b1"].tags == {"building": "B"} and meters["b1"].tags is not meters["a1"].tags
        with pytest.raises(TypeError):
            meters["a1"].tags["building"] = "C"  # type: ignore[index]
        # storage's record of each meter shares them too
        ingest = instance.component("storage", Storage)._ingest  # the writer's meter records
        await wait_for(lambda: "a2" in ingest.meters, 30)
        assert ingest.meters["a1"].tags is ingest.meters["a2"].tags == {"building": "A"}
        accounts = instance.component("accounts", AccountBook).accounts
        assert accounts["r1"].tags is accounts["r2"].tags
        assert accounts["r1"].contacts is accounts["r2"].contacts
        assert not hasattr(accounts["r1"], "__dict__")  # Account: slots
        # the same levels and protection windows: one object each
        assert accounts["r1"].thresholds is accounts["r2"].thresholds
        assert accounts["r1"].protection is accounts["r2"].protection
        # their states share the zeros they show (no overdraft, no emergency credit used)
        # and the text of their warning levels
        await wait_for(lambda: instance.states.get("account.r2") is not None, 30)
        first, second = (instance.states.get(f"account.{name}") for name in ("r1", "r2"))
        assert first is not None and second is not None
        for name in ("trip_level", "emergency_credit_used"):
            assert first.attributes[name] == 0 and first.attributes[name] is second.attributes[name]
        assert first.attributes["levels"] == ["20.00", "5.00"]
        assert first.attributes["levels"] is second.attributes["levels"]  # one list


def test_a_mapping_is_shared_only_with_equal_values_of_the_same_type() -> None:
    assert shared_mapping({"timeout": 3}) is shared_mapping({"timeout": 3})
    assert shared_mapping({"flag": True})["flag"] is True
    assert shared_mapping({"flag": 1})["flag"] is not True  # 1 == True, but not the same
    assert shared_mapping({"timeout": 3.0})["timeout"].__class__ is float
    unhashable = shared_mapping({"list": [1, 2]})
    assert unhashable == {"list": [1, 2]} and unhashable is not shared_mapping({"list": [1, 2]})
