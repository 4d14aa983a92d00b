"""Helpers for the tariff tests: build tariffs from plain dicts, make usage, sum lines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from common import TZ, t

from hub.billing.tariff import ChargeLine, Tariff, Usage, round_fen
from hub.util.calendar import Calendar
from meterhub_tariffs import register_tariff_types

TYPES = {tariff_type.name: tariff_type for tariff_type in register_tariff_types()}
D = Decimal


def use(start: str, end: str, quantity: str | Decimal | int, **registers: str) -> Usage:
    """Usage over [start, end); registers given as t1='1.5' become energy_import_t1."""
    return Usage(t(start), t(end), D(quantity),
                 {f"energy_import_{key}": D(value) for key, value in registers.items()},
                 (f"{start}/{end}",))


def build(entry: Mapping[str, Any], calendar: Calendar | None = None) -> Tariff:
    """Validate an entry with its type's schema and build the tariff."""
    tariff_type = TYPES[entry["type"]]
    config = tariff_type.schema()(dict(entry))
    return tariff_type.create(config, calendar or Calendar(time_zone=TZ))


def lines_by_key(lines: Iterable[ChargeLine]) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """{key or component:key: (quantity, unit price, amount)}; keys must be unique."""
    out: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
    for line in lines:
        key = line.key if line.component in ("energy", "water") else f"{line.component}:{line.key}"
        if line.price_from is not None:
            key = f"{key}@{line.price_from}"
        assert key not in out, f"two lines for {key}"
        out[key] = (line.quantity, line.unit_price, line.amount)
    return out


def exact_total(lines: Sequence[ChargeLine]) -> Decimal:
    """The exact sum of the line amounts."""
    return sum((line.amount for line in lines), D(0))


def rounded_total(lines: Sequence[ChargeLine]) -> Decimal:
    """Each line rounded half-up to the fen, then summed (the bill total)."""
    return sum((round_fen(line.amount) for line in lines), D("0.00"))


def history(**used: str) -> Any:
    """A tier history: history(y2025_01_01='2870') answers 2870 for that period start."""
    table = {date.fromisoformat(key[1:].replace("_", "-")): D(value) for key, value in used.items()}
    return lambda period_start: table.get(period_start, D(0))


def seg(*pairs: str) -> list[dict[str, str]]:
    """seg('00:00 valley', '08:00 flat') → segment mappings."""
    return [{"start": text.split()[0], "band": text.split()[1]} for text in pairs]


# Guangdong's commercial TOU periods (粤发改价格〔2021〕331号) with illustrative prices
GUANGDONG: dict[str, Any] = {
    "id": "gd", "type": "tou",
    "prices": {"sharp": "1.38125", "peak": "1.105", "flat": "0.65", "valley": "0.247"},
    "schedules": {
        "normal": seg("00:00 valley", "08:00 flat", "10:00 peak", "12:00 flat", "14:00 peak",
                      "19:00 flat"),
        "summer": seg("00:00 valley", "08:00 flat", "10:00 peak", "11:00 sharp", "12:00 flat",
                      "14:00 peak", "15:00 sharp", "17:00 peak", "19:00 flat"),
    },
    "zones": [{"start": "01-01", "schedule": "normal"}, {"start": "07-01", "schedule": "summer"},
              {"start": "10-01", "schedule": "normal"}],
}
PARK: dict[str, Any] = {
    "id": "park", "type": "tou", "prices": {"peak": "1.20", "flat": "0.90", "valley": "0.50"},
    "schedules": {
        "workday": seg("00:00 valley", "08:00 peak", "12:00 flat", "13:00 peak", "18:00 flat",
                       "22:00 valley"),
        "weekend": seg("00:00 valley", "08:00 flat", "22:00 valley"),
        "holiday": seg("00:00 valley"),
    },
    "weekend_schedule": "weekend", "holiday_schedule": "holiday",
}
BEIJING_TOU: dict[str, Any] = {
    "id": "bj_tou", "type": "tou", "prices": {"peak": "0.5583", "flat": "0.4883", "valley": "0.3"},
    "schedules": {"day": seg("00:00 valley", "07:00 flat", "10:00 peak", "15:00 flat",
                             "18:00 peak", "21:00 flat", "23:00 valley")},
    "tier_period": "yearly",
    "tier_surcharges": [{"up_to": 2880, "surcharge": 0}, {"up_to": 4800, "surcharge": "0.05"},
                        {"surcharge": "0.30"}],
}

# Shanghai residential 峰谷 + 阶梯 (peak 06–22, valley 22–06; tier 2 adds 0.06 / 0.03, tier 3
# 0.36 / 0.18; in the month a threshold is crossed 0.05 / 0.30 flat): see docs/tariffs.md
SHANGHAI: dict[str, Any] = {
    "id": "sh", "type": "tou", "prices": {"peak": "0.617", "valley": "0.307"},
    "schedules": {"day": seg("00:00 valley", "06:00 peak", "22:00 valley")},
    "tier_period": "yearly",
    "tier_surcharges": [
        {"up_to": 3120, "surcharge": 0},
        {"up_to": 4800, "surcharge": {"peak": "0.06", "valley": "0.03"}, "crossing": "0.05"},
        {"surcharge": {"peak": "0.36", "valley": "0.18"}, "crossing": "0.30"}],
}


# A local plugin with meter models and a link type of its own, for configs with meters.
MODELS_PLUGIN = '''
from __future__ import annotations

import voluptuous as vol

from hub.hookspecs import hookimpl
from hub.metering.link import LinkType
from hub.metering.model import Capability, MeterKind, MeterModel


class _Model(MeterModel):
    protocol = "none"

    def __init__(self, name, kind, capabilities):
        self.name, self.kind, self.capabilities = name, kind, frozenset(capabilities)

    def validate_address(self, address):
        return str(address)

    async def read(self, transport, meter, points=None):
        raise NotImplementedError

    def create_simulator(self, address, **options):
        raise NotImplementedError


class _Link(LinkType):
    name = "tariff_test_link"

    def schema(self):
        return vol.Schema({vol.Required("id"): str, vol.Required("type"): str})

    def create(self, hub, config):
        raise NotImplementedError


@hookimpl
def register_meter_models():
    return [_Model("tt_elec", MeterKind.ELECTRICITY, []),
            _Model("tt_tou", MeterKind.ELECTRICITY, [Capability.TOU]),
            _Model("tt_water", MeterKind.WATER, [])]


@hookimpl
def register_link_types():
    return [_Link()]
'''
