"""The built-in notices: which event each one answers, who gets it, and its variables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .templates import local_time, money

Translate = Callable[..., str]  # hub.i18n bound to a language: (key, **values) -> text


@dataclass(frozen=True)
class NoticeSpec:
    """One built-in notice."""

    kind: str
    event: str
    tenant: bool  # by default to the account's own contacts.notify URLs
    landlord: bool  # by default to the notifier named ``landlord`` (when there is one)
    command: str | None = None  # command_confirmed: only for this command
    variant: tuple[str, ...] = ()  # data keys that make two notices of a kind different
    when_stopping: bool = True  # False: the hub's own shutdown causes it (links closing)

    def matches(self, data: Mapping[str, Any]) -> bool:
        """Whether an event of ``self.event`` is this notice.

        A command notice ("power restored", "water shut off") tells of a change: a command
        confirmed without anything sent (the relay or valve was already so) changed nothing.
        """
        if self.command is None:
            return True
        return str(data.get("command")) == self.command and data.get("sent") is not False


CATALOG: tuple[NoticeSpec, ...] = (
    NoticeSpec("balance_low", "balance_low", True, False, variant=("level",)),
    NoticeSpec("balance_exhausted", "balance_exhausted", True, False),
    NoticeSpec("balance_restored", "balance_restored", True, False),
    NoticeSpec("trip_warning", "trip_warning", True, False),
    NoticeSpec("relay_tripped", "command_confirmed", True, False, "trip", ("meter_id",)),
    NoticeSpec("relay_closed", "command_confirmed", True, False, "close", ("meter_id",)),
    NoticeSpec("valve_closed", "command_confirmed", True, False, "valve_close", ("meter_id",)),
    NoticeSpec("valve_opened", "command_confirmed", True, False, "valve_open", ("meter_id",)),
    NoticeSpec("bill_issued", "bill_issued", True, False, variant=("bill_id",)),
    NoticeSpec("bill_reminder", "bill_reminder", True, False, variant=("bill_id", "days")),
    NoticeSpec("bill_overdue", "bill_overdue", True, True, variant=("bill_id",)),
    NoticeSpec("alarm", "alarm", False, True, variant=("meter_id", "kind", "phase")),
    NoticeSpec("meter_offline", "meter_offline", False, True, variant=("meter_id",),
               when_stopping=False),
    NoticeSpec("dtu_offline", "dtu_offline", False, True, variant=("link", "dtu"),
               when_stopping=False),
    NoticeSpec("link_alarm", "link_alarm", False, True, variant=("link", "kind", "dtu")),
    NoticeSpec("calendar_unknown_year", "calendar_unknown_year", False, True,
               variant=("year",)),
    NoticeSpec("backup_failed", "backup_failed", False, True, variant=("target",)),
    NoticeSpec("payment_received", "payment_received", True, True, variant=("entry_id",)),
    NoticeSpec("payment_refunded", "payment_refunded", True, True, variant=("refund_id",)),
    NoticeSpec("payment_mismatch", "payment_mismatch", False, True,
               variant=("provider", "landlord", "day")),
)
NOTICES: dict[str, NoticeSpec] = {spec.kind: spec for spec in CATALOG}

MONEY_KEYS = frozenset({"balance", "level", "total", "amount_due", "amount", "paid"})


def display(key: str, value: Any) -> str:
    """One event value as a reader sees it: money as ¥12.30, times local."""
    if key in MONEY_KEYS and isinstance(value, Decimal | int | float | str):
        return money(value)
    if isinstance(value, datetime):
        return local_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return "" if value is None else str(value)


def variables(kind: str | None, data: Mapping[str, Any], *, site: str,
              account: str | None, translate: Translate,
              meter_name: str | None = None) -> dict[str, Any]:
    """The variables of a notice: every event value for display, plus the kind's extras.

    ``event`` keeps the raw values (``{{ event.balance | money }}`` in a user template).
    """
    values: dict[str, Any] = {key: display(key, value) for key, value in data.items()
                              if isinstance(key, str) and key.isidentifier()}
    values.update({"site": site, "account": account or data.get("account_id") or "",
                   "account_id": data.get("account_id") or "",
                   "meter": data.get("meter_id") or "",
                   "meter_name": meter_name or data.get("meter_id") or "", "event": dict(data)})
    extra = _EXTRAS.get(kind or "")
    if extra is not None:
        values.update(extra(data, values, translate))
    return values


def _trip(data: Mapping[str, Any], values: dict[str, Any],
          translate: Translate) -> dict[str, Any]:
    due = data.get("due")
    return {"due": local_time(due), "time": local_time(due, "%H:%M"),
            "date": local_time(due, "%Y-%m-%d")}


def _bill(data: Mapping[str, Any], values: dict[str, Any],
          translate: Translate) -> dict[str, Any]:
    start, end = data.get("period_start"), data.get("period_end")
    period = f"{display('', start)} ~ {display('', end)}" if start and end else ""
    due = data.get("due_date")
    note = translate("notify.bill_issued.due_note", due_date=display("", due)) if due else ""
    return {"period": period, "due_note": note}


def _where(data: Mapping[str, Any], values: dict[str, Any],
           translate: Translate) -> dict[str, Any]:
    account = values.get("account")
    return {"where": translate("notify.where", account=account) if account else ""}


def _alarm(data: Mapping[str, Any], values: dict[str, Any],
           translate: Translate) -> dict[str, Any]:
    kind = str(data.get("kind") or "")
    key = f"notify.alarm_kind.{kind}"
    name = translate(key)
    phase = data.get("phase")
    threshold = data.get("threshold")
    unit = f" {data['value_unit']}" if data.get("value_unit") else ""
    detail = "" if isinstance(threshold, bool) or threshold is None else translate(
        "notify.alarm_detail", value=f"{values.get('value', '')}{unit}",
        threshold=f"{values['threshold']}{unit}")
    return {**_where(data, values, translate), "alarm": kind if name == key else name,
            "phase": translate("notify.phase", phase=str(phase).upper()) if phase else "",
            "detail": detail}


def _orders(data: Mapping[str, Any], values: dict[str, Any],
            translate: Translate) -> dict[str, Any]:
    return {key: ", ".join(data.get(key) or []) or "-" for key in
            ("paid_not_credited", "credited_not_paid", "amount_differs")}


_EXTRAS: dict[str, Callable[[Mapping[str, Any], dict[str, Any], Translate], dict[str, Any]]] = {
    "trip_warning": _trip,
    "bill_issued": _bill,
    "alarm": _alarm,
    "meter_offline": _where,
    "payment_mismatch": _orders,
}
