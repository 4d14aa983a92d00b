"""Run a real hub for the payments end-to-end test and wait to be killed.

    python payment_hub.py HUB_YAML DATA_DIR

Prints ``READY`` once the hub has started (its web server listens on the port of hub.yaml).
"""

from __future__ import annotations

import asyncio
import sys

from common import child_hub


async def main(config_path: str, data_dir: str) -> int:
    hub = await child_hub(config_path, data_dir)
    if hub is None:
        return 2
    print("READY", flush=True)
    await asyncio.Event().wait()  # until SIGKILL
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
