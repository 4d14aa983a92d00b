"""Constants of the storage layer: defaults, timeouts, scales and verdict codes."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

STORAGE_START_TIMEOUT: Final = 600.0  # a quick_check after a crash may take a while
STORAGE_STOP_TIMEOUT: Final = 60.0

DEFAULT_DB_NAME: Final = "meterhub.db"
DEFAULT_RETENTION_DAYS: Final = 800
DEFAULT_COMMIT_INTERVAL: Final = 1.0
DEFAULT_COMMIT_BATCH: Final = 1000
DEFAULT_MAX_BUFFER: Final = 100_000
DEFAULT_FUTURE_TOLERANCE_S: Final = 600
DEFAULT_CONFIRM_READINGS: Final = 3
DEFAULT_MAINTENANCE_AT: Final = "03:30"
DEFAULT_READERS: Final = 2
PURGE_BATCH: Final = 2000

# Events recorded elsewhere or only meaningful while running. A ``reading`` is its row;
# ``consumption`` is what storage counted from that row (the stored verdicts and rollups give
# it back, as the charger's catch-up does): as an event row it would be a second reading
# log, one row per reading read (a 10,000-meter site read every 15 minutes: 960,000 a day),
# each costing a typed JSON encoding on the writer's thread.
DEFAULT_EXCLUDE_EVENTS: Final = (
    "state_changed",
    "reading",
    "consumption",
    "service_registered",
    "service_removed",
    "hub_final_write",
)

# Highest plausible consumption rate per meter kind, in the register's unit per hour
# (kW for kWh registers, m3/h for water); a delta implying more is a spike.
DEFAULT_MAX_RATE: Final = {"electricity": Decimal(100), "water": Decimal(50)}
FALLBACK_MAX_RATE: Final = Decimal(100)

# Rollup amounts are integers in millionths of the point's unit (exact, summable in SQL).
ROLLUP_EXP: Final = 6
ROLLUP_QUANTUM: Final = Decimal(1).scaleb(-ROLLUP_EXP)

RESOLUTIONS: Final = ("hour", "day", "month")

MS_PER_HOUR: Final = 3_600_000

# Verdict codes kept with each register value of a stored reading.
CODE_COUNTED: Final = ""  # counted from the previous accepted value
CODE_BASELINE: Final = "b"  # a new baseline: first value, new device or confirmed reset
CODE_WRAP: Final = "w"  # counted across a rollover; followed by the modulus digits
CODE_QUARANTINED: Final = "q"  # spike or unexplained drop: not counted, not a baseline
CODE_JITTER: Final = "j"  # tiny backward step: ignored, the baseline stays
CODE_SIGNED: Final = "s"  # a signed register (combined energy): kept as read, never counted
CODE_SUSPECT: Final = "x"  # quarantined, and came through a DTU that moved: never confirms

