"""Helpers shared by the core tests: fixture paths, subprocess CLI runs (generic: common.py)."""

from __future__ import annotations

import os
import subprocess
import sys
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
