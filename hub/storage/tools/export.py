"""CSV and Excel (openpyxl) exports of readings and consumption for a period and a filter.

Numbers are exact: CSV cells hold the decimal text as stored; Excel cells hold numbers (shown
with up to 6 decimals). Times are the site's local time: ISO 8601 with offset in CSV, local
date-times in Excel (which has no time zones). Rows stream out meter by meter.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol

from ...i18n import Text
from ...metering.points import POINTS
from ..messages import STRINGS as _STRINGS  # noqa: F401  (the tables of the Texts below)
from ..queries import history as queries

_NUMBER_FORMAT = "0.######"
_TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


@dataclass
class ExportRequest:
    """What to export."""

    what: str  # readings | consumption
    start: datetime
    end: datetime
    meter_ids: Sequence[str] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    resolution: str = "day"


class _Sink(Protocol):
    def row(self, values: list[Any]) -> None: ...

    def close(self) -> None: ...


class _CsvSink:
    def __init__(self, path: Path, tz: tzinfo) -> None:
        self._file = open(path, "w", newline="", encoding="utf-8-sig")  # noqa: SIM115
        self._csv = csv.writer(self._file)
        self._tz = tz

    def row(self, values: list[Any]) -> None:
        self._csv.writerow([
            v.astimezone(self._tz).isoformat() if isinstance(v, datetime)
            else ("" if v is None else (format(v, "f") if hasattr(v, "as_tuple") else v))
            for v in values])

    def close(self) -> None:
        self._file.close()


class _XlsxSink:
    def __init__(self, path: Path, tz: tzinfo, title: str) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        self._cell = WriteOnlyCell
        self._path = path
        self._tz = tz
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title)

    def row(self, values: list[Any]) -> None:
        cells = []
        for value in values:
            if isinstance(value, datetime):
                cell = self._cell(self._sheet, value.astimezone(self._tz).replace(tzinfo=None))
                cell.number_format = _TIME_FORMAT
            elif hasattr(value, "as_tuple"):
                cell = self._cell(self._sheet, value)
                cell.number_format = _NUMBER_FORMAT
            else:
                cell = self._cell(self._sheet, value)
            cells.append(cell)
        self._sheet.append(cells)

    def close(self) -> None:
        self._book.save(self._path)


def _label(name: str) -> str:
    info = POINTS.get(name)
    return f"{name} ({info.unit})" if info is not None and info.unit else name


def export(conn: sqlite3.Connection, tz: tzinfo, request: ExportRequest, path: Path,
           fmt: str) -> int:
    """Write the export to ``path`` as ``csv`` or ``xlsx``; return the number of data rows."""
    if request.what not in ("readings", "consumption"):
        raise ValueError(Text("storage.export_what", what=request.what))
    selected = queries.meters(conn, request.tags or None, request.meter_ids or None)
    missing = set(request.meter_ids) - {m.meter_id for m in selected}
    if missing and not request.tags:
        raise ValueError(Text("storage.unknown_meters", meters=", ".join(sorted(missing))))
    sink: _Sink = (_XlsxSink(path, tz, request.what) if fmt == "xlsx"
                   else _CsvSink(path, tz) if fmt == "csv" else _unknown(fmt))
    try:
        if request.what == "readings":
            return _readings(conn, sink, request, [m.meter_id for m in selected])
        return _consumption(conn, tz, sink, request, [m.meter_id for m in selected])
    finally:
        sink.close()


def _unknown(fmt: str) -> _Sink:
    raise ValueError(Text("storage.export_format", format=fmt))


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _readings(conn: sqlite3.Connection, sink: _Sink, request: ExportRequest,
              meter_ids: list[str]) -> int:
    start, end = _ms(request.start), _ms(request.end)
    registers: set[str] = set()
    values: set[str] = set()
    for meter_id in meter_ids:
        for reading in queries.readings(conn, meter_id, start, end):
            registers.update(reading.registers)
            values.update(reading.values)
    reg_cols, val_cols = sorted(registers), sorted(values)
    sink.row(["meter_id", "time", "device", "source",
              *(_label(n) for n in reg_cols), *(_label(n) for n in val_cols)])
    count = 0
    for meter_id in meter_ids:
        for reading in queries.readings(conn, meter_id, start, end):
            sink.row([meter_id, reading.time, reading.device, str(reading.source),
                      *(reading.registers.get(n) for n in reg_cols),
                      *(reading.values.get(n) for n in val_cols)])
            count += 1
    return count


def _consumption(conn: sqlite3.Connection, tz: tzinfo, sink: _Sink, request: ExportRequest,
                 meter_ids: list[str]) -> int:
    start, end = int(request.start.timestamp()), int(request.end.timestamp())
    per_meter = {
        meter_id: queries.consumption(conn, tz, meter_id=meter_id, tags=None, start=start,
                                      end=end, resolution=request.resolution)
        for meter_id in meter_ids}
    names = sorted({name for rows in per_meter.values() for row in rows for name in row.values})
    sink.row(["meter_id", f"{request.resolution}_start", *(_label(n) for n in names)])
    count = 0
    for meter_id, rows in per_meter.items():
        for row in rows:
            sink.row([meter_id, row.start, *(row.values.get(n) for n in names)])
            count += 1
    return count
