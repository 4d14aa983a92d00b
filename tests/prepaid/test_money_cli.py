"""``meterhub account show|recharge|ledger|audit`` and the read-only money API."""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
from pathlib import Path

import aiohttp
import pytest
from common import bounded, hub_headers, settle, t
from money_support import config, consumption, meters_yaml, running_hub

from hub.prepaid.cli import cmd_account
from hub.web.server import WebServer

CFG = config(meters_yaml([("m1", "a1", "flat")]), """
accounts:
  - {id: a1, name: 张三}
tariffs:
  - {id: flat, type: flat, price: 1.00}
""")


def args(path: Path, port: int | None, command: str, **extra: object) -> argparse.Namespace:
    return argparse.Namespace(config=str(path), port=port, account_command=command,
                              data=path.parent / "data", **extra)


async def run_cli(namespace: argparse.Namespace) -> int:
    return await asyncio.to_thread(cmd_account, namespace)


@bounded()
async def test_cli_through_the_running_hub(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "hub.yaml"
    async with running_hub(tmp_path, CFG) as hub:
        port = hub.component("web", WebServer).port
        async with asyncio.timeout(30):
            code = await run_cli(args(path, port, "recharge", account_id="a1", amount="12.50",
                                      method="cash", reference="cli-1"))
            assert code == 0
            out = json.loads(capsys.readouterr().out)
            assert out["balance"] == "12.50" and out["duplicate"] is False
            code = await run_cli(args(path, port, "recharge", account_id="a1", amount="-1",
                                      method="cash", reference="cli-2"))
            # the site speaks zh-CN (the default): the hub's refusal and the CLI's own are
            # printed in it
            assert code == 1 and capsys.readouterr().err == (
                "错误：amount：充值金额必须大于 0.00 元，实际为 -1.00\n")
            code = await run_cli(args(path, port, "recharge", account_id="a1", amount="1e3",
                                      method="cash", reference="cli-3"))
            assert code == 1 and capsys.readouterr().err == (
                "错误：AMOUNT：金额（元）只能是数字，最多两位小数，如 12.5、12.50 或 1000，"
                "实际为 '1e3'\n")
            consumption(hub, "m1", t("2025-07-01T00:00"), t("2025-07-01T01:00"), "2.5")
            await settle(hub)
            assert await run_cli(args(path, port, "show", account_id="a1")) == 0
            shown = json.loads(capsys.readouterr().out)
            assert shown["balance"] == "10.00"
            assert shown["attributes"]["friendly_name"] == "张三"
            assert await run_cli(args(path, port, "ledger", account_id="a1", limit=10)) == 0
            listed = json.loads(capsys.readouterr().out)
            assert [e["kind"] for e in listed["entries"]] == ["charge", "recharge"]
            assert await run_cli(args(path, port, "show", account_id="zz")) == 1
            assert capsys.readouterr().err == "错误：未知的账户 'zz'\n"
            assert await run_cli(args(path, port, "audit")) == 0
            assert json.loads(capsys.readouterr().out)["ok"] is True
            async with aiohttp.ClientSession(headers=hub_headers(hub)) as session:
                base = f"http://127.0.0.1:{port}"
                async with session.get(f"{base}/api/accounts") as response:
                    assert [a["balance"] for a in (await response.json())["items"]] == ["10.00"]
                async with session.get(f"{base}/api/accounts/a1/ledger?limit=x") as response:
                    assert response.status == 400
                async with session.get(f"{base}/api/bills/nope") as response:
                    assert response.status == 404
    # with the hub stopped, audit reads the database itself
    assert await run_cli(args(path, 1, "audit")) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["source"].endswith("meterhub.db")
    conn = sqlite3.connect(tmp_path / "data" / "meterhub.db")
    with conn:
        conn.execute("UPDATE account_balance SET balance = 99")
    conn.close()
    assert await run_cli(args(path, 1, "audit")) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["problems"][0]["account_id"] == "a1"
    assert report["problems"][0]["running_total"] == "0.99"
