"""Run by test_storage_crash.py: store readings, print each one acknowledged, until killed."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hub.metering.reading import Reading
from hub.storage import Storage, StorageSettings

METERS = 20


async def main(path: Path, start: datetime) -> None:
    storage = Storage(StorageSettings(path=path, commit_interval=0.005), time_zone="Asia/Shanghai")
    await storage.start()
    print("READY", flush=True)
    minute = 0
    while True:
        batch = [Reading(f"m{i}", start + timedelta(minutes=minute),
                         {"energy_import_total": Decimal(minute) / 4 + i}, device=f"d{i}")
                 for i in range(METERS)]
        # some readings go fire-and-forget, as the bus does; they are not printed
        storage.enqueue_reading(Reading("bulk", start + timedelta(minutes=minute),
                                        {"energy_import_total": Decimal(minute)}))
        outcomes = await storage.add_readings(batch)
        for reading, outcome in zip(batch, outcomes, strict=True):
            if outcome.stored:
                print(f"ACK {reading.meter_id} {reading.time.isoformat()} {reading.id}",
                      flush=True)
        minute += 1


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), datetime.fromisoformat(sys.argv[2]).astimezone(UTC)))
