"""Hubs with payment providers pointed at the local provider servers (payment_servers.py),
in this process or as a real hub process (payment_hub.py) called over its HTTP API.

The provider keys go to ``secrets.yaml`` and reach ``hub.yaml`` by ``!secret``, as a
landlord's would. Generic helpers (start_hub, wait_for...) are in common.py.
"""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from common import child_process, free_port, start_hub, token_headers, wait_for
from receiver import TOKEN

from hub.core import Context, Hub
from hub.prepaid.payments import PaymentBook

SECRET_KEYS = ("private_key", "api_v3_key", "platform_public_key", "alipay_public_key")

def provider_yaml(entries: list[Mapping[str, Any]], secrets: dict[str, str]) -> str:
    """``providers:`` entries with their keys moved to ``secrets`` (``!secret`` in YAML); a
    key set to None is left out."""
    lines = []
    for index, entry in enumerate(entries):
        parts = []
        for key, value in entry.items():
            if value is None:
                continue
            if key in SECRET_KEYS:
                name = f"p{index}_{key}"
                secrets[name] = str(value)
                parts.append(f"{key}: !secret {name}")
            else:
                parts.append(f"{key}: {yaml.safe_dump(value, default_flow_style=True).strip()}"
                             .replace("\n...", ""))
        lines.append("    - {" + ", ".join(parts) + "}")
    return "\n".join(lines)


def payments_yaml(folder: Path, providers: list[Mapping[str, Any]], *, port: int,
                  payments: str = "") -> str:
    """The ``payments:`` block of a hub on ``port`` with these providers; their keys are
    written to ``folder/secrets.yaml``."""
    secrets: dict[str, str] = {}
    folder.mkdir(parents=True, exist_ok=True)
    text = ("payments:\n"
            + f"  public_url: http://127.0.0.1:{port}\n"
            + textwrap.indent(textwrap.dedent(payments).strip("\n"), "  ")
            + ("\n" if payments.strip() else "")
            + "  providers:\n" + provider_yaml(providers, secrets) + "\n")
    secret_file = folder / "secrets.yaml"
    secret_file.write_text(yaml.safe_dump(secrets, allow_unicode=True), encoding="utf-8")
    secret_file.chmod(0o600)
    return text


def site_yaml(folder: Path, providers: list[Mapping[str, Any]], *, port: int,
              accounts: str = "", extra: str = "", payments: str = "") -> Path:
    """Write hub.yaml (and secrets.yaml) of a site with these providers; its path."""
    text = (f"site: {{name: 阳光公寓, time_zone: Asia/Shanghai}}\n"
            f"http: {{port: {port}, host: 127.0.0.1}}\n"
            "storage: {commit_interval: 0.02}\n"
            + textwrap.dedent(accounts or _accounts()).strip("\n") + "\n"
            + payments_yaml(folder, providers, port=port, payments=payments)
            + textwrap.dedent(extra).strip("\n") + "\n")
    path = folder / "hub.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _accounts() -> str:
    return """
    accounts:
      - {id: r101, name: 张三, landlord: wang, max_recharge: 500}
      - {id: r102, name: 李四}
    """


@asynccontextmanager
async def payment_hub(tmp_path: Path, providers: list[Mapping[str, Any]], *,
                      accounts: str = "", extra: str = "",
                      payments: str = "") -> AsyncIterator[Hub]:
    """An in-process hub with these providers (its web server on a free loopback port)."""
    port = free_port()
    path = site_yaml(tmp_path, providers, port=port, accounts=accounts, extra=extra,
                     payments=payments)
    async with start_hub(tmp_path, path.read_text(encoding="utf-8")) as hub:
        yield hub


def book_of(hub: Hub) -> PaymentBook:
    """The hub's order book."""
    return hub.component("payments", PaymentBook)


async def call(hub: Hub, service: str, **data: Any) -> Any:
    """A payment.* service call as an operator would make it; its response."""
    return await hub.services.call("payment", service, data, return_response=True,
                                   context=Context(user_id="admin", origin="test"))


# --- a real hub process (payment_hub.py) ----------------------------------------------------

