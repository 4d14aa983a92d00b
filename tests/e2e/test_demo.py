"""The built-in demo site: `meterhub run` reads every demo meter over real links within 30 s."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from decimal import Decimal
from pathlib import Path

from common import free_port, token_headers

from hub.config import DEMO_CONFIG

DEADLINE = 30.0


def _demo_copy(tmp_path: Path) -> Path:
    """The demo config with its fixed DTU port and pty path moved out of the way."""
    folder = tmp_path / "demo"
    shutil.copytree(DEMO_CONFIG.parent, folder)
    hub_yaml = folder / "hub.yaml"
    text = hub_yaml.read_text()
    assert "listen: 127.0.0.1:9000" in text and "/tmp/meterhub-demo-bus1" in text
    text = text.replace("listen: 127.0.0.1:9000", "listen: 127.0.0.1:0")
    text = text.replace("/tmp/meterhub-demo-bus1", str(tmp_path / "bus1"))
    assert "udp: 127.0.0.1:9100" in text
    text = text.replace("udp: 127.0.0.1:9100", "udp: 127.0.0.1:0")
    hub_yaml.write_text(text)
    return hub_yaml


def _get(port: int, data: Path, path: str) -> object:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers=token_headers(data))
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _told(path: Path, wanted: set[tuple[str, str]], until: float) -> Counter[tuple[str, str]]:
    """(account, notice) of the messages in a ``file`` notifier's file, once ``wanted`` are."""
    told: Counter[tuple[str, str]] = Counter()
    while time.monotonic() < until:
        if path.exists():
            told = Counter((line["account_id"], line["notice"]) for line in map(
                json.loads, path.read_text(encoding="utf-8").splitlines()))
            if wanted <= set(told):
                return told
        time.sleep(0.5)
    raise AssertionError(f"{path.name} holds {dict(told)}, not all of {wanted}")


def test_demo_reads_every_meter_within_30_seconds(tmp_path: Path) -> None:
    config = _demo_copy(tmp_path)
    meter_count = sum(1 for line in (config.parent / "meters.yaml").read_text().splitlines()
                      if line.startswith("- {id:"))
    port = free_port()
    log = (tmp_path / "hub.log").open("w+")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "run", "-c", str(config), "--data", str(data),
         "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
    started = time.monotonic()
    try:
        online: list[str] = []
        states: list[dict[str, object]] = []
        while time.monotonic() - started < DEADLINE + 15:
            time.sleep(0.5)
            assert proc.poll() is None, "the hub exited early"
            try:
                states = _get(port, data, "/api/states?domain=meter&limit=500")["items"]  # type: ignore[index]
            except OSError:
                continue
            online = [s["entity_id"] for s in states  # type: ignore[misc]
                      if s["attributes"].get("last_read")]  # type: ignore[attr-defined]
            if len(online) == meter_count:
                break
        read_all = time.monotonic() - started
        rate: object = None
        while time.monotonic() - started < DEADLINE + 15:
            try:  # published when the start-up read finishes
                rate = _get(port, data, "/api/states/sensor.collection_overall")
                break
            except OSError:
                time.sleep(0.5)
        assert len(states) == meter_count
        assert len(online) == meter_count, f"read {len(online)} of {meter_count} meters"
        assert read_all <= DEADLINE, f"all meters read only after {read_all:.1f} s"
        assert rate is not None and rate["state"] == "100.0"  # type: ignore[index]
        one = _get(port, data, "/api/states/meter.b101_e")  # on the simulated RS485 bus
        assert one["attributes"]["link"] == "bus1"  # type: ignore[index]
        dtu = _get(port, data, "/api/states/meter.a301_e")  # behind a simulated 4G DTU
        assert dtu["attributes"]["link"] == "dtu_server"  # type: ignore[index]
        # an NB-IoT meter that reported by itself
        nb = _get(port, data, "/api/states/meter.b101_w")
        assert nb["attributes"]["link"] == "nb1"  # type: ignore[index]
        # an on-demand read from the command line, through the running hub
        cli = subprocess.run([sys.executable, "-m", "hub", "read", "a301_e", "-c", str(config),
                              "--port", str(port), "--data", str(data)],
                             capture_output=True, text=True, timeout=60)
        assert cli.returncode == 0, cli.stderr
        answer = json.loads(cli.stdout)
        assert answer["read"] == ["a301_e"]
        assert answer["readings"][0]["registers"]["energy_import_total"]
        missing = subprocess.run([sys.executable, "-m", "hub", "read", "nope", "-c", str(config),
                                  "--port", str(port), "--data", str(data)],
                                 capture_output=True, text=True, timeout=60)
        assert missing.returncode == 1
        assert missing.stderr == "错误：meter_id：未知的表计 'nope'\n"  # the demo speaks zh-CN
        # 公摊 right after the start: the lift group's 300.00 split among building A by area
        share = subprocess.run([sys.executable, "-m", "hub", "share", "preview", "lift_a",
                                "-c", str(config), "--port", str(port), "--data", str(data),
                                "--json"],
                               capture_output=True, text=True, timeout=60)
        assert share.returncode == 0, share.stderr
        rows = json.loads(share.stdout)["rows"]
        amounts = [Decimal(str(row["amount"])) for row in rows]
        assert len(amounts) == 20 and all(amount > 0 for amount in amounts), rows
        assert sum(amounts) == Decimal("300.00")
        # an invoice split through the running hub's share.split service (nothing posted)
        split = subprocess.run([sys.executable, "-m", "hub", "share", "split", "lift_a",
                                "--amount", "88.80", "--from", "2026-11-01", "--to",
                                "2026-11-30", "-c", str(config), "--port", str(port),
                                "--data", str(data)],
                               capture_output=True, text=True, timeout=60)
        assert split.returncode == 0, split.stderr
        answer = json.loads(split.stdout)
        assert answer["posted"] is None and answer["days"] == 30
        assert sum(Decimal(s["amount"]) for s in answer["shares"]) == Decimal("88.80")
        # the demo's messages land in a file a landlord can read (notify: sms, type file):
        # B305, opening with 8 yuan, was warned once; A105, opening with nothing, was cut off
        told = _told(data / "notifications" / "sms.jsonl", {
            ("r_b305", "balance_low"), ("r_a105", "relay_tripped")}, time.monotonic() + 10)
        assert told[("r_b305", "balance_low")] == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            log.seek(0)
            output = log.read()
            log.close()
    assert "Loaded plugins:" in output
    # the demo says once how to log in: a one-time set-up code, never a default password
    assert len(re.findall(r"set-up code [A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", output)) == 1
    assert "Traceback" not in output, output[-3000:]
    errors = [line for line in output.splitlines() if " ERROR " in line]
    assert not errors, errors[:5]
