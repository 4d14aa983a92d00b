"""Compact readings (schema v6): exact packing, the v5 upgrade, interning, bytes per reading."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from common import child_process
from storage_helpers import MakeStorage, energy

from hub.metering.reading import Reading, ReadingSource
from hub.storage import codec
from hub.storage.layout import SOURCES
from hub.storage.model import CheckedPoints, PendingReading
from hub.storage.schema import compact as schema_compact
from hub.storage.schema.migrations import MIGRATIONS, latest_version, migrate
from hub.storage.settings import StorageSettings
from hub.storage.write.ingest import Batch, Ingest, OpItem
from hub.storage.write.rollups import Calendar
from hub.util.ids import new_id

ROOT = Path(__file__).resolve().parents[3]
MIGRATION_CHILD = Path(__file__).with_name("migration_child.py")
T0 = datetime(2024, 5, 20, 0, 0, tzinfo=UTC)
MS = int(T0.timestamp() * 1000)
QUARTER_MS = 900_000
E = "energy_import_total"

# --- codec ---------------------------------------------------------------------------------

ODD_VALUES = ["229.8", "4.31", "0.990", "-0", "-0.00", "0", "1E+3", "1.5E-10", "0E-9", "-1.5E+5",
              "-123456789012345678901234567890.123", "12345678901234567890", "0.000", "1E-7"]


def test_packed_items_read_back_as_the_text_form_would() -> None:
    rnd = random.Random(6)
    values = [Decimal(text) for text in ODD_VALUES]
    values += [Decimal(rnd.randint(-10**12, 10**12)).scaleb(-rnd.randint(-3, 12))
               for _ in range(3000)]
    for index, value in enumerate(values):
        key = rnd.choice([1, 2, 127, 128, 16383, 16384, 70000])
        code = ["", "b", "w6", "w12", "q", "j"][index % 6]
        packed = codec.decode_items(codec.pack_items([(key, value, code)]))
        text = codec.decode_items(codec.encode_items([(key, value, code)]))
        assert packed == text
        assert [str(v) for _k, v, _c in packed] == [str(v) for _k, v, _c in text]
    items = [(2, Decimal("229.8")), (3, Decimal("4.31")), (4, Decimal("0.990"))]
    packed_values = codec.pack_values(items)
    assert packed_values is not None and len(packed_values) == 12  # text: 22 characters
    assert packed_values == codec.pack_items((k, v, "") for k, v in items)
    assert codec.find_item(packed_values, 4) == Decimal("0.990")
    assert str(codec.find_item(packed_values, 4)) == "0.990"
    assert codec.find_item(packed_values, 5) is None
    assert codec.pack_values([]) is None and codec.decode_items(None) == []


def test_reading_ids_pack_to_bytes_and_read_back_in_python_and_sql() -> None:
    ids = [new_id() for _ in range(40)] + [
        "r1", "0abc", "ABC", "abc", "a", "f" * 40, "1" + "0" * 30, "读数-1", "", "12 34", "x0"]
    hub_id = new_id()
    ids += [hub_id[:length] for length in range(1, len(hub_id) + 1)]
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE t (rid_packed BLOB, rid TEXT GENERATED ALWAYS AS "
                 f"({codec.RID_SQL}) VIRTUAL)")
    for rid in ids:
        packed = codec.pack_rid(rid)
        assert codec.unpack_rid(packed) == rid
        if rid[:1] in "123456789abcdef" and rid[:1] and rid == rid.lower() and rid.isalnum() \
                and all(c in "0123456789abcdef" for c in rid):
            assert isinstance(packed, bytes) and len(packed) == (len(rid) + 1) // 2
        else:
            assert packed == rid
        conn.execute("INSERT INTO t (rid_packed) VALUES (?)", (packed,))
    assert [row[0] for row in conn.execute("SELECT rid FROM t")] == ids
    conn.close()


# --- the v5 upgrade ------------------------------------------------------------------------

def _v5_text(items: dict[str, str], keys: dict[str, int], codes: dict[str, str]) -> str | None:
    return " ".join(f"{keys[name]}:{value}{codes.get(name, '')}"
                    for name, value in items.items()) or None


def make_v5(path: Path, count: int = 400) -> list[dict[str, Any]]:
    """A v5 database as the v5 writer left it, with every kind of row; returns what it holds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, MIGRATIONS[:5]) == (0, 5)
    conn.execute("INSERT INTO meter (meter_key, meter_id, kind, device) VALUES "
                 "(1, 'e1', 'electricity', 'dev-a'), (2, 'n1', 'water', 'nb-1')")
    keys = {E: 1, "voltage": 2, "current": 3, "power": 4, "water_total": 5, "balance": 6}
    conn.executemany("INSERT INTO point (point_key, name) VALUES (?, ?)",
                     [(key, name) for name, key in keys.items()])
    conn.executemany("INSERT INTO meter_device (device_key, meter_key, device, first_ts) "
                     "VALUES (?, ?, ?, ?)", [(1, 1, "dev-a", MS), (2, 1, "dev-b", MS),
                                             (3, 2, "nb-1", MS), (4, 2, "", MS)])
    rnd = random.Random(5)
    expected: list[dict[str, Any]] = []
    rows = []
    for index in range(count):
        water = index % 3 == 0
        meter_key = 2 if water else 1
        ts = MS + index * QUARTER_MS + rnd.choice([0, 0, 0, 1, 999])
        registers = {"water_total": f"{index / 100:.2f}"} if water else {
            E: f"{100 + index * 0.07:.2f}"}
        codes = {}
        if index % 37 == 5:
            codes = {next(iter(registers)): rnd.choice(["b", "w6", "q", "j"])}
        vals: dict[str, str] = {}
        if not water:
            vals = {"voltage": f"{rnd.randint(2200, 2400) / 10}", "current": rnd.choice(
                ["4.31", "0.00", "-0.05", "12", "0.000", "-0"]), "power": "0.990"}
        elif index % 2:
            vals = {"balance": rnd.choice(["-3.20", "118.40", "0"])}
        status: dict[str, Any] = (
            {"valve": "open"} if water else {"relay": "open" if index % 50 == 7 else "closed"})
        if index % 97 == 3:
            status = {}
        quality: dict[str, Any] = (
            {"rsrp": -rnd.randint(80, 110), "sinr": rnd.randint(-3, 20), "ecl": 0} if water
            else {"frames": 1, "errors": {}} if index % 41 else {"frames": 2,
                                                                 "errors": {"voltage": "crc"}})
        if index % 89 == 1:
            quality = {}
        odd_ids = [f"r{index}", f"0abc{index}", f"ABC{index}", f"读数{index}", f"abc{index}"]
        rid = new_id() if index % 10 else odd_ids[index // 10 % 5]
        device_key = 3 if water else (1 if index < count // 2 else 2)
        source = 3 if water else rnd.choice([0, 0, 0, 1, 2])
        link = None if water else rnd.choice(["bus1", "bus1", "bus2"])
        meter_time = None if index % 5 else ts + rnd.randint(-200_000, 200_000)
        rows.append((meter_key, ts, rid, device_key, _v5_text(registers, keys, codes),
                     _v5_text(vals, keys, {}), codec.dumps_cached(status), source, link,
                     meter_time, codec.dumps_cached(quality)))
        expected.append({"meter_id": "n1" if water else "e1", "ts": ts, "rid": rid,
                         "registers": registers, "codes": codes, "values": vals,
                         "status": status, "quality": quality,
                         "device": {1: "dev-a", 2: "dev-b", 3: "nb-1"}[device_key],
                         "source": SOURCES[source], "link": link, "meter_time": meter_time})
    # text a v5 writer never wrote, kept as it is all the same
    rows.append((1, MS - QUARTER_MS, "odd", 1, "1:99.00b", "2:230.0 junk 3:x", "{}", 0,
                 "", None, "[]"))
    conn.executemany("INSERT INTO reading (meter_key, ts, rid, device_key, registers, vals, "
                     "status, source, link, meter_time, quality) VALUES "
                     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()
    return expected


RAW_V5 = ("SELECT meter_key, ts, rid, device_key, registers, vals, status, source, link, "
          "meter_time, quality FROM reading ORDER BY meter_key, ts")
RAW_V6 = ("SELECT r.meter_key, r.ts, r.rid, r.device_key, r.registers, r.vals, "
          "coalesce(r.own_status, m.status), m.source, m.link, r.ts + r.meter_dt, "
          "coalesce(r.own_quality, m.quality) FROM reading r "
          "JOIN reading_meta m ON m.meta_key = r.meta ORDER BY r.meter_key, r.ts")


def _raw(path: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _same_row(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    """Every column identical; values identical once decoded (the text of each number)."""
    def numbers(data: Any) -> list[tuple[int, str, str]]:
        return [(k, str(v), c) for k, v, c in codec.decode_items(data)]
    return (old[:5] == new[:5] and old[6:] == new[6:]
            and (old[5] == new[5] or numbers(old[5]) == numbers(new[5])))


def _check_reading(got: Reading, want: dict[str, Any]) -> None:
    assert got.id == want["rid"]
    assert got.time == codec.from_ms(want["ts"])
    assert {k: str(v) for k, v in got.registers.items()} == want["registers"]
    assert {k: str(v) for k, v in got.values.items()} == want["values"]
    assert got.status == want["status"]
    quality = dict(got.quality)
    counter = quality.pop("counter", {})
    assert quality == want["quality"]
    assert counter == {name: {"b": "baseline", "w": "rollover", "q": "quarantined",
                              "j": "jitter"}[code[0]] for name, code in want["codes"].items()}
    assert got.device == want["device"]
    assert got.source is want["source"]
    assert got.link_id == want["link"]
    assert got.meter_time == (None if want["meter_time"] is None
                              else codec.from_ms(want["meter_time"]))


async def test_upgrade_from_v5_keeps_every_reading_identical(make_storage: MakeStorage,
                                                             db_path: Path) -> None:
    expected = make_v5(db_path)
    before = _raw(db_path, RAW_V5)
    async with asyncio.timeout(20):
        storage = await make_storage()
        assert storage.status == "ok"
        for meter_id in ("e1", "n1"):
            got = await storage.readings(meter_id, T0 - timedelta(days=1), T0 + timedelta(days=30))
            want = [w for w in expected if w["meter_id"] == meter_id]
            if meter_id == "e1":
                assert got[0].id == "odd" and got[0].values == {"voltage": Decimal("230.0")}
                assert got[0].status == {} and got[0].link_id == "" and got[0].device == "dev-a"
                got = got[1:]
            assert len(got) == len(want)
            for reading, wanted in zip(got, want, strict=True):
                _check_reading(reading, wanted)
        # counting goes on from the last accepted value
        last = [w for w in expected if w["meter_id"] == "e1"][-1]
        new = energy("e1", codec.from_ms(last["ts"]) + timedelta(minutes=15),
                     str(Decimal(last["registers"][E]) + Decimal("0.05")), device="dev-b")
        out = await storage.add_reading(new)
        assert out.verdicts == {E: "counted"}
        await storage.stop()
    after = _raw(db_path, RAW_V6)
    assert [row[2] for row in after].count(new.id) == 1
    after = [row for row in after if row[2] != new.id]
    assert len(after) == len(before)
    assert all(_same_row(old, new) for old, new in zip(before, after, strict=True))
    odd = next(row for row in after if row[2] == "odd")
    assert odd[5] == "2:230.0 junk 3:x" and odd[6] == "{}" and odd[10] == "[]"  # kept as text
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == \
            latest_version()
        kinds = dict(conn.execute("SELECT typeof(rid_packed), COUNT(*) FROM reading GROUP BY 1"))
        assert kinds["blob"] > 300 and kinds["text"] < 50
        metas = conn.execute("SELECT COUNT(*) FROM reading_meta").fetchone()[0]
        assert metas < 120  # recurring combinations; one-off radio levels stay in their rows
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # raw SQL readers (crash recovery of charges) see the same ids and registers
        assert conn.execute("SELECT ts, rid, registers FROM reading WHERE meter_key = 1 "
                            "ORDER BY ts LIMIT 3").fetchall() == [
            (row[1], row[2], row[4]) for row in before if row[0] == 1][:3]
    finally:
        conn.close()


@pytest.mark.parametrize(("count", "chunk"), [(150, 7), (3000, 250)])
def test_upgrade_from_v5_in_chunks_reuses_the_pages_it_frees(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int, chunk: int) -> None:
    monkeypatch.setattr(schema_compact, "_CHUNK", chunk)
    path = tmp_path / "v5.db"
    make_v5(path, count=count)
    before = _raw(path, RAW_V5)
    pages_before = _raw(path, "PRAGMA page_count")[0][0]
    conn = sqlite3.connect(path, isolation_level=None)
    # up to v6 only: the tables later versions add (automation waits, users...) are not
    # the readings'
    assert migrate(conn, MIGRATIONS[:6]) == (5, 6)
    conn.close()
    after = _raw(path, RAW_V6)
    assert len(after) == len(before)
    assert all(_same_row(old, new) for old, new in zip(before, after, strict=True))
    # no second copy of the readings: the file grows by about one chunk, where copying
    # everything before dropping the old table would grow it by the whole new table
    new_pages = _raw(path, "SELECT COUNT(*) FROM dbstat WHERE name = 'reading'")[0][0]
    growth = _raw(path, "PRAGMA page_count")[0][0] - pages_before
    assert growth <= 4 + chunk * 60 // 4096 + 1
    if count > 1000:
        assert new_pages > 4 * growth


def test_failed_v6_upgrade_leaves_v5_rows_untouched(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v5.db"
    make_v5(path, count=60)
    before = _raw(path, RAW_V5)
    real = schema_compact._convert
    calls = 0

    def failing(*args: Any) -> tuple[Any, ...]:
        nonlocal calls
        calls += 1
        if calls > 40:
            raise RuntimeError("conversion failed")  # an error; a kill: the test below
        return real(*args)

    monkeypatch.setattr(schema_compact, "_CHUNK", 16)
    monkeypatch.setattr(schema_compact, "_convert", failing)
    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(Exception, match="failed at v6"):
        migrate(conn)
    conn.close()
    assert _raw(path, "SELECT MAX(version) FROM schema_version") == [(5,)]
    assert _raw(path, RAW_V5) == before


async def test_upgrade_killed_mid_way_is_not_applied_and_completes_on_restart(
        make_storage: MakeStorage, tmp_path: Path) -> None:
    path = tmp_path / "data" / "v5.db"
    make_v5(path, count=400)
    before = _raw(path, RAW_V5)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    lines: list[str] = []
    async with child_process(sys.executable, str(MIGRATION_CHILD), str(path), "16", "200",
                             stdout=asyncio.subprocess.PIPE, env=env, cwd=ROOT) as proc:
        assert proc.stdout is not None
        async with asyncio.timeout(60):  # a loaded 2-core machine
            while "MIDWAY" not in lines:
                raw = await proc.stdout.readline()
                assert raw, f"the upgrade ended before its pause: {lines}"
                lines.append(raw.decode().strip())
        wal = path.with_name(path.name + "-wal")
        assert wal.exists() and wal.stat().st_size > 0  # 12 chunks written, not committed
        proc.send_signal(signal.SIGKILL)
        async with asyncio.timeout(30):
            await proc.wait()
        assert proc.returncode == -signal.SIGKILL
    # what a restart finds: v5, every reading as it was, no half-converted table
    assert _raw(path, "SELECT MAX(version) FROM schema_version") == [(5,)]
    assert _raw(path, RAW_V5) == before
    tables = {row[0] for row in _raw(path, "SELECT name FROM sqlite_master")}
    assert "reading_v6" not in tables and "reading_meta" not in tables
    assert _raw(path, "PRAGMA integrity_check") == [("ok",)]
    async with asyncio.timeout(60):
        storage = await make_storage(path=path)
        assert storage.status == "ok"
        await storage.stop()
    assert not list(path.parent.glob("*.corrupt-*"))  # nothing moved aside
    assert _raw(path, "SELECT MAX(version) FROM schema_version") == [(latest_version(),)]
    after = _raw(path, RAW_V6)
    assert len(after) == len(before)
    assert all(_same_row(old, new) for old, new in zip(before, after, strict=True))


# --- the writer ----------------------------------------------------------------------------

def _reading(meter: str, index: int, **kwargs: Any) -> Reading:
    return Reading(meter, T0 + timedelta(minutes=15 * index),
                   {E: Decimal(100) + Decimal(index) / 4},
                   {"voltage": Decimal("229.8"), "current": Decimal("4.31")}, **kwargs)


async def test_stored_readings_read_back_identical(make_storage: MakeStorage,
                                                   db_path: Path) -> None:
    rnd = random.Random(3)
    sent: list[Reading] = []
    for index in range(120):
        nb = index % 2 == 0
        sent.append(_reading(
            "nb" if nb else "bus", index,
            status={"relay": "open" if index % 30 == 1 else "closed", "battery_low": False},
            quality=({"rsrp": -rnd.randint(70, 120), "sinr": rnd.randint(-5, 30),
                      "at": datetime(2024, 5, 1, tzinfo=UTC)} if nb
                     else {"frames": 1, "errors": {}} if index % 13 else {}),
            device="dev-nb" if nb else "dev-bus", link_id=None if nb else "bus1",
            source=ReadingSource.UPLINK if nb else [ReadingSource.SCHEDULED,
                                                    ReadingSource.REREAD][index % 11 == 0],
            meter_time=(T0 + timedelta(minutes=15 * index, seconds=-rnd.randint(-500, 500))
                        if index % 4 == 0 else None)))
    async with asyncio.timeout(20):
        storage = await make_storage()
        await storage.add_readings(sent)
        stored = [*await storage.readings("nb", T0, T0 + timedelta(days=2)),
                  *await storage.readings("bus", T0, T0 + timedelta(days=2))]
    by_id = {reading.id: reading for reading in stored}
    assert len(by_id) == len(sent)
    for reading in sent:
        got = by_id[reading.id]
        quality = dict(got.quality)
        quality.pop("counter", None)
        assert (got.time, got.registers, got.values, got.status, got.meter_time, got.device,
                got.link_id, got.source, quality) == (
            reading.time, reading.registers, reading.values, reading.status,
            reading.meter_time, reading.device, reading.link_id, reading.source,
            codec.loads(codec.dumps(dict(reading.quality))))
    conn = sqlite3.connect(db_path)
    try:
        metas = conn.execute("SELECT COUNT(*) FROM reading_meta").fetchone()[0]
        own = conn.execute("SELECT COUNT(own_status), COUNT(own_quality) FROM reading "
                           "WHERE meter_key = (SELECT meter_key FROM meter "
                           "WHERE meter_id = 'bus')").fetchone()
    finally:
        conn.close()
    assert metas <= 12  # the radio levels of the NB-IoT meter are not interned one by one
    combos = {(r.source, repr(r.status), repr(r.quality)) for r in sent if r.meter_id == "bus"}
    assert own[0] <= len(combos) and own[1] <= len(combos)  # once per combination at most


def _ingest(path: Path, limit: int | None = None) -> tuple[sqlite3.Connection, Ingest]:
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn)
    ingest = Ingest(Calendar("Asia/Shanghai"), StorageSettings(path=path))
    if limit is not None:
        ingest.metas.limit = limit
    return conn, ingest


def _pending(reading: Reading) -> PendingReading:
    return PendingReading.of(reading, codec.to_ms(reading.time), CheckedPoints(
        tuple(reading.registers.items()), tuple(reading.values.items())))


def test_full_meta_table_and_rollback_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    conn, ingest = _ingest(path, limit=2)
    sent = [_reading("m1", index, status={"relay": "closed", "n": index % 3},
                     quality={"frames": index % 4}, link_id=f"bus{index % 2}")
            for index in range(40)]
    ingest.write_batch(conn, Batch(readings=[_pending(r) for r in sent[:30]]))

    def fail(_conn: sqlite3.Connection, _ingest: Ingest) -> None:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        ingest.write_batch(conn, Batch(readings=[_pending(r) for r in sent[30:]],
                                       ops=[OpItem(fail, ())]))
    ingest.write_batch(conn, Batch(readings=[_pending(r) for r in sent[30:]]))
    metas = conn.execute("SELECT COUNT(*) FROM reading_meta").fetchone()[0]
    conn.close()
    assert metas <= 4  # two combinations, plus one (source, link) row per link
    from hub.storage.queries import history as queries

    reader = sqlite3.connect(path)
    got = queries.readings(reader, "m1", 0, 2**62)
    reader.close()
    assert [(r.id, r.status, {k: v for k, v in r.quality.items() if k != "counter"},
             r.link_id) for r in got] == [
        (r.id, dict(r.status), dict(r.quality), r.link_id) for r in sent]


def test_compact_row_size(tmp_path: Path) -> None:
    """The bench's reading (1 register, 3 values, relay status, link, quality) in ~50 bytes."""
    path = tmp_path / "size.db"
    conn, ingest = _ingest(path)
    batch = Batch()
    for index in range(2000):
        when = T0 + timedelta(minutes=15 * (index // 4))
        batch.readings.append(_pending(Reading(
            f"r{index % 4}", when, {E: Decimal(100) + Decimal(index) * Decimal("0.07")},
            {"voltage": Decimal("229.8"), "current": Decimal("4.31"), "power": Decimal("0.990")},
            {"relay": "closed"}, device=f"dev-{index % 4}", link_id="bus1",
            quality={"frames": 1, "errors": {}}, id=new_id())))
    ingest.write_batch(conn, batch)
    per_row = conn.execute("SELECT SUM(payload) * 1.0 / SUM(ncell) FROM dbstat "
                           "WHERE name = 'reading' AND pagetype = 'leaf'").fetchone()[0]
    conn.close()
    assert per_row <= 55, per_row  # schema v5: 118

