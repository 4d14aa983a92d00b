"""One bad register never drops a reading; signed registers are kept and never counted.

Through the real path: a simulated DL/T 645 meter (sim link, real frames) whose combined
active energy (DI 00000000, signed by the standard) is negative, read with ``meter.read``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from common import bounded, start_hub
from storage_helpers import NOW

from hub.metering.points import SIGNED_REGISTERS
from hub.metering.reading import Reading
from hub.metering.service import MeteringService
from hub.storage import ReadingStatus, Storage
from hub.util.dt import utcnow

E = "energy_import_total"
C = "energy_combined_total"


def at(hour: int) -> datetime:
    """An hour of the day before storage's fixed clock."""
    return NOW - timedelta(days=1) + timedelta(hours=hour)

CONFIG = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {retries: 0, timeout: 0.5, read_on_start: false}
storage: {commit_interval: 0.05}
links:
  - {id: sim1, type: sim}
meters:
  - {id: m1, model: ddsy, link: sim1, address: "202400000101",
     link_options: {load: {constant: 0}}}
"""


@bounded(30)
async def test_negative_combined_energy_is_kept_and_the_reading_counted(tmp_path: Path) -> None:
    async with start_hub(tmp_path, CONFIG) as hub:
        service = hub.component("metering", MeteringService)
        storage = hub.component("storage", Storage)
        sim = service.meters["m1"].link.simulators["m1"]  # type: ignore[attr-defined]
        sim.energy[0] = Decimal("100")
        sim.export = Decimal("500")  # a net meter that exported more: combined = 100 - 500
        read = {"meter_id": "m1", "points": ["default", C]}
        first = await hub.services.call("meter", "read", read, return_response=True)
        assert first["stored"] is True, first
        reading = first["readings"][0]
        assert reading.registers[C] < 0  # the meter answered a negative 00000000
        await asyncio.sleep(0.2)
        sim.energy[0] += Decimal("0.05")  # used meanwhile (plausible in 0.2 s: 10 steps' slack)
        second = await hub.services.call("meter", "read", read, return_response=True)
        assert second["stored"] is True, second

        stored = await storage.latest_reading("m1")
        assert stored is not None and stored.id == second["readings"][0].id
        assert stored.registers[C] == second["readings"][0].registers[C] < 0
        assert stored.registers[E] == second["readings"][0].registers[E]
        assert "voltage" in stored.values and stored.status["relay"] == "closed"
        assert stored.quality["counter"] == {C: "signed"}  # visible: kept, not counted
        rows = await storage.consumption("m1", start=utcnow() - timedelta(days=2),
                                         end=utcnow() + timedelta(days=2))
        used = sum((row.values.get(E, Decimal(0)) for row in rows), Decimal(0))
        rise = second["readings"][0].registers[E] - reading.registers[E]
        assert used == rise > 0  # counted from the import register
        assert all(C not in row.values for row in rows)  # the signed one never


async def test_a_register_that_fails_its_rule_is_flagged_the_rest_stored(
        storage: Storage) -> None:
    async with asyncio.timeout(10):
        await storage.add_reading(Reading("m1", at(0), {E: Decimal("10.00")}))
        outcome = await storage.add_reading(Reading(
            "m1", at(1), {E: Decimal("11.00"), "water_total": Decimal("-2"),
                          C: Decimal("-7.50")},
            values={"voltage": Decimal("220.1"), "current": None}))  # type: ignore[dict-item]
        assert outcome.status is ReadingStatus.STORED
        assert outcome.verdicts == {E: "counted", C: "signed"}
        assert "a counter cannot be" in outcome.flagged["water_total"]
        assert "missing" in outcome.flagged["current"]
        stored = (await storage.readings("m1", at(1), at(2)))[0]
        assert stored.registers == {E: Decimal("11.00"), C: Decimal("-7.50")}
        assert stored.values == {"voltage": Decimal("220.1")}
        assert set(stored.quality["flagged"]) == {"water_total", "current"}
        rows = await storage.consumption("m1", start=at(-24), end=at(48))
        assert sum((r.values.get(E, Decimal(0)) for r in rows), Decimal(0)) == Decimal("1.00")


async def test_signed_registers_never_start_or_break_a_chain(storage: Storage) -> None:
    async with asyncio.timeout(10):
        for hour, combined in enumerate(("5.00", "-3.00", "4.00", "-900.00")):
            outcome = await storage.add_reading(Reading("m1", at(hour), {
                E: Decimal(10 + hour), C: Decimal(combined)}))
            assert outcome.verdicts[C] == "signed"
        rows = await storage.consumption("m1", start=at(-24), end=at(48))
        assert sum((r.values.get(E, Decimal(0)) for r in rows), Decimal(0)) == Decimal(3)
        assert all(C not in r.values for r in rows)


def test_combined_energy_is_the_signed_register() -> None:
    assert {C, "energy_combined_t1", "energy_combined_t4"} <= SIGNED_REGISTERS
    assert E not in SIGNED_REGISTERS and "water_total" not in SIGNED_REGISTERS
