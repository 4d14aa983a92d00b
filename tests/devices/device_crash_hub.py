"""A real hub from a YAML file for the device crash test; prints ``EVENT <state> <id>`` for
every ``device_command``, ``READY`` once started; with ``--submit`` it then asks for one
write (alarm_amount_1 = 33.00 on meter m1, author ``crash-test``); with ``--check-tou METER``
it checks that meter's TOU table and prints ``CHECKED <matches>``. SIGTERM stops it.

    python device_crash_hub.py HUB_YAML DATA_DIR [--submit | --check-tou METER]
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from hub.bootstrap import create_hub, prepare
from hub.core import Context, Event
from hub.events.devices import EVENT_DEVICE_COMMAND


async def main(argv: list[str]) -> int:
    prepared = prepare(Path(argv[0]), data_dir=Path(argv[1]))
    if prepared.problems:
        print(f"PROBLEMS {prepared.problems}", flush=True)
        return 2
    hub = create_hub(prepared)

    def show(event: Event) -> None:
        print(f"EVENT {event.data['state']} {event.data['command_id']}", flush=True)

    hub.bus.listen(EVENT_DEVICE_COMMAND, show)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await hub.start()
    print("READY", flush=True)
    if "--submit" in argv:
        await hub.services.call("device", "write", {
            "meter_id": "m1", "param": "alarm_amount_1", "value": "33.00"},
            context=Context(user_id="crash-test"), return_response=True)
    if "--check-tou" in argv:
        meter_id = argv[argv.index("--check-tou") + 1]
        checked = await hub.services.call("device", "check_tou", {"meter_id": meter_id},
                                          context=Context(), return_response=True)
        print(f"CHECKED {checked['meters'][meter_id]['matches']}", flush=True)
    await stop.wait()
    await hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
