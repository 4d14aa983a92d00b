"""Schema versions and in-place migrations, all pending ones in one transaction.

A database records every version applied in ``schema_version``. Opening a database applies
the missing versions in order inside a single transaction: either the database reaches the
latest version, or it is left exactly as it was and :class:`MigrationError` says why.
A database newer than this MeterHub is never touched.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import StorageError
from . import (
    alarms,
    auth,
    automation,
    compact,
    control,
    devices,
    guards,
    history,
    money,
    notify,
    overrides,
    payments,
    portal,
    replacements,
)

_LOGGER = logging.getLogger(__name__)


class MigrationError(StorageError):
    """The schema could not be brought up to date; the database was left unchanged."""


@dataclass(frozen=True)
class Migration:
    """One schema version: what it brings and the function that applies it."""

    version: int
    description: str
    apply: Callable[[sqlite3.Connection], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "readings, rollups, events, states, commands", history.create_v1),
    Migration(2, "device history per meter, compact readings, context indexes",
              history.upgrade_v2),
    Migration(3, "money: ledger, balances, charge states, tier usage, bills",
              money.create_v3),
    Migration(4, "prepaid control: one outstanding command per meter, holds, scheduled trips",
              control.upgrade_v4),
    Migration(5, "settings changed at runtime on top of YAML, with their history",
              overrides.upgrade_v5),
    Migration(6, "compact readings: interned status/quality/link/source, packed values and ids",
              compact.upgrade_v6),
    Migration(7, "the ledger is append-only in the database (no UPDATE, no DELETE)",
              guards.upgrade_v7),
    Migration(8, "automations: runs waiting in a delay, time triggers' last firing",
              automation.upgrade_v8),
    Migration(9, "access: users, login sessions, API tokens, the access log", auth.create_v9),
    Migration(10, "alarm acknowledgements: who saw which alarm, and when", alarms.upgrade_v10),
    Migration(11, "payments: orders, refunds, notifications, reconciliations",
              payments.create_v11),
    Migration(12, "tenant portal: link tokens (hashed), announcements", portal.create_v12),
    Migration(13, "device maintenance: bulk jobs, per-meter results, CT/PT ratio changes",
              devices.upgrade_v13),
    Migration(14, "notifications: the outbox, each message written before it is sent",
              notify.upgrade_v14),
    Migration(15, "meter replacements (device out, device in, final and initial registers)",
              replacements.upgrade_v15),
    Migration(16, "device maintenance: days filled from meters' memory, device alarms raised",
              devices.upgrade_v16),
    Migration(17, "access: each user's language", auth.upgrade_v17),
)


def latest_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """The schema version this code writes."""
    return migrations[-1].version


def current_version(conn: sqlite3.Connection) -> int:
    """The version of an open database: 0 for an empty file."""
    tables = {row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "schema_version" not in tables:
        if tables:
            raise MigrationError(
                "the database has tables but no schema_version: it is not a MeterHub database "
                f"(tables: {', '.join(sorted(tables)[:5])})")
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS,
            where: str = "the database") -> tuple[int, int]:
    """Bring the schema up to date; return (version before, version after)."""
    before = current_version(conn)
    latest = latest_version(migrations)
    if before > latest:
        raise MigrationError(
            f"{where} has schema v{before}, newer than this MeterHub understands (v{latest}): "
            "upgrade MeterHub, or restore a backup made by this version")
    pending = [m for m in migrations if m.version > before]
    if not pending:
        return before, before
    if before:
        _LOGGER.warning("Upgrading %s from schema v%d to v%d; this can take a while on a "
                        "large database", where, before, latest)
    step = pending[0]
    conn.execute("BEGIN IMMEDIATE")
    try:
        for step in pending:
            started = time.monotonic()
            step.apply(conn)
            conn.execute(
                "INSERT INTO schema_version (version, applied_ts, description) VALUES (?, ?, ?)",
                (step.version, int(time.time() * 1000), step.description))
            _LOGGER.info("Schema v%d (%s) applied to %s in %.1f s", step.version,
                         step.description, where, time.monotonic() - started)
        conn.execute("COMMIT")
    except Exception as err:
        conn.execute("ROLLBACK")
        raise MigrationError(
            f"upgrading {where} from schema v{before} failed at v{step.version} "
            f"({step.description}): {type(err).__name__}: {err}. The database was left "
            f"unchanged at v{before}; MeterHub cannot use it until this is fixed") from err
    return before, latest
