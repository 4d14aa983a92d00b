"""A rollup series' key: the row just inserted, or the row already stored when another
connection made it after this one loaded its keys (never a stale row id)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hub.storage.schema.migrations import migrate
from hub.storage.settings import StorageSettings
from hub.storage.write.ingest import Ingest
from hub.storage.write.rollups import Calendar


def test_a_series_key_is_the_new_row_or_the_stored_one(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn)
        ingest = Ingest(Calendar("Asia/Shanghai"), StorageSettings(path=path))
        ingest.load(conn)
        other = sqlite3.connect(path, isolation_level=None)  # after the keys were loaded
        other.execute("INSERT INTO series (scope, point_key) VALUES ('meter:a', 1), "
                      "('meter:b', 1)")
        other.close()
        made = ingest.series_key(conn, "meter:c", 1)
        found = ingest.series_key(conn, "meter:a", 1)  # stored, not in memory
        stored = dict(conn.execute("SELECT scope, series_key FROM series").fetchall())
        assert (made, found) == (stored["meter:c"], stored["meter:a"])
        assert ingest.series_key(conn, "meter:c", 1) == made  # from memory now
        assert len(stored) == 3
    finally:
        conn.close()
