"""``meterhub service``: the systemd unit (checked by systemd-analyze) and what install does."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from common import write
from core_support import cli_env, run_cli

from hub.service_unit import ServicePlan, render_unit, verify_unit


def unit_settings(unit: str) -> dict[str, list[str]]:
    """Each ``Key=value`` of a unit, by key (a key may repeat)."""
    found: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if "=" in line and not line.startswith("#"):
            key, _sep, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def test_the_unit_starts_at_boot_restarts_on_failure_and_stops_cleanly(tmp_path: Path) -> None:
    config = write(tmp_path / "hub.yaml", "site: {name: Pi}\n")
    plan = ServicePlan(config=config, data=Path("/var/lib/meterhub"),
                       writable=[Path("/media/usb/meterhub")], groups=["dialout"])
    unit = render_unit(plan)
    settings = unit_settings(unit)
    assert settings["WantedBy"] == ["multi-user.target"]
    assert settings["Restart"] == ["on-failure"] and settings["KillSignal"] == ["SIGTERM"]
    assert settings["User"] == ["meterhub"] and settings["SupplementaryGroups"] == ["dialout"]
    assert shlex.split(settings["ExecStart"][0]) == [
        plan.python, "-m", "hub", "run", "-c", str(config), "--data", "/var/lib/meterhub"]
    # it writes its data and the backup target (which may be unplugged: "-"), nothing else
    assert settings["ProtectSystem"] == ["strict"] and settings["NoNewPrivileges"] == ["yes"]
    assert settings["ReadWritePaths"] == ["/var/lib/meterhub -/media/usb/meterhub"]
    assert shutil.which("systemd-analyze"), "systemd-analyze is installed on this machine"
    assert verify_unit(unit, "meterhub") is None
    # and the check can fail: a relative ExecStart is refused
    broken = unit.replace(f"ExecStart={plan.python}", "ExecStart=bin/python3")
    assert "Neither a valid executable name nor an absolute path" in (
        verify_unit(broken, "meterhub") or "")


def test_install_dry_run_prints_the_unit_and_steps_and_does_nothing(tmp_path: Path) -> None:
    config = write(tmp_path / "hub.yaml", """
        site: {name: Pi}
        storage: {backup: {to: /media/usb/meterhub, at: "04:00", keep: 14}}
    """)
    data = tmp_path / "var-lib-meterhub"
    name = "meterhub-dry-run-test"
    result = run_cli(["service", "install", "--dry-run", "-c", str(config), "--data", str(data),
                      "--name", name], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"# /etc/systemd/system/{name}.service" in out
    assert f"ReadWritePaths={data} -/media/usb/meterhub" in out
    assert f"would create {data} (owner meterhub, mode 750)" in out
    assert f"would write /etc/systemd/system/{name}.service" in out
    assert f"would systemctl enable --now {name}.service" in out
    assert not data.exists() and not Path(f"/etc/systemd/system/{name}.service").exists()
    gone = run_cli(["service", "uninstall", "--dry-run", "--name", name], cwd=tmp_path)
    assert gone.returncode == 0, gone.stderr
    assert gone.stdout.splitlines()[:3] == [
        f"would systemctl disable --now {name}.service",
        f"would remove /etc/systemd/system/{name}.service",
        "would systemctl daemon-reload"]
    status = run_cli(["service", "status", "--name", name], cwd=tmp_path)
    assert status.returncode == 3 and "is not installed" in status.stdout


def test_install_refuses_a_missing_configuration(tmp_path: Path) -> None:
    result = run_cli(["service", "install", "--dry-run", "-c", str(tmp_path / "nope.yaml")],
                     cwd=tmp_path)
    assert result.returncode == 1
    assert f"no configuration at {tmp_path / 'nope.yaml'}" in result.stderr


def test_install_and_uninstall_refuse_a_user_who_is_not_root(tmp_path: Path) -> None:
    config = write(tmp_path / "hub.yaml", "site: {name: Pi}\n")
    # as root, drop to nobody for the run
    as_nobody = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
    for command in ("install", "uninstall"):
        result = subprocess.run(
            [*(as_nobody if os.geteuid() == 0 else []),
             sys.executable, "-m", "hub", "service", command, "-c", str(config)],
            cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=60,
            check=False)
        assert result.returncode == 1, result.stderr
        assert result.stderr.strip() == (
            f"meterhub service {command}: run it as root: sudo meterhub service ...")
