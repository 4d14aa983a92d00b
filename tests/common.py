"""Generic test helpers, one implementation each (imported by name: tests/ is on sys.path).

Site time, a settable clock, started hubs, event recording, bounded waiting and files. What
belongs to one area (its YAML builders, fakes, fixtures) stays in that area's support module.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import socket
import sqlite3
import textwrap
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer

from hub.auth import Auth
from hub.bootstrap import create_hub, prepare
from hub.const import CLI_TOKEN_FILE
from hub.core import Event, Hub
from hub.ledger import Ledger
from hub.storage import Storage, StorageSettings
from hub.util.dt import utcnow
from hub.web.server import WebServer

_F = TypeVar("_F", bound=Callable[..., Any])

TZ = ZoneInfo("Asia/Shanghai")
"""The test sites' time zone (``site: {time_zone: Asia/Shanghai}``)."""

HUB_TIMEOUT = 30.0
"""The bound on starting, stopping and settling a hub."""


# --- time ------------------------------------------------------------------------------------

def t(text: str) -> datetime:
    """A site-local time from '2025-07-01T08:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


class Clock:
    """A settable clock: frozen at ``start``, or with ``running=True`` wall time shifted to it."""

    def __init__(self, start: datetime | str, *, running: bool = False) -> None:
        self.running = running
        self.now = _when(start)  # frozen: the time; running: the time at ``offset`` zero
        self.offset = self.now - utcnow() if running else timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset if self.running else self.now

    def advance(self, delta: timedelta) -> None:
        """Move time forward."""
        if self.running:
            self.offset += delta
        else:
            self.now += delta

    def set(self, when: datetime | str) -> None:
        """Jump to ``when`` (a datetime or site-local text)."""
        if self.running:
            self.offset = _when(when) - utcnow()
        else:
            self.now = _when(when)


def _when(value: datetime | str) -> datetime:
    """A datetime as given, or site-local text parsed."""
    return t(value) if isinstance(value, str) else value


# --- hubs ------------------------------------------------------------------------------------

def write_hub_yaml(folder: Path, text: str, name: str = "hub.yaml") -> Path:
    """Write ``text`` as it is to ``folder/name`` (creating the folder) and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@asynccontextmanager
async def start_hub(tmp_path: Path, text: str, *, data: str = "data", name: str = "hub.yaml",
                    plugins: Iterable[tuple[object, str]] = (),
                    before_start: Callable[[Hub], None] | None = None) -> AsyncIterator[Hub]:
    """A hub started (bounded) from config ``text`` with extra ``(plugin, name)``s; stopped after.

    The data dir ``tmp_path/data`` survives the hub, for restart tests.
    """
    prepared = prepare(write_hub_yaml(tmp_path, text, name), data_dir=tmp_path / data)
    assert not prepared.problems, [str(problem) for problem in prepared.problems]
    for plugin, plugin_name in plugins:
        prepared.plugins.register(plugin, plugin_name)
    hub = create_hub(prepared)
    if before_start is not None:
        before_start(hub)
    async with asyncio.timeout(HUB_TIMEOUT):
        await hub.start()
    try:
        yield hub
    finally:
        async with asyncio.timeout(HUB_TIMEOUT):
            await hub.stop()


async def child_hub(config_path: str, data_dir: str) -> Hub | None:
    """In a crash test's child process: the hub of ``config_path``, started (bounded); None
    (after printing ``PROBLEMS ...`` for the parent) when the configuration has problems."""
    prepared = prepare(Path(config_path), data_dir=Path(data_dir))
    if prepared.problems:
        print(f"PROBLEMS {prepared.problems}", flush=True)
        return None
    hub = create_hub(prepared)
    async with asyncio.timeout(HUB_TIMEOUT):
        await hub.start()
    return hub


async def settle(hub: Hub) -> None:
    """Wait (bounded) for stored readings, queued charges and posts, and the hub's tasks."""
    storage = _component(hub, "storage", Storage)
    ledger = _component(hub, "ledger", Ledger)  # not a test's fake ledger
    async with asyncio.timeout(HUB_TIMEOUT):
        if storage is not None:
            await storage.flush()  # stored readings fire consumption
        await asyncio.sleep(0)
        if ledger is not None:
            await ledger.drain()  # consumption becomes charges and posts
        await hub.block_till_done()
        if storage is not None:
            await storage.flush()  # what the tasks wrote
        if ledger is not None:
            await ledger.drain()  # what the tasks posted (bills)


def _component(hub: Hub, name: str, kind: type[Any]) -> Any:
    """The hub's component ``name`` if it is a ``kind`` (not a test's fake), else None."""
    if not hub.has_component(name):
        return None
    component = hub.component(name, object)
    return component if isinstance(component, kind) else None


def assert_no_leftover_tasks() -> None:
    """Fail when a task other than the current one is still running."""
    leftovers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()
                 and not task.done()]
    assert not leftovers, f"test left tasks running: {leftovers}"


# --- the API, with credentials ---------------------------------------------------------------

