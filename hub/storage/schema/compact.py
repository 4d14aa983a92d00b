"""Schema v6: compact readings, less than half the bytes per reading of v5, nothing lost.

What a v5 reading row spent its bytes on, and where it goes in v6 (measured on the storage
bench's readings: 118 bytes of row, 139 bytes of file per reading in v5; 51 and 61 in v6):

* status and quality JSON (``{"relay":"closed"}``, ``{"frames":1,"errors":{}}``), link and
  source repeat from reading to reading. They are interned together in ``reading_meta`` and
  the row keeps its key (``meta``, one byte or none). A status or quality that does not recur
  (radio levels in an NB-IoT uplink) is kept in the row itself (``own_status``,
  ``own_quality``, NULL when the meta row's applies): see :class:`MetaInterner`.
* instantaneous values are packed bytes instead of text (``codec.pack_values``).
* the reading id, lower-case hex when the hub made it, is kept as its bytes
  (``rid_packed``); ``rid`` is a virtual column that gives the text back to any SQL reader.
* the meter's clock is kept as its offset from the reading time (``meter_dt``, ms).

Registers stay the ``"<point_key>:<decimal>[verdict]"`` text (see codec.py), which SQL
readers outside storage (charge recovery, checks) read as it is; packed, one register would
save 4 bytes. The table stays clustered by (meter_key, ts) without a rowid (a rowid table
needs a second index on the key: 75 instead of 60 bytes per reading).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .. import codec

READING_COLUMNS = ("meter_key, ts, rid_packed, device_key, registers, vals, meta, own_status, "
                   "own_quality, meter_dt")

READING_TABLE = f"""(
        meter_key INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        rid_packed BLOB NOT NULL,   -- hex id as bytes, any other id as text (codec.pack_rid)
        device_key INTEGER NOT NULL,
        registers TEXT,             -- "<point_key>:<decimal>[verdict] ..." (codec.py)
        vals BLOB,                  -- packed (point key, value) items (codec.pack_values)
        meta INTEGER NOT NULL,      -- reading_meta: source, link, status, quality
        own_status TEXT,            -- status JSON when meta does not hold it
        own_quality TEXT,           -- quality JSON when meta does not hold it
        meter_dt INTEGER,           -- meter time - ts (ms), NULL without meter time
        rid TEXT GENERATED ALWAYS AS ({codec.RID_SQL}) VIRTUAL,
        PRIMARY KEY (meter_key, ts)) WITHOUT ROWID"""

META_TABLE = """CREATE TABLE reading_meta (
        meta_key INTEGER PRIMARY KEY,
        source INTEGER NOT NULL,
        link TEXT,
        status TEXT,
        quality TEXT)"""

# How many (source, link, status, quality) combinations are interned at most; beyond that a
# new combination is kept in its rows (a few more bytes each), so the table stays small.
META_LIMIT = 20_000
# How many combinations seen once are remembered while waiting to be seen again.
_SEEN_LIMIT = 4096

MetaKey = tuple[int, str | None, str | None, str | None]


class MetaInterner:
    """Chooses the ``reading_meta`` row of a reading and what the row keeps itself.

    A combination is interned the second time it is seen (most readings repeat the previous
    one); until then, and for one that never recurs, the row points at the combination of
    its source and link alone and keeps its status and quality itself. A quality that never
    recurs does not stop the status from being interned (source, link, status, no quality).
    Used by the writer and by the v6 migration; only the writer's thread may use it.
    """

    def __init__(self, limit: int = META_LIMIT) -> None:
        self.limit = limit
        self.keys: dict[MetaKey, int] = {}
        self._seen: dict[MetaKey, None] = {}

    def load(self, conn: sqlite3.Connection) -> None:
        """Load the interned combinations (after a rollback too: the database is the truth)."""
        self.keys = {(source, link, status, quality): key for key, source, link, status, quality
                     in conn.execute("SELECT meta_key, source, link, status, quality "
                                     "FROM reading_meta")}
        self._seen.clear()

    def clear(self) -> None:
        """Forget everything (a rolled back transaction may have interned rows)."""
        self.keys.clear()
        self._seen.clear()

    def choose(self, conn: sqlite3.Connection, source: int, link: str | None,
               status: str | None, quality: str | None) -> tuple[int, str | None, str | None]:
        """Return (meta key, own status, own quality) for a reading's row."""
        full = (source, link, status, quality)
        key = self.keys.get(full)
        if key is not None:
            return key, None, None
        if self._recurs(full):
            return self._intern(conn, full), None, None
        if status is not None and quality is not None:
            part = (source, link, status, None)
            key = self.keys.get(part)
            if key is None and self._recurs(part):
                key = self._intern(conn, part)
            if key is not None:
                return key, None, quality
        base = (source, link, None, None)  # interned even beyond the limit: a few per link
        key = self.keys.get(base)
        if key is None:
            key = self._intern(conn, base)
        return key, status, quality

    def _recurs(self, combo: MetaKey) -> bool:
        if len(self.keys) >= self.limit:
            return False
        if combo in self._seen:
            del self._seen[combo]
            return True
        if len(self._seen) >= _SEEN_LIMIT:
            self._seen.clear()
        self._seen[combo] = None
        return False

    def _intern(self, conn: sqlite3.Connection, combo: MetaKey) -> int:
        cur = conn.execute("INSERT INTO reading_meta (source, link, status, quality) "
                           "VALUES (?, ?, ?, ?)", combo)
        key = int(cur.lastrowid or 0)
        self.keys[combo] = key
        return key


