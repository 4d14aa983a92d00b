"""``meterhub user | token | audit`` against a real ``meterhub run`` process, with the token
the hub wrote to its data folder (and against the database, before the first start)."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from access_support import PASSWORD, SITE
from common import bounded, child_process, free_port, token_headers, wait_for, write

from hub.const import CLI_TOKEN_FILE

ROOT = Path(__file__).resolve().parents[2]
CLI_TIMEOUT = 90.0


async def meterhub(*args: str, stdin: str = "", env: dict[str, str] | None = None
                   ) -> tuple[int, Any, str]:
    """Run ``python -m hub ARGS`` to its end: (exit code, JSON output or text, stderr)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("METERHUB_")}
    async with child_process(sys.executable, "-m", "hub", *args,
                             stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                             stderr=asyncio.subprocess.PIPE, cwd=ROOT,
                             env={**clean, **(env or {})}) as proc:
        async with asyncio.timeout(CLI_TIMEOUT):
            out, err = await proc.communicate(stdin.encode())
    try:
        parsed: Any = json.loads(out)
    except ValueError:
        parsed = out.decode()
    assert proc.returncode is not None
    return proc.returncode, parsed, err.decode()


@pytest.mark.timeout(330)
@bounded(300)
async def test_user_token_and_audit_commands_through_the_running_hub(tmp_path: Path) -> None:
    port = free_port()
    config = write(tmp_path / "hub.yaml", SITE.replace("port: 0", f"port: {port}"))
    data = tmp_path / "data"
    where = ("-c", str(config), "--data", str(data))
    # before the first start: the first admin straight into the database
    code, out, err = await meterhub("user", "add", "alice", "--admin", "--password-stdin",
                                    *where, stdin=PASSWORD + "\n")
    assert code == 0, err
    assert out["user"] == "alice" and out["role"] == "admin" and PASSWORD not in str(out)
    log = tmp_path / "hub.log"
    with log.open("wb") as sink:
        async with child_process(sys.executable, "-m", "hub", "run", *where, stdout=sink,
                                 stderr=sink, cwd=ROOT) as hub, \
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            base = f"http://127.0.0.1:{port}"

            async def serving() -> bool:
                assert hub.returncode is None, log.read_text()
                try:
                    headers = token_headers(data)
                    async with http.get(base + "/api/", headers=headers) as response:
                        return response.status == 200
                except (OSError, aiohttp.ClientError):
                    return False

            async with asyncio.timeout(60):
                while not await serving():
                    await asyncio.sleep(0.2)
            mode = (data / CLI_TOKEN_FILE).stat().st_mode
            assert stat.S_IMODE(mode) == 0o600  # only the hub's user (and root) can read it
            assert "set-up code" not in log.read_text()  # an admin exists: no code printed

            code, out, err = await meterhub(
                "user", "add", "bob", "--role", "landlord", "--scope", "building=A",
                "--password-stdin", *where, stdin=PASSWORD + "\n")
            assert code == 0, err
            assert out["scope"] == {"building": "A"}
            code, out, err = await meterhub("user", "add", "bob", "--role", "viewer",
                                            "--password-stdin", *where, stdin=PASSWORD + "\n")
            assert code == 1 and err == "错误：user：用户 'bob' 已存在\n"  # a zh-CN site
            code, out, err = await meterhub("user", "list", *where)
            assert code == 0 and [u["user"] for u in out] == ["alice", "bob"]
            assert "argon2" not in json.dumps(out)

            code, made, err = await meterhub("token", "create", "erp", "--user", "bob", *where)
            assert code == 0, err
            bearer = {"Authorization": f"Bearer {made['token']}"}
            async with http.get(base + "/api/accounts", headers=bearer) as response:
                assert [a["id"] for a in (await response.json())["items"]] == ["acc_a"]
            code, listed, err = await meterhub("token", "list", *where)
            assert code == 0 and made["token"] not in json.dumps(listed)
            assert next(t for t in listed if t["id"] == made["id"])["last_used"]
            code, out, err = await meterhub("token", "revoke", made["id"], *where)
            assert code == 0 and out["revoked"]
            async with http.get(base + "/api/accounts", headers=bearer) as response:
                assert response.status == 401

            code, out, err = await meterhub("user", "passwd", "bob", "--password-stdin",
                                            *where, stdin="another-pass-9\n")
            assert code == 0, err
            async with http.post(base + "/login", json={"user": "bob",
                                                        "password": "another-pass-9"}) as r:
                assert r.status == 200
            code, out, err = await meterhub("user", "disable", "bob", *where)
            assert code == 0 and out["disabled"] is True
            async with http.post(base + "/login", json={"user": "bob",
                                                        "password": "another-pass-9"}) as r:
                assert r.status == 401

            code, rows, err = await meterhub("audit", "--user", "@cli", *where)
            assert code == 0, err
            actions = [row["action"] for row in rows]
            assert {"user_add", "token_create", "token_revoke", "user_passwd",
                    "user_disable"} <= set(actions)
            # a stale or foreign CLI token: refused with the reason, exit 1
            code, out, err = await meterhub("user", "list", "-c", str(config), "--data",
                                            str(tmp_path / "elsewhere"))
            assert code == 1 and "no CLI token" in err
            code, out, err = await meterhub("user", "list", *where,
                                            env={"METERHUB_TOKEN": "mht_forged"})
            assert code == 1 and "unknown, revoked or expired" in err
            # no hub on that port, and the database is the running hub's: said, not a crash
            code, out, err = await meterhub("user", "list", *where, "--port",
                                            str(free_port()))
            assert code == 1 and "正被另一个 MeterHub 使用" in err, err  # a zh-CN site
            assert await wait_for(lambda: "Traceback" not in log.read_text())
