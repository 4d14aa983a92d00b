"""notify.<name> through apprise to a real HTTP receiver: bodies, retries, timeout, queue, logs."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from common import collect, db_rows, of_type, start_hub, wait_for
from notify_support import TOKEN, config, receiver

from hub.exceptions import ServiceValidationError

FAST = "timeout: 1, retries: 2, retry_delay: 0.1, max_retry_delay: 0.2"


async def test_a_message_reaches_every_url_with_title_and_formatted_money(
        tmp_path: Path) -> None:
    async with receiver() as rx:
        text = config(f"""
            notify:
              landlord:
                urls: ["{rx.url('one')}", "{rx.url('two', 'form')}"]
                title: "{{{{ site }}}} 通知"
            """)
        async with start_hub(tmp_path, text) as hub:
            sent = collect(hub, "notify_sent")
            answer = await hub.services.call(
                "notify", "landlord",
                {"message": "{{ room }} 余额 {{ balance | money }}，请充值。",
                 "data": {"room": "302", "balance": "12.3"}}, return_response=True)
            assert answer == {"queued": True, "outcome": "queued"}
            await wait_for(lambda: len(sent) == 2)
            one, two = rx.bodies("one")[0], rx.bodies("two")[0]
            assert one["title"] == "阳光公寓 通知"
            assert one["message"] == "302 余额 ¥12.30，请充值。"
            assert (two["title"], two["message"]) == (one["title"], one["message"])
            assert {e.data["target"] for e in sent} == {"json://", "form://"}
            assert all(e.data["notifier"] == "landlord" for e in sent)


async def test_a_built_in_template_renders_in_the_site_language(tmp_path: Path) -> None:
    async with receiver() as rx:
        for language, title, expected in (
                ("zh-CN", "余额不足提醒", "您的账户余额为 ¥8.50，已低于提醒线 ¥20.00"),
                ("en", "Low balance", "your balance is ¥8.50, below ¥20.00")):
            text = config(f'notify: {{ops: "{rx.url(language)}"}}', language=language)
            async with start_hub(tmp_path / language, text) as hub:
                sent = collect(hub, "notify_sent")
                await hub.services.call("notify", "ops", {
                    "template": "balance_low",
                    "data": {"account_id": "r302", "balance": "8.5", "level": 20}})
                await wait_for(lambda sent=sent: sent)  # type: ignore[misc]
            body = rx.bodies(language)[0]
            assert body["title"] == title
            assert expected in body["message"]


async def test_bad_calls_are_refused_before_anything_is_queued(tmp_path: Path) -> None:
    async with receiver() as rx:
        text = config(f'notify: {{ops: "{rx.url()}"}}')
        async with start_hub(tmp_path, text) as hub:
            for data in ({}, {"message": "a", "template": "balance_low"},
                         {"template": "no_such_notice"}, {"message": "{{ x | nope }}"},
                         {"message": "{{ ''.__class__ }}"}):
                with pytest.raises(ServiceValidationError):
                    await hub.services.call("notify", "ops", data)
            await asyncio.sleep(0.2)
            assert rx.received == []


async def test_a_failed_send_is_retried_with_back_off_until_it_goes_through(
        tmp_path: Path) -> None:
    async with receiver(plan=[500, 500]) as rx:
        text = config(f"""
            notify:
              ops: {{urls: "{rx.url()}", {FAST}}}
            """)
        async with start_hub(tmp_path, text) as hub:
            events = collect(hub, "notify_sent", "notify_failed")
            await hub.services.call("notify", "ops", {"message": "retry me"})
            await wait_for(lambda: events, timeout=5)
            assert [e.event_type for e in events] == ["notify_sent"]
            assert events[0].data["attempts"] == 3
            assert [r.body["message"] for r in rx.received] == ["retry me"] * 3
            gaps = [b.at - a.at for a, b in zip(rx.received, rx.received[1:], strict=False)]
            assert gaps[0] >= 0.09 and gaps[1] >= 0.19  # 0.1 s, then doubled


async def test_a_send_that_keeps_failing_gives_up_with_notify_failed(tmp_path: Path) -> None:
    async with receiver(plan=[500] * 10) as rx:
        text = config(f"""
            notify:
              ops: {{urls: "{rx.url()}", {FAST}}}
            """)
        async with start_hub(tmp_path, text) as hub:
            failed = collect(hub, "notify_failed")
            await hub.services.call("notify", "ops", {"message": "never"})
            await wait_for(lambda: failed, timeout=5)
            data = failed[0].data
            assert data["attempts"] == 3 and data["target"] == "json://"
            assert data["notifier"] == "ops" and data["reason"] == "failed"
            assert len(rx.received) == 3
            assert TOKEN not in repr(dict(data))


async def test_a_hanging_receiver_times_out_without_blocking_the_hub(tmp_path: Path) -> None:
    async with receiver(hang=True) as rx:
        text = config(f"""
            notify:
              ops: {{urls: "{rx.url()}", timeout: 0.4, retries: 1, retry_delay: 0.05}}
            """)
        async with start_hub(tmp_path, text) as hub:
            failed = collect(hub, "notify_failed")
            started = time.monotonic()
            await hub.services.call("notify", "ops", {"message": "hello?"})
            assert time.monotonic() - started < 0.2  # the call only queues
            ticks = 0
            async with asyncio.timeout(5):
                while not failed:  # the loop keeps turning while apprise waits in a thread
                    await asyncio.sleep(0.01)
                    ticks += 1
            elapsed = time.monotonic() - started
            assert 0.8 <= elapsed < 3.0  # two attempts of 0.4 s (and a short back-off)
            assert ticks > 40
            assert "no answer within 0.4s" in failed[0].data["error"]
            assert failed[0].data["attempts"] == 2
            assert len(rx.received) == 2


async def test_the_queue_is_bounded(tmp_path: Path) -> None:
    async with receiver(hang=True) as rx:
        text = config(f"""
            notify:
              ops: {{urls: "{rx.url()}", timeout: 0.5, retries: 0, queue_size: 2}}
            """)
        async with start_hub(tmp_path, text) as hub:
            failed = collect(hub, "notify_failed")
            answers = []
            for index in range(5):
                answers.append(await hub.services.call(
                    "notify", "ops", {"message": f"m{index}"}, return_response=True))
                await asyncio.sleep(0.05)  # the worker takes the first one off the queue
            assert [a["queued"] for a in answers] == [True, True, True, False, False]
            full = [e for e in failed if e.data["reason"] == "queue_full"]
            assert len(full) == 2
            await wait_for(lambda: len(of_type(failed, "notify_failed")) == 5, timeout=5)


async def test_no_url_or_token_reaches_the_logs(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with receiver() as rx:
        text = config(f"""
            notify:
              bad: {{urls: "{rx.url('fail')}", timeout: 1, retries: 1, retry_delay: 0.05}}
              good: "{rx.url('good')}"
            """)
        async with start_hub(tmp_path, text) as hub:
            events = collect(hub, "notify_sent", "notify_failed")
            await hub.services.call("notify", "bad", {"message": "x"})
            await hub.services.call("notify", "good", {"message": "y"})
            await wait_for(lambda: len(events) == 2, timeout=5)
    assert {e.event_type for e in events} == {"notify_sent", "notify_failed"}
    assert "apprise" in {record.name for record in caplog.records}  # its logs were seen
    assert "json://" in caplog.text and "bad" in caplog.text  # the name and the scheme
    assert TOKEN not in caplog.text
    assert f"127.0.0.1:{rx.port}/fail" not in caplog.text
    assert "/fail/" in caplog.text or "<secret>" in caplog.text  # apprise did log the send
    for event in events:
        assert TOKEN not in repr(dict(event.data))
    kept = [error for (error,) in db_rows(tmp_path / "data", "SELECT error FROM notify_outbox")]
    assert any(kept) and not any(TOKEN in (error or "") for error in kept), kept  # keyed rows