def upgrade_v6(conn: sqlite3.Connection) -> None:
    """Schema v6: move every reading into the compact table, chunk by chunk.

    Each chunk is copied in primary key order and then deleted from the old table, so the
    pages it frees hold the next chunks: the file grows by about one chunk, not by a second
    copy of the readings (a v5 database on an SD card may be most of the card).
    """
    before = conn.execute("SELECT COUNT(*) FROM reading").fetchone()[0]
    conn.execute(META_TABLE)
    conn.execute(f"CREATE TABLE reading_v6 {READING_TABLE}")
    interner = MetaInterner()
    insert = (f"INSERT INTO reading_v6 ({READING_COLUMNS}) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    copied = 0
    while True:
        rows = conn.execute(
            "SELECT meter_key, ts, rid, device_key, registers, vals, status, source, link, "
            "meter_time, quality FROM reading ORDER BY meter_key, ts LIMIT ?",
            (_CHUNK,)).fetchall()
        if not rows:
            break
        conn.executemany(insert, [_convert(conn, interner, row) for row in rows])
        last = rows[-1]
        conn.execute("DELETE FROM reading WHERE (meter_key, ts) <= (?, ?)", (last[0], last[1]))
        copied += len(rows)
    if copied != before:
        raise sqlite3.IntegrityError(f"readings copied: {copied} of {before}")
    conn.execute("DROP TABLE reading")
    conn.execute("ALTER TABLE reading_v6 RENAME TO reading")
    after = conn.execute("SELECT COUNT(*) FROM reading").fetchone()[0]
    if after != before:
        raise sqlite3.IntegrityError(f"readings after the upgrade: {after} of {before}")


_CHUNK = 20_000


def _convert(conn: sqlite3.Connection, interner: MetaInterner,
             row: tuple[Any, ...]) -> tuple[Any, ...]:
    meter_key, ts, rid, device_key, registers, vals, status, source, link, meter_time, \
        quality = row
    meta, own_status, own_quality = interner.choose(conn, source, link, status, quality)
    items = codec.decode_items(vals)
    if isinstance(vals, str) and codec.encode_items(items) == vals:
        vals = codec.pack_items(items)  # anything that would not come back the same stays text
    return (meter_key, ts, codec.pack_rid(rid), device_key, registers, vals, meta, own_status,
            own_quality, None if meter_time is None else meter_time - ts)
