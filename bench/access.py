"""What the access guard costs a request.

    python bench/access.py [--requests N] [--rounds R]

Starts a hub on 127.0.0.1 (no meters) with one user, then sends ``GET /api/`` over one
keep-alive connection: with an API token (a hashed lookup in the database each request),
with a session cookie (the same), and with the CLI's token (in memory). Prints requests/s,
the median of the rounds with the best beside it, and the cost of a login (argon2id).
The headline is ``METRIC api_requests_per_s_token``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from hub.auth import Auth, Principal, Role
from hub.bootstrap import create_hub, prepare
from hub.const import CLI_TOKEN_FILE
from hub.web.server import WebServer

SITE = "site: {name: Bench}\nhttp: {host: 127.0.0.1, port: 0}\nstorage: {commit_interval: 0.05}\n"
PASSWORD = "bench-password-1"


async def _rate(session: aiohttp.ClientSession, url: str, headers: dict[str, str],
                requests: int) -> float:
    start = time.perf_counter()
    for _ in range(requests):
        async with session.get(url, headers=headers) as response:
            assert response.status == 200, response.status
            await response.read()
    return requests / (time.perf_counter() - start)


async def main(requests: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "hub.yaml"
        config.write_text(SITE)
        hub = create_hub(prepare(config, data_dir=Path(folder) / "data"))
        await hub.start()
        try:
            auth = hub.component("auth", Auth)
            await auth.add_user("bench", "admin", {}, PASSWORD, by="@bench")
            root = Principal("@bench", Role.ADMIN, {}, "cli")
            _row, token = await auth.create_token("bench", "bench", None, None, by=root)
            started = time.perf_counter()
            _principal, cookie = await auth.login("bench", PASSWORD, "127.0.0.1")
            login_ms = (time.perf_counter() - started) * 1000
            cli = (Path(folder) / "data" / CLI_TOKEN_FILE).read_text().strip()
            url = f"http://127.0.0.1:{hub.component('web', WebServer).port}/api/"
            ways = {"token": {"Authorization": f"Bearer {token}"},
                    "session": {"Cookie": f"mh_session={cookie}"},
                    "cli_token": {"Authorization": f"Bearer {cli}"}}
            async with aiohttp.ClientSession() as session:
                for name, headers in ways.items():
                    await _rate(session, url, headers, 20)  # warm up
                    rates = [await _rate(session, url, headers, requests)
                             for _ in range(rounds)]
                    print(f"{name:10s} {statistics.median(rates):8.0f} requests/s "
                          f"(best {max(rates):.0f})")
                    if name == "token":
                        print(f"METRIC api_requests_per_s_token {statistics.median(rates):.0f}")
            print(f"login (argon2id verify + session row): {login_ms:.0f} ms")
        finally:
            await hub.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    asyncio.run(main(options.requests, options.rounds))
