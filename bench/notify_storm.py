"""An alarm storm through the notification outbox: 10,000 alarms at once to the landlord.

    python bench/notify_storm.py [--alarms N]

A real hub (storage on a temporary folder) with a ``landlord`` notifier posting through
apprise ``json://`` to a local HTTP server, its storm guard at the default (10 a minute per
receiver), except ``per`` shortened to 2 s so the summary comes within the run. The bench
fires N ``alarm`` events at once (a storm: 10,000 in a minute is the issue's bad input) and
waits until every outbox row is settled (sent or merged). It prints the time to write and
settle them all (``notify_storm_s``), the messages the landlord got and the rows merged.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.bootstrap import create_hub, prepare  # noqa: E402


async def main(alarms: int) -> None:
    received: list[object] = []

    async def handle(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "hub.yaml"
        config.write_text(f"""
site: {{name: storm, time_zone: Asia/Shanghai}}
http: {{port: 0, host: 127.0.0.1}}
metering: {{read_on_start: false}}
notify:
  landlord: {{urls: "json://127.0.0.1:{port}/hook", storm: {{max: 10, per: 2s}}}}
notices: {{dedupe: 0}}
""", encoding="utf-8")
        prepared = prepare(config, data_dir=Path(folder) / "data")
        assert not prepared.problems, prepared.problems
        hub = create_hub(prepared)
        await hub.start()
        try:
            started = time.perf_counter()
            for index in range(alarms):
                hub.bus.fire("alarm", {"meter_id": f"m{index:05d}", "kind": "over_current",
                                       "phase": None, "value": "65.2", "threshold": "60"})
            database = Path(folder) / "data" / "meterhub.db"
            while True:
                await asyncio.sleep(0.1)
                with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
                    rows = dict(conn.execute(
                        "SELECT state, COUNT(*) FROM notify_outbox GROUP BY state").fetchall())
                if rows.get("queued", 0) == 0 and sum(rows.values()) >= alarms:
                    break
            elapsed = time.perf_counter() - started
        finally:
            await hub.stop()
    await runner.cleanup()
    print(f"rows: {rows}")
    print(f"METRIC notify_storm_s {elapsed:.2f} s  ({alarms} alarms written, "
          f"sent {len(received)} messages, merged {rows.get('merged', 0)})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarms", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().alarms))