E2E_SITE = """
metering: {{retries: 0, retry_delay: 0, timeout: 0.3, read_on_start: false}}
control: {{retries: 2, retry_delay: 0.1, max_retry_delay: 0.4, confirm_delay: 0.05,
          recheck_delay: 0.1, rechecks: 3}}
links:
  - {{id: sim1, type: sim, speed: 3600}}
meters:
  - {{id: r101_e, model: ddsy, link: sim1, address: "202400000101", account: r101,
     link_options: {{load: {{constant: 1.2}}}}}}
notify:
  landlord: {{urls: ["json://127.0.0.1:{port}/landlord/{token}"], retries: 1,
             retry_delay: 0.2}}
"""
E2E_ACCOUNTS = """
accounts:
  - {{id: r101, name: 张三, landlord: wang, max_recharge: 500,
     contacts: {{notify: ["json://127.0.0.1:{port}/tenant/{token}"]}}}}
"""


def e2e_yaml(folder: Path, providers: list[Mapping[str, Any]], *, port: int, inbox: Any,
             extra: str = "", payments: str = "") -> Path:
    """hub.yaml of the end-to-end site: account r101 (landlord wang) on meter r101_e, a
    simulated meter with a relay; tenant and landlord told at the receiver ``inbox``."""
    return site_yaml(folder, providers, port=port,
                     accounts=E2E_ACCOUNTS.format(port=inbox.port, token=TOKEN),
                     extra=E2E_SITE.format(port=inbox.port, token=TOKEN) + extra,
                     payments=payments)


async def told_both(inbox: Any, amount: str) -> None:
    """Wait (bounded) until the landlord and the tenant were told of a payment of ``amount``
    (¥50.00) and the tenant that the power is back."""
    await wait_for(lambda: any(amount in m for m in messages(inbox, "landlord")), timeout=60)
    await wait_for(lambda: any(amount in m and "到账" in m for m in messages(inbox, "tenant")),
                   timeout=60)
    await wait_for(lambda: any("恢复供电" in m for m in messages(inbox, "tenant")), timeout=60)


ROOT = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).with_name("payment_hub.py")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
STARTUP_TIMEOUT = 90.0


class Api:
    """A running hub's HTTP API, with the CLI token it wrote to its data folder."""

    def __init__(self, session: aiohttp.ClientSession, port: int, data: Path) -> None:
        self.session, self.base, self.data = session, f"http://127.0.0.1:{port}", data

    async def service(self, name: str, domain: str = "payment", **data: Any) -> Any:
        """Call ``domain.name`` (payment.* by default); its response (asserted 200)."""
        async with self.session.post(f"{self.base}/api/services/{domain}/{name}",
                                     params={"return_response": "1"}, json=data,
                                     headers=token_headers(self.data)) as resp:
            answer = await resp.json()
            assert resp.status == 200, answer
            return answer.get("response", answer)

    async def state(self, entity_id: str) -> Any:
        """An entity's state over the API."""
        async with self.session.get(f"{self.base}/api/states/{entity_id}",
                                    headers=token_headers(self.data)) as resp:
            return await resp.json()

    async def relay(self, meter_id: str, want: str) -> bool:
        """Whether the meter's relay status reads ``want`` (open / closed)."""
        state = await self.state(f"meter.{meter_id}")
        return bool(state.get("attributes", {}).get("status", {}).get("relay") == want)


def messages(inbox: Any, path: str) -> list[str]:
    """The messages a receiver (receiver.py) got on a path prefix."""
    return [str(body.get("message")) for body in inbox.bodies(path)]


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 60.0) -> Any:
    """Poll an async check until it answers something truthy (bounded); that answer."""
    async with asyncio.timeout(timeout):
        while True:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.2)


async def read_line(proc: asyncio.subprocess.Process, marker: str,
                    timeout: float = STARTUP_TIMEOUT) -> str:
    """The child's next stdout line starting with ``marker`` (bounded)."""
    assert proc.stdout is not None
    async with asyncio.timeout(timeout):
        while True:
            raw = await proc.stdout.readline()
            assert raw, f"the hub ended before {marker}"
            if raw.decode().startswith(marker):
                return raw.decode()


@asynccontextmanager
async def hub_process(config: Path, data: Path, log: Path,
                      *mode: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """payment_hub.py on ``config`` (its log in ``log``), once it printed READY; SIGKILLed
    on the way out."""
    with log.open("ab") as stderr:
        async with child_process(sys.executable, str(CHILD), str(config), str(data), *mode,
                                 stdout=asyncio.subprocess.PIPE, stderr=stderr, env=ENV,
                                 cwd=ROOT) as proc:
            try:
                await read_line(proc, "READY")
            except AssertionError as err:
                raise AssertionError(f"{err}: {log.read_text(errors='replace')}") from None
            yield proc
