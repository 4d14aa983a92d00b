"""``meterhub service install|status|uninstall``: the hub as a systemd service (the Pi appliance).

``install`` (as root, ``sudo``) creates a system user, the data folder (``/var/lib/meterhub``)
and a unit that starts the hub at boot, restarts it when it fails and stops it cleanly with
SIGTERM; ``--dry-run`` prints each step and the unit instead of doing them. The unit is
checked with ``systemd-analyze verify`` (when installed) before it is written.
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import DEMO_CONFIG, read

__all__ = ["ServicePlan", "add_commands", "render_unit"]

UNIT_DIR = Path("/etc/systemd/system")
DEFAULT_NAME = "meterhub"
DEFAULT_USER = "meterhub"
DEFAULT_DATA = Path("/var/lib/meterhub")
SERIAL_GROUP = "dialout"  # RS485 adapters (/dev/ttyUSB*) belong to it on Debian/Raspberry Pi OS


@dataclass
class ServicePlan:
    """What ``service install`` sets up: who runs the hub, on which config and data."""

    config: Path
    data: Path = DEFAULT_DATA
    user: str = DEFAULT_USER
    name: str = DEFAULT_NAME
    python: str = sys.executable
    writable: list[Path] = field(default_factory=list)
    """Folders outside the data folder the hub writes to (the nightly backup's target)."""
    groups: list[str] = field(default_factory=list)

    @property
    def unit_path(self) -> Path:
        """Where the unit file goes."""
        return UNIT_DIR / f"{self.name}.service"


def render_unit(plan: ServicePlan) -> str:
    """The systemd unit of ``plan``."""
    command = shlex.join([plan.python, "-m", "hub", "run", "-c", str(plan.config),
                          "--data", str(plan.data)])
    writable = " ".join([str(plan.data), *(f"-{path}" for path in plan.writable)])
    groups = f"SupplementaryGroups={' '.join(plan.groups)}\n" if plan.groups else ""
    return f"""\
[Unit]
Description=MeterHub: prepaid water and electricity meter hub
Wants=network-online.target
After=network-online.target time-sync.target
# a hub that keeps failing (a broken hub.yaml) is retried 5 times in 10 minutes, then left
StartLimitIntervalSec=600
StartLimitBurst=5

[Service]
Type=simple
User={plan.user}
Group={plan.user}
{groups}WorkingDirectory={plan.data}
ExecStart={command}
Environment=PYTHONUNBUFFERED=1
# back by itself after a crash; a clean stop (SIGTERM: the hub commits and closes) stays down
Restart=on-failure
RestartSec=10
KillSignal=SIGTERM
TimeoutStopSec=60
# hardening: the hub writes only its data folder (and the backup target)
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths={writable}
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
CapabilityBoundingSet=
UMask=0027

[Install]
WantedBy=multi-user.target
"""


def backup_target(config: Path) -> Path | None:
    """The ``storage.backup.to`` folder written in ``config``, if any (absolute only: a
    relative one is inside the data folder)."""
    raw, _ctx = read(config)
    storage = raw.get("storage") if isinstance(raw, Mapping) else None
    backup = storage.get("backup") if isinstance(storage, Mapping) else None
    target = backup.get("to") if isinstance(backup, Mapping) else None
    if isinstance(target, str) and Path(target).expanduser().is_absolute():
        return Path(target).expanduser()
    return None


@dataclass
class Step:
    """One thing install or uninstall does: said, then done (or only said)."""

    text: str
    run: Callable[[], None]


def _command(*argv: str) -> Step:
    def run() -> None:
        subprocess.run(list(argv), check=True)

    return Step(shlex.join(argv), run)


def install_steps(plan: ServicePlan, unit: str) -> list[Step]:
    """The steps of ``service install``: user, data folder, unit, enable and start."""
    steps: list[Step] = []
    try:
        pwd.getpwnam(plan.user)
    except KeyError:
        steps.append(_command("useradd", "--system", "--user-group", "--home-dir",
                              str(plan.data), "--no-create-home", "--shell",
                              "/usr/sbin/nologin", plan.user))

    def make_data() -> None:
        plan.data.mkdir(parents=True, exist_ok=True)
        shutil.chown(plan.data, plan.user, plan.user)
        plan.data.chmod(0o750)

    steps.append(Step(f"create {plan.data} (owner {plan.user}, mode 750)", make_data))

    def write_unit() -> None:
        plan.unit_path.write_text(unit, encoding="utf-8")
        plan.unit_path.chmod(0o644)

    steps.append(Step(f"write {plan.unit_path}", write_unit))
    steps.append(_command("systemctl", "daemon-reload"))
    steps.append(_command("systemctl", "enable", "--now", f"{plan.name}.service"))
    return steps


def uninstall_steps(plan: ServicePlan) -> list[Step]:
    """The steps of ``service uninstall``: stop, disable, remove the unit (data is kept)."""
    return [
        _command("systemctl", "disable", "--now", f"{plan.name}.service"),
        Step(f"remove {plan.unit_path}", lambda: plan.unit_path.unlink(missing_ok=True)),
        _command("systemctl", "daemon-reload"),
    ]


def verify_unit(unit: str, name: str) -> str | None:
    """Check a unit with ``systemd-analyze verify``: its complaints, or None when it passes
    (or when systemd-analyze is not installed)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.service"
        path.write_text(unit, encoding="utf-8")
        result = subprocess.run([analyze, "verify", str(path)], capture_output=True,
                                text=True, check=False)
    if result.returncode == 0:
        return None
    return (result.stderr or result.stdout).strip()


def run_steps(steps: list[Step], dry_run: bool) -> int:
    """Do (or with ``dry_run`` only print) each step; stop at the first that fails."""
    for step in steps:
        print(f"{'would ' if dry_run else ''}{step.text}")
        if dry_run:
            continue
        try:
            step.run()
        except (OSError, subprocess.CalledProcessError) as err:
            print(f"meterhub service: {step.text} failed: {err}", file=sys.stderr)
            return 1
    return 0


def _refusal(dry_run: bool) -> str | None:
    if dry_run:
        return None
    if os.geteuid() != 0:
        return "run it as root: sudo meterhub service ..."
    if shutil.which("systemctl") is None or not Path("/run/systemd/system").is_dir():
        return "systemd is not running on this machine (no /run/systemd/system)"
    return None


def _allowed_plan(args: argparse.Namespace, command: str) -> ServicePlan | None:
    """The plan of a changing command, or None (the refusal printed) when it may not run."""
    refused = _refusal(args.dry_run)
    if refused:
        print(f"meterhub service {command}: {refused}", file=sys.stderr)
        return None
    return _plan(args)


def _plan(args: argparse.Namespace) -> ServicePlan:
    if args.config:
        config = Path(args.config).resolve()
    else:
        local = Path("hub.yaml")
        config = local.resolve() if local.is_file() else DEMO_CONFIG
    plan = ServicePlan(config=config, data=Path(args.data).resolve(), user=args.user,
                       name=args.name)
    try:
        grp.getgrnam(SERIAL_GROUP)
        plan.groups.append(SERIAL_GROUP)
    except KeyError:
        pass
    return plan


def cmd_install(args: argparse.Namespace) -> int:
    """Create the user, the data folder and the unit; enable and start the service."""
    plan = _allowed_plan(args, "install")
    if plan is None:
        return 1
    if not plan.config.is_file():
        print(f"meterhub service install: no configuration at {plan.config} (give -c)",
              file=sys.stderr)
        return 1
    target = backup_target(plan.config)
    if target is not None:
        plan.writable.append(target)
    unit = render_unit(plan)
    problem = verify_unit(unit, plan.name)
    if problem:
        print(f"meterhub service install: systemd-analyze refuses the unit:\n{problem}",
              file=sys.stderr)
        return 1
    if args.dry_run:
        print(f"# {plan.unit_path}\n{unit}")
    code = run_steps(install_steps(plan, unit), args.dry_run)
    if code == 0 and not args.dry_run:
        print(f"MeterHub runs as the {plan.name} service: `meterhub service status`, "
              f"logs with `journalctl -u {plan.name}`")
    return code


def cmd_status(args: argparse.Namespace) -> int:
    """Show the service's state (``systemctl status``); 3 when it is not running."""
    plan = _plan(args)
    if not plan.unit_path.is_file():
        print(f"the {plan.name} service is not installed ({plan.unit_path} does not exist): "
              "sudo meterhub service install")
        return 3
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        print("systemctl is not installed", file=sys.stderr)
        return 1
    return subprocess.run([systemctl, "status", "--no-pager", f"{plan.name}.service"],
                          check=False).returncode


def cmd_uninstall(args: argparse.Namespace) -> int:
    """Stop and disable the service and remove its unit; the data folder and user stay."""
    plan = _allowed_plan(args, "uninstall")
    if plan is None:
        return 1
    code = run_steps(uninstall_steps(plan), args.dry_run)
    if code == 0:
        print(f"kept: the data in {plan.data} and the user {plan.user} (remove them with "
              f"sudo rm -r {plan.data} and sudo userdel {plan.user})")
    return code


def add_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``meterhub service install|status|uninstall``."""
    service = subparsers.add_parser("service", help="run the hub as a systemd service "
                                                    "(install, status, uninstall)")
    actions = service.add_subparsers(dest="service_command", metavar="install|status|uninstall",
                                     required=True)
    for name, func, text in (
            ("install", cmd_install, "create the user, data folder and unit; start at boot"),
            ("status", cmd_status, "show whether the service runs"),
            ("uninstall", cmd_uninstall, "stop the service and remove its unit (data kept)")):
        action = actions.add_parser(name, help=text)
        action.add_argument("-c", "--config", metavar="HUB_YAML",
                            help="configuration the service runs (default: ./hub.yaml, else "
                                 "the built-in demo)")
        action.add_argument("--data", default=str(DEFAULT_DATA),
                            help=f"data folder (default {DEFAULT_DATA})")
        action.add_argument("--user", default=DEFAULT_USER,
                            help=f"system user the hub runs as (default {DEFAULT_USER})")
        action.add_argument("--name", default=DEFAULT_NAME,
                            help=f"unit name (default {DEFAULT_NAME}.service)")
        if name != "status":
            action.add_argument("--dry-run", action="store_true",
                                help="print what would be done, do nothing")
        action.set_defaults(func=func)
