"""The bind phase: every stage's bind runs before any stage starts; a failed bind starts none.

Stages declare ``bind`` (the database lock, listening ports); ``Hub.start`` runs every bind in
start order, then every start. A bind that raises StartupRefused stops the hub before any
``start`` ran, and ``stop`` releases what the binds before it took.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from common import assert_no_leftover_tasks, bounded

from hub.const import HubState
from hub.core import Hub
from hub.exceptions import StartupRefused
from hub.listen import PortInUse, bind_tcp, bind_udp
from hub.plugins import PluginManager
from hub.storage.database.lock import ProcessLock, describe_holder
from hub.storage.errors import DatabaseLocked
from hub.web.server import WebServer

Step = Callable[[], Coroutine[Any, Any, None]]


def recorder(calls: list[str], what: str, fail: BaseException | None = None) -> Step:
    async def step() -> None:
        calls.append(what)
        if fail is not None:
            raise fail
    return step


def new_hub() -> Hub:
    return Hub(plugins=PluginManager())


@bounded(30)
async def test_every_bind_runs_in_start_order_before_any_start() -> None:
    hub, calls = new_hub(), []
    for name, extra in (("web", {"after": ("links",)}), ("storage", {}),
                        ("links", {"after": ("storage",)})):
        hub.add_stage(name, bind=recorder(calls, f"bind {name}"),
                      start=recorder(calls, f"start {name}"),
                      stop=recorder(calls, f"stop {name}"), **extra)
    await hub.start()
    assert calls == ["bind storage", "bind links", "bind web",
                     "start storage", "start links", "start web"]
    await hub.stop()
    assert calls[6:] == ["stop web", "stop links", "stop storage"]
    assert_no_leftover_tasks()


@bounded(30)
async def test_a_refused_bind_starts_no_stage_and_releases_the_binds_before_it() -> None:
    hub, calls = new_hub(), []
    hub.add_stage("storage", bind=recorder(calls, "bind storage"),
                  start=recorder(calls, "start storage"), stop=recorder(calls, "stop storage"))
    hub.add_stage("notify", start=recorder(calls, "start notify"),  # binds nothing
                  stop=recorder(calls, "stop notify"), before=("storage",))
    hub.add_stage("links", bind=recorder(calls, "bind links", PortInUse("port 9 is in use")),
                  start=recorder(calls, "start links"), stop=recorder(calls, "stop links"),
                  after=("storage",))
    hub.add_stage("web", bind=recorder(calls, "bind web"), start=recorder(calls, "start web"),
                  stop=recorder(calls, "stop web"), after=("links",))
    with pytest.raises(StartupRefused, match="port 9 is in use"):
        await hub.start()
    assert not [call for call in calls if call.startswith("start")]
    # the failed bind's stage releases what it took half-way; web was never bound
    assert calls == ["bind storage", "bind links", "stop links", "stop storage"]
    assert hub.state is HubState.STOPPED
    assert hub.exit_code == 1
    assert_no_leftover_tasks()


@bounded(30)
async def test_a_taken_web_port_is_refused_before_any_stage_starts() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        hub, calls = new_hub(), []
        hub.config.http_host, hub.config.http_port = "127.0.0.1", port
        server = WebServer(hub)
        hub.add_stage("control", start=recorder(calls, "start control"),
                      stop=recorder(calls, "stop control"))
        hub.add_stage("web", bind=server.bind, start=server.start, stop=server.stop,
                      after=("control",))
        with pytest.raises(PortInUse) as refused:
            await hub.start()
    assert str(refused.value) == f"port {port} is in use (http: port in hub.yaml, or --port)"
    assert calls == []  # control never started: no command could have gone out
    assert_no_leftover_tasks()


@bounded(30)
async def test_the_web_server_serves_on_the_socket_it_bound() -> None:
    hub = new_hub()
    hub.config.http_host, hub.config.http_port = "127.0.0.1", 0
    server = WebServer(hub)
    hub.add_stage("web", bind=server.bind, start=server.start, stop=server.stop)
    await hub.start()
    try:
        assert server.port and hub.ports == {"web": server.port}
        with socket.create_connection(("127.0.0.1", server.port), timeout=5):
            pass
    finally:
        await hub.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port),
                                                          timeout=5):
        pass  # closed at stop
    assert_no_leftover_tasks()


def test_bind_names_the_port_and_the_key() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(PortInUse) as refused:
            bind_tcp("127.0.0.1", port, key="links[1].listen in hub.yaml: link d1")
    assert str(refused.value) == f"port {port} is in use (links[1].listen in hub.yaml: link d1)"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        with pytest.raises(PortInUse, match=rf"^UDP port {port} is in use \(k\)$"):
            bind_udp("127.0.0.1", port, key="k")
    with pytest.raises(PortInUse, match=r"^192\.0\.2\.1 is not an address of this machine"):
        bind_tcp("192.0.2.1", 0, key="k")


def test_a_bound_port_is_held_until_closed() -> None:
    listening = bind_tcp("127.0.0.1", 0, key="k")
    port = listening.port
    assert port
    with pytest.raises(PortInUse):
        bind_tcp("127.0.0.1", port, key="k")
    listening.close()
    bind_tcp("127.0.0.1", port, key="k").close()


def test_the_lock_file_names_its_holder() -> None:
    assert describe_holder('{"pid": 42, "web_port": 8123}') == "pid 42, web port 8123"
    assert describe_holder('{"pid": 42}') == "pid 42"
    assert describe_holder("42\n") == "pid 42"  # written by an older MeterHub
    assert describe_holder("") == "pid unknown"


def test_a_held_database_lock_refuses_naming_the_holder(tmp_path: Path) -> None:
    db = tmp_path / "data" / "meterhub.db"
    holder = ProcessLock(db)
    holder.acquire()
    try:
        holder.note(web_port=8123)
        with pytest.raises(DatabaseLocked, match=rf"\(pid {os.getpid()}, web port 8123\)"):
            ProcessLock(db).acquire()
    finally:
        holder.release()
    second = ProcessLock(db)
    second.acquire()  # free again once released
    second.release()
