"""Deliveries that fail for real (a local receiver answering 500, a closed local port): the
error is kept in the outbox keyed (a message with its values), worded in each reader's
language, and with no secret of the URL in the row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from common import bounded, collect, db_rows, free_port, start_hub, wait_for
from receiver import TOKEN, receiver

from hub.i18n import Joined, Text, localize, restored, stored
from meterhub_notify.redact import add_secret, redact_message

SITE = """
site: {{name: 阳光公寓, time_zone: Asia/Shanghai, language: zh-CN}}
notify:
  ops: {{urls: "{refusing}", timeout: 2, retries: 1, retry_delay: 0.05, max_retry_delay: 0.1}}
  down: {{urls: "{closed}", timeout: 2, retries: 0}}
"""


@pytest.mark.timeout(200)
@bounded(150)
async def test_failed_deliveries_are_kept_keyed_redacted_and_worded(tmp_path: Path) -> None:
    closed = f"json://127.0.0.1:{free_port()}/down/{TOKEN}"  # nobody listens there
    async with receiver(plan=[500, 500]) as rx:
        async with start_hub(tmp_path, SITE.format(refusing=rx.url("fail"),
                                                   closed=closed)) as hub:
            failed = collect(hub, "notify_failed")
            await hub.services.call("notify", "ops", {"message": "余额不足"})
            await hub.services.call("notify", "down", {"message": "余额不足"})
            await wait_for(lambda: len(failed) == 2, timeout=60)
            assert len(rx.received) == 2  # a real refusal, twice
        rows = dict(db_rows(tmp_path / "data", "SELECT notifier, error FROM notify_outbox"))
    assert set(rows) == {"ops", "down"}, rows
    for kept in rows.values():
        assert kept.startswith('{"$text":["notify.apprise_refused"'), kept  # keyed
        assert TOKEN not in kept and "/down/" not in kept and "/fail/" not in kept, kept
    assert "<secret>" in rows["down"], rows  # the connection error named the URL: masked
    for kept in rows.values():
        shown = restored(kept)
        zh, en = localize(shown, "zh-CN"), localize(shown, "en")
        assert zh.startswith("apprise 发送失败：") and en.startswith("apprise: "), (zh, en)
        assert not re.search(r"[\u4e00-\u9fff]", en), en
        assert TOKEN not in zh + en
    # each failure's event carries the same message, worded by whoever shows it
    assert {localize(event.data["error"], "zh-CN") for event in failed} == {
        localize(restored(kept), "zh-CN") for kept in rows.values()}


def test_a_keyed_error_is_redacted_in_its_values_and_parts() -> None:
    url = f"json://127.0.0.1:9/keyed/{TOKEN}"
    add_secret(url)
    error = Joined([Text("notify.apprise_refused", reason=f"cannot send to {url}"),
                    Text("notify.apprise_crashed", kind="OSError", reason=TOKEN)])
    kept = stored(redact_message(error))
    assert TOKEN not in kept and kept.count("<secret>") == 2, kept
    assert localize(restored(kept), "zh-CN") == (
        "apprise 发送失败：cannot send to <secret>；OSError：<secret>")
