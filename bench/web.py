"""Web benchmark: the overview page and a meter's two-year chart at 10,000 meters.

Run: ``.venv/bin/python bench/web.py`` (a temporary folder; about a minute and a half).

Builds a site of 10,000 simulated meters (20 buildings) with one account each, starts its
hub once (schema, meters, opening balances: a tenth of the accounts low, a twentieth in
arrears), stops it and writes two years of daily and monthly consumption rollups per meter
and per building straight into its database (what two years of readings leave behind),
then serves it from a child process and measures from this one over HTTP:

- the overview page (``GET /``, logged in as an admin): 200 requests one after another;
- a meter's two-year chart (``GET /api/meters/{id}/history?resolution=day`` over the last
  730 days, a random meter each time, an admin's API token): 200 requests;
- requests/s with 50 concurrent clients for 10 s, half overview, half charts.

Prints p50/p95 of each and the rate, then ``METRIC web_overview_p95_ms`` (target < 100) and
``METRIC web_chart_p95_ms`` (target < 150).
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

METERS = 10_000
BUILDINGS = 20
DAYS = 731
SEQUENTIAL = 200
CONCURRENT = 50
LOAD_SECONDS = 10.0
TZ = "Asia/Shanghai"
PASSWORD = "bench-password-7"


def site_yaml() -> str:
    """hub.yaml of the benchmark site."""
    lines = [
        "site: {name: Bench, time_zone: Asia/Shanghai, language: zh-CN}",
        "http: {host: 127.0.0.1, port: 0}",
        "metering: {read_on_start: false}",
        "control: {check_on_start: false}",
        "links:", "  - {id: sim1, type: sim, speed: 0}",
        "tariffs:", "  - {id: flat, type: flat, price: 1.00}",
        "meters:",
    ]
    for i in range(METERS):
        building, floor = f"B{i % BUILDINGS:02d}", str(i // BUILDINGS % 30 + 1)
        lines.append(f'  - {{id: m{i:05d}, model: ddsy, link: sim1, address: "2024{i:08d}", '
                     f'account: a{i:05d}, tariff: flat, tags: {{building: {building}, '
                     f'floor: "{floor}", room: "{i:05d}"}}}}')
    lines.append("accounts:")
    for i in range(METERS):
        balance = "-3.00" if i % 20 == 0 else "12.00" if i % 10 == 1 else "200.00"
        # in arrears but never tripped: the bench measures pages, not 500 trips at start
        lines.append(f"  - {{id: a{i:05d}, name: 租户{i}, opening_balance: {balance}, "
                     "trip_policy: {mode: never}}")
    return "\n".join(lines) + "\n"


async def prepare(folder: Path) -> None:
    """Start the hub once (schema, meters, opening balances) and stop it."""
    from hub.bootstrap import create_hub
    from hub.bootstrap import prepare as prepare_hub

    prepared = prepare_hub(folder / "hub.yaml", data_dir=folder / "data")
    assert not prepared.problems, prepared.problems[:3]
    hub = create_hub(prepared)
    await hub.start()
    await hub.stop()


def write_history(database: Path) -> int:
    """Two years of daily and monthly rollups for every meter and building, made by SQLite
    itself (a meter's day: 2 to 12 kWh; a building's: the sum of its meters')."""
    zone = ZoneInfo(TZ)
    today = datetime.now(zone).date()
    days = [today - timedelta(days=n) for n in range(DAYS)]
    conn = sqlite3.connect(database)
    conn.execute("PRAGMA journal_mode=OFF")  # a throw-away file: written once, directly
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-200000")
    conn.execute("INSERT OR IGNORE INTO point (name, unit) VALUES ('energy_import_total', "
                 "'kWh')")
    point = conn.execute("SELECT point_key FROM point WHERE name = 'energy_import_total'"
                         ).fetchone()[0]
    conn.execute("CREATE TEMP TABLE day (ts INTEGER PRIMARY KEY, month_ts INTEGER)")
    conn.executemany("INSERT INTO day VALUES (?, ?)", [
        (int(datetime(d.year, d.month, d.day, tzinfo=zone).timestamp()),
         int(datetime(d.year, d.month, 1, tzinfo=zone).timestamp())) for d in days])
    conn.execute("CREATE TEMP TABLE member (series_key INTEGER PRIMARY KEY, building INTEGER)")
    conn.executemany("INSERT OR IGNORE INTO series (scope, point_key) VALUES (?, ?)",
                     [(f"meter:m{i:05d}", point) for i in range(METERS)]
                     + [(f"tag:building=B{b:02d}", point) for b in range(BUILDINGS)])
    keys = dict(conn.execute("SELECT scope, series_key FROM series WHERE point_key = ?",
                             (point,)))
    conn.executemany("INSERT INTO member VALUES (?, ?)", [
        (keys[f"meter:m{i:05d}"], keys[f"tag:building=B{i % BUILDINGS:02d}"])
        for i in range(METERS)])
    conn.execute("INSERT INTO rollup_day (series_key, start_ts, value) "
                 "SELECT m.series_key, d.ts, 2000000 + abs(random()) % 10000000 "
                 "FROM member m CROSS JOIN day d ORDER BY 1, 2")
    conn.execute("INSERT INTO rollup_day (series_key, start_ts, value) "
                 "SELECT m.building, r.start_ts, SUM(r.value) FROM rollup_day r "
                 "JOIN member m ON m.series_key = r.series_key GROUP BY 1, 2 ORDER BY 1, 2")
    conn.execute("INSERT INTO rollup_month (series_key, start_ts, value) "
                 "SELECT r.series_key, d.month_ts, SUM(r.value) FROM rollup_day r "
                 "JOIN day d ON d.ts = r.start_ts GROUP BY 1, 2 ORDER BY 1, 2")
    conn.commit()
    rows = sum(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
               for table in ("rollup_day", "rollup_month"))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    return rows


async def serve(config: str, data: str) -> None:
    """The child: the hub of ``config``, an admin with a password and a token; serve."""
    from hub.auth import Auth, Principal, Role
    from hub.bootstrap import create_hub
    from hub.bootstrap import prepare as prepare_hub
    from hub.web.server import WebServer

    hub = create_hub(prepare_hub(Path(config), data_dir=Path(data)))
    await hub.start()
    auth = hub.component("auth", Auth)
    await auth.add_user("bench", "admin", {}, PASSWORD, by="@bench")
    _row, token = await auth.create_token("bench", "bench", None, None,
                                          by=Principal("@bench", Role.ADMIN, {}, "cli"))
    print(f"READY {hub.component('web', WebServer).port} {token}", flush=True)
    await asyncio.Event().wait()


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def timed(session: aiohttp.ClientSession, url: str, **kwargs: object) -> float:
    """Milliseconds of one GET (the body read); a non-200 answer stops the bench."""
    started = time.perf_counter()
    async with session.get(url, **kwargs) as response:  # type: ignore[arg-type]
        body = await response.read()
        assert response.status == 200, (url, response.status, body[:300])
    return (time.perf_counter() - started) * 1000


async def measure(base: str, token: str) -> tuple[float, float]:
    """The figures, from this process over HTTP."""
    zone = ZoneInfo(TZ)
    end = datetime.now(zone).date() + timedelta(days=1)
    start = end - timedelta(days=DAYS - 1)
    bearer = {"Authorization": f"Bearer {token}"}
    rng = random.Random(1)

    def chart_url() -> str:
        return (f"{base}/api/meters/m{rng.randrange(METERS):05d}/history?resolution=day"
                f"&start={start}&end={end}")

    connector = aiohttp.TCPConnector(limit=CONCURRENT)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                     connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=60)) as session:
        async with session.post(f"{base}/login", json={"user": "bench",
                                                       "password": PASSWORD}) as response:
            assert response.status == 200, await response.text()
        async with session.get(chart_url(), headers=bearer) as response:
            points = len((await response.json())["points"])
        print(f"a chart has {points} daily points", file=sys.stderr)
        await timed(session, f"{base}/")  # the first look sums the month's ledger once
        overview = [await timed(session, f"{base}/") for _ in range(SEQUENTIAL)]
        chart = [await timed(session, chart_url(), headers=bearer) for _ in range(SEQUENTIAL)]
        for name, values in (("overview", overview), ("chart", chart)):
            print(f"{name}: p50 {statistics.median(values):.1f} ms, "
                  f"p95 {percentile(values, 0.95):.1f} ms, max {max(values):.1f} ms "
                  f"({len(values)} requests one after another)", file=sys.stderr)

        done = 0
        deadline = time.perf_counter() + LOAD_SECONDS

        async def client(number: int) -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                if number % 2:
                    await timed(session, f"{base}/")
                else:
                    await timed(session, chart_url(), headers=bearer)
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(CONCURRENT)))
        rate = done / (time.perf_counter() - started)
        print(f"{CONCURRENT} concurrent clients: {done} requests, {rate:.0f} requests/s "
              "(half overview, half charts)", file=sys.stderr)
    print(f"METRIC web_requests_per_s {rate:.0f} requests/s")
    return percentile(overview, 0.95), percentile(chart, 0.95)


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="meterhub-bench-web-") as tmp:
        folder = Path(tmp)
        (folder / "hub.yaml").write_text(site_yaml(), encoding="utf-8")
        started = time.perf_counter()
        await prepare(folder)
        print(f"first start: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        started = time.perf_counter()
        rows = write_history(folder / "data" / "meterhub.db")
        print(f"history: {rows} rollup rows in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--serve", str(folder / "hub.yaml"),
            str(folder / "data"), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, env=env)
        try:
            assert proc.stdout is not None
            async with asyncio.timeout(120):
                line = (await proc.stdout.readline()).decode().split()
            assert line and line[0] == "READY", line
            overview_p95, chart_p95 = await measure(f"http://127.0.0.1:{line[1]}", line[2])
        finally:
            proc.kill()
            await proc.wait()
    print(f"METRIC web_overview_p95_ms {overview_p95:.1f} ms")
    print(f"METRIC web_chart_p95_ms {chart_p95:.1f} ms")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        asyncio.run(serve(sys.argv[2], sys.argv[3]))
    else:
        asyncio.run(main())
