"""Payments: the order book (newest first, filtered, paged), an order with its refunds and
the refund form, and the daily reconciliation reports with a button to run a day.

Lists read the order book and keep what lies in the caller's scope (a landlord sees the
orders of their accounts and the reports of their merchant accounts). A refund and a
reconciliation run call ``payment.refund`` and ``payment.reconcile`` as the logged-in user
(their role's right applies); a refusal — more than was paid on the order or than the
balance — is the service's message on the page, and nothing is changed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..i18n import Text, restored
from ..ledger import from_fen
from ..storage import from_ms
from ..web.pages import PageError, PageKit, money_text, paged, refused
from ..web.routes import allow, caller_sees, not_found
from .accounts import parse_amount
from .admin_strings import ADMIN_STRINGS
from .parts import money_of

if TYPE_CHECKING:
    from ..core import Hub
    from ..prepaid.payments import PaymentBook
    from ..storage import OrderRow

PAGE_SIZE = 50
ORDERS_READ = 5000
STATES = ("created", "credited", "partially_refunded", "refunded", "closed", "failed")
READERS = ("admin", "finance", "landlord")
MOVERS = ("admin", "finance")
DAYS_SHOWN = 7
KINDS = ("paid_not_credited", "credited_not_paid", "amount_differs")


def _yuan(text: Any) -> Decimal:
    """A report's yuan text (``"30.00"``) as a Decimal for the money filter."""
    return Decimal(str(text))


