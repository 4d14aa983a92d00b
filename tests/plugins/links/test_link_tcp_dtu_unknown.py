"""An unregistered DTU id is refused and logged: a raw TCP client on 127.0.0.1 registers as a
DTU that no configuration names, and the tcp_dtu link closes on it, admits nothing and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest
from common import collect
from link_support import make_link, meter, until

from hub.core import Hub
from hub.events import EVENT_DTU_ONLINE
from meterhub_tcp_dtu import DtuServerLink, TcpDtuLinkType

KNOWN = "861234567890123"
UNKNOWN = "861234567890999"
TIMEOUT = 10.0  # a loaded 2-core machine; a refusal takes milliseconds


@pytest.fixture
async def link(hub: Hub) -> AsyncIterator[DtuServerLink]:
    """A tcp_dtu link on a free loopback port with one meter behind the DTU ``KNOWN``."""
    found = make_link(TcpDtuLinkType(), hub, {
        "id": "dtus", "type": "tcp_dtu", "listen": "127.0.0.1:0", "timeout": 1, "gap": 0,
        "register": {"match": ["known", "imei"]}})
    assert isinstance(found, DtuServerLink)
    meter("m1", "000000000001", found, dtu=KNOWN)
    await found.start()
    try:
        yield found
    finally:
        await found.stop()


@contextlib.asynccontextmanager
async def registered(link: DtuServerLink, dtu_id: str
                     ) -> AsyncIterator[tuple[asyncio.StreamReader, int]]:
    """A TCP connection that sent ``dtu_id`` as its registration; its reader and local port."""
    async with asyncio.timeout(TIMEOUT):
        reader, writer = await asyncio.open_connection("127.0.0.1", link.bound_port)
    try:
        writer.write(dtu_id.encode())
        await writer.drain()
        yield reader, int(writer.get_extra_info("sockname")[1])
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            async with asyncio.timeout(TIMEOUT):
                await writer.wait_closed()


async def _closed_by_the_hub(reader: asyncio.StreamReader) -> bytes:
    """What the hub sent before it closed the connection (bounded)."""
    async with asyncio.timeout(TIMEOUT):
        try:
            return await reader.read()
        except ConnectionResetError:
            return b""


async def test_an_unknown_dtu_is_refused_logged_and_disconnected(
        hub: Hub, link: DtuServerLink, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="hub.metering.dtu")
    online = collect(hub, EVENT_DTU_ONLINE)
    async with registered(link, UNKNOWN) as (reader, port):
        assert await _closed_by_the_hub(reader) == b""
    assert link.dtu(UNKNOWN) is None
    assert online == []
    assert [s.entity_id for s in hub.states.all() if UNKNOWN in s.entity_id] == []
    assert link.stats.extra.get("refused") == 1
    assert link.status()["dtus_online"] == 0
    refusals = [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING and "refused unknown DTU" in r.getMessage()]
    assert len(refusals) == 1
    assert UNKNOWN in refusals[0] and f"127.0.0.1:{port}" in refusals[0]


async def test_the_configured_dtu_is_admitted_the_same_way(
        hub: Hub, link: DtuServerLink) -> None:
    """The control: the same raw registration with the configured id comes online."""
    online = collect(hub, EVENT_DTU_ONLINE)
    async with registered(link, KNOWN):
        await until(lambda: (dtu := link.dtu(KNOWN)) is not None and dtu.online, TIMEOUT)
        assert [event.data["dtu"] for event in online] == [KNOWN]
        assert link.stats.extra.get("refused", 0) == 0

