"""Run by test_storage_compact.py: open a v5 database for writing, which upgrades it, and
stop mid-way through the v6 conversion of the readings, to be killed there.

    python migration_child.py DB_PATH CHUNK READINGS_BEFORE_THE_PAUSE

Converts in chunks of CHUNK readings; once READINGS_BEFORE_THE_PAUSE readings are converted
(earlier chunks written, all in the migration's open transaction) prints ``MIDWAY`` and
sleeps until SIGKILL. The pause is this script's (it wraps the conversion of one reading),
not the product's; so is a page cache small enough that the uncommitted upgrade is partly in
the WAL file when the process dies, as a large one would be.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from hub.storage.database.opening import open_writer
from hub.storage.schema import compact


def main(path: str, chunk: str, pause_after: str) -> int:
    compact._CHUNK = int(chunk)
    convert = compact._convert
    calls = 0

    def converting(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:  # a small page cache: the open transaction spills to the WAL file
            args[0].execute("PRAGMA cache_size=8")
        if calls > int(pause_after):
            print("MIDWAY", flush=True)
            time.sleep(600)  # SIGKILL comes here
        return convert(*args)

    compact._convert = converting  # type: ignore[assignment]
    open_writer(Path(path))
    print("FINISHED", flush=True)  # the test fails if it gets here
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
