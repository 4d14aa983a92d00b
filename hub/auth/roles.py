"""Roles, what each may do, and scopes (the tags that bound what a user sees).

The rules first, in prose:

- ``admin`` may do everything, on the whole site; only an admin manages users.
- ``landlord`` manages their own buildings: reads, money in (recharge, emergency credit),
  relay/valve commands, holds and account settings, all inside a tag scope.
- ``operator`` reads, recharges and trips/closes inside a scope.
- ``finance`` reads the whole site and moves money: recharges, refunds, adjustments,
  reversals, emergency credit, bills.
- ``viewer`` reads the whole site and changes nothing.

A service a table below does not name is for admins only, so a new service is closed until
someone opens it. A scope is a set of tags (``{"building": "A"}``): a meter is in it when
its tags include every one of them; ``{}`` is the whole site.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from enum import StrEnum


class Role(StrEnum):
    """What a user (or a token) may do."""

    ADMIN = "admin"
    LANDLORD = "landlord"
    OPERATOR = "operator"
    FINANCE = "finance"
    VIEWER = "viewer"


ROLES: tuple[str, ...] = tuple(role.value for role in Role)
SCOPED_ROLES = frozenset({Role.LANDLORD, Role.OPERATOR})
"""Roles whose users carry a tag scope (landlord and operator need one)."""

READ = "read"
CONTROL = "control"
MONEY_IN = "money_in"
MONEY = "money"
BILLS = "bills"
ACCOUNTS = "accounts"

RIGHTS: Mapping[Role, frozenset[str]] = {
    Role.ADMIN: frozenset({READ, CONTROL, MONEY_IN, MONEY, BILLS, ACCOUNTS}),
    Role.LANDLORD: frozenset({READ, CONTROL, MONEY_IN, ACCOUNTS}),
    Role.OPERATOR: frozenset({READ, CONTROL, MONEY_IN}),
    Role.FINANCE: frozenset({READ, MONEY_IN, MONEY, BILLS}),
    Role.VIEWER: frozenset({READ}),
}

SERVICE_RIGHTS: tuple[tuple[str, str], ...] = (
    ("meter.read", CONTROL),
    ("meter.why", READ),
    ("meter.trip", CONTROL),
    ("meter.close", CONTROL),
    ("meter.valve", CONTROL),
    ("meter.replace", CONTROL),
    ("account.hold", CONTROL),
    ("account.release_hold", CONTROL),
    ("account.recharge", MONEY_IN),
    ("account.emergency_credit", MONEY_IN),
    ("account.refund", MONEY),
    ("account.adjust", MONEY),
    ("account.reverse", MONEY),
    ("account.update", ACCOUNTS),
    ("account.create", ACCOUNTS),
    ("account.revert", ACCOUNTS),
    ("account.move_out", BILLS),
    ("bill.*", BILLS),
    ("payment.order", READ),
    ("payment.orders", READ),
    ("payment.reconciliation", READ),
    ("payment.refund", MONEY),  # through account.refund: the same right
    ("payment.reconcile", MONEY),  # credits what was paid but not credited
    ("tenant.links", READ),
    ("tenant.announcements", READ),
    ("tenant.*", ACCOUNTS),  # portal links, the QR sheet, announcements
)
"""The right each service needs (``domain.service``, shell patterns); first match wins."""

SCOPED_SERVICES = frozenset({
    "meter.read", "meter.trip", "meter.close", "meter.valve", "meter.why", "meter.replace",
    "account.hold",
    "account.release_hold", "account.recharge", "account.emergency_credit", "account.update",
    "account.revert",
    "tenant.link", "tenant.reissue", "tenant.revoke", "tenant.sheet", "tenant.announce",
})
"""Services whose targets (``meter_id``, ``meters``, ``account_id``) are checked against a
caller's scope: the only ones a scoped user may call."""


def right_of_service(name: str) -> str | None:
    """The right ``domain.service`` needs; None: admins only."""
    for pattern, right in SERVICE_RIGHTS:
        if fnmatch.fnmatchcase(name, pattern):
            return right
    return None


def may(role: str, right: str | None) -> bool:
    """Whether ``role`` holds ``right`` (None: an admin-only right)."""
    if role == Role.ADMIN:
        return True
    return right is not None and right in RIGHTS.get(Role(role), frozenset())


def in_scope(scope: Mapping[str, str], tags: Mapping[str, str]) -> bool:
    """Whether something tagged ``tags`` lies inside ``scope`` (every scope tag matches)."""
    return all(tags.get(key) == value for key, value in scope.items())


def narrower(inner: Mapping[str, str], outer: Mapping[str, str]) -> bool:
    """Whether scope ``inner`` lies within ``outer`` (it keeps every tag of ``outer``)."""
    return all(inner.get(key) == value for key, value in outer.items())
