"""Start-up faults are refused before anything acts: REAL `meterhub run` processes.

A port the hub must listen on that is taken (the web port, a DTU link's TCP port, a UDP
link's port, NB-IoT's UDP port), or a second hub on the same data folder, ends the process
with exit code 1 and ONE line on stderr naming the port and the hub.yaml key (or the running
hub's pid and web port), no traceback, and nothing acted: no reading, command or ledger entry
in the database, no notification at the local receiver. The site is one that acts at once
when it can start (an account with nothing on it is cut off, the landlord told): the first
test shows that it does.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import sys
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from common import bounded, child_process, free_port, wait_for, write

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
EXIT_WAIT = 60.0  # a refused start-up exits within this, on a loaded 2-core machine too
ACT_WAIT = 45.0  # a site that can start has read, cut off and notified within this

SITE = """
site: {{name: Ports, time_zone: Asia/Shanghai}}
http: {{host: 127.0.0.1, port: {web}}}
storage: {{commit_interval: 0.05}}
control: {{retries: 1, retry_delay: 0.1, confirm_delay: 0.05, recheck_delay: 0.1,
          rechecks: 5}}
links:
  - {{id: sim1, type: sim, speed: 0}}
  - {{id: dtu1, type: tcp_dtu, listen: "127.0.0.1:{dtu}"}}
  - {{id: udp1, type: udp, listen: "127.0.0.1:{udp}"}}
  - {{id: nb1, type: nbiot, udp: "127.0.0.1:{nb}"}}
meters:
  - {{id: m1, model: ddsy, link: sim1, address: "202400000001", account: a1}}
accounts:
  - {{id: a1, opening_balance: 0, trip_policy: {{mode: immediate}}}}
  - {{id: a2, opening_balance: 50}}
notify:
  landlord: {{urls: "json://127.0.0.1:{rx}/hook", retries: 0, timeout: 5s}}
notices:
  relay_tripped: {{notify: [landlord]}}
"""


@dataclass
class Receiver:
    """A local HTTP endpoint the landlord's notifier posts to; counts what arrives."""

    port: int = 0
    posts: list[bytes] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            self.posts.append(head + await reader.readexactly(length))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    """A started receiver on 127.0.0.1, closed afterwards."""
    state = Receiver()
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = int(server.sockets[0].getsockname()[1])
    try:
        yield state
    finally:
        server.close()
        async with asyncio.timeout(10):
            await server.wait_closed()


@contextmanager
def held(kind: socket.SocketKind) -> Iterator[int]:
    """A port on 127.0.0.1 held by this test (TCP: listening, as Home Assistant's 8123 is)."""
    sock = socket.socket(socket.AF_INET, kind)
    try:
        sock.bind(("127.0.0.1", 0))
        if kind == socket.SOCK_STREAM:
            sock.listen()
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that nobody has bound right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def site(tmp_path: Path, rx: Receiver, **ports: int) -> Path:
    """The site's hub.yaml with the given ports (free ones for the others)."""
    chosen = {"web": free_port(), "dtu": free_port(), "udp": free_udp_port(),
              "nb": free_udp_port(), **ports}
    return write(tmp_path / "hub.yaml", SITE.format(rx=rx.port, **chosen))


def run_args(config: Path, data: Path) -> list[str]:
    return [sys.executable, "-m", "hub", "run", "-c", str(config), "--data", str(data)]


def acted(data: Path) -> dict[str, int]:
    """Rows in the data folder's database that only a hub that acted writes."""
    db = data / "meterhub.db"
    if not db.exists():
        return {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("reading", "command", "ledger_entry") if table in tables}
    finally:
        conn.close()


