"""Event records a DL/T 645-2007 meter keeps (事件记录): counts and the last records.

Each kind has a count DI (how many such events the meter has recorded, XXXXXX) and record
DIs for the n-th last record (n = 1 newest). Layouts (after the DI, times YYMMDDhhmmss sent
seconds first, operator code 4 bytes):

===================  =========  =========  ==============================================
kind                 count      record n   record starts with
===================  =========  =========  ==============================================
power_down           03110000   031100nn   start, end (掉电)
programming          03300000   033000nn   time, operator (编程; 10 DIs programmed follow)
clock_change         03300400   033004nn   operator, time before, time after (校时)
cover_open           03300D00   03300Dnn   start, end (开表盖; energies follow)
terminal_cover_open  03300E00   03300Enn   start, end (开端钮盒; energies follow)
relay_trip           1D000001   1D0001nn   time, operator (跳闸; energies follow)
relay_close          1E000001   1E0001nn   time, operator (合闸; energies follow)
===================  =========  =========  ==============================================

Only the leading fields are decoded; a record may carry more bytes (energies at the time),
which are kept as they came. ``cover_open`` and ``terminal_cover_open`` are tamper events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .bcd import Kind as FormatKind
from .bcd import ValueFormat, decode_datetime, encode_datetime, number
from .dis import DataItem, add_data_item
from .errors import Dlt645Error

RECORD_BYTE = ValueFormat(FormatKind.BITS, 1, pattern="XX")
MAX_RECORDS = 10  # records read back per kind and read


@dataclass(frozen=True, slots=True)
class RecordKind:
    """One kind of event record: its DIs, layout and whether it is tampering."""

    kind: str
    name_en: str
    name_zh: str
    count_di: int
    record_base: int  # record n is record_base + n
    layout: str  # start_end | time_operator | operator_before_after
    size: int  # record bytes the meter sends
    tamper: bool = False

    def record_di(self, n: int) -> int:
        """The DI of the n-th last record."""
        return self.record_base + n


KINDS: tuple[RecordKind, ...] = (
    RecordKind("power_down", "power down", "掉电", 0x03110000, 0x03110000, "start_end", 12),
    RecordKind("programming", "programming", "编程", 0x03300000, 0x03300000, "time_operator",
               50),
    RecordKind("clock_change", "clock change", "校时", 0x03300400, 0x03300400,
               "operator_before_after", 16),
    RecordKind("cover_open", "meter cover opened", "开表盖", 0x03300D00, 0x03300D00,
               "start_end", 60, tamper=True),
    RecordKind("terminal_cover_open", "terminal cover opened", "开端钮盒", 0x03300E00,
               0x03300E00, "start_end", 60, tamper=True),
    RecordKind("relay_trip", "relay tripped", "跳闸", 0x1D000001, 0x1D000100, "time_operator",
               34),
    RecordKind("relay_close", "relay closed", "合闸", 0x1E000001, 0x1E000100, "time_operator",
               34),
)
BY_KIND = {kind.kind: kind for kind in KINDS}

for _kind in KINDS:
    add_data_item(DataItem(_kind.count_di, f"{_kind.name_en}: count", f"{_kind.name_zh}总次数",
                  number("XXXXXX")))
    for _n in range(1, MAX_RECORDS + 1):
        add_data_item(DataItem(_kind.record_di(_n), f"{_kind.name_en}: record {_n} back",
                      f"上{_n}次{_kind.name_zh}记录", RECORD_BYTE, count=_kind.size,
                      variable=True))


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One decoded record: when it started (and ended), who did it, as the meter says."""

    kind: str
    started: datetime
    ended: datetime | None = None
    operator: str | None = None
    detail: dict[str, Any] | None = None


def _time(raw: bytes, what: str) -> datetime | None:
    if not any(raw) or raw == b"\x00" * 6:
        return None
    try:
        return decode_datetime(raw)
    except Dlt645Error as err:
        raise Dlt645Error(f"{what}: {err}") from None


def decode_record(kind: RecordKind, raw: bytes) -> EventRecord:
    """The leading fields of a record; Dlt645Error for a record too short or a bad time."""
    need = {"start_end": 12, "time_operator": 10, "operator_before_after": 16}[kind.layout]
    if len(raw) < need:
        raise Dlt645Error(f"{kind.kind} record: {len(raw)} bytes, at least {need} expected")
    if kind.layout == "start_end":
        started = _time(raw[:6], f"{kind.kind} start")
        ended = _time(raw[6:12], f"{kind.kind} end")
        operator = None
        detail = None
    elif kind.layout == "time_operator":
        started, ended = _time(raw[:6], f"{kind.kind} time"), None
        operator = raw[6:10][::-1].hex().upper()
        detail = None
    else:
        operator = raw[:4][::-1].hex().upper()
        before = _time(raw[4:10], "clock before")
        started = _time(raw[10:16], "clock after")
        ended = None
        detail = {"before": before.isoformat() if before else None}
    if started is None:
        raise Dlt645Error(f"{kind.kind} record without a time")
    return EventRecord(kind.kind, started, ended, operator, detail)


def encode_record(kind: RecordKind, started: datetime, ended: datetime | None = None,
                  operator: str = "00000000", before: datetime | None = None) -> bytes:
    """A record as a meter sends it (the simulator's), padded to the kind's size."""
    op = bytes.fromhex(operator)[::-1]
    end = encode_datetime(ended) if ended is not None else bytes(6)
    if kind.layout == "start_end":
        raw = encode_datetime(started) + end
    elif kind.layout == "time_operator":
        raw = encode_datetime(started) + op
    else:
        raw = op + encode_datetime(before or started) + encode_datetime(started)
    return raw + bytes(kind.size - len(raw))
