"""An account's recent usage per day or month, and its bar chart as inline SVG (no script).

Usage is the sum over the account's meters of each kind (electricity in kWh, water in m³) of
the register that measures that kind, from storage's daily or monthly rollups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from ..billing.analysis.base import UNIT_OF_KIND, register_for
from ..metering.points import unit_text
from ..util.dt import site_time_zone, utcnow

if TYPE_CHECKING:
    from ..metering.service import Meter
    from ..storage import Storage

DAYS = 30
MONTHS = 12
WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 360, 180, 18, 22, 4


@dataclass(frozen=True)
class Series:
    """One kind's usage: (period label, quantity) oldest first, with its unit."""

    kind: str
    unit: str
    bars: list[tuple[str, Decimal]]

    @property
    def total(self) -> Decimal:
        """The sum of the bars."""
        return sum((value for _label, value in self.bars), Decimal(0))


def _periods(resolution: str, today: date) -> list[date]:
    if resolution == "day":
        return [today - timedelta(days=back) for back in range(DAYS - 1, -1, -1)]
    months: list[date] = []
    year, month = today.year, today.month
    for _ in range(MONTHS):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


async def usage(storage: Storage, meters: list[Meter], resolution: str,
                now: datetime | None = None) -> list[Series]:
    """The account's usage per ``day`` (last 30) or ``month`` (last 12), per kind."""
    zone = site_time_zone()
    today = (now or utcnow()).astimezone(zone).date()
    periods = _periods(resolution, today)
    start = datetime.combine(periods[0], datetime.min.time(), zone)
    end = datetime.combine(today + timedelta(days=1), datetime.min.time(), zone)
    out: list[Series] = []
    for kind in sorted({meter.kind for meter in meters}):
        totals: dict[date, Decimal] = dict.fromkeys(periods, Decimal(0))
        for meter in meters:
            if meter.kind != kind:
                continue
            rows = await storage.consumption(meter.id, start=start, end=end,
                                             resolution=resolution)
            register = register_for(kind, rows)
            for row in rows:
                day = row.start.astimezone(zone).date()
                key = day if resolution == "day" else day.replace(day=1)
                if key in totals and register is not None:
                    totals[key] += row.values.get(register, Decimal(0))
        label = "%m-%d" if resolution == "day" else "%Y-%m"
        out.append(Series(kind, UNIT_OF_KIND.get(kind, ""),
                          [(day.strftime(label), value) for day, value in totals.items()]))
    return out


def _number(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.1")), "f")


def chart_svg(series: Series, title: str) -> str:
    """A bar chart of ``series`` as an inline SVG element (bars carry their value as title)."""
    bars = series.bars
    biggest = max((value for _label, value in bars), default=Decimal(0))
    scale = (Decimal(HEIGHT - TOP - BOTTOM) / biggest) if biggest > 0 else Decimal(0)
    step = Decimal(WIDTH - 2 * LEFT) / max(len(bars), 1)
    unit = escape(unit_text(series.unit))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="usage-chart" role="img" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" aria-label="{escape(title)}">',
             f'<title>{escape(title)}</title>',
             f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - LEFT}" '
             f'y2="{HEIGHT - BOTTOM}" class="axis"/>',
             f'<text x="{LEFT}" y="12" class="peak">{_number(biggest)} {unit}</text>']
    for index, (label, value) in enumerate(bars):
        height = value * scale
        x = LEFT + step * index
        y = HEIGHT - BOTTOM - height
        parts.append(f'<rect class="bar" x="{_number(x + step / 10)}" y="{_number(y)}" '
                     f'width="{_number(step * 8 / 10)}" height="{_number(height)}" '
                     f'data-value="{value}"><title>{escape(label)}: {value} '
                     f'{unit}</title></rect>')
    if bars:
        last = len(bars) - 1
        for index, anchor in ((0, "start"), (last // 2, "middle"), (last, "end")):
            edge = {"start": LEFT, "end": WIDTH - LEFT}.get(anchor)
            at = Decimal(edge) if edge is not None else LEFT + step * index + step / 2
            parts.append(f'<text x="{_number(at)}" y="{HEIGHT - 6}" class="label" '
                         f'text-anchor="{anchor}">{escape(bars[index][0])}</text>')
    parts.append("</svg>")
    return "".join(parts)
