"""Jitter never moves the baseline: a register read a little lower than before (a re-read
rounding differently) is kept as jitter, counts nothing, and the next value is counted from
the value before it, so a tenant is charged exactly the register's rise, never a dip twice.

Through real storage and the ledger (the counter rules are hub/storage/write/counters.py, rule 4).
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from common import bounded, settle
from money_support import config, meters_yaml, running_hub

from hub.ledger.ledger import Ledger
from hub.metering.reading import Reading
from hub.storage import Storage
from hub.util.dt import utcnow

D = Decimal
CENT = D("0.01")
REGISTER = "energy_import_total"
JITTER, COUNTED = "jitter", "counted"  # a stored reading's verdicts, by name

# (values, the verdicts after the first, the consumption counted); the slack of a 0.01
# register is ten steps, 0.10: a dip of at most that below the baseline is jitter
TABLE = [
    (["100.00", "99.95", "100.05"], [JITTER, COUNTED], "0.05"),
    (["100.00", "99.90", "99.99", "100.00", "100.20"], [JITTER, JITTER, COUNTED, COUNTED],
     "0.20"),
    (["5.50", "5.49", "5.48", "5.47", "5.60"], [JITTER, JITTER, JITTER, COUNTED], "0.10"),
    (["42.00", "43.00", "42.99", "43.00", "42.91", "43.50"],
     [COUNTED, JITTER, COUNTED, JITTER, COUNTED], "1.50"),
    (["7.00", "6.95"], [JITTER], "0.00"),  # a dip as the last value: nothing, never negative
]


def _series(seed: int, count: int = 60) -> list[str]:
    """A rising register with dips of 0.01..0.10 below its highest value so far."""
    rng = random.Random(seed)
    top = D(rng.randint(0, 99_999_99)) * CENT
    values = [top]
    for _ in range(count - 1):
        if rng.random() < 0.4:
            values.append(top - rng.randint(1, 10) * CENT)  # jitter below the baseline
        else:
            top += rng.randint(0, 200) * CENT
            values.append(top)
    return [str(value) for value in values]


RANDOM = [_series(seed) for seed in range(4)]
METERS = [f"m{n}" for n in range(len(TABLE) + len(RANDOM))]
CFG = config(meters_yaml([(meter, f"a_{meter}", "flat") for meter in METERS]),
             "accounts:\n" + "".join(f"  - {{id: a_{meter}}}\n" for meter in METERS),
             "tariffs:\n  - {id: flat, type: flat, price: 1.00}\n")


def _readings(meter: str, values: list[str], first: datetime) -> list[Reading]:
    return [Reading(meter, first + timedelta(minutes=15 * n), {REGISTER: D(value)},
                    device="d") for n, value in enumerate(values)]


@bounded(90)
async def test_jitter_is_kept_counts_nothing_and_never_moves_the_baseline(
        tmp_path: Path) -> None:
    first = (utcnow() - timedelta(days=2)).replace(second=0, microsecond=0)
    async with running_hub(tmp_path, CFG) as hub:
        storage = hub.component("storage", Storage)
        ledger = hub.component("ledger", Ledger)
        verdicts: dict[str, list[str]] = {}
        async with asyncio.timeout(60):
            for meter, values in zip(METERS, [row[0] for row in TABLE] + RANDOM, strict=True):
                outcomes = await storage.add_readings(_readings(meter, values, first))
                assert all(outcome.stored for outcome in outcomes), outcomes
                verdicts[meter] = [outcome.verdicts[REGISTER] for outcome in outcomes[1:]]
            await settle(hub)
            counted = {meter: sum((row.values.get(REGISTER, D(0))
                                   for row in await storage.consumption(
                                       meter, start=first - timedelta(days=1),
                                       end=utcnow() + timedelta(days=1))), D(0))
                       for meter in METERS}
        for meter, (values, expected_verdicts, expected) in zip(METERS, TABLE, strict=False):
            assert verdicts[meter] == expected_verdicts, (values, verdicts[meter])
            assert counted[meter] == D(expected), values
            assert ledger.balance(f"a_{meter}") == -D(expected), values
        for meter, values in zip(METERS[len(TABLE):], RANDOM, strict=True):
            rise = max(D(value) for value in values) - D(values[0])
            dips = sum(1 for value, verdict in zip(values[1:], verdicts[meter], strict=True)
                       if verdict == JITTER)
            assert dips == sum(1 for n, value in enumerate(values[1:], 1)
                               if D(value) < max(D(v) for v in values[:n]))
            assert counted[meter] == rise, values
            assert ledger.balance(f"a_{meter}") == -rise, values
