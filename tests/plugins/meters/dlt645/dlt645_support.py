"""Helpers of the DL/T 645 tests: the shared vectors, a simulated bus over a real socket."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from common import child_process

from hub.metering.model import Simulator
from hub.metering.sim import SimulatedBus
from hub.metering.transport import StreamTransport

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
# A copy of /work/shared/vectors/dlt645.json (PROTOCOLS.md section 2), kept with the tests.
VECTORS: list[dict[str, Any]] = json.loads(
    (HERE / "dlt645_vectors.json").read_text(encoding="utf-8"))["vectors"]

METER = "202400001234"
OTHER = "202400005678"


def vector(prefix: str) -> dict[str, Any]:
    """The vector whose name starts with ``prefix``."""
    found = [v for v in VECTORS if v["name"].startswith(prefix)]
    assert len(found) == 1, f"{prefix!r} matches {len(found)} vectors"
    return found[0]


@asynccontextmanager
async def bus_link(meters: Iterable[Simulator], *, gap: float = 0.0,
                   preamble: bytes = b"") -> AsyncIterator[tuple[StreamTransport, SimulatedBus]]:
    """A SimulatedBus served on one end of a socketpair; a StreamTransport on the other."""
    bus = SimulatedBus(meters)
    hub_sock, bus_sock = socket.socketpair()
    bus_reader, bus_writer = await asyncio.open_connection(sock=bus_sock)
    reader, writer = await asyncio.open_connection(sock=hub_sock)
    server = asyncio.create_task(bus.serve(bus_reader, bus_writer))
    transport = StreamTransport(reader, writer, gap=gap, preamble=preamble, name="sim-bus")
    try:
        yield transport, bus
    finally:
        writer.close()
        async with asyncio.timeout(5):
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass
            await server


# Runs ``hub.cli.main(argv)`` for many argument lists in ONE fresh interpreter: the real CLI
# (argparse, entry-point plugin loading, JSON output, exit codes) without paying the start-up
# of one process per frame on a shared two-core machine.
_CLI_DRIVER = """
import contextlib, io, json, sys
from hub.cli import main
results = []
for argv in json.load(sys.stdin):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    results.append([code, out.getvalue(), err.getvalue()])
json.dump(results, sys.stdout)
"""


async def run_cli(*args: str, cwd: Path = REPO) -> tuple[int, str, str]:
    """``python -m hub <args>`` as a subprocess in ``cwd``: (exit code, stdout, stderr)."""
    async with child_process(sys.executable, "-m", "hub", *args, cwd=cwd,
                             stdout=asyncio.subprocess.PIPE,
                             stderr=asyncio.subprocess.PIPE) as proc:
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def run_cli_batch(argvs: list[list[str]], cwd: Path = REPO) -> list[tuple[int, str, str]]:
    """Run the CLI's ``main`` once per argument list, in a subprocess of its own in ``cwd``."""
    async with child_process(sys.executable, "-c", _CLI_DRIVER, cwd=cwd,
                             stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                             stderr=asyncio.subprocess.PIPE) as proc:
        out, err = await proc.communicate(json.dumps(argvs).encode())
    assert proc.returncode == 0, err.decode()
    return [(code, stdout, stderr) for code, stdout, stderr in json.loads(out)]
