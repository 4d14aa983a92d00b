"""Real refusals of the access layer and the CLI on a zh-CN site: the login page, the access
API asked in zh-CN and the ``meterhub`` commands print no English words."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from access_support import SITE, access_site
from common import bounded
from test_api_messages import english_words

from hub.web.access import LOGIN_COOKIE
from hub.web.server import WebServer

ZH_SITE = SITE.replace("time_zone: Asia/Shanghai}", "time_zone: Asia/Shanghai, language: zh-CN}")
CLI_TIMEOUT = 120


async def meterhub(folder: Path, *args: str, token: str | None = None,
                   stdin: str = "") -> tuple[int, str]:
    """``python -m hub ARGS`` against the site in ``folder``: (exit code, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("METERHUB_")}
    if token:
        env["METERHUB_TOKEN"] = token
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "hub", *args, "-c", str(folder / "hub.yaml"),
                         "--data", str(folder / "data")],
        capture_output=True, text=True, timeout=CLI_TIMEOUT, cwd=folder, env=env, check=False,
        input=stdin)
    return result.returncode, result.stderr


@pytest.mark.timeout(400)
@bounded(360)
async def test_cli_and_access_refusals_speak_the_sites_language(tmp_path: Path) -> None:
    async with access_site(tmp_path, ZH_SITE) as site:
        port = str(site.hub.component("web", WebServer).port)
        # an account outside a landlord's scope: the 404 names no id, said in Chinese only
        code, err = await meterhub(tmp_path, "account", "show", "acc_b", "--port", port,
                                   token=site.tokens["landlord_a"])
        assert (code, err) == (1, "错误：未找到。\n")
        # the CLI's own check of an option
        code, err = await meterhub(tmp_path, "audit", "--limit", "0", "--port", port)
        assert (code, err) == (1, "错误：limit：应在 1 到 1000 之间，实际为 0\n")
        code, err = await meterhub(tmp_path, "user", "add", "bob", "--role", "viewer",
                                   "--password-stdin", "--port", port)
        assert (code, err) == (1, "错误：password：标准输入中没有读到密码\n")
        # the access API, asked in zh-CN
        status, body, _ = await site.call("POST", "/api/auth/tokens", json={
            "name": "erp", "days": 0}, headers={**site.bearer("admin"),
                                                 "Accept-Language": "zh-CN"})
        assert status == 400, body
        message = body["error"]["message"]
        assert re.search(r"[\u4e00-\u9fff]", message) and \
            [word for word in english_words(message) if word != "days"] == [], message
        assert body["error"]["detail"] == "days: a whole number of days above 0"
        # the login page, refused (the form's CSRF token is the login cookie's)
        status, page, _ = await site.call("POST", "/login", data={
            "user": "admin", "password": "wrong-horse-1", "csrf": "t0ken"},
            headers={"Cookie": f"{LOGIN_COOKIE}=t0ken"})
        assert status == 401 and '<p class="error" role="alert">用户名或密码错误</p>' in page, page
