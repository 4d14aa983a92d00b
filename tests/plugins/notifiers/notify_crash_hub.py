"""Child of test_notify_outbox.py's crash test: a hub that queues messages, then is killed.

Calls ``notify.ops`` for ``m00``...``m<n-1>`` (each answered ``queued``: written to the
outbox), prints ``QUEUED`` and waits to be SIGKILLed."""

from __future__ import annotations

import asyncio
import sys

from common import child_hub


async def main(config_path: str, data_dir: str, count: int) -> None:
    hub = await child_hub(config_path, data_dir)
    if hub is None:
        return
    for index in range(count):
        answer = await hub.services.call("notify", "ops", {"message": f"m{index:02d}"},
                                         return_response=True)
        assert answer is not None and answer["outcome"] == "queued", answer
    print("QUEUED", flush=True)
    await asyncio.sleep(3600)  # killed here


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
