"""SQLite connections with storage's pragmas, and what an SQLite error means.

Every connection is in autocommit mode (transactions are explicit), waits out another
connection's lock for ``BUSY_TIMEOUT_MS``, and the writer's runs in WAL mode with
``synchronous=NORMAL`` (durable transactions raise it to FULL for their commit).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import StorageError

BUSY_TIMEOUT_MS = 5000
# the writer's page cache: rollups and balances are rewritten batch by batch; 8 MB holds
# what a 1,000-reading batch rewrites at 10,000 meters (16 MB was 8 MB more resident memory
# for no measured gain in bench/billing.py)
CACHE_KIB = 8000
# a reader's: its queries (a bill run's charge states, history pages) read each page about
# once; 16 MB on each of the 2 readers held 32 MB at 10,000 meters for a few % less CPU
READER_CACHE_KIB = 4000
WAL_PAGES = 10000


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open a connection in autocommit mode (transactions are explicit) with our pragmas."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=True)
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if readonly:
            conn.execute("PRAGMA query_only=1")
        else:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                raise StorageError(f"cannot switch {path} to WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES}")
        conn.execute(f"PRAGMA cache_size=-{READER_CACHE_KIB if readonly else CACHE_KIB}")
        conn.execute("PRAGMA temp_store=MEMORY")
    except BaseException:
        conn.close()
        raise
    return conn


def is_corruption(err: BaseException) -> bool:
    """Whether an SQLite error means the file is damaged or not a database at all."""
    if not isinstance(err, sqlite3.DatabaseError):
        return False
    if getattr(err, "sqlite_errorcode", None) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return True
    text = str(err).lower()
    return "malformed" in text or "not a database" in text


def is_disk_full(err: BaseException) -> bool:
    """Whether an SQLite error means the disk or the size limit is full."""
    return isinstance(err, sqlite3.Error) and (
        getattr(err, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        or "full" in str(err).lower()
    )


def is_locked(err: BaseException) -> bool:
    """Whether an SQLite error means another connection holds a lock."""
    return isinstance(err, sqlite3.OperationalError) and (
        "locked" in str(err).lower() or "busy" in str(err).lower()
    )


def check_integrity(path: Path) -> str | None:
    """Return why the database at ``path`` is damaged, or None if it looks sound."""
    try:
        conn = sqlite3.connect(str(path), isolation_level=None)
    except sqlite3.Error as err:
        return str(err)
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        rows = conn.execute("PRAGMA quick_check(5)").fetchall()
    except sqlite3.DatabaseError as err:
        if is_locked(err):
            raise
        return str(err)
    finally:
        conn.close()
    problems = [str(row[0]) for row in rows if str(row[0]).lower() != "ok"]
    return "; ".join(problems) or None
