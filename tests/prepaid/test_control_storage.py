"""Schema v4 and the control queries on a real SQLite file: one outstanding command per
meter, one pending scheduled trip per account, holds that replace each other."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.core import Context
from hub.storage import CommandConflict, ControlStore, HoldRow, ScheduleRow, codec
from hub.storage.schema.migrations import MIGRATIONS, migrate

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
TS = codec.to_ms(NOW)


@pytest.fixture
def store(tmp_path: Path) -> ControlStore:
    conn = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    migrate(conn)
    return ControlStore(conn)


def _submit(store: ControlStore, command_id: str, meter: str = "m1",
            command: str = "trip") -> list[str]:
    return store.submit(command_id=command_id, meter_id=meter, account_id="a1",
                        command=command, params={"reason": "test"}, ts=TS, next_at=NOW,
                        expires_at=None, context=Context(user_id="u1"))


def test_v4_upgrades_a_v3_database_and_keeps_its_commands(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "old.sqlite", isolation_level=None)
    assert migrate(conn, MIGRATIONS[:3]) == (0, 3)
    conn.execute("INSERT INTO command (command_id, meter_id, command, state, created_ts, "
                 "updated_ts) VALUES ('c0', 'm1', 'trip', 'confirmed', 1, 1)")
    assert migrate(conn, MIGRATIONS[:4]) == (3, 4)
    store = ControlStore(conn)
    assert store.command("c0") is not None
    assert {row[1] for row in conn.execute("PRAGMA table_info(command)")} >= {
        "queue", "account_id", "next_ts", "expires_ts"}


def test_a_new_command_supersedes_the_outstanding_one(store: ControlStore) -> None:
    assert _submit(store, "c1") == []
    store.move("c1", "sent", TS, expected=("queued",), attempt=True)
    assert _submit(store, "c2", command="close") == ["c1"]
    old, new = store.command("c1"), store.command("c2")
    assert old is not None and old.state == "superseded" and old.attempts == 1
    assert new is not None and new.state == "queued" and new.account_id == "a1"
    assert new.context.user_id == "u1" and new.next_at == NOW
    assert [c.command_id for c in store.outstanding()] == ["c2"]
    with pytest.raises(CommandConflict):
        store.move("c1", "confirmed", TS, expected=("sent",))


def test_the_database_refuses_two_outstanding_control_commands_per_meter(
        store: ControlStore) -> None:
    _submit(store, "c1")
    with pytest.raises(sqlite3.IntegrityError):
        store.conn.execute("UPDATE command SET state = 'queued', queue = 'control' "
                           "WHERE command_id = 'c1'")  # fine: it is the same row
        store.conn.execute(
            "INSERT INTO command (command_id, meter_id, command, state, created_ts, "
            "updated_ts, queue) VALUES ('c9', 'm1', 'close', 'sent', 1, 1, 'control')")
    # another queue's rows (the NB-IoT link's own) are not constrained
    store.conn.execute(
        "INSERT INTO command (command_id, meter_id, command, state, created_ts, updated_ts) "
        "VALUES ('nb1', 'm1', 'valve_close', 'queued', 1, 1)")
    assert [c.command_id for c in store.outstanding()] == ["c1"]


def test_params_merge_and_latest_finds_the_newest(store: ControlStore) -> None:
    _submit(store, "c1")
    store.merge_params("c1", {"link_command": "nb-7"})
    found = store.command("c1")
    assert found is not None and found.params == {"reason": "test", "link_command": "nb-7"}
    _submit(store, "c2", meter="m2", command="valve_close")
    assert [c.command_id for c in store.latest(account_id="a1")] == ["c2", "c1"]
    assert [c.command_id for c in store.latest(meter_ids=["m1"], commands_=["trip"])] == ["c1"]


def _row(schedule_id: str, due: datetime, kind: str = "delayed") -> ScheduleRow:
    return ScheduleRow(schedule_id, "a1", kind, "pending", due, due - timedelta(hours=1),
                       None, "test", {}, NOW, NOW, Context())


def test_one_pending_scheduled_trip_per_account(store: ControlStore) -> None:
    first = store.put_schedule(_row("s1", NOW + timedelta(hours=8)))
    store.mark_warned("s1", TS)
    same_due = store.put_schedule(_row("s2", NOW + timedelta(hours=8), kind="deferred"))
    assert same_due.schedule_id == "s1" and same_due.kind == "deferred"
    assert same_due.warned is not None  # same time: the warning already went out
    moved = store.put_schedule(_row("s3", NOW + timedelta(days=1)))
    assert moved.schedule_id == first.schedule_id and moved.warned is None
    assert [r.schedule_id for r in store.pending_schedules()] == ["s1"]
    assert store.finish_schedule("s1", "fired", TS)
    assert not store.finish_schedule("s1", "cancelled", TS)
    store.put_schedule(_row("s4", NOW + timedelta(days=2)))
    assert [r.schedule_id for r in store.pending_schedules()] == ["s4"]
    assert [r.state for r in store.schedules("a1")] == ["pending", "fired"]


def test_a_new_hold_releases_the_old_one(store: ControlStore) -> None:
    keep = HoldRow("h1", "a1", "keep_on", "exams", NOW + timedelta(days=3), "op", NOW)
    assert store.add_hold(keep) == []
    force = HoldRow("h2", "a1", "force_off", "moved out", None, "op", NOW)
    assert store.add_hold(force) == ["h1"]
    assert [h.hold_id for h in store.open_holds()] == ["h2"]
    assert store.release_holds("a1", TS, "op2", "paid") == ["h2"]
    assert store.open_holds() == []
    history = store.holds("a1")
    assert {h.hold_id: h.released_by for h in history} == {"h1": "op", "h2": "op2"}


def test_why_of_a_command_without_recorded_causes(store: ControlStore) -> None:
    _submit(store, "c1")
    found = store.why("c1")
    assert found is not None
    assert found["command"]["command_id"] == "c1" and found["user_id"] == "u1"
    assert [t["to"] for t in found["transitions"]] == ["queued"]
    assert store.why("nope") is None
