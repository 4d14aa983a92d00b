"""On-demand reads answer after storage committed their readings; scheduled reads never wait."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from common import bounded, start_hub

from hub.metering.reading import Reading
from hub.metering.service import MeteringService, ReadingCommits
from hub.storage import ReadingStatus, Storage
from hub.util.dt import utcnow

CONFIG = """
site: {{name: Test, time_zone: Asia/Shanghai}}
http: {{port: 0, host: 127.0.0.1}}
metering: {{retries: 0, timeout: 0.5, read_on_start: false}}
storage: {{commit_interval: {interval}, record_readings: {record}}}
links:
  - {{id: sim1, type: sim}}
meters:
  - {{id: a1, model: ddsy, link: sim1, address: "202400000101", tags: {{building: A}}}}
  - {{id: a2, model: ddsy, link: sim1, address: "202400000102", tags: {{building: A}}}}
"""


def _config(interval: float = 0.3, record: bool = True) -> str:
    return CONFIG.format(interval=interval, record=str(record).lower())


@bounded(30)
async def test_read_answers_once_its_reading_is_committed(tmp_path: Path) -> None:
    async with start_hub(tmp_path, _config()) as hub:
        storage = hub.component("storage", Storage)
        assert isinstance(storage, ReadingCommits)  # metering's interface, storage's component
        one = await hub.services.call("meter", "read", {"meter_id": "a1"},
                                      return_response=True)
        assert one["stored"] is True and "not_stored" not in one
        stored = await storage.latest_reading("a1")  # no flush: the answer came after COMMIT
        assert stored is not None and stored.id == one["readings"][0].id
        many = await hub.services.call("meter", "read", {"tags": {"building": "A"}},
                                       return_response=True)
        assert sorted(many["read"]) == ["a1", "a2"] and many["stored"] is True
        newest = {meter: await storage.latest_reading(meter) for meter in ("a1", "a2")}
        assert all(r is not None and r.id != stored.id for r in newest.values())


@bounded(30)
async def test_scheduled_reads_do_not_wait_for_the_commit(tmp_path: Path) -> None:
    async with start_hub(tmp_path, _config(interval=60)) as hub:
        service = hub.component("metering", MeteringService)
        storage = hub.component("storage", Storage)
        async with asyncio.timeout(5):  # a commit is 60 s away
            ok, failed = await service.read_many(list(service.meters.values()))
        assert sorted(ok) == ["a1", "a2"] and failed == []
        assert len(storage._writer._readings) == 2  # queued, not committed: nobody waited
        assert not storage._watched


@bounded(30)
async def test_read_says_plainly_when_readings_are_not_recorded(tmp_path: Path) -> None:
    async with start_hub(tmp_path, _config(record=False)) as hub:
        one = await hub.services.call("meter", "read", {"meter_id": "a1"},
                                      return_response=True)
        assert one["read"] == ["a1"] and one["stored"] is False
        assert "readings are not recorded" in one["not_stored"]["a1"]


@bounded(30)
async def test_a_watched_reading_storage_rejects_resolves_at_once(tmp_path: Path) -> None:
    async with start_hub(tmp_path, _config(interval=60)) as hub:
        storage = hub.component("storage", Storage)
        ahead = Reading("a1", utcnow() + timedelta(days=1),
                        registers={"energy_import_total": Decimal(1)})
        future = storage.watch_commit(ahead.id)
        assert future is not None
        hub.bus.fire("reading", {"meter_id": "a1", "reading": ahead})
        outcome = await asyncio.wait_for(future, 1)
        assert outcome.status is ReadingStatus.REJECTED and "future" in outcome.reason
        assert not storage._watched
