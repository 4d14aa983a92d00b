"""Users, sessions and tokens as the API and the CLI show them: never a hash or a secret."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..i18n import Text, restored
from ..storage import AuditFilter, SessionRow, TokenRow, UserRow
from ..util.dt import site_time_zone
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

AUDIT_LIMIT = 1000


def when(ms: int | None) -> str | None:
    """Epoch milliseconds as site-local ISO text (None stays None)."""
    return datetime.fromtimestamp(ms / 1000, site_time_zone()).isoformat() if ms else None


def user_dict(row: UserRow) -> dict[str, Any]:
    """A user (``password``: whether one is set)."""
    return {"user": row.user_id, "role": row.role, "scope": row.scope,
            "disabled": row.disabled, "created": when(row.created_ms),
            "updated": when(row.updated_ms), "password": row.password_hash is not None}


def session_dict(row: SessionRow) -> dict[str, Any]:
    """A login session."""
    return {"id": row.session_id, "user": row.user_id, "created": when(row.created_ms),
            "expires": when(row.expires_ms), "last_used": when(row.last_used_ms),
            "address": row.address, "agent": row.agent}


def token_dict(row: TokenRow) -> dict[str, Any]:
    """An API token."""
    return {"id": row.token_id, "name": row.name, "user": row.user_id, "role": row.role,
            "scope": row.scope, "created": when(row.created_ms),
            "expires": when(row.expires_ms), "last_used": when(row.last_used_ms),
            "last_address": row.last_address, "revoked": when(row.revoked_ms)}


def _ms_of(text: str | None, name: str) -> int | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(Text("auth.audit_time", name=name, text=text)) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=site_time_zone())
    return int(moment.timestamp() * 1000)


def audit_filter(user: str | None, account: str | None, meter: str | None,
                 start: str | None, end: str | None, limit: str | None) -> AuditFilter:
    """The audit filter from text (ISO times, site-local when naive); ValueError naming the
    bad one."""
    try:
        count = int(limit or 200)
    except ValueError:
        raise ValueError(Text("auth.audit_limit_int", limit=limit)) from None
    if not 0 < count <= AUDIT_LIMIT:
        raise ValueError(Text("auth.audit_limit", most=AUDIT_LIMIT, count=count))
    return AuditFilter(user or None, account or None, meter or None,
                       _ms_of(start, "start"), _ms_of(end, "end"), count)


def audit_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Audit rows with their time as site-local text."""
    return [{"time": when(row["ts"]), **{k: v for k, v in row.items() if k != "ts"},
             "detail": restored(row["detail"]) if isinstance(row.get("detail"), str)
             else row.get("detail")}  # a message the hub kept: its Text again
            for row in rows]
