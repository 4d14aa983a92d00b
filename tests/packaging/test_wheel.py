"""A plain wheel installs only uniquely named packages and runs from outside the checkout."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=240,
        cwd=tmp_path_factory.mktemp("build"))
    (found,) = out.glob("meterhub-*.whl")
    return found


def test_wheel_holds_no_generic_top_level_names(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
        entry_points = next(n for n in archive.namelist() if n.endswith("entry_points.txt"))
        text = archive.read(entry_points).decode()
        demo = [n for n in archive.namelist() if n.startswith("hub/demo/")]
        templates = [n for n in archive.namelist() if "templates/" in n]
    packages = {top for top in tops if not top.endswith(".dist-info")}
    assert "hub" in packages
    assert all(top == "hub" or top.startswith("meterhub_") for top in packages), packages
    assert not {"plugins", "integrations", "tests", "bench", "config"} & tops
    for plugin in ("dlt645", "cjt188", "modbus", "sim", "rs485", "tcp_dtu", "tariffs"):
        assert f"{plugin} = meterhub_{plugin}" in text
    assert "hub/demo/hub.yaml" in demo
    assert templates, "dashboard templates missing from the wheel"


def test_installed_wheel_runs_check_config_and_lists_plugins(wheel: Path,
                                                             tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, timeout=120)
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run(
        [sys.executable, "-c", "import hub, meterhub_dlt645; print(hub.__file__); "
         "print(meterhub_dlt645.__file__)"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=True)
    assert all(line.startswith(str(target)) for line in where.stdout.split()), where.stdout
    plugins = subprocess.run([sys.executable, "-m", "hub", "plugins"], capture_output=True,
                             text=True, env=env, cwd=tmp_path, timeout=60)
    assert "dlt645 0.1.0 [entry_point] loaded" in plugins.stdout
    assert plugins.returncode == 0, plugins.stdout  # 1 when a plugin failed to load
    statuses = re.findall(r"^\S+ (?:\S+ )?\[\w+\] (\w+)$", plugins.stdout, re.MULTILINE)
    assert len(statuses) >= 12 and set(statuses) == {"loaded"}, plugins.stdout
    check = subprocess.run([sys.executable, "-m", "hub", "check-config"], capture_output=True,
                           text=True, env=env, cwd=tmp_path, timeout=60)
    assert check.returncode == 0, check.stderr
    assert str(target / "hub" / "demo" / "hub.yaml") in check.stdout
