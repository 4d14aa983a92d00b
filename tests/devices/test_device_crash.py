"""A write whose frame reached the meter when the hub was SIGKILLed: after the restart it is
read back first and confirmed, never sent twice; its durable row keeps every step."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from common import child_process, collect, db_rows, start_hub, wait_for, write_hub_yaml
from device_support import command_events, ended, pty_config

from hub.core import Context
from hub.events import EVENT_ALARM, EVENT_ALARM_CLEARED

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ENV = {**os.environ,
       "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"), str(HERE)])}


async def _line(proc: asyncio.subprocess.Process, lines: list[str], prefix: str,
                timeout: float = 30) -> str:
    assert proc.stdout is not None
    async with asyncio.timeout(timeout):
        while True:
            found = [line for line in lines if line.startswith(prefix)]
            if found:
                return found[0]
            raw = await proc.stdout.readline()
            assert raw, f"the child ended before {prefix}: {lines}"
            lines.append(raw.decode().strip())


async def test_a_write_interrupted_by_a_kill_is_read_back_not_repeated(
        tmp_path: Path) -> None:
    meter_lines: list[str] = []
    async with child_process(sys.executable, str(HERE / "device_meter_server.py"),
                             "202400000101", stdout=asyncio.subprocess.PIPE,
                             stdin=asyncio.subprocess.PIPE, env=ENV, cwd=ROOT) as meter:
        port = int((await _line(meter, meter_lines, "PORT ")).split()[1])
        config = write_hub_yaml(tmp_path, f"""
site: {{name: Test, time_zone: Asia/Shanghai}}
http: {{port: 0, host: 127.0.0.1}}
metering: {{retries: 0, timeout: 2, read_on_start: false}}
devices: {{retries: 2, retry_delay: 0.5, confirm_delay: 30}}
links:
  - {{id: gw1, type: tcp_client, host: 127.0.0.1, port: {port}}}
meters:
  - {{id: m1, model: ddsy, link: gw1, address: "202400000101"}}
""")
        hub_argv = [sys.executable, str(HERE / "device_crash_hub.py"), str(config),
                    str(tmp_path / "data")]
        first: list[str] = []
        async with child_process(*hub_argv, "--submit", stdout=asyncio.subprocess.PIPE,
                                 stderr=asyncio.subprocess.DEVNULL, env=ENV,
                                 cwd=ROOT) as hub:
            await _line(meter, meter_lines, "WRITE 04001001")  # the frame reached the meter
            hub.send_signal(signal.SIGKILL)  # before the read-back (confirm_delay 30 s)
            async with asyncio.timeout(10):
                await hub.wait()
            await _line(hub, first, "EVENT sent")
        command_id = (await _line(hub, first, "EVENT sent")).split()[2]
        assert db_rows(tmp_path / "data", f"SELECT state FROM command WHERE command_id = "
                                          f"'{command_id}'") == [("sent",)]
        second: list[str] = []
        async with child_process(*hub_argv, stdout=asyncio.subprocess.PIPE,
                                 stderr=asyncio.subprocess.DEVNULL, env=ENV,
                                 cwd=ROOT) as hub:
            done = await _line(hub, second, "EVENT confirmed")
            assert done.split()[2] == command_id
            hub.send_signal(signal.SIGTERM)
            async with asyncio.timeout(20):
                await hub.wait()
        assert meter.stdin is not None
        meter.stdin.close()
        assert [line for line in meter_lines if line.startswith("WRITE")] == [
            "WRITE 04001001"]  # read back after the restart, not written again
    rows = db_rows(tmp_path / "data", "SELECT state, attempts, context_user_id FROM command")
    assert rows == [("confirmed", 1, "crash-test")]
    steps = db_rows(tmp_path / "data", "SELECT to_state FROM command_transition "
                                       "ORDER BY ts, transition_key")
    assert [s[0] for s in steps] == ["queued", "sent", "confirmed"]


async def test_a_raised_tou_alarm_survives_a_kill(tmp_path: Path) -> None:
    config = write_hub_yaml(tmp_path, pty_config(tmp_path))
    lines: list[str] = []
    async with child_process(sys.executable, str(HERE / "device_crash_hub.py"), str(config),
                             str(tmp_path / "data"), "--check-tou", "a101",
                             stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
                             env=ENV, cwd=ROOT) as hub:
        assert await _line(hub, lines, "CHECKED", timeout=90) == "CHECKED False"
        hub.send_signal(signal.SIGKILL)  # the alarm is raised: nothing stops cleanly
        async with asyncio.timeout(10):
            await hub.wait()
    async with start_hub(tmp_path, pty_config(tmp_path)) as restarted:
        alarms = collect(restarted, EVENT_ALARM, EVENT_ALARM_CLEARED)
        events = command_events(restarted)
        checked = await restarted.services.call("device", "check_tou", {"meter_id": "a101"},
                                                context=Context(), return_response=True)
        assert checked["meters"]["a101"]["matches"] is False
        # still raised from before the kill: not raised a second time
        assert alarms == []
        answer = await restarted.services.call("device", "write", {
            "meter_id": "a101", "param": "tou", "from_tariff": True},
            context=Context(), return_response=True)
        assert (await ended(events, answer["command_id"])).data["state"] == "confirmed"
        await wait_for(lambda: alarms, timeout=30)
        assert [(e.event_type, e.data["kind"]) for e in alarms] == [
            ("alarm_cleared", "tou_mismatch")]
    assert db_rows(tmp_path / "data", "SELECT * FROM device_alarm") == []
