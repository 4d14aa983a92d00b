"""Backup under concurrent writes, restore, and CSV/Excel exports (through the CLI too)."""

from __future__ import annotations

import asyncio
import csv
import sqlite3
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from storage_helpers import TZ, MakeStorage, energy

from hub.metering.reading import Reading
from hub.storage import StorageError
from hub.storage.schema.migrations import latest_version
from hub.storage.tools.backup import backup, describe, restore
from hub.storage.tools.cli import cmd_backup, cmd_export, cmd_restore

SH = ZoneInfo(TZ)
T0 = datetime(2024, 5, 1, tzinfo=SH)
E = "energy_import_total"


def consistent(path: Path) -> tuple[int, Decimal, Decimal]:
    """(readings, consumption in rollups, consumption from the registers) of meter w0."""
    conn = sqlite3.connect(path)
    try:
        count = conn.execute("SELECT COUNT(*) FROM reading").fetchone()[0]
        regs = [r[0] for r in conn.execute(
            "SELECT registers FROM reading r JOIN meter m ON m.meter_key = r.meter_key "
            "WHERE m.meter_id = 'w0' ORDER BY ts")]
        units = conn.execute(
            "SELECT COALESCE(SUM(value), 0) FROM rollup_day r JOIN series s "
            "ON s.series_key = r.series_key WHERE s.scope = 'meter:w0'").fetchone()[0]
    finally:
        conn.close()
    values = [Decimal(text.split(":")[1].rstrip("b")) for text in regs]
    return count, Decimal(units) / 10**6, (values[-1] - values[0]) if values else Decimal(0)


async def test_backup_and_restore_round_trip_while_writing(make_storage: MakeStorage,
                                                           db_path: Path, tmp_path: Path) -> None:
    storage = await make_storage(commit_interval=0.005)
    stop = asyncio.Event()

    async def writer() -> None:
        minute = 0
        while not stop.is_set():
            await storage.add_readings(
                energy(f"w{i}", T0 + timedelta(minutes=minute), str(Decimal(minute) / 10 + i))
                for i in range(10))
            minute += 1

    async with asyncio.timeout(30):
        task = asyncio.create_task(writer())
        await asyncio.sleep(0.3)
        copies = []
        for index in range(3):  # backups taken while the writer commits every few ms
            target = tmp_path / f"backup-{index}.db"
            info = await storage.backup(target)
            copies.append(target)
            assert info.schema_version == latest_version() and info.readings > 0
            await asyncio.sleep(0.1)
        stop.set()
        await task
        for copy in copies:
            count, rolled, from_registers = consistent(copy)
            assert count % 10 == 0  # whole commits only
            assert rolled == from_registers  # readings and rollups from the same snapshot
        sizes = [describe(c).readings for c in copies]
        assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
        with pytest.raises(StorageError, match="exists already"):
            backup(db_path, copies[0])
        with pytest.raises(StorageError, match="in use by another MeterHub"):
            restore(copies[0], db_path)  # the running hub holds the database
        await storage.stop()
        later = describe(db_path).readings
        moved = restore(copies[1], db_path)
        assert moved is not None and moved.exists() and describe(moved).readings == later
        again = await make_storage()
        assert describe(db_path).readings == sizes[1]
        stored = await again.readings("w0", T0, T0 + timedelta(days=1))
        assert len(stored) == sizes[1] // 10
        out = await again.add_reading(energy("w0", T0 + timedelta(days=1), "999"))
        assert out.verdicts[E] == "counted"