class PaymentPages:
    """``/payments``, ``/payments/orders/{order_id}`` (and its refund),
    ``/payments/reconciliation`` (and its run)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        hub.i18n.add(ADMIN_STRINGS)

    def routes(self) -> list[web.RouteDef]:
        """The routes of this module."""
        return [
            web.get("/payments", self.orders),
            web.get("/payments/orders/{order_id}", self.order),
            web.post("/payments/orders/{order_id}/refund", self.refund),
            web.get("/payments/reconciliation", self.reconciliation),
            web.post("/payments/reconciliation", self.reconcile),
        ]

    def _book(self) -> PaymentBook:
        from ..prepaid.payments import PaymentBook

        if not self.hub.has_component("payments"):
            raise refused(404, Text("web.payments_off"))
        return self.hub.component("payments", PaymentBook)

    # --- the orders ------------------------------------------------------------------------

    @allow(*READERS, scoped=True)
    async def orders(self, request: web.Request) -> web.Response:
        """The newest orders (``ORDERS_READ`` at most) in the caller's scope, newest first;
        ``state``, ``provider`` and ``account`` filter."""
        kit = PageKit.of(request.app)
        book = self._book()
        query = request.query
        state, provider = query.get("state", ""), query.get("provider", "")
        account = query.get("account", "").strip()
        rows = await book.storage.payments_read(lambda s: s.orders(
            account_id=account or None, states=(state,) if state else (),
            provider=provider or None, limit=ORDERS_READ, newest_first=True))
        rows = [row for row in rows if caller_sees(request, "account_id", row.account_id)]
        shown = paged(query, [self._row(row) for row in rows], PAGE_SIZE)
        providers = sorted({name for name, _landlord in book.merchants})
        return kit.render(request, "payments.html", rows=shown.items, total=len(rows),
                          state=state, provider=provider, account=account, states=STATES,
                          providers=providers, **shown.values())

    @staticmethod
    def _row(row: OrderRow) -> dict[str, Any]:
        return {"order_id": row.order_id, "account_id": row.account_id,
                "provider": row.provider, "landlord": row.merchant, "channel": row.channel,
                "state": row.state, "created": from_ms(row.created_ts),
                "amount": from_fen(row.amount_fen),
                "paid": None if row.paid_fen is None else from_fen(row.paid_fen),
                "paid_at": None if row.paid_ts is None else from_ms(row.paid_ts),
                "refunded": from_fen(row.refunded_fen), "transaction_id": row.transaction_id,
                "entry_id": row.entry_id, "problem": row.problem}

    async def _order_page(self, request: web.Request, order_id: str,
                          form: dict[str, str] | None = None) -> dict[str, Any] | None:
        """What the order's page shows; None when there is no such order for this caller."""
        kit = PageKit.of(request.app)
        book = self._book()
        row = await book.read(order_id)
        if row is None or not caller_sees(request, "account_id", row.account_id):
            return None
        refunds = await book.storage.payments_read(lambda s: s.refunds(order_id))
        money = money_of(self.hub)
        order = self._row(row)
        left = (order["paid"] or Decimal(0)) - order["refunded"]
        return {"order": order, "left": left, "seen": self._seen(row),
                "balance": money.ledger.balance(row.account_id) if money else None,
                "refunds": [{"refund_id": r.refund_id, "amount": from_fen(r.amount_fen),
                             "state": r.state, "reason": r.reason, "error": restored(r.error),
                             "created": from_ms(r.created_ts), "user": r.user_id}
                            for r in refunds],
                "may_refund": kit.may_call(request, "payment.refund")
                and row.state in ("credited", "partially_refunded") and left > 0,
                "form": form or {}}

    @staticmethod
    def _seen(row: OrderRow) -> str:
        """What a refund form saw of its order: another refund meanwhile (a second click)
        makes it stale."""
        return f"{row.state}:{row.refunded_fen}"

    @allow(*READERS, scoped=True)
    async def order(self, request: web.Request) -> web.Response:
        """One order: its amounts, refunds and (on a credited order) the refund form."""
        values = await self._order_page(request, request.match_info["order_id"])
        if values is None:
            return not_found()
        return PageKit.of(request.app).render(request, "payment.html", **values)

    @allow(*MOVERS, scoped=True)
    async def refund(self, request: web.Request) -> web.Response:
        """Refund all that is left, or an amount typed twice, with a reason (confirmed)."""
        kit = PageKit.of(request.app)
        t = kit.translator(request)
        order_id = request.match_info["order_id"]
        form = await kit.form(request)
        values = await self._order_page(request, order_id, form)
        if values is None:
            return not_found()
        try:
            if form.get("seen") != values["seen"]:
                raise PageError(t("pay.stale"), 409)
            data: dict[str, Any] = {"order_id": order_id}
            if form.get("whole") != "1":
                amount = parse_amount(form.get("amount", ""), "amount")
                if parse_amount(form.get("amount_again", ""), "amount_again") != amount:
                    raise PageError(t("account.amounts_differ"))
                data["amount"] = amount
            if not form.get("reason"):
                raise PageError(t("pay.reason_needed"))
            data["reason"] = form["reason"]
            asked = kit.confirm(request, form, title=t("pay.refund"), message=t(
                "pay.confirm_refund", order=order_id,
                amount=money_text(data.get("amount", values["left"]))))
            if asked is not None:
                return asked
            answer = await kit.call_service(request, "payment", "refund", data)
        except PageError as err:
            return kit.fail(request, "payment.html", err.message, status=err.status, **values)
        return kit.redirect(request, f"/payments/orders/{order_id}", t(
            "pay.refunded", amount=money_text(answer["amount"]),
            state=answer["state"],
            balance=money_text(answer["balance"])))

    # --- reconciliation --------------------------------------------------------------------

    def _landlords(self, request: web.Request) -> set[str] | None:
        """The merchant accounts whose reports the caller sees (None: every one): a scoped
        caller's are the landlords of the accounts in their view (never the site's own)."""
        view = PageKit.of(request.app).in_view(request)
        if view is None:
            return None
        money = money_of(self.hub)
        accounts = money.accounts if money is not None else {}
        return {accounts[a].landlord or "" for a in view[1] if a in accounts} - {""}

    @allow(*READERS, scoped=True)
    async def reconciliation(self, request: web.Request) -> web.Response:
        """The kept reports of ``start``..``end`` (default the last 7 days), per day,
        provider and landlord, newest day first."""
        from ..prepaid.payments.reconcile import stored_reports

        kit = PageKit.of(request.app)
        book = self._book()
        yesterday = book.yesterday()
        try:
            end = date.fromisoformat(request.query.get("end") or
                                     (yesterday + timedelta(days=1)).isoformat())
            start = date.fromisoformat(request.query.get("start") or
                                       (end - timedelta(days=DAYS_SHOWN)).isoformat())
        except ValueError as err:
            raise refused(400, Text("web.not_dates", reason=str(err))) from None
        landlords = self._landlords(request)
        reports = [self._report(report) for report in await stored_reports(book, start, end)
                   if landlords is None or report["landlord"] in landlords]
        reports.sort(key=lambda r: (r["day"], r["provider"], r["landlord"]), reverse=True)
        providers = sorted({name for name, _landlord in book.merchants})
        return kit.render(request, "reconciliation.html", reports=reports, start=start,
                          end=end, yesterday=yesterday, providers=providers, kinds=KINDS,
                          may_run=kit.may_call(request, "payment.reconcile"))

    @staticmethod
    def _report(report: dict[str, Any]) -> dict[str, Any]:
        """A kept report with its money as Decimals."""
        return {**report, "paid": _yuan(report["paid"]), "credited": _yuan(report["credited"]),
                "reconciled_at": datetime.fromisoformat(report["reconciled_at"]),
                **{kind: [{**line, "amount": _yuan(line["amount"]),
                           "paid": _yuan(line["paid"]) if "paid" in line else None}
                          for line in report[kind]] for kind in KINDS}}

    @allow(*MOVERS, scoped=True)
    async def reconcile(self, request: web.Request) -> web.Response:
        """Reconcile a chosen day now (confirmed), then the reports of that day."""
        kit = PageKit.of(request.app)
        t = kit.translator(request)
        form = await kit.form(request)
        day = form.get("day", "")
        where = f"/payments/reconciliation?start={day}&end={day}"
        try:
            date.fromisoformat(day)
        except ValueError:
            return kit.redirect(request, "/payments/reconciliation",
                                f"day: not a date: {day!r}", kind="error")
        asked = kit.confirm(request, form, title=t("pay.run"),
                            message=t("pay.confirm_run", day=day), danger=False)
        if asked is not None:
            return asked
        data = {"day": day, **({"provider": form["provider"]} if form.get("provider") else {})}
        try:
            answer = await kit.call_service(request, "payment", "reconcile", data)
        except PageError as err:
            return kit.redirect(request, where, err.message, kind="error")
        differences = sum(report["differences"] for report in answer["reports"])
        return kit.redirect(request, where, t("pay.reconciled", day=day,
                                              reports=len(answer["reports"]),
                                              differences=differences),
                            kind="warn" if differences else "ok")
