"""Consumption rollups: hourly, daily and monthly sums per meter and per tag, in site time.

Consumption between two accepted readings is spread *linearly over time* across the local
hours the interval covers (a reading at 00:30 and one at 02:30 with 3 kWh between them give
0.75, 1.5 and 0.75 kWh to the hours starting 00:00, 01:00 and 02:00). Hours, days and months
are the site's local ones (``site.time_zone``), each keyed by the UTC epoch second of its
local start. Amounts are integers in millionths of the unit; the pieces of one interval are
rounded so that they always add up exactly to the interval's delta (cumulative flooring), and
the same interval always yields the same pieces, so a late reading can take them out again.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from ..const import MS_PER_HOUR

_SLOT_MS = 900_000  # offsets are constant within every quarter hour in every real zone
_CACHE_LIMIT = 500_000
# An interval at most this long with the same UTC offset at both ends has it throughout: no
# zone changes its offset twice within 26 hours.
_STEADY_MS = 26 * MS_PER_HOUR

TABLES = ("rollup_hour", "rollup_day", "rollup_month")


class Calendar:
    """Local hour, day and month boundaries of the site, cached for the hot path."""

    def __init__(self, tz: tzinfo | str) -> None:
        self.tz: tzinfo = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._offsets: dict[int, int] = {}
        self._periods: dict[int, tuple[int, int]] = {}

    def offset_ms(self, ts_ms: int) -> int:
        """The site's UTC offset at an instant, in milliseconds."""
        slot = ts_ms // _SLOT_MS
        offset = self._offsets.get(slot)
        if offset is None:
            local = datetime.fromtimestamp(slot * _SLOT_MS / 1000, UTC).astimezone(self.tz)
            delta = local.utcoffset()
            offset = int(delta.total_seconds() * 1000) if delta is not None else 0
            if len(self._offsets) > _CACHE_LIMIT:
                self._offsets.clear()
            self._offsets[slot] = offset
        return offset

    def hour_start_ms(self, ts_ms: int) -> int:
        """Start of the local hour holding an instant (epoch ms)."""
        return ts_ms - (ts_ms + self.offset_ms(ts_ms)) % MS_PER_HOUR

    def periods(self, hour_start_s: int) -> tuple[int, int]:
        """(local day start, local month start) of a local hour, as epoch seconds."""
        found = self._periods.get(hour_start_s)
        if found is None:
            local = datetime.fromtimestamp(hour_start_s, self.tz)
            day = local.replace(hour=0, minute=0, second=0, microsecond=0)
            month = day.replace(day=1)
            found = (int(day.timestamp()), int(month.timestamp()))
            if len(self._periods) > _CACHE_LIMIT:
                self._periods.clear()
            self._periods[hour_start_s] = found
        return found

    def period_start(self, when: datetime, resolution: str) -> int:
        """The epoch second at which the local hour/day/month holding ``when`` starts."""
        local = when.astimezone(self.tz)
        if resolution == "hour":
            return self.hour_start_ms(int(when.timestamp() * 1000)) // 1000
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if resolution == "month":
            day = day.replace(day=1)
        return int(day.timestamp())

    def apportion(self, t0: int, t1: int, amount: int) -> list[tuple[int, int]]:
        """Spread ``amount`` over (t0, t1] (epoch ms) into local hours: [(hour start s, part)]."""
        if amount == 0 or t1 <= t0:
            return []
        first = self.hour_start_ms(t0)
        last = self.hour_start_ms(t1 - 1)
        if first == last:
            return [(first // 1000, amount)]
        total = t1 - t0
        if total <= _STEADY_MS and self.offset_ms(t0) == self.offset_ms(t1 - 1):
            return self._apportion_steady(t0, t1, amount, first, last)
        pieces: list[tuple[int, int]] = []
        given = 0
        start = first
        while start < t1:  # to the end of the interval whatever the offsets do on the way
            nxt = self.hour_start_ms(start + MS_PER_HOUR)
            if nxt <= start:
                nxt = start + MS_PER_HOUR
            # cumulative, so never below the last (a shifted hour may even end before t0)
            share = amount * max(min(nxt, t1) - t0, 0) // total
            if share != given:
                pieces.append((start // 1000, share - given))
                given = share
            start = nxt
        return pieces

    @staticmethod
    def _apportion_steady(t0: int, t1: int, amount: int, first: int,
                          last: int) -> list[tuple[int, int]]:
        """:meth:`apportion` of an interval in which the UTC offset does not change: every
        hour is 3,600 s long (the same pieces, without looking the offset up per hour)."""
        total = t1 - t0
        pieces: list[tuple[int, int]] = []
        given = 0
        for start in range(first, last + 1, MS_PER_HOUR):
            end = start + MS_PER_HOUR
            share = amount * ((end if end < t1 else t1) - t0) // total
            if share != given:
                pieces.append((start // 1000, share - given))
                given = share
        return pieces


class RollupDelta:
    """Changes to the rollup tables gathered during one batch, written with one upsert each.

    Pieces are gathered per series group and local hour, and spread to every series and to
    days and months only when written, so a meter read four times an hour costs one spread.
    """

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self._pieces: dict[tuple[int, ...], dict[int, int]] = {}

    def add(self, series: tuple[int, ...], pieces: Iterable[tuple[int, int]],
            sign: int = 1) -> None:
        """Add (or with ``sign=-1`` take out) an interval's pieces for each series."""
        hours = self._pieces.get(series)
        if hours is None:
            hours = self._pieces[series] = {}
        get = hours.get
        for start, part in pieces:
            hours[start] = get(start, 0) + part * sign

    def __bool__(self) -> bool:
        return bool(self._pieces)

    def rows(self) -> list[tuple[str, list[tuple[int, int, int]]]]:
        """(table, [(series, start, amount)]) with zero changes left out."""
        groups = Counter(key for series in self._pieces for key in series)
        hour_rows: list[tuple[int, int, int]] = []
        shared: defaultdict[tuple[int, int], int] = defaultdict(int)
        by_day: defaultdict[tuple[tuple[int, ...], int], int] = defaultdict(int)
        by_month: defaultdict[tuple[tuple[int, ...], int], int] = defaultdict(int)
        periods = self.calendar.periods
        for series, hours in self._pieces.items():
            for start, amount in hours.items():
                if amount:
                    day_start, month_start = periods(start)
                    by_day[(series, day_start)] += amount
                    by_month[(series, month_start)] += amount
            for key in series:
                if groups[key] == 1:  # a meter's own series: its hours are its rows
                    hour_rows += [(key, start, amount) for start, amount in hours.items()
                                  if amount]
                else:  # a tag's series, in several groups: summed first
                    for start, amount in hours.items():
                        shared[(key, start)] += amount
        hour_rows += [(key, start, amount) for (key, start), amount in shared.items() if amount]
        hour_rows.sort()  # in the tables' key order (series, start): fewer pages per upsert
        out = [("rollup_hour", hour_rows)]
        for table, grouped in (("rollup_day", by_day), ("rollup_month", by_month)):
            changes: defaultdict[tuple[int, int], int] = defaultdict(int)
            for (series, start), amount in grouped.items():
                for key in series:
                    changes[(key, start)] += amount
            out.append((table, sorted((key, start, amount)
                                      for (key, start), amount in changes.items() if amount)))
        return out

    def clear(self) -> None:
        """Forget the gathered changes (after they were written)."""
        self._pieces.clear()


def upsert_sql(table: str) -> str:
    """The portable upsert that adds an amount to a rollup row."""
    return (f"INSERT INTO {table} (series_key, start_ts, value) VALUES (?, ?, ?) "
            "ON CONFLICT (series_key, start_ts) DO UPDATE SET value = value + excluded.value")
