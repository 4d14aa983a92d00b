"""meter.trip / close / valve / why and account.hold / release_hold: answers and refusals."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from common import Clock, collect, t, wait_for
from control_support import config, control_of, running_hub, simulator, storage_of

from hub.core import Context, Hub
from hub.exceptions import ServiceValidationError

ACCOUNTS = """
accounts:
  - {id: r101}
  - {id: r102}
  - {id: r103}
  - {id: r104}
"""

METERS = """
meters:
  - {id: r101_e, model: ddsy, link: sim1, address: "202400000101", account: r101}
  - {id: r101_w, model: cjt188_water, link: sim1, address: "00000000000101", account: r101}
  - {id: r102_e, model: ddsy, link: sim1, address: "202400000102", account: r102}
  - {id: r103_e, model: ddsy, link: sim1, address: "202400000103", account: r103}
  - {id: r104_w, model: cjt188_water, link: sim1, address: "00000000000104", account: r104}
"""

TEXT = config(ACCOUNTS, meters=METERS)


async def refused(hub: Hub, domain: str, service: str, data: dict[str, Any],
                  match: str) -> None:
    with pytest.raises(ServiceValidationError, match=match):
        await hub.services.call(domain, service, data, context=Context(user_id="op"),
                                return_response=True)


async def all_commands(hub: Hub) -> list[Any]:
    await storage_of(hub).flush()
    return await storage_of(hub).commands()


async def test_commands_a_meter_cannot_do_are_refused_and_change_nothing(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, TEXT) as (hub, _fake):
        await refused(hub, "meter", "trip", {"meter_id": "r101_w"}, "has no relay")
        await refused(hub, "meter", "close", {"meter_id": "r104_w"}, "use meter.valve")
        await refused(hub, "meter", "valve", {"meter_id": "r101_e", "state": "close"},
                      "has no valve")
        await refused(hub, "meter", "trip", {"account_id": "r104"},
                      "account r104 has no meter with a relay")
        await refused(hub, "meter", "trip", {"meter_id": "nope"}, "unknown meter 'nope'")
        await refused(hub, "meter", "trip", {"account_id": "nobody"}, "unknown account")
        await refused(hub, "meter", "trip", {"meter_id": "r101_e", "account_id": "r101"},
                      "not both")
        await refused(hub, "meter", "trip", {}, "give meter_id or account_id")
        await refused(hub, "meter", "valve", {"meter_id": "r101_w", "state": "ajar"},
                      "expected one of open, close")
        assert await all_commands(hub) == []
        assert simulator(hub, "r101_e").relay_closed


async def test_holds_need_a_reason_a_known_account_and_a_future_end(tmp_path: Path) -> None:
    async with running_hub(tmp_path, TEXT) as (hub, _fake):
        await refused(hub, "account", "hold", {"account_id": "r101", "kind": "keep_on"},
                      "reason")
        await refused(hub, "account", "hold", {"account_id": "r101", "kind": "keep_on",
                                               "reason": "  "}, "a reason is required")
        await refused(hub, "account", "hold", {"account_id": "r101", "kind": "keep_on",
                                               "reason": "x", "until": "2020-01-01"},
                      "not in the future")
        await refused(hub, "account", "hold", {"account_id": "r101", "kind": "protect",
                                               "reason": "x"}, "keep_on, force_off")
        await refused(hub, "account", "hold", {"account_id": "zz", "kind": "keep_on",
                                               "reason": "x"}, "unknown account")
        await refused(hub, "account", "hold", {"account_id": "r101", "kind": "keep_on",
                                               "reason": "x", "until": "soon"},
                      "expected a date")
        await refused(hub, "account", "hold", {"account_id": "r101", "kind": "keep_on",
                                               "reason": "保电"}, "needs an end date")
        await refused(hub, "account", "release_hold", {"account_id": "r101"}, "has no hold")
        assert control_of(hub).holds.open_rows("r101") == []


async def test_a_close_during_force_off_is_refused_with_the_reason(tmp_path: Path) -> None:
    async with running_hub(tmp_path, TEXT) as (hub, _fake):
        await hub.services.call("account", "hold", {
            "account_id": "r102", "kind": "force_off", "reason": "contract ended",
            "until": "2099-06-30"}, context=Context(user_id="op"))
        await wait_for(lambda: not simulator(hub, "r102_e").relay_closed)
        before = await all_commands(hub)
        await refused(hub, "meter", "close", {"meter_id": "r102_e"},
                      r"force-off hold is active until 2099-07-01 00:00 \(contract ended\)")
        await refused(hub, "meter", "close", {"account_id": "r102"}, "force-off")
        assert len(await all_commands(hub)) == len(before)
        assert not simulator(hub, "r102_e").relay_closed


async def test_an_operator_trip_by_account_carries_the_user_and_answers_why(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, TEXT) as (hub, _fake):
        call_ctx = Context(user_id="landlord_wang")
        result = await hub.services.call("meter", "trip", {
            "account_id": "r101", "reason": "meter test"}, context=call_ctx,
            return_response=True)
        assert result["meters"] == ["r101_e"] and len(result["queued"]) == 1
        await wait_for(lambda: not simulator(hub, "r101_e").relay_closed)
        await wait_for(lambda: control_of(hub).commands.outstanding("r101_e") is None)
        why = await hub.services.call("meter", "why", {"command_id": result["queued"][0]},
                                      return_response=True)
        assert why["user_id"] == "landlord_wang"
        assert why["command"]["params"]["reason"] == "meter test"
        first = why["chain"][0]["events"][0]
        assert first["event_type"] == "call_service"
        assert first["data"]["service"] == "trip" and first["context"]["id"] == call_ctx.id
        frames_before = simulator(hub, "r101_e").requests
        again = await hub.services.call("meter", "trip", {"meter_id": "r101_e"},
                                        return_response=True)
        assert len(again["queued"]) == 1  # already open: read back, confirmed, not re-sent
        await wait_for(lambda: control_of(hub).commands.outstanding("r101_e") is None)
        record = await storage_of(hub).command(again["queued"][0])
        assert record is not None and record.state == "confirmed" and record.attempts == 0
        assert simulator(hub, "r101_e").requests > frames_before  # it was read
        await refused(hub, "meter", "why", {"command_id": "cmd-none"}, "unknown command 'cmd-none'")


async def test_valve_service_closes_and_opens_a_water_meter(tmp_path: Path) -> None:
    async with running_hub(tmp_path, TEXT) as (hub, _fake):
        water = simulator(hub, "r104_w")
        await hub.services.call("meter", "valve", {"account_id": "r104", "state": "close"})
        await wait_for(lambda: not water.valve_open)
        await wait_for(lambda: control_of(hub).commands.outstanding("r104_w") is None)
        await hub.services.call("meter", "valve", {"meter_id": "r104_w", "state": "open"})
        await wait_for(lambda: water.valve_open)


async def test_a_new_hold_replaces_the_old_and_holds_survive_a_restart(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, TEXT) as (hub, _fake):
        events = collect(hub, "hold_set")
        await hub.services.call("account", "hold", {
            "account_id": "r103", "kind": "force_off", "reason": "inspection"})
        second = await hub.services.call("account", "hold", {
            "account_id": "r103", "kind": "keep_on", "reason": "inspection over, 保电",
            "operator": "li", "until": "2099-01-01"}, return_response=True)
        assert events[1].data["replaced"] == [events[0].data["hold_id"]]
        rows = control_of(hub).holds.open_rows("r103")
        assert [row.hold_id for row in rows] == [second["hold_id"]]
        assert rows[0].operator == "li"
    async with running_hub(tmp_path, TEXT) as (hub, fake):
        assert fake is not None
        rows = control_of(hub).holds.open_rows("r103")
        assert [row.kind for row in rows] == ["keep_on"]
        fake.set("r103", "-10")
        await asyncio.sleep(0.3)
        await hub.block_till_done()
        assert simulator(hub, "r103_e").relay_closed  # still kept on after the restart


async def test_the_end_of_a_keep_on_hold_lets_the_policy_trip(tmp_path: Path) -> None:
    async with running_hub(tmp_path, TEXT) as (hub, fake):
        assert fake is not None
        clock = Clock(t("2026-03-02T09:00"), running=True)
        control_of(hub).set_clock(clock)
        released = collect(hub, "hold_released")
        await hub.services.call("account", "hold", {
            "account_id": "r102", "kind": "keep_on", "reason": "exam week",
            "until": "2026-03-02T12:00"})
        fake.set("r102", "-2")
        await asyncio.sleep(0.3)
        assert simulator(hub, "r102_e").relay_closed
        clock.set(t("2026-03-02T12:00:01"))
        control_of(hub).trips.wake()
        await wait_for(lambda: not simulator(hub, "r102_e").relay_closed)
        assert released[0].data["expired"] is True
        assert control_of(hub).holds.open_rows("r102") == []


async def test_the_cli_holds_releases_refuses_and_explains_through_the_api(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hub.cli import main
    from hub.web.server import WebServer

    async with running_hub(tmp_path, TEXT) as (hub, _fake):
        port = str(hub.component("web", WebServer).port)
        cfg = str(tmp_path / "hub.yaml")

        def cli(*args: str) -> int:  # the hub's data folder: where its CLI token is
            return main([*args, "--data", str(tmp_path / "data")])

        assert await asyncio.to_thread(
            cli, "account", "-c", cfg, "--port", port, "hold", "r101", "--keep-on",
            "--reason", "exam week", "--until", "2099-01-01", "--operator", "wang") == 0
        rows = control_of(hub).holds.open_rows("r101")
        # the author is the CLI's token; the name typed stays as a note
        assert [(r.kind, r.operator, r.context.user_id) for r in rows] == [
            ("keep_on", "@cli (wang)", "@cli")]
        assert await asyncio.to_thread(cli, "control", "trip", "--meter", "r101_w",
                                       "-c", cfg, "--port", port) == 1
        # the site speaks zh-CN: the refusal is printed in it
        assert capsys.readouterr().err == (
            "错误：meter_id：表计 r101_w（cjt188_water）没有继电器"
            "（水表请用 meter.valve 开关阀门）\n")
        assert await asyncio.to_thread(cli, "control", "release", "r101", "-c", cfg,
                                       "--port", port) == 0
        assert control_of(hub).holds.open_rows("r101") == []
        assert await asyncio.to_thread(cli, "control", "trip", "--meter", "r102_e",
                                       "--reason", "test", "-c", cfg, "--port", port) == 0
        await wait_for(lambda: not simulator(hub, "r102_e").relay_closed)
        await wait_for(lambda: control_of(hub).commands.outstanding("r102_e") is None)
        capsys.readouterr()
        assert await asyncio.to_thread(cli, "control", "why", "--meter", "r102_e",
                                       "-c", cfg, "--port", port) == 0
        out = capsys.readouterr().out
        assert '"command": "trip"' in out and '"call_service"' in out


async def test_an_account_state_shows_its_hold_again_after_a_restart(tmp_path: Path) -> None:
    async with running_hub(tmp_path, TEXT, fake_ledger=False) as (hub, _fake):
        await hub.services.call("account", "hold", {
            "account_id": "r103", "kind": "keep_on", "reason": "住院", "until": "2099-01-01"})
        await hub.services.call("account", "hold", {
            "account_id": "r102", "kind": "force_off", "reason": "eviction"})
        assert hub.states.get("account.r103").attributes["hold"] == "keep_on"
    async with running_hub(tmp_path, TEXT, fake_ledger=False) as (hub, _fake):
        await control_of(hub).ready()
        kept, cut = hub.states.get("account.r103"), hub.states.get("account.r102")
        assert kept is not None and cut is not None
        assert (kept.attributes["hold"], kept.attributes["hold_reason"]) == ("keep_on", "住院")
        assert kept.attributes["hold_until"].startswith("2099-01-02T00:00:00")  # the end of the day
        assert (cut.attributes["hold"], cut.attributes["hold_reason"]) == (
            "force_off", "eviction")
        assert hub.states.get("account.r101").attributes["hold"] is None


async def test_why_without_an_answer_says_what_is_missing(tmp_path: Path) -> None:
    async with running_hub(tmp_path, TEXT) as (hub, _fake):
        await refused(hub, "meter", "why", {"meter_id": "nope"}, "unknown meter 'nope'")
        await refused(hub, "meter", "why", {"account_id": "r_zzz"},
                      "unknown account 'r_zzz'")
        await refused(hub, "meter", "why", {"meter_id": "r102_e"},
                      "meter r102_e has never been cut off")
        await refused(hub, "meter", "why", {"account_id": "r102"},
                      "no meter of account r102 has ever been cut off")
        await refused(hub, "meter", "why", {"command_id": "c-missing"},
                      "unknown command 'c-missing'")


async def test_an_operator_close_in_arrears_needs_a_keep_on_hold(tmp_path: Path) -> None:
    async with running_hub(tmp_path, TEXT) as (hub, fake):
        assert fake is not None
        fake.set("r102", "-12.50")
        await wait_for(lambda: not simulator(hub, "r102_e").relay_closed)
        await refused(hub, "meter", "close", {"meter_id": "r102_e", "reason": "asked nicely"},
                      r"account r102: is in arrears \(balance -12\.50\): its trip policy would "
                      r"cut the supply off again; to keep it on, set a keep-on hold")
        assert not simulator(hub, "r102_e").relay_closed
        await hub.services.call("account", "hold", {
            "account_id": "r102", "kind": "keep_on", "reason": "住院", "until": "2099-01-01"})
        await wait_for(lambda: simulator(hub, "r102_e").relay_closed)  # the hold closes it
        fake.set("r103", "5")  # not in arrears: an operator may close (nothing to do here)
        answer = await hub.services.call("meter", "close", {"meter_id": "r103_e"},
                                         return_response=True)
        assert answer["meters"] == ["r103_e"]
