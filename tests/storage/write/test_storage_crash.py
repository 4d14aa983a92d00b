"""Crash safety: a real process acknowledges readings and is killed with SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from storage_helpers import MakeStorage

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("crash_writer.py")


async def test_acknowledged_readings_survive_sigkill(make_storage: MakeStorage,
                                                     db_path: Path) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    acked: list[tuple[str, str, str]] = []
    async with asyncio.timeout(45):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(SCRIPT), str(db_path), start.isoformat(),
            stdout=asyncio.subprocess.PIPE, env=env, cwd=ROOT)
        assert proc.stdout is not None
        try:
            while len(acked) < 600:
                line = (await proc.stdout.readline()).decode()
                assert line, "the writer process ended early"
                if line.startswith("ACK "):
                    _, meter, when, rid = line.split()
                    acked.append((meter, when, rid))
        finally:
            proc.send_signal(signal.SIGKILL)  # no clean shutdown, no final commit
            rest = await proc.stdout.read()
            await proc.wait()
        for line in rest.decode().splitlines():  # acknowledged just before the kill
            if line.startswith("ACK "):
                _, meter, when, rid = line.split()
                acked.append((meter, when, rid))
        assert proc.returncode == -signal.SIGKILL
        assert db_path.with_name(db_path.name + ".running").exists()  # not stopped cleanly

        storage = await make_storage(clock=lambda: datetime.now(UTC).timestamp())
        assert storage.status == "ok"
        assert not list(db_path.parent.glob("*.corrupt-*"))
        missing = []
        by_meter: dict[str, list[tuple[str, str]]] = {}
        for meter, when, rid in acked:
            by_meter.setdefault(meter, []).append((when, rid))
        for meter, items in by_meter.items():
            stored = await storage.readings(meter, start, start + timedelta(days=1))
            have = {(r.time.isoformat(), r.id) for r in stored}
            missing += [(meter, when) for when, rid in items if (when, rid) not in have]
        assert not missing, f"{len(missing)} acknowledged readings lost: {missing[:5]}"
        # rollups were committed with their readings: consumption matches the registers
        for meter in ("m0", "m7"):
            stored = await storage.readings(meter, start, start + timedelta(days=1))
            first, last = stored[0], stored[-1]
            rows = await storage.consumption(meter, start=start - timedelta(days=1),
                                             end=start + timedelta(days=2), resolution="hour")
            used = sum((r.values["energy_import_total"] for r in rows), Decimal(0))
            expected = last.registers["energy_import_total"] - first.registers[
                "energy_import_total"]
            assert used == expected
