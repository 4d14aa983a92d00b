"""Who may use the hub: users with roles and scopes, sessions, API tokens, the audit trail.

A core plugin above storage: it creates the :class:`Auth` component (``hub.component("auth",
Auth)``), writes the CLI's own token to the data folder at start (mode 0600), prints a
one-time set-up code while no user exists, warns about a ``secrets.yaml`` others can read,
and adds ``meterhub user``, ``meterhub token`` and ``meterhub audit``. The web guard
(hub/web/access.py) asks it who is calling.
"""

from __future__ import annotations

import argparse
import logging
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..const import CLI_TOKEN_FILE
from ..hookspecs import hookimpl
from .manager import Auth, csrf_token
from .model import CLI_USER, AuthError, LoginRefused, Principal
from .roles import (
    ROLES,
    SCOPED_SERVICES,
    Role,
    in_scope,
    may,
    narrower,
    right_of_service,
)

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "CLI_TOKEN_FILE",
    "CLI_USER",
    "ROLES",
    "SCOPED_SERVICES",
    "Auth",
    "AuthError",
    "LoginRefused",
    "Principal",
    "Role",
    "csrf_token",
    "in_scope",
    "may",
    "narrower",
    "right_of_service",
]

_LOGGER = logging.getLogger(__name__)


@hookimpl
def setup(hub: Hub) -> None:
    """Create the Auth component on the hub's storage; it starts right after storage."""
    from ..storage import Storage

    if not hub.has_component("storage"):
        _LOGGER.warning("No storage: no user can log in, and the API answers nobody")
        return
    auth = Auth(hub.component("storage", Storage), hub.config.data_dir)
    hub.add_component("auth", auth)

    async def start() -> None:
        warn_readable_secrets(hub.config.config_dir)
        await auth.start()

    hub.add_stage("auth", start=start, stop=auth.stop, requires=("storage",))


def warn_readable_secrets(config_dir: Path) -> list[Path]:
    """Warn about each ``secrets.yaml`` under the config folder that group or others may
    read (``chmod 600`` it); the files warned about."""
    found = []
    for path in sorted({*config_dir.glob("secrets.yaml"), *config_dir.glob("*/secrets.yaml")}):
        try:
            mode = path.stat().st_mode
        except OSError:
            continue
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            _LOGGER.warning("%s can be read by other users of this machine (mode %s): "
                            "chmod 600 it", path, stat.filemode(mode))
            found.append(path)
    return found


@hookimpl
def register_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``meterhub user``, ``meterhub token`` and ``meterhub audit``."""
    from .cli import add_commands

    add_commands(subparsers)
