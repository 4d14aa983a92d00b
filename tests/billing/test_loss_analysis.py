"""Loss analysis on a real storage: parent vs children, statuses, tags, alarms once and cleared."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from analysis_support import energy, hub_yaml, open_storage, register, running_hub, store
from common import collect, t

from hub.billing.analysis.base import Catalog, MeterFacts, Period
from hub.billing.analysis.service import Analysis
from hub.billing.loss import (
    LOSS_SCHEMA,
    LossAlarms,
    LossSettings,
    analyse,
    by_tag,
    loss_entity_id,
)
from hub.billing.reports import loss_table, tag_loss_table
from hub.core import Event, Hub
from hub.storage import Storage

D = Decimal
DAY24, DAY25, DAY26 = (Period.day(date(2026, 10, d)) for d in (24, 25, 26))

A_L1 = {"building": "A", "line": "L1"}
A_L2 = {"building": "A", "line": "L2"}
CATALOG = Catalog([
    MeterFacts("main", "electricity", A_L1),
    MeterFacts("c1", "electricity", A_L1, parent="main"),
    MeterFacts("c2", "electricity", A_L1, parent="main"),
    MeterFacts("c3", "electricity", A_L1, parent="main"),
    MeterFacts("main2", "electricity", A_L2),
    MeterFacts("d1", "electricity", A_L2, parent="main2"),
])
SETTINGS = LossSettings.from_block(LOSS_SCHEMA({}))  # 8 %, negative 2 %, min 5

# Register totals at midnight starting each day (24, 25, 26, 27 October).
TOTALS = {
    "main": ["1000", "1100", "1200", "1300"],  # 100 a day
    "c1": ["10", "40", "71", "111"],  # 30, 31, 40
    "c2": ["20", "50", "81", "116"],  # 30, 31, 35
    "c3": ["5", "35", "66", "96"],  # 30, 31, 30 -> children 90, 93, 105
    "main2": ["0", "50", "100", "150"],
    "d1": ["0", "45", "90", "135"],
}


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    async with open_storage(tmp_path / "loss.db", t("2026-11-01T12:00")) as opened:
        await register(opened, {m.id: (m.kind, m.tags) for m in CATALOG.meters.values()})
        await store(opened, [energy(meter_id, f"2026-10-{24 + day}T00:00", total)
                             for meter_id, totals in TOTALS.items()
                             for day, total in enumerate(totals)])
        yield opened


async def test_loss_percent_of_a_parent_and_three_children(storage: Storage) -> None:
    rows = await analyse(storage, CATALOG, SETTINGS, DAY24)
    main = next(row for row in rows if row.meter_id == "main")
    assert (main.parent_quantity, main.children_quantity, main.loss) == (D(100), D(90), D(10))
    assert main.loss_percent == D("10.00") and main.status == "high"
    assert main.children == ("c1", "c2", "c3")
    second = next(row for row in rows if row.meter_id == "main2")
    assert (second.loss, second.loss_percent, second.status) == (D(5), D("10.00"), "high")

    day25 = {row.meter_id: row for row in await analyse(storage, CATALOG, SETTINGS, DAY25)}
    assert day25["main"].loss_percent == D("7.00") and day25["main"].status == "ok"
    day26 = {row.meter_id: row for row in await analyse(storage, CATALOG, SETTINGS, DAY26)}
    assert day26["main"].loss == D(-5) and day26["main"].loss_percent == D("-5.00")
    assert day26["main"].status == "negative"  # children above the parent: a fault

    october = {row.meter_id: row for row in await analyse(
        storage, CATALOG, SETTINGS, Period.month(2026, 10))}
    assert october["main"].parent_quantity == D(300)
    assert october["main"].children_quantity == D(288)
    assert october["main"].loss_percent == D("4.00")


async def test_loss_per_building_and_line(storage: Storage) -> None:
    rows = await analyse(storage, CATALOG, SETTINGS, DAY24)
    (building,) = by_tag(rows, "building")
    assert (building.value, building.parent_quantity, building.children_quantity) == (
        "A", D(150), D(135))
    assert building.loss == D(15) and building.loss_percent == D("10.00")
    lines = {line.value: line.loss_percent for line in by_tag(rows, "line")}
    assert lines == {"L1": D("10.00"), "L2": D("10.00")}
    table = tag_loss_table(by_tag(rows, "line"))
    assert table.column("value") == ["L1", "L2"]
    assert loss_table(rows).column("status") == ["high", "high"]


async def test_a_meter_without_data_up_to_the_end_makes_the_row_incomplete(
        storage: Storage) -> None:
    rows = {r.meter_id: r for r in await analyse(storage, CATALOG, SETTINGS,
                                                   Period.day(date(2026, 10, 27)))}
    assert rows["main"].status == "incomplete"
    assert rows["main"].missing == ("main", "c1", "c2", "c3")
    assert by_tag(rows.values(), "building") == []


async def test_per_tag_rules_override_the_threshold(storage: Storage) -> None:
    settings = LossSettings.from_block(LOSS_SCHEMA({
        "threshold_percent": 8,
        "rules": [{"tags": {"line": "L1"}, "threshold_percent": 12},
                  {"tags": {"building": "A", "line": "L2"}, "min_quantity": 60}]}))
    rows = {r.meter_id: r for r in await analyse(storage, CATALOG, settings, DAY24)}
    assert rows["main"].limits.threshold_percent == D(12)
    assert rows["main"].status == "ok"  # 10 % is under line L1's 12 %
    assert rows["main2"].status == "small"  # 50 and 45 are both under 60


async def test_small_and_no_usage_do_not_alarm() -> None:
    from hub.billing.loss import LossLimits, LossRow

    limits = LossLimits(D(8), D(2), D(5))

    def status(parent: str, children: str) -> str:
        return LossRow("m", "electricity", "kWh", {}, DAY24, D(parent), D(children), (),
                       limits).status

    assert status("0", "0") == "no_usage"
    assert status("4", "1") == "small"
    assert status("0", "6") == "negative"  # the parent saw nothing: a fault
    assert status("100", "102") == "ok"  # 2 % above: within meter accuracy
    assert status("100", "102.5") == "negative"
    assert status("100", "92") == "ok"  # exactly 8 %: not above it
    assert status("100", "91.99") == "high"


async def test_the_loss_alarm_fires_once_and_clears(hub: Hub, storage: Storage) -> None:
    alarms = LossAlarms(hub)
    seen: list[Event] = []
    hub.bus.listen("alarm", seen.append)
    hub.bus.listen("alarm_cleared", seen.append)
    catalog = Catalog([m for m in CATALOG.meters.values() if m.id != "main2"
                       and m.parent != "main2"])

    async def check(period: Period) -> list[tuple[str, str, str]]:
        alarms.apply(await analyse(storage, catalog, SETTINGS, period))
        await asyncio.sleep(0)
        out = [(e.event_type, e.data["kind"], e.data["period"]) for e in seen]
        seen.clear()
        return out

    async with asyncio.timeout(20):
        assert await check(DAY24) == [("alarm", "loss", "2026-10-24")]
        assert await check(DAY24) == []  # the same day again: no second alarm
        state = hub.states.get(loss_entity_id("main"))
        assert state is not None and state.state == D("10.00")
        assert state.attributes["alarm_day"]["kind"] == "loss"
        assert await check(DAY25) == [("alarm_cleared", "loss", "2026-10-25")]
        assert await check(DAY24) == []  # an older day changes nothing any more
        assert await check(DAY26) == [("alarm", "loss_negative", "2026-10-26")]
        assert await check(Period.day(date(2026, 10, 27))) == []  # incomplete: kept
        assert await check(Period.month(2026, 10)) == []  # the month is fine (4 %)


async def test_alarm_data_names_the_parent_value_threshold_and_quantities(
        hub: Hub, storage: Storage) -> None:
    seen: list[Event] = []
    hub.bus.listen("alarm", seen.append)
    analysis = Analysis(storage, CATALOG, {}, loss=SETTINGS, hub=hub)
    summary = await analysis.nightly(date(2026, 10, 25))  # checks yesterday, the 24th
    await asyncio.sleep(0)
    assert summary["loss"] == [("2026-10-24", ["high", "high"])]
    data = next(e.data for e in seen if e.data["meter_id"] == "main")
    assert data["kind"] == "loss" and data["value"] == D("10.00")
    assert data["threshold"] == D(8) and data["period"] == "2026-10-24"
    assert (data["value_unit"], data["message"]) == ("%", "loss 10.00 % (threshold 8 %)")
    assert data["resolution"] == "day" and data["phase"] is None
    assert (data["parent_quantity"], data["children_quantity"], data["loss_quantity"]) == (
        D(100), D(90), D(10))
    assert data["children"] == ["c1", "c2", "c3"]
    await analysis.nightly(date(2026, 10, 25))
    await asyncio.sleep(0)
    assert len(seen) == 2  # once per parent, not again


PARENTS = hub_yaml("""
meters:
  - {id: main, model: ddsy, link: sim1, address: "000000000001", tags: {building: A}}
  - {id: c1, model: ddsy, link: sim1, address: "000000000002", parent: main}
  - {id: c2, model: ddsy, link: sim1, address: "000000000003", parent: main}
