"""Hubs with payment providers pointed at the local provider servers (payment_servers.py).

The provider keys go to ``secrets.yaml`` and reach ``hub.yaml`` by ``!secret``, as a
landlord's would. Generic helpers (start_hub, wait_for...) are in common.py.
"""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import yaml
from common import free_port, start_hub

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


def site_yaml(folder: Path, providers: list[Mapping[str, Any]], *, port: int,
              accounts: str = "", extra: str = "", payments: str = "") -> Path:
    """Write hub.yaml (and secrets.yaml) of a site with these providers; its path."""
    secrets: dict[str, str] = {}
    folder.mkdir(parents=True, exist_ok=True)
    text = (f"site: {{name: 阳光公寓, time_zone: Asia/Shanghai}}\n"
            f"http: {{port: {port}, host: 127.0.0.1}}\n"
            "storage: {commit_interval: 0.02}\n"
            + textwrap.dedent(accounts or _accounts()).strip("\n") + "\n"
            + "payments:\n"
            + f"  public_url: http://127.0.0.1:{port}\n"
            + textwrap.indent(textwrap.dedent(payments).strip("\n"), "  ")
            + ("\n" if payments.strip() else "")
            + "  providers:\n" + provider_yaml(providers, secrets) + "\n"
            + textwrap.dedent(extra).strip("\n") + "\n")
    secret_file = folder / "secrets.yaml"
    secret_file.write_text(yaml.safe_dump(secrets, allow_unicode=True), encoding="utf-8")
    secret_file.chmod(0o600)
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
