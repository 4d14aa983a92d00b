"""The ``portal:`` block at check-config, and announcements: by tags, until, withdrawn."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from common import bounded, write_hub_yaml
from portal_support import SITE, portal_site

from hub.bootstrap import prepare
from hub.util.dt import as_local, utcnow


def problems(tmp_path: Path, block: str) -> list[str]:
    prepared = prepare(write_hub_yaml(tmp_path, SITE + block), data_dir=tmp_path / "data")
    return [str(problem) for problem in prepared.problems]


def test_check_config_names_what_is_wrong_in_the_portal_block(tmp_path: Path) -> None:
    assert problems(tmp_path, "portal: {url: https://hub.example.com/}\n") == []
    found = problems(tmp_path, """portal:
  url: ftp://hub
  language: fr
  amounts: [20, 0]
  wechat: {app_id: wx1}
""")
    text = "\n".join(found)
    assert len(found) == 4, found
    for where, what in (("portal.url", "expected a URL like https://hub.example.com"),
                        ("portal.language", "fr"), ("portal.amounts[1]", "above 0"),
                        ("portal.wechat.app_secret", "required")):
        assert any(where in line and what in line and "hub.yaml:" in line
                   for line in found), (where, text)


@pytest.mark.timeout(120)
@bounded(90)
async def test_announcements_reach_the_accounts_their_tags_match_until_they_end(
        tmp_path: Path) -> None:
    async with portal_site(tmp_path) as site:
        token_a = (await site.issue("acc_a"))["token"]
        token_b = (await site.issue("acc_b"))["token"]
        past = as_local(utcnow() - timedelta(hours=1)).isoformat()
        for text, tags, until in (("全体：明天抄表", {}, None), ("101 专属", {"room": "101"}, None),
                                  ("B栋通知", {"building": "B"}, None),  # a meter's tag
                                  ("已过期", {}, past)):
            body = {"text": text, "tags": tags, **({"until": until} if until else {})}
            status, made = await site.service("tenant", "announce", body)
            assert status == 200, made
        status, bad = await site.service("tenant", "announce", {"text": "x", "until": "soon"})
        assert status == 400 and bad["error"]["field"] == "until"

        async def shown(token: str) -> set[str]:
            _status, page, _ = await site.get(f"/tenant/{token}/notices")
            return {text for text in ("全体：明天抄表", "101 专属", "B栋通知", "已过期")
                    if text in page}

        assert await shown(token_a) == {"全体：明天抄表", "101 专属"}
        assert await shown(token_b) == {"全体：明天抄表", "B栋通知"}
        _status, listed = await site.service("tenant", "announcements", {})
        ids = {note["text"]: note["announcement_id"]
               for note in listed["response"]["announcements"]}
        assert set(ids) == {"全体：明天抄表", "101 专属", "B栋通知"}
        status, _ = await site.service("tenant", "withdraw",
                                       {"announcement_id": ids["全体：明天抄表"]})
        assert status == 200
        assert await shown(token_a) == {"101 专属"}
        status, again = await site.service("tenant", "withdraw",
                                           {"announcement_id": ids["全体：明天抄表"]})
        assert status == 400 and "no current announcement" in again["error"]["detail"]