async def test_cli_backup_restore_and_refusals(make_storage: MakeStorage, db_path: Path,
                                               tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import argparse

    storage = await make_storage()
    async with asyncio.timeout(10):
        await storage.add_readings([energy("m1", T0, "1"), energy("m1", T0 + timedelta(hours=1),
                                                                "2")])

        def args(**kw: object) -> argparse.Namespace:
            return argparse.Namespace(config=None, data=None, db=db_path, **kw)

        out = tmp_path / "b.db"
        assert await asyncio.to_thread(cmd_backup, args(output=out)) == 0
        assert "2 条读数" in capsys.readouterr().out  # no site: zh-CN
        assert await asyncio.to_thread(cmd_restore, args(backup=out)) == 1
        assert "请先停止它" in capsys.readouterr().err
        await storage.stop()
        garbage = tmp_path / "garbage.db"
        garbage.write_bytes(b"not a database at all" * 100)
        assert cmd_restore(args(backup=garbage)) == 1
        assert "已损坏" in capsys.readouterr().err
        assert cmd_restore(args(backup=out)) == 0
        assert "原数据库已保留为" in capsys.readouterr().out


async def _fill_for_export(make_storage: MakeStorage) -> None:
    storage = await make_storage()
    await storage.upsert_meters([
        {"id": "a1", "kind": "electricity", "tags": {"building": "A"}},
        {"id": "a2", "kind": "water", "tags": {"building": "A"}},
        {"id": "b1", "kind": "electricity", "tags": {"building": "B"}},
    ])
    await storage.add_readings([
        Reading("a1", T0 + timedelta(hours=1), {E: Decimal("10.00")},
                {"voltage": Decimal("229.8")}, device="d1"),
        Reading("a1", T0 + timedelta(days=1, hours=1), {E: Decimal("34.50")}, device="d1"),
        Reading("a2", T0 + timedelta(hours=1), {"water_total": Decimal("5.125")}, device="w"),
        Reading("a2", T0 + timedelta(days=1, hours=1), {"water_total": Decimal("6.000")},
                device="w"),
        Reading("b1", T0 + timedelta(hours=1), {E: Decimal("1")}),
    ])
    await storage.stop()


async def test_export_csv_contents(make_storage: MakeStorage, db_path: Path,
                                   tmp_path: Path) -> None:
    import argparse

    async with asyncio.timeout(10):
        await _fill_for_export(make_storage)
    out = tmp_path / "readings.csv"
    ns = argparse.Namespace(config=None, data=None, db=db_path, what="readings",
                            start="2024-05-01", end="2024-05-02", meter=[],
                            tag=["building=A"], resolution="day", format=None, output=out)
    assert cmd_export(ns) == 0
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["meter_id", "time", "device", "source", "energy_import_total (kWh)",
                       "water_total (m3)", "voltage (V)"]
    assert rows[1] == ["a1", "2024-05-01T01:00:00+08:00", "d1", "scheduled", "10.00", "", "229.8"]
    assert rows[2] == ["a1", "2024-05-02T01:00:00+08:00", "d1", "scheduled", "34.50", "", ""]
    assert [r[0] for r in rows[3:]] == ["a2", "a2"]  # b1 is in building B
    assert rows[3][5] == "5.125"
    out = tmp_path / "daily.csv"
    ns.what, ns.output, ns.tag, ns.meter = "consumption", out, [], ["a1"]
    assert cmd_export(ns) == 0
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    # 24.50 kWh over 24 h from 01:00: 23/24 on 1 May = 23.4791666.. floored to millionths
    # (cumulative flooring), and the rest, 1.020834, on 2 May: together exactly 24.50
    assert rows == [["meter_id", "day_start", "energy_import_total (kWh)"],
                    ["a1", "2024-05-01T00:00:00+08:00", "23.479166"],
                    ["a1", "2024-05-02T00:00:00+08:00", "1.020834"]]
    ns.meter = ["nope"]
    assert cmd_export(ns) == 1


async def test_export_excel_contents(make_storage: MakeStorage, db_path: Path,
                                     tmp_path: Path) -> None:
    import argparse

    async with asyncio.timeout(10):
        await _fill_for_export(make_storage)
    out = tmp_path / "monthly.xlsx"
    ns = argparse.Namespace(config=None, data=None, db=db_path, what="consumption",
                            start="2024-05-01", end="2024-05-31", meter=[],
                            tag=["building=A"], resolution="month", format=None, output=out)
    assert cmd_export(ns) == 0
    sheet = load_workbook(out).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["meter_id", "month_start", "energy_import_total (kWh)",
                       "water_total (m3)"]
    assert rows[1][:2] == ["a1", datetime(2024, 5, 1)]
    assert Decimal(str(rows[1][2])) == Decimal("24.5") and rows[1][3] is None
    assert rows[2][0] == "a2" and Decimal(str(rows[2][3])) == Decimal("0.875")
    assert len(rows) == 3
    out = tmp_path / "readings.xlsx"
    ns.what, ns.output, ns.tag, ns.meter = "readings", out, [], ["a2"]
    assert cmd_export(ns) == 0
    sheet = load_workbook(out).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["meter_id", "time", "device", "source", "water_total (m3)"]
    assert rows[1][:3] == ["a2", datetime(2024, 5, 1, 1, 0), "w"]
    assert Decimal(str(rows[1][4])) == Decimal("5.125")
    assert len(rows) == 3


async def test_unwritable_asks_are_errors_that_write_nothing(
        make_storage: MakeStorage, db_path: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A .pdf is no CSV, a reversed range is no empty export, a mistyped folder is not
    created."""
    import argparse

    async with asyncio.timeout(10):
        await _fill_for_export(make_storage)

    def export_args(output: Path, start: str = "2024-05-01", end: str = "2024-05-02",
                    fmt: str | None = None) -> argparse.Namespace:
        return argparse.Namespace(config=None, data=None, db=db_path, what="readings",
                                  start=start, end=end, meter=[], tag=[], resolution="day",
                                  format=fmt, output=output)

    pdf = tmp_path / "x.pdf"
    assert cmd_export(export_args(pdf)) == 1
    assert capsys.readouterr().err == (f"meterhub export：无法判断 {pdf} 的格式：文件名请以 "
                                       ".csv 或 .xlsx 结尾（或给出 --format csv|xlsx）\n")
    assert cmd_export(export_args(tmp_path / "x.csv", fmt="xlsx")) == 1
    assert "的扩展名是 .csv，但格式是 xlsx" in capsys.readouterr().err
    assert cmd_export(export_args(tmp_path / "x.csv", start="2024-05-05",
                                  end="2024-05-01")) == 1
    assert capsys.readouterr().err == ("meterhub export：--end 2024-05-01 不晚于 --start "
                                       "2024-05-05：两者之间没有数据\n")
    missing = tmp_path / "no" / "such" / "dir"
    assert cmd_export(export_args(missing / "x.csv")) == 1
    assert f"文件夹 {missing} 不存在" in capsys.readouterr().err
    backup_args = argparse.Namespace(config=None, data=None, db=db_path,
                                     output=missing / "b.db")
    assert cmd_backup(backup_args) == 1
    assert f"文件夹 {missing} 不存在" in capsys.readouterr().err
    assert not pdf.exists() and not (tmp_path / "x.csv").exists()
    assert not (tmp_path / "no").exists()  # no folder made up
    with pytest.raises(StorageError, match="does not exist"):
        backup(db_path, missing / "b.db")
