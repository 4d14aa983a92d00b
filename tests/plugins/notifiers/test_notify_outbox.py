"""The outbox: written before it is sent, kept across restarts and SIGKILL, limited per
receiver, storms merged into one summary — against a real HTTP receiver on loopback."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from common import collect, db_rows, kill_child_at, start_hub, wait_for, write_hub_yaml
from notify_support import Received, Receiver, config, receiver

from hub.core import Event, Hub

ROOT = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).with_name("notify_crash_hub.py")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"),
                                                    str(Path(__file__).parent)])}
STEP = 90.0
QUIET = 1.5  # seconds in which nothing more may arrive


def watch(into: list[Event], *event_types: str) -> Callable[[Hub], None]:
    """A ``before_start`` that records events from the very start (restored rows are sent
    while the hub starts) into ``into``."""
    def attach(hub: Hub) -> None:
        for event_type in event_types:
            hub.bus.listen(event_type, into.append)
    return attach


def states(data: Path) -> Counter[str]:
    """How many outbox rows are in each state."""
    return Counter(state for (state,) in db_rows(data, "SELECT state FROM notify_outbox"))


def texts(rx: object) -> list[str]:
    """The messages the receiver got, in order."""
    return [body["message"] for body in rx.bodies()]  # type: ignore[attr-defined]


async def test_messages_acknowledged_before_a_sigkill_are_delivered_after_the_restart(
        tmp_path: Path) -> None:
    count = 12
    async with receiver(hang=True) as rx:
        text = config(f"""
            notify:
              ops: {{urls: "{rx.url()}", timeout: 60, retries: 2, retry_delay: 0.1,
                     storm: false}}
            """)
        path = write_hub_yaml(tmp_path, text)
        lines: list[str] = []
        with (tmp_path / "child.log").open("w") as log:
            await kill_child_at([sys.executable, str(CHILD), str(path), str(tmp_path / "data"),
                                 str(count)], "QUEUED", lines, step=STEP, stderr=log,
                                env=ENV, cwd=ROOT)
        # the first message was on the wire (the receiver never answered): all are queued
        in_flight = set(texts(rx))
        assert in_flight <= {"m00"}
        assert states(tmp_path / "data") == {"queued": count}
        rx.hang = False
        rx.release.set()
        sent: list[Event] = []
        async with start_hub(tmp_path, text, before_start=watch(sent, "notify_sent")):
            await wait_for(lambda: len(sent) == count, timeout=STEP)
        received = Counter(texts(rx))
        assert set(received) == {f"m{index:02d}" for index in range(count)}
        # only a message whose send was cut off by the kill may arrive twice (at least once:
        # nobody can know whether the receiver took it); every other exactly once
        assert all(times == 1 for text, times in received.items() if text not in in_flight)
        assert all(times <= 2 for times in received.values())
        assert states(tmp_path / "data") == {"sent": count}
        assert len({event.data["message_id"] for event in sent}) == count
        before = len(rx.received)
        again: list[Event] = []
        async with start_hub(tmp_path, text,  # a third start sends nothing again
                             before_start=watch(again, "notify_sent", "notify_failed")):
            await asyncio.sleep(QUIET)
        assert again == []
        assert len(rx.received) == before


def storm_site(rx: Receiver, limit: str) -> str:
    """A landlord notifier with the storm guard ``limit``; every notice goes out (no dedupe)."""
    return config(f"""
        notify:
          landlord: {{urls: "{rx.url()}", storm: {limit}}}
        notices: {{dedupe: 0}}
        """)


def offline(hub: Hub, count: int) -> None:
    """``count`` meters go offline at once (a DTU dropped with them behind it)."""
    for index in range(count):
        hub.bus.fire("meter_offline", {"meter_id": f"m{index:03d}", "error": "timeout",
                                       "misses": 3})


async def test_a_storm_sends_the_first_few_and_one_summary_counting_the_rest(
        tmp_path: Path) -> None:
    async with receiver() as rx:
        async with start_hub(tmp_path, storm_site(rx, "{max: 3, per: 2s}")) as hub:
            events = collect(hub, "notify_sent", "notify_skipped")
            offline(hub, 300)
            await wait_for(lambda: len(rx.received) == 4, timeout=STEP)
            await asyncio.sleep(QUIET)
            assert len(rx.received) == 4
        bodies = rx.bodies()
        assert [body["message"].count("m00") > 0 for body in bodies[:3]] == [True] * 3
        summary = bodies[3]["message"]
        assert "297" in summary and "×297" in summary  # counted by kind
        assert "m003" in summary and "m299" not in summary  # the first lines, then "more"
        assert "另有 277 条" in summary
        merged = [e for e in events if e.data.get("reason") == "merged"]
        assert len(merged) == 297
        summaries = [e for e in events if e.event_type == "notify_sent" and e.data.get("merged")]
        assert [e.data["merged"] for e in summaries] == [297]
        assert {e.data["merged_into"] for e in merged} == {summaries[0].data["message_id"]}
        assert states(tmp_path / "data") == {"merged": 297, "sent": 4}


async def test_held_messages_survive_a_restart_and_still_go_out_as_one_summary(
        tmp_path: Path) -> None:
    async with receiver() as rx:
        text = storm_site(rx, "{max: 2, per: 3s}")
        async with start_hub(tmp_path, text) as hub:
            offline(hub, 50)
            await wait_for(lambda: len(rx.received) == 2, timeout=STEP)
        assert states(tmp_path / "data") == {"sent": 2, "queued": 48}
        async with start_hub(tmp_path, text) as hub:
            # the slots the first run used are remembered: no fresh burst after the restart
            await wait_for(lambda: len(rx.received) == 3, timeout=STEP)
            await asyncio.sleep(QUIET)
        assert len(rx.received) == 3
        assert "48" in rx.bodies()[2]["message"]
        assert states(tmp_path / "data") == {"sent": 3, "merged": 48}


async def five_under_a_rate_limit(tmp_path: Path, excess: str, prefix: str,
                                  expected: int) -> list[Received]:
    """Five calls of ``notify.sms`` limited to 2 a second; what the receiver got."""
    async with receiver() as rx:
        text = config(f"""
            notify:
              sms: {{urls: "{rx.url()}", storm: false,
                     rate_limit: {{max: 2, per: 1s, excess: {excess}}}}}
            """, language="en")
        async with start_hub(tmp_path, text) as hub:
            for index in range(5):
                await hub.services.call("notify", "sms", {"message": f"{prefix}{index}"})
            await wait_for(lambda: len(rx.received) == expected, timeout=STEP)
            await asyncio.sleep(QUIET)
        return list(rx.received)


async def test_a_rate_limit_delays_the_excess_each_sent_on_its_own(tmp_path: Path) -> None:
    received = await five_under_a_rate_limit(tmp_path, "delay", "d", 5)
    assert [r.body["message"] for r in received] == [f"d{index}" for index in range(5)]
    gaps = [r.at - received[0].at for r in received]
    assert gaps[1] < 0.8
    assert gaps[2] >= 0.9 and gaps[3] >= 0.9
    assert gaps[4] >= 1.9


async def test_a_merging_rate_limit_sends_the_excess_as_one_summary(tmp_path: Path) -> None:
    received = await five_under_a_rate_limit(tmp_path, "merge", "x", 3)
    texts = [r.body["message"] for r in received]
    assert len(texts) == 3
    assert texts[:2] == ["x0", "x1"]
    assert texts[2].startswith("3 messages in a short time")
    assert "- x2\n- x3\n- x4" in texts[2]


async def test_a_message_whose_notifier_is_gone_after_a_restart_fails_with_the_reason(
        tmp_path: Path) -> None:
    async with receiver(hang=True) as rx:
        text = config(f"""
            notify:
              ops: {{urls: "{rx.url()}", timeout: 60, storm: false}}
              other: "{rx.url('other')}"
            """)
        async with start_hub(tmp_path, text) as hub:
            for index in range(3):
                await hub.services.call("notify", "ops", {"message": f"g{index}"})
            await wait_for(lambda: rx.received, timeout=STEP)
        assert states(tmp_path / "data") == {"queued": 3}
        rx.release.set()
        text = config(f'notify: {{other: "{rx.url("other")}"}}')
        failed: list[Event] = []
        async with start_hub(tmp_path, text,
                             before_start=watch(failed, "notify_failed")) as hub:
            await hub.services.call("notify", "other", {"message": "still here"})
            await wait_for(lambda: rx.bodies("other"), timeout=STEP)
        assert [e.data["reason"] for e in failed] == ["target_gone"] * 3
        assert "ops" in failed[0].data["error"] and "no longer configured" in failed[0].data[
            "error"]
        assert states(tmp_path / "data") == {"failed": 3, "sent": 1}


async def test_a_notice_sent_before_a_restart_is_still_a_duplicate_after_it(
        tmp_path: Path) -> None:
    async with receiver() as rx:
        text = config(f"""
            accounts:
              - {{id: r302, name: 张三, contacts: {{notify: ["{rx.url('r302')}"]}}}}
            notices: {{dedupe: 1h}}
            """)
        data = {"account_id": "r302", "balance": "8.50", "level": "20", "previous": "21"}
        async with start_hub(tmp_path, text) as hub:
            hub.bus.fire("balance_low", data)
            await wait_for(lambda: rx.received, timeout=STEP)
        async with start_hub(tmp_path, text) as hub:
            skipped = collect(hub, "notify_skipped")
            hub.bus.fire("balance_low", data)
            await wait_for(lambda: skipped, timeout=STEP)
            await asyncio.sleep(0.5)
        assert skipped[0].data["reason"] == "duplicate"
        assert len(rx.received) == 1


async def test_a_message_not_delivered_in_time_expires_with_the_reason(tmp_path: Path) -> None:
    async with receiver(hang=True) as rx:
        text = config(f"""
            notify:
              ops: {{urls: "{rx.url()}", timeout: 0.5, retries: 5, retry_delay: 1,
                     expire: 1s, storm: false}}
            """)
        async with start_hub(tmp_path, text) as hub:
            failed = collect(hub, "notify_failed")
            await hub.services.call("notify", "ops", {"message": "too late"})
            await wait_for(lambda: failed, timeout=STEP)
        assert [e.data["reason"] for e in failed] == ["expired"]
        assert failed[0].data["attempts"] == 1  # the retry found it too old
        assert len(rx.received) == 1
        assert states(tmp_path / "data") == {"failed": 1}
