"""Errors raised by the core. Every message names what was wrong and where."""

from __future__ import annotations

from .i18n import Text
from .messages import STRINGS as _STRINGS  # noqa: F401  (the tables of the Texts below)

__all__ = [
    "HubError", "HubStoppingError", "InvalidEntityId", "ServiceNotFound", "ServiceValidationError",
    "StartupRefused",
]


class HubError(Exception):
    """Base of every error MeterHub raises on purpose."""


class InvalidEntityId(HubError, ValueError):
    """An entity id is not of the form ``domain.object_id`` in lower-case slug characters."""


class ServiceNotFound(HubError):
    """A service was called that nobody registered."""

    def __init__(self, domain: str, service: str) -> None:
        super().__init__(Text("core.service_not_found", service=f"{domain}.{service}"))
        self.domain = domain
        self.service = service


class ServiceValidationError(HubError, ValueError):
    """Data passed to a service does not match its schema, or the handler refused it.

    ``errors`` lists one human-readable line per problem, each naming the key path.
    """

    def __init__(self, service: str, errors: list[str]) -> None:
        self.service = service
        self.errors = errors
        super().__init__(f"{service}: " + "; ".join(errors))


class HubStoppingError(HubError):
    """Work was submitted to a hub that is shutting down."""


class StartupRefused(HubError):
    """Start-up cannot go on, and nothing has acted yet: a port is taken, another hub holds
    the database. The message is one line for the person starting the hub: what is wrong and
    which setting changes it."""
