"""Tenant links on a real hub: issued once, stored as a hash, revoked and re-issued by the
landlord (services, CLI, scopes), and what a revoked or unknown token sees."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from access_support import PASSWORD, ROOT
from common import bounded, db_rows
from portal_support import portal_site

from hub.auth import Auth
from hub.cli import main as cli_main


@pytest.mark.timeout(120)
@bounded(90)
async def test_a_link_is_issued_once_stored_as_a_hash_revoked_and_reissued(
        tmp_path: Path) -> None:
    async with portal_site(tmp_path) as site:
        issued = await site.issue("acc_a")
        token = issued["token"]
        assert len(token) >= 43 and issued["url"].endswith(f"/tenant/{token}")
        assert (await site.get(f"/tenant/{token}"))[0] == 200
        # a second issue while one is live is refused: the token is shown only once
        status, body = await site.service("tenant", "link", {"account_id": "acc_a"})
        assert status == 400 and "already has a live link" in body["error"]["detail"]
        status, body = await site.service("tenant", "link", {"account_id": "nobody"})
        assert status == 400 and "unknown account 'nobody'" in body["error"]["detail"]
        # re-issued: the old token is revoked, the new one works
        again = await site.issue("acc_a", "reissue")
        assert again["token"] != token
        status, page, headers = await site.get(f"/tenant/{token}")
        assert status == 410 and 'data-reason="revoked"' in page and "已被房东停用" in page
        assert headers["Referrer-Policy"] == "no-referrer"
        assert (await site.get(f"/tenant/{again['token']}"))[0] == 200
        # revoked: nothing left
        status, body = await site.service("tenant", "revoke", {"account_id": "acc_a"})
        assert (status, body["response"]["revoked"]) == (200, 1)
        assert (await site.get(f"/tenant/{again['token']}"))[0] == 410
        status, body = await site.service("tenant", "revoke", {"account_id": "acc_a"})
        assert status == 400 and "no live link" in body["error"]["detail"]
        status, listed = await site.service("tenant", "links", {"account_id": "acc_a"})
        links = listed["response"]["links"]
        assert [(link["created_by"], link["revoked_by"] is not None) for link in links] == [
            ("@cli", True), ("@cli", True)]
        assert all("token" not in link for link in links)
        # unknown tokens (made up, or one character off) read as unknown, not revoked
        for bad in ("x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B"), "a" * 300):
            status, page, _ = await site.get(f"/tenant/{bad}")
            assert status == 404 and 'data-reason="unknown"' in page
    stored = db_rows(tmp_path / "data", "SELECT token_hash FROM tenant_link")
    digests = {row[0] for row in stored}
    assert hashlib.sha256(token.encode()).hexdigest() in digests
    raw = b"".join(path.read_bytes() for path in (tmp_path / "data").glob("*.db*"))
    assert token.encode() not in raw and again["token"].encode() not in raw


@pytest.mark.timeout(120)
@bounded(90)
async def test_a_landlord_manages_links_only_in_their_scope(tmp_path: Path) -> None:
    async with portal_site(tmp_path) as site:
        auth = site.hub.component("auth", Auth)
        await auth.add_user("landlord_a", "landlord", {"building": "A"}, PASSWORD, by="@test")
        await auth.add_user("viewer", "viewer", {}, PASSWORD, by="@test")
        headers = {}
        for user in ("landlord_a", "viewer"):
            _row, secret = await auth.create_token(user, "t", None, None, by=ROOT)
            headers[user] = {"Authorization": f"Bearer {secret}"}
        status, body = await site.service("tenant", "link", {"account_id": "acc_a"},
                                          headers["landlord_a"])
        assert status == 200 and body["response"]["token"]
        status, body = await site.service("tenant", "link", {"account_id": "acc_b"},
                                          headers["landlord_a"])
        assert (status, body["error"]["code"]) == (404, "not_found")
        status, _body = await site.service("tenant", "link", {"account_id": "acc_a"},
                                           headers["viewer"])
        assert status == 403
        status, body = await site.service("tenant", "sheet", {"tags": {"building": "A"}},
                                          headers["landlord_a"])
        assert status == 200 and body["response"]["accounts"] == ["acc_a"]
        status, _body = await site.service("tenant", "sheet", {"tags": {"building": "B"}},
                                           headers["landlord_a"])
        assert status == 404


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_cli_issues_revokes_and_reissues(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    async with portal_site(tmp_path) as site:
        argv = ["-c", str(tmp_path / "hub.yaml"), "--data", str(tmp_path / "data"),
                "--port", site.base.rpartition(":")[2]]

        async def run(*args: str) -> tuple[int, str, str]:
            code = await asyncio.to_thread(cli_main, ["tenant", *args, *argv])
            out = capsys.readouterr()
            return code, out.out, out.err

        code, out, err = await run("link", "acc_b")
        assert code == 0, err
        url = out.splitlines()[0]
        assert url.startswith("http://127.0.0.1:") and url.endswith(url.rpartition("/")[2])
        assert "▀" in out or "▄" in out or "█" in out  # the QR code in the terminal
        token = url.rpartition("/")[2]
        assert (await site.get(f"/tenant/{token}"))[0] == 200
        code, out, err = await run("link", "acc_b")
        assert code == 1 and "已有有效的租户链接" in err
        code, out, err = await run("reissue", "acc_b")
        assert code == 0, err
        new_token = out.splitlines()[0].rpartition("/")[2]
        assert (await site.get(f"/tenant/{token}"))[0] == 410
        code, out, err = await run("revoke", "acc_b")
        assert code == 0 and '"revoked": 1' in out
        assert (await site.get(f"/tenant/{new_token}"))[0] == 410
        sheet = tmp_path / "doors.html"
        code, out, err = await run("sheet", "--tag", "building=B", "-o", str(sheet))
        assert code == 0, err
        html = sheet.read_text(encoding="utf-8")
        assert html.count('class="door"') == 1 and "201" in html and "13800138000" in html
