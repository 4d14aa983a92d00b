"""Who is calling: a :class:`Principal` (a user's session, an API token, the hub's CLI)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..core import Context
from ..exceptions import HubError
from ..i18n import Text
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .roles import Role

CLI_USER = "@cli"
"""The author of what the ``meterhub`` command does with the hub's own token (no user can
have this name: user names start with a letter or a digit)."""

USER_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class AuthError(HubError):
    """A refused user or token change, or a refused login; ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class LoginRefused(AuthError):
    """Wrong name or password, a disabled user, or too many failures (``retry_after`` s)."""

    def __init__(self, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message, 429 if retry_after else 401)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the user it acts for, the role and scope it holds, and how
    it came (``session``, ``token``, ``cli``)."""

    user_id: str
    role: Role
    scope: Mapping[str, str] = field(default_factory=dict)
    via: str = "session"
    credential_id: str | None = None  # the session's or the token's id
    csrf: str | None = None  # sessions only: what a form must carry
    language: str | None = None  # the user's own (None: the site's)

    @property
    def scoped(self) -> bool:
        """Whether a scope bounds what this caller sees."""
        return bool(self.scope) and self.role != Role.ADMIN

    def context(self) -> Context:
        """A new context authored by this caller."""
        origin = f"api:{self.via}" + (f":{self.credential_id}" if self.via == "token" else "")
        return Context(user_id=self.user_id, origin=origin)

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly (no secrets)."""
        return {"user": self.user_id, "role": str(self.role), "scope": dict(self.scope),
                "via": self.via}


def check_user_name(name: str) -> str:
    """``name`` if it can be a user's login name, else AuthError naming the rule."""
    if not USER_NAME.match(name):
        raise AuthError(Text("auth.user_name", name=name))
    return name


def check_role(role: str, scope: Mapping[str, str]) -> Role:
    """The role, refused when unknown or when a landlord/operator has no scope."""
    try:
        found = Role(role)
    except ValueError:
        raise AuthError(Text("auth.role", role=role,
                             roles=", ".join(r.value for r in Role))) from None
    if found in (Role.LANDLORD, Role.OPERATOR) and not scope:
        raise AuthError(Text("auth.scope_needed", role=found))
    if found == Role.ADMIN and scope:
        raise AuthError(Text("auth.admin_scope"))
    return found
