"""Helpers shared by the core tests: fixture paths, YAML files, subprocess CLI runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from hub.core import Hub

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
CONFIG_TREE = FIXTURES / "config_tree"
BAD_CONFIG = FIXTURES / "bad_config"
PLUGINS_GOOD = FIXTURES / "plugins_dir" / "good"
PLUGINS_BROKEN = FIXTURES / "plugins_dir" / "broken"
SAMPLE_PLUGIN = FIXTURES / "sample_plugin"

CLI_TIMEOUT = 30.0

HubFactory = Callable[..., Hub]
"""The ``make_hub`` fixture: build a not-yet-started hub (config=None, plugins=None)."""


def write(path: Path, text: str) -> Path:
    """Write dedented text to ``path`` (creating folders) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """Return the 1-based line number of the ``occurrence``-th line containing ``needle``."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not found {occurrence}x in {path}")


def cli_env(extra_path: Sequence[Path] = (), **overrides: str) -> dict[str, str]:
    """Environment for a ``python -m hub`` subprocess, with extra import paths."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("METERHUB_")}
    if extra_path:
        parts = [str(p) for p in extra_path]
        if env.get("PYTHONPATH"):
            parts.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(parts)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


def run_cli(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = CLI_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m hub ARGS`` to completion in a real subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        cwd=cwd,
        env=dict(env) if env is not None else cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def problem_lines(output: str) -> list[str]:
    """The indented problem lines of a check-config / run report."""
    return [line.strip() for line in output.splitlines() if line.startswith("  ")]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
