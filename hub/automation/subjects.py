"""Meters and accounts by id or tags, as configured (not only those with a state yet)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..ledger.book import AccountBook
from ..metering.service import MeteringService

if TYPE_CHECKING:
    from ..core import Hub

__all__ = ["has_tags", "tagged", "tags_of"]


def has_tags(own: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> bool:
    """Whether ``own`` tags hold every wanted key with its value."""
    own = own or {}
    return all(str(own.get(key)) == str(value) for key, value in wanted.items())


def _subjects(hub: Hub, kind: str) -> Mapping[str, Any]:
    if kind == "meter":
        if hub.has_component("metering"):
            return hub.component("metering", MeteringService).meters
        return {}
    if hub.has_component("accounts"):
        return hub.component("accounts", AccountBook).accounts
    return {}


def tags_of(hub: Hub, kind: str, subject_id: str) -> Mapping[str, Any] | None:
    """The tags of meter or account ``subject_id`` (None when there is no such one)."""
    subject = _subjects(hub, kind).get(subject_id)
    return None if subject is None else subject.tags


def tagged(hub: Hub, kind: str, tags: Mapping[str, Any]) -> list[str]:
    """The ids of the meters (``kind`` meter) or accounts with these tags, sorted."""
    return sorted(subject_id for subject_id, subject in _subjects(hub, kind).items()
                  if has_tags(subject.tags, tags))
