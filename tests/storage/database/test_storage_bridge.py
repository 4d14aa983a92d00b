"""The asyncio bridge: whole functions run on the connection's own thread, in order."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from hub.storage import StorageUnavailable
from hub.storage.database.bridge import DbThread

ROOT = Path(__file__).resolve().parents[3]


async def test_functions_run_in_order_on_one_thread_off_the_loop(tmp_path: Path) -> None:
    db = DbThread("test")
    await db.open(tmp_path / "bridge.db")
    try:
        async with asyncio.timeout(10):
            threads = await asyncio.gather(*(
                db.run(lambda conn, i: (threading.get_ident(), conn.execute(
                    "SELECT ?", (i,)).fetchone()[0]), i) for i in range(20)))
        assert {ident for ident, _ in threads} != {threading.get_ident()}
        assert len({ident for ident, _ in threads}) == 1
        assert [value for _, value in threads] == list(range(20))
        assert await db.run(lambda conn: conn.execute("PRAGMA journal_mode").fetchone()[0]) \
            == "wal"
    finally:
        await db.close()


async def test_errors_come_back_and_a_closed_bridge_refuses_work(tmp_path: Path) -> None:
    db = DbThread("test")
    await db.open(tmp_path / "bridge.db")
    async with asyncio.timeout(10):
        with pytest.raises(sqlite3.OperationalError):
            await db.run(lambda conn: conn.execute("SELECT * FROM nowhere"))
        await db.run(lambda conn: conn.execute("BEGIN IMMEDIATE"))
        await db.close()  # rolls back what was open
        assert not db.is_open
        with pytest.raises(StorageUnavailable):
            await db.run(lambda conn: None)
        await db.open(tmp_path / "bridge.db")  # a closed bridge can open again
        assert await db.run(lambda conn: conn.in_transaction) is False
        await db.close()
        await db.close()



async def test_a_failed_open_raises_its_error_and_ends_its_thread(tmp_path: Path) -> None:
    def broken(path: Path) -> sqlite3.Connection:
        raise sqlite3.DatabaseError(f"{path.name} is not a database")

    before = threading.active_count()
    db = DbThread("test")
    async with asyncio.timeout(10):
        with pytest.raises(sqlite3.DatabaseError, match=r"x\.db is not a database"):
            await db.open_with(broken, tmp_path / "x.db")
        assert not db.is_open
        while threading.active_count() > before:
            await asyncio.sleep(0.01)

async def test_a_process_that_never_stops_storage_still_exits(tmp_path: Path) -> None:
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from hub.storage import Storage, StorageSettings\n"
        "async def main():\n"
        "    storage = Storage(StorageSettings(path=Path(sys.argv[1])))\n"
        "    await storage.start()\n"
        "    return storage\n"
        "kept = asyncio.run(main())\n"
        "print('open', flush=True)\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, str(tmp_path / "left-open.db"),
        stdout=asyncio.subprocess.PIPE, cwd=ROOT)
    try:
        async with asyncio.timeout(30):
            out, _ = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert out == b"open\n" and proc.returncode == 0