def token_headers(data_dir: Path) -> dict[str, str]:
    """``Authorization`` with the CLI token a running hub wrote to its data folder: how a
    test (or a script on the hub's machine) calls the API, there being no free pass."""
    token = (data_dir / CLI_TOKEN_FILE).read_text(encoding="utf-8").strip()
    return {"Authorization": f"Bearer {token}"}


def hub_headers(hub: Hub) -> dict[str, str]:
    """:func:`token_headers` of a started hub."""
    return token_headers(hub.config.data_dir)


@asynccontextmanager
async def web_client(hub: Hub, folder: Path) -> AsyncIterator[TestClient[Any, Any]]:
    """aiohttp's test client on the hub's web app, sending the hub's CLI token with every
    request. A hub started without storage (a bare ``Hub``) gets a real database in
    ``folder`` and its access control, so the guard checks the token as it always does."""
    auth: Auth | None = None
    storage: Storage | None = None
    if not hub.has_component("auth"):
        storage = Storage(StorageSettings.from_block(None, folder))
        storage.claim()
        await storage.start()
        auth = Auth(storage, folder)
        await auth.start()
        hub.add_component("auth", auth)
    data_dir = auth.data_dir if auth is not None else hub.config.data_dir
    try:
        async with TestClient(TestServer(WebServer(hub).build_app()),
                              headers=token_headers(data_dir)) as client:
            yield client
    finally:
        if auth is not None and storage is not None:
            await auth.stop()
            await storage.stop()


# --- events ----------------------------------------------------------------------------------

def collect(hub: Hub, *event_types: str) -> list[Event]:
    """Record events of the given types."""
    seen: list[Event] = []
    for event_type in event_types:
        hub.bus.listen(event_type, seen.append)
    return seen


def types(events: list[Event]) -> list[str]:
    """The event types, in order."""
    return [event.event_type for event in events]


def of_type(events: list[Event], event_type: str) -> list[Event]:
    """The events of one type."""
    return [event for event in events if event.event_type == event_type]


# --- waiting ---------------------------------------------------------------------------------

async def wait_for(predicate: Callable[[], Any], timeout: float = 30.0,
                   step: float = 0.02) -> Any:
    """Poll until ``predicate()`` is truthy (bounded); return its value."""
    async with asyncio.timeout(timeout):
        while True:
            value = predicate()
            if value:
                return value
            await asyncio.sleep(step)


def bounded(seconds: float = 45) -> Callable[[_F], _F]:
    """Run an async test inside ``asyncio.timeout``: no wait in it can hang."""
    def wrap(test: _F) -> _F:
        @functools.wraps(test)
        async def run(*args: Any, **kwargs: Any) -> Any:
            async with asyncio.timeout(seconds):
                return await test(*args, **kwargs)
        return cast(_F, run)
    return wrap


# --- child processes -------------------------------------------------------------------------

CHILD_REAP_TIMEOUT = 10.0
"""The bound on reaping a SIGKILLed child."""


@asynccontextmanager
async def child_process(*argv: str, **kwargs: Any) -> AsyncIterator[asyncio.subprocess.Process]:
    """``asyncio.create_subprocess_exec(*argv, **kwargs)``, SIGKILLed and reaped on the way out
    whatever happened (a failed assertion, a timeout): a test never leaves a child running."""
    proc = await asyncio.create_subprocess_exec(*argv, **kwargs)
    try:
        yield proc
    finally:
        await reap(proc)


async def kill_child_at(argv: list[str], marker: str, lines: list[str], *, step: float,
                        **kwargs: Any) -> None:
    """Run a child, collect its stdout lines into ``lines`` until one starts with ``marker``,
    then SIGKILL it there (reaped whatever happens); each wait bounded by ``step``."""
    async with child_process(*argv, stdout=asyncio.subprocess.PIPE, **kwargs) as proc:
        assert proc.stdout is not None
        async with asyncio.timeout(step):
            while not any(line.startswith(marker) for line in lines):
                raw = await proc.stdout.readline()
                assert raw, f"the child ended before {marker}: {lines}"
                lines.append(raw.decode().strip())
        proc.send_signal(signal.SIGKILL)
        async with asyncio.timeout(step):
            await proc.wait()
        assert proc.returncode == -signal.SIGKILL


async def reap(proc: asyncio.subprocess.Process, timeout: float = CHILD_REAP_TIMEOUT) -> None:
    """SIGKILL ``proc`` unless it has ended, and wait (bounded) until it has."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    async with asyncio.timeout(timeout):
        await proc.wait()


# --- files and ports -------------------------------------------------------------------------

def write(path: Path, text: str) -> Path:
    """Write dedented text to ``path`` (creating folders) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """The 1-based line number of the ``occurrence``-th line containing ``needle``."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not found {occurrence}x in {path}")


def db_rows(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` on the hub database in ``data_dir``, opened read-only."""
    conn = sqlite3.connect(f"file:{data_dir / 'meterhub.db'}?mode=ro", uri=True)
    try:
        return list(conn.execute(sql))
    finally:
        conn.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