async def refused(config: Path, data: Path) -> tuple[int, list[str]]:
    """Run the hub to its end (bounded); its exit code and stderr lines."""
    async with child_process(*run_args(config, data), stdout=asyncio.subprocess.DEVNULL,
                             stderr=asyncio.subprocess.PIPE, env=ENV, cwd=ROOT) as proc:
        async with asyncio.timeout(EXIT_WAIT):
            _out, err = await proc.communicate()
        assert proc.returncode is not None
        return proc.returncode, err.decode().splitlines()


def assert_nothing_acted(data: Path, rx: Receiver) -> None:
    assert not any(acted(data).values()), acted(data)
    assert rx.posts == []


def status(port: int) -> bytes | None:
    """The hub's login page (anyone may fetch it), or None while it does not serve."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
            return bytes(response.read())
    except OSError:
        return None


@bounded(ACT_WAIT + 30)
async def test_the_site_acts_at_once_when_it_can_start(tmp_path: Path) -> None:
    """The control: with its ports free the site reads, cuts a1 off and tells the landlord,
    so the tests below that find nothing of it are not empty."""
    async with receiver() as rx:
        web = free_port()
        config = site(tmp_path, rx, web=web)
        data = tmp_path / "data"
        with (tmp_path / "hub.log").open("wb") as log:
            async with child_process(*run_args(config, data), stdout=log, stderr=log,
                                     env=ENV, cwd=ROOT) as proc:
                await wait_for(lambda: rx.posts and all(acted(data).values())
                               and len(acted(data)) == 3, timeout=ACT_WAIT, step=0.2)
                assert await asyncio.to_thread(status, web) is not None
                proc.terminate()
                async with asyncio.timeout(EXIT_WAIT):
                    assert await proc.wait() == 0


@pytest.mark.parametrize(("taken", "kind", "key"), [
    ("web", socket.SOCK_STREAM, "(http: port in hub.yaml, or --port)"),
    ("dtu", socket.SOCK_STREAM, "(links[1].listen in hub.yaml: link dtu1)"),
    ("udp", socket.SOCK_DGRAM, "(links[2].listen in hub.yaml: link udp1)"),
    ("nb", socket.SOCK_DGRAM, "(links[3].udp in hub.yaml: link nb1)"),
])
@bounded(EXIT_WAIT + 20)
async def test_a_taken_port_is_refused_in_one_line_before_anything_acts(
        tmp_path: Path, taken: str, kind: socket.SocketKind, key: str) -> None:
    async with receiver() as rx:
        with held(kind) as port:
            data = tmp_path / "data"
            code, lines = await refused(site(tmp_path, rx, **{taken: port}), data)
        udp = "UDP " if kind == socket.SOCK_DGRAM else ""
        assert code == 1
        assert_nothing_acted(data, rx)
        assert lines == [f"meterhub: {udp}port {port} is in use {key}"]


@bounded(ACT_WAIT + EXIT_WAIT + 30)
async def test_a_second_hub_on_the_same_data_is_refused_naming_the_first(
        tmp_path: Path) -> None:
    """Same hub.yaml, same data: its ports are all taken by the first hub too, and the
    refusal names the first hub (the lock is taken before any port), not a port."""
    async with receiver() as rx:
        web = free_port()
        config = site(tmp_path, rx, web=web)
        data = tmp_path / "data"
        with (tmp_path / "first.log").open("wb") as log:
            async with child_process(*run_args(config, data), stdout=log, stderr=log,
                                     env=ENV, cwd=ROOT) as first:
                async with asyncio.timeout(ACT_WAIT):
                    while await asyncio.to_thread(status, web) is None:
                        assert first.returncode is None, "the first hub exited"
                        await asyncio.sleep(0.2)
                code, lines = await refused(config, data)
                assert code == 1
                assert len(lines) == 1, lines
                assert lines[0].startswith("meterhub: 数据库 ")  # in the site's language
                assert f"正被另一个 MeterHub 使用（进程号 {first.pid}，网页端口 {web}）" in lines[0]
                assert "--data" in lines[0]
                assert first.returncode is None  # the first one runs on
