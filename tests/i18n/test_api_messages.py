"""Real failing calls over the REST API: the message is worded in the caller's language (zh-CN
with no English words beyond ids, field names and units), ``detail`` stays precise English."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from common import bounded, start_hub, web_client

CONFIG = """
site: {name: 阳光公寓, time_zone: Asia/Shanghai, language: zh-CN}
http: {port: 0, host: 127.0.0.1}
metering: {read_on_start: false}
links:
  - {id: sim1, type: sim, speed: 0}
meters:
  - {id: m1, model: ddsy, link: sim1, address: "202400000001", account: a1, tariff: flat}
accounts:
  - {id: a1}
tariffs:
  - {id: flat, type: flat, price: 1.00}
portal: {phone: "13800138000"}
"""

ALLOWED = {"data", "account_id", "amount", "method", "reference", "value", "tables", "meter_id",
           "bogus", "m1", "a1", "nobody", "tou", "x", "e3", "at", "final", "job_id",
           "nope", "building_id", "kind", "electricity", "water", "gas", "until", "hub",
           "yaml", "reason", "operator", "target", "account_ids"}
"""ASCII words a zh-CN message may hold: the field names, ids and values of the calls."""


def english_words(message: str) -> list[str]:
    """The ASCII words of a message that are not a field name, id or value of the call."""
    return [word for word in re.findall(r"(?<![0-9A-Za-z])[A-Za-z_][A-Za-z0-9_.]*", message)
            if not {part for part in word.split(".") if part and not part.isdigit()} <= ALLOWED]


def table(segments: int) -> dict[str, object]:
    """A TOU table with one day table of ``segments`` segments."""
    day = [{"start": f"{hour:02d}:00", "rate": 1 + hour % 4} for hour in range(segments)]
    return {"zones": [{"start": "01-01", "table": 1}], "tables": {"1": day}}


CALLS: list[tuple[str, str, dict[str, Any], str | None, str]] = [
    # (what, path, body, the field, English the detail must hold)
    ("money typed as 1e3", "/api/services/account/recharge",
     {"account_id": "a1", "amount": "1e3", "method": "cash", "reference": "r1"},
     "amount", "expected yuan as digits with at most 2 decimals"),
    ("an unknown account", "/api/services/account/recharge",
     {"account_id": "nobody", "amount": "10", "method": "cash", "reference": "r2"},
     "account_id", "unknown account 'nobody'"),
    ("a TOU table of 15 segments", "/api/services/device/write",
     {"meter_id": "m1", "param": "tou", "value": table(15)},
     "value", "at most 14 segments a day, got 15"),
    ("a voluptuous type error", "/api/services/meter/read", {"meter_id": ["m1"]},
     "meter_id", "expected"),
    ("an extra key", "/api/services/account/recharge",
     {"account_id": "a1", "amount": "10", "method": "cash", "reference": "r3", "bogus": 1},
     "bogus", "unknown key 'bogus'"),
    ("a swap time without a typed final reading", "/api/services/meter/replace",
     {"meter_id": "m1", "new_address": "202400000002", "at": "2026-11-05T14:30+08:00"},
     "at", "at: a swap time goes with a typed final reading (final)"),
    ("an unknown device job", "/api/services/device/job", {"job_id": "nope"},
     "job_id", "job_id: no job nope"),
    ("an unknown automation", "/api/services/automation/trigger", {"automation_id": "nope"},
     "automation_id", "unknown automation 'nope'"),
    ("revoking a tenant link never issued", "/api/services/tenant/revoke", {"account_id": "a1"},
     "account_id", "account_id: 'a1' has no live link to revoke"),
    ("a building that does not exist", "/api/services/building/update",
     {"building_id": "nope", "changes": {"name": "x"}}, "building_id", "unknown building 'nope'"),
    ("a blank payment reference", "/api/services/account/recharge",
     {"account_id": "a1", "amount": "10", "method": "cash", "reference": "  "},
     "reference", "expected a reference of 1 to 128 characters, got 0"),
    ("a hold that ends in the past", "/api/services/account/hold",
     {"account_id": "a1", "kind": "keep_on", "reason": "x", "until": "2020-01-01"},
     "until", "which is not in the future"),
    ("reverting a meter hub.yaml does not define", "/api/services/meter/revert",
     {"meter_id": "nope"}, "meter_id", "meter 'nope' is not in hub.yaml: nothing to go back to"),
    ("an empty reason (a validator's own message)", "/api/services/account/adjust",
     {"account_id": "a1", "amount": "-1", "reason": "", "operator": "x"},
     "reason", "expected a text of 1 to 500 characters"),
    ("both targets of a trip", "/api/services/meter/trip", {"meter_id": "m1", "account_id": "a1"},
     None, "give meter_id or account_id, not both"),
    ("an announcement's end that is not a time", "/api/services/tenant/announce",
     {"text": "停水通知", "until": "2026/12/31"}, "until", "until: expected a time like"),
    ("a payment sheet for an unknown account", "/api/services/tenant/sheet",
     {"account_ids": ["nobody"]}, "account_ids", "account_ids: unknown account 'nobody'"),
    ("a change to a meter that does not exist", "/api/services/meter/update",
     {"meter_id": "nope", "changes": {"name": "x"}}, "meter_id",
     "meter_id: unknown meter 'nope'"),
    ("a body naming another account than its path", "/api/accounts/a1/recharge",
     {"account_id": "nobody", "amount": "10", "method": "cash", "reference": "r4"},
     "account_id", "account_id: the body says 'nobody' but the path says 'a1'"),
]


@pytest.mark.timeout(120)
@bounded(90)
async def test_refusals_are_worded_in_the_callers_language(tmp_path: Path) -> None:
    async with start_hub(tmp_path, CONFIG) as hub, web_client(hub, tmp_path) as client:
        for what, path, body, field, english in CALLS:
            answers = {}
            for language in ("zh-CN", "en"):
                response = await client.post(path, json=body,
                                             headers={"Accept-Language": language})
                assert response.status == 400, (what, await response.text())
                answers[language] = (await response.json())["error"]
            zh, en = answers["zh-CN"], answers["en"]
            assert zh["code"] == "invalid" and zh["field"] == field, (what, zh)
            assert english in zh["detail"] and zh["detail"] == en["detail"], (what, zh, en)
            assert re.search(r"[\u4e00-\u9fff]", zh["message"]), (what, zh["message"])
            assert english_words(zh["message"]) == [], (what, zh["message"])
            assert english in en["message"], (what, en["message"])
            assert not re.search(r"[\u4e00-\u9fff]", en["message"]), (what, en["message"])


@pytest.mark.timeout(120)
@bounded(90)
async def test_a_report_refusal_is_worded_in_the_callers_language(tmp_path: Path) -> None:
    async with start_hub(tmp_path, CONFIG) as hub, web_client(hub, tmp_path) as client:
        answers = {}
        for language in ("zh-CN", "en"):
            response = await client.get("/api/reports/consumption",
                                        params={"tag": "building", "kind": "gas"},
                                        headers={"Accept-Language": language})
            assert response.status == 400, await response.text()
            answers[language] = (await response.json())["error"]
        assert answers["en"]["message"] == "kind must be electricity or water, got 'gas'"
        assert re.search(r"[\u4e00-\u9fff]", answers["zh-CN"]["message"]), answers
        assert english_words(answers["zh-CN"]["message"]) == [], answers
        response = await client.get("/api/meters/nope", headers={"Accept-Language": "zh-CN"})
        assert response.status == 404, await response.text()
        error = (await response.json())["error"]
        assert (error["message"], error["detail"]) == ("未知的表 'nope'", "unknown meter 'nope'")
        response = await client.get("/api/reports/nope", headers={"Accept-Language": "zh-CN"})
        assert response.status == 404, await response.text()
        error = (await response.json())["error"]
        assert error["message"].startswith("未知的报表 'nope'（现有报表："), error
        assert error["detail"].startswith("unknown report 'nope' (reports: "), error


@pytest.mark.timeout(120)
@bounded(90)
async def test_a_stale_change_is_refused_in_the_callers_language(tmp_path: Path) -> None:
    """A change sent with the version the caller saw (If-Match) after someone else changed
    the account: 412, worded for the caller, and nothing booked."""
    body = {"amount": "10", "method": "cash", "reference": "stale-1"}
    async with start_hub(tmp_path, CONFIG) as hub, web_client(hub, tmp_path) as client:
        for language, words in (("zh-CN", "数据在显示之后已被修改"),
                                ("en", "changed since it was shown")):
            response = await client.post("/api/accounts/a1/recharge", json=body,
                                         headers={"Accept-Language": language,
                                                  "If-Match": '"an-old-version"'})
            assert response.status == 412, await response.text()
            error = (await response.json())["error"]
            assert error["code"] == "stale" and error["field"] == "If-Match", error
            assert error["message"].startswith(words), error
            assert response.headers["ETag"] in error["message"], error
        response = await client.get("/api/accounts/a1")
        assert (await response.json())["balance"] == "0.00"
