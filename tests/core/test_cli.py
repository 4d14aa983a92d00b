"""The ``meterhub`` command in real subprocesses: version, plugins, run and clean shutdown."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from common import free_port, token_headers, write
from core_support import cli_env, run_cli

import hub

START_DEADLINE = 20.0
STOP_DEADLINE = 10.0
SITE_NAME = "测试公寓 CLI"


def http_get(url: str, timeout: float = 2.0,
             headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    """GET a URL: (status, content type, body)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                    timeout=timeout) as response:
            return (response.status, response.headers.get("Content-Type", ""),
                    response.read().decode("utf-8"))
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read().decode("utf-8")


@dataclass
class RunningHub:
    """A ``meterhub run`` subprocess with its port and log file."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    data: Path

    def get(self, path: str, timeout: float = 2.0) -> tuple[int, str, str]:
        """GET a path of the hub with its CLI token: (status, content type, body)."""
        return http_get(self.base + path, timeout, token_headers(self.data))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_until_serving(self) -> dict[str, Any]:
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"meterhub run exited with {self.process.returncode}:\n"
                            f"{self.log_text()}")
            try:
                status, _type, body = self.get("/api/", timeout=0.5)
            except OSError:  # not listening yet, or no token written yet
                time.sleep(0.05)
                continue
            if status == 200:
                payload: dict[str, Any] = json.loads(body)
                return payload
            time.sleep(0.05)
        pytest.fail(f"meterhub run did not serve within {START_DEADLINE}s:\n{self.log_text()}")

    def stop(self, sig: signal.Signals) -> int:
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            pytest.fail(f"meterhub run ignored {sig.name} for {STOP_DEADLINE}s:\n"
                        f"{self.log_text()}")


@pytest.fixture
def running_hub(tmp_path: Path, sample_plugin_site: Path) -> Iterator[RunningHub]:
    """``python -m hub run`` on a free port, with the sample plugin installed."""
    port = free_port()
    config = write(tmp_path / "site/hub.yaml", f"""
        site: {{name: {SITE_NAME}, language: zh-CN}}
        http: {{host: 127.0.0.1, port: {port}}}
        sample: {{greeting: hi}}
    """)
    log = tmp_path / "meterhub.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub", "run", "-c", str(config),
             "--data", str(tmp_path / "data")],
            cwd=tmp_path, env=cli_env([sample_plugin_site]),
            stdout=out, stderr=subprocess.STDOUT,
        )
    running = RunningHub(process, port, log, tmp_path / "data")
    try:
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


# --- one-shot commands -------------------------------------------------------------------


def test_version(tmp_path: Path) -> None:
    result = run_cli(["--version"], cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"meterhub {hub.__version__}"


def test_console_script_version(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "meterhub"
    assert script.is_file(), "the meterhub console script is not installed in this venv"
    result = subprocess.run([str(script), "--version"], cwd=tmp_path, env=cli_env(),
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0
    assert result.stdout.strip() == f"meterhub {hub.__version__}"


def test_no_command_prints_help_and_exits_2(tmp_path: Path) -> None:
    result = run_cli([], cwd=tmp_path)
    assert result.returncode == 2
    assert "run" in result.stdout and "check-config" in result.stdout


def test_plugins_lists_core_and_built_in_plugins(tmp_path: Path) -> None:
    result = run_cli(["plugins"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "hub.web [core] loaded" in lines
    assert lines[0].endswith("[core] loaded")  # core plugins come first
    entry_point_lines = [line for line in lines if "[entry_point]" in line]
    assert any(line.startswith("dlt645 ") for line in entry_point_lines)
    assert any(line.startswith("cjt188 ") for line in entry_point_lines)


def test_plugins_shows_why_a_plugin_failed(tmp_path: Path) -> None:
    write(tmp_path / "local/crashing.py", "raise RuntimeError('local plugin crashed')\n")
    path = write(tmp_path / "hub.yaml", "plugins: {dirs: [local]}\n")
    result = run_cli(["plugins", "-c", str(path)], cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    index = lines.index("crashing [plugins_dir] failed")
    assert "RuntimeError: local plugin crashed" in lines[index + 1]
    assert lines[index + 1].strip().startswith("error:")


# --- run and stop --------------------------------------------------------------------


def test_run_serves_dashboard_and_stops_cleanly_on_sigterm(running_hub: RunningHub) -> None:
    status = running_hub.wait_until_serving()
    assert status["site"] == SITE_NAME
    assert status["state"] == "running"

    code, content_type, html = running_hub.get("/")
    assert code == 200
    assert content_type.startswith("text/html")
    assert SITE_NAME in html
    assert '<html lang="zh-CN">' in html

    code, _type, body = running_hub.get("/api/services")
    assert code == 200
    assert "greet" in json.loads(body)["sample"]

    log = running_hub.log_text()
    loaded = [line for line in log.splitlines() if "Loaded plugins:" in line]
    assert len(loaded) == 1
    assert "hub.web" in loaded[0]
    assert "sample 1.2.3" in loaded[0]

    assert running_hub.stop(signal.SIGTERM) == 0
    log = running_hub.log_text()
    assert "SIGTERM" in log
    assert "MeterHub stopped" in log
    assert "Traceback" not in log


def test_run_stops_cleanly_on_sigint(running_hub: RunningHub) -> None:
    running_hub.wait_until_serving()
    assert running_hub.stop(signal.SIGINT) == 0
    log = running_hub.log_text()
    assert "MeterHub stopped" in log
    assert "KeyboardInterrupt" not in log
    assert "Traceback" not in log


def test_port_option_overrides_config(tmp_path: Path) -> None:
    port = free_port()
    config = write(tmp_path / "hub.yaml", "http: {host: 127.0.0.1, port: 1}\n")
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub", "run", "-c", str(config), "--port", str(port),
             "--data", str(tmp_path / "data")],
            cwd=tmp_path, env=cli_env(), stdout=out, stderr=subprocess.STDOUT,
        )
    running = RunningHub(process, port, log, tmp_path / "data")
    try:
        assert running.wait_until_serving()["site"] == "MeterHub"
        assert running.stop(signal.SIGTERM) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
