"""Storage as the hub's core plugin: events with context, readings from the bus, states
restored after a restart, and the ``storage:`` block."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import voluptuous as vol

import hub.storage as storage_plugin
from hub.config import HubConfig
from hub.core import Context, Hub
from hub.metering.reading import Reading
from hub.plugins import CORE_PLUGINS, PluginManager
from hub.storage import STORAGE_SCHEMA, Storage, StorageSettings


def make_hub(tmp_path: Path, **block: object) -> Hub:
    plugins = PluginManager()
    plugins.register(storage_plugin, "hub.storage", source="core")
    config = HubConfig(data_dir=tmp_path,
                       blocks={"storage": STORAGE_SCHEMA({"commit_interval": 0.02, **block})})
    return Hub(config, plugins)


def test_storage_is_a_core_plugin() -> None:
    assert "hub.storage" in CORE_PLUGINS


def test_storage_block_defaults_and_errors(tmp_path: Path) -> None:
    settings = StorageSettings.from_block({}, tmp_path)
    assert settings.path == tmp_path / "meterhub.db"
    assert (settings.retention_days, settings.rollup_retention_days) == (800, None)
    assert (settings.commit_interval, settings.commit_batch) == (1.0, 1000)
    assert "state_changed" in settings.exclude_events
    custom = StorageSettings.from_block({"path": "/srv/hub.db", "exclude_events": "alarm",
                                         "max_rate": {"water": 5}}, tmp_path)
    assert custom.path == Path("/srv/hub.db") and "alarm" in custom.exclude_events
    assert custom.max_rate["water"] == Decimal(5)
    with pytest.raises(vol.Invalid):
        STORAGE_SCHEMA({"retention_dayz": 3})
    with pytest.raises(vol.Invalid):
        STORAGE_SCHEMA({"commit_interval": 0})


async def test_events_readings_and_states_across_a_restart(tmp_path: Path) -> None:
    async with asyncio.timeout(20):
        first = make_hub(tmp_path, exclude_events=["noise"])
        await first.start()
        storage = first.component("storage", Storage)
        assert storage.status == "ok"
        ctx = Context(user_id="landlord", parent_id="automation-run-7", origin="automation")
        first.bus.fire("alarm", {"meter_id": "r101_e", "level": Decimal("2.5")}, context=ctx)
        first.bus.fire("noise", {"x": 1})
        first.bus.fire("reading", {"meter_id": "r101_e", "reading": Reading(
            "r101_e", datetime.now(UTC) - timedelta(hours=1),
            {"energy_import_total": Decimal("12.50")})})
        first.states.set("meter.r101_e", Decimal("12.50"), {"unit": "kWh", "online": True},
                         context=ctx)
        first.states.set("meter.gone", "1")
        first.states.remove("meter.gone")
        changed = first.states.get("meter.r101_e")
        assert changed is not None
        await first.stop()
        assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()
                    and not t.done()]

        second = make_hub(tmp_path)
        await second.start()
        restored = second.states.get("meter.r101_e")
        assert restored is not None
        assert restored.state == Decimal("12.50") and isinstance(restored.state, Decimal)
        assert dict(restored.attributes) == {"unit": "kWh", "online": True}
        assert restored.last_changed == changed.last_changed
        assert restored.context.id == ctx.id and restored.context.user_id == "landlord"
        assert second.states.get("meter.gone") is None
        storage = second.component("storage", Storage)
        events = await storage.events(context_id=ctx.id)
        assert [e.event_type for e in events] == ["alarm"]
        alarm = events[0]
        assert alarm.data == {"meter_id": "r101_e", "level": Decimal("2.5")}
        assert (alarm.context.id, alarm.context.parent_id, alarm.context.user_id,
                alarm.context.origin) == (ctx.id, "automation-run-7", "landlord", "automation")
        children = await storage.events(context_id="automation-run-7")
        assert [e.event_type for e in children] == ["alarm"]  # found through its parent
        types = {e.event_type for e in await storage.events()}
        assert "noise" not in types and "state_changed" not in types
        assert {"hub_started", "hub_stop"} <= types  # hub_start fires before storage exists
        latest = await storage.latest_reading("r101_e")
        assert latest is not None and latest.registers == {"energy_import_total": Decimal("12.50")}
        await second.stop()


async def test_consumption_is_fired_but_not_recorded_as_an_event(tmp_path: Path) -> None:
    """``consumption`` reaches the bus after the commit; the event log does not keep it (the
    stored readings and their rollups do), as it does not keep ``reading``."""
    async with asyncio.timeout(20):
        hub = make_hub(tmp_path)
        await hub.start()
        try:
            storage = hub.component("storage", Storage)
            fired: list[object] = []
            hub.bus.listen("consumption", fired.append)
            start = datetime(2026, 3, 1, 2, tzinfo=UTC)
            for hours, total in ((0, "10.00"), (1, "12.50")):
                hub.bus.fire("reading", {"meter_id": "r101_e", "reading": Reading(
                    "r101_e", start + timedelta(hours=hours),
                    {"energy_import_total": Decimal(total)})})
            await storage.flush()
            await hub.block_till_done()
            assert len(fired) == 1  # the second reading counted 2.50 kWh
            hub.bus.fire("alarm", {"meter_id": "r101_e"})
            await storage.flush()
            types = [e.event_type for e in await storage.events()]
            assert "alarm" in types  # other events are recorded
            assert "consumption" not in types and "reading" not in types
            rows = await storage.consumption("r101_e", start=start - timedelta(days=1),
                                             end=start + timedelta(days=1))
            assert sum(row.values["energy_import_total"] for row in rows) == Decimal("2.50")
        finally:
            await hub.stop()
