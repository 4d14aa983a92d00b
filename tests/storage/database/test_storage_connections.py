"""The page cache each connection may hold: the writer's large, the readers' small (at 10,000
meters three 16 MB caches were a tenth of the hub's resident memory)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hub.storage.database.connection import connect
from hub.storage.database.opening import open_writer


def _cache_kib(conn: sqlite3.Connection) -> int:
    (size,) = conn.execute("PRAGMA cache_size").fetchone()
    return -int(size)  # negative: KiB


def test_the_writer_keeps_8_mb_of_pages_and_a_reader_4(tmp_path: Path) -> None:
    path = tmp_path / "meterhub.db"
    writer = open_writer(path)
    reader = connect(path, readonly=True)
    try:
        assert _cache_kib(writer) == 8000
        assert _cache_kib(reader) == 4000
        assert reader.execute("PRAGMA query_only").fetchone() == (1,)
    finally:
        reader.close()
        writer.close()