loss: {threshold_percent: 5}
""")


async def test_a_raised_alarm_survives_a_restart(tmp_path: Path) -> None:
    readings = [energy(meter_id, f"2026-10-{24 + day}T00:00", total)
                for meter_id, totals in {"main": ["0", "100", "200"], "c1": ["0", "45", "95"],
                                         "c2": ["0", "45", "95"]}.items()
                for day, total in enumerate(totals)]  # 10 % loss, then 0 %
    async with running_hub(tmp_path, PARENTS) as hub:
        seen = collect(hub, "alarm", "alarm_cleared")
        async with asyncio.timeout(30):
            await store(hub.component("storage", Storage), readings)
            rows = await hub.component("analysis", Analysis).loss_check(DAY24)
            await asyncio.sleep(0)
        assert [row.status for row in rows] == ["high"]
        assert [(e.event_type, e.data["value"]) for e in seen] == [("alarm", D("10.00"))]
    async with running_hub(tmp_path, PARENTS) as hub:
        seen = collect(hub, "alarm", "alarm_cleared")
        analysis = hub.component("analysis", Analysis)
        async with asyncio.timeout(30):
            await analysis.loss_check(DAY24)  # remembered: not raised again
            await analysis.loss_check(DAY25)
            await asyncio.sleep(0)
        assert [(e.event_type, e.data["kind"], e.data["period"]) for e in seen] == [
            ("alarm_cleared", "loss", "2026-10-25")]
