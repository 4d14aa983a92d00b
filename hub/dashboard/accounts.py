"""Accounts: the list, an account's page (balance, ledger, meters) and what is done at the
counter — recharge with a printable receipt, refund, adjustment and its undo (a reversal),
trip policy, holds (保电), emergency credit, move-in, and move-out in one step with the
statement printable.

Every change calls the account services as the logged-in user (their role's rights and
scope apply). A form carries the account's ``version`` as the page showed it: when another
user changed the account meanwhile (a payment, a setting), the change is refused with a
message and nothing is done. A recharge or refund form also carries an idempotency key: sent
twice (a double click), it counts once and shows the same receipt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..i18n import Text
from ..util.dt import utcnow
from ..web.pages import PageError, PageKit, paged, refused, refused_unknown
from ..web.routes import allow
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .figures import balance_state
from .parts import control_of, metering_of, money_of

if TYPE_CHECKING:
    from ..core import Hub
    from ..ledger import Account, Entry, Money

Handler = Callable[[web.Request, "Account", dict[str, str]], Awaitable[web.Response]]
PAGE_SIZE = 100
LEDGER_SHOWN = 50
METHODS = ("cash", "wechat", "alipay", "bank", "other")
CHANGERS = ("admin", "landlord", "operator", "finance")
MANUAL_KINDS = ("recharge", "refund", "adjustment", "reversal", "emergency_credit", "deposit")
ACTIONS = ("recharge", "refund", "adjust", "reverse", "trip_policy", "hold", "release_hold",
           "emergency_credit", "move_in")  # the keys of AccountPages.handlers


def parse_amount(text: str, field: str) -> Decimal:
    """A money amount typed in a form: digits with at most two decimals, above zero."""
    try:
        amount = Decimal(text.replace(",", "").replace("¥", "").strip())
    except InvalidOperation:
        raise PageError(Text("page.amount_form", field=field, text=text)) from None
    if not amount.is_finite() or amount <= 0:
        raise PageError(Text("page.amount_positive", field=field, text=text))
    if amount != amount.quantize(Decimal("0.01")):
        raise PageError(Text("page.amount_fen", field=field, text=text))
    return amount


def signed_amount(text: str, field: str) -> Decimal:
    """A signed money amount (an adjustment): ``-12.50`` takes money off."""
    negative = text.strip().startswith("-")
    amount = parse_amount(text.strip().removeprefix("-").removeprefix("+"), field)
    return -amount if negative else amount


class AccountPages:
    """``/accounts``, ``/accounts/{account_id}`` and its forms, receipt and move-out."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.handlers: dict[str, Handler] = {
            "recharge": self._recharge, "refund": self._refund, "adjust": self._adjust,
            "reverse": self._reverse, "trip_policy": self._trip_policy, "hold": self._hold,
            "release_hold": self._release_hold, "emergency_credit": self._emergency_credit,
            "move_in": self._move_in}

    def routes(self) -> list[web.RouteDef]:
        """The routes of this module."""
        return [
            web.get("/accounts", self.accounts),
            web.get("/accounts/{account_id}", self.account),
            web.get("/accounts/{account_id}/receipt/{entry_id}", self.receipt),
            web.get("/accounts/{account_id}/move_out", self.move_out_page),
            web.post("/accounts/{account_id}/move_out", self.move_out),
            web.post("/accounts/{account_id}/{action:" + "|".join(ACTIONS) + "}", self.change),
        ]

    # --- components ------------------------------------------------------------------------

    def _money(self) -> Money:
        money = money_of(self.hub)
        if money is None:
            raise refused(503, Text("web.ledger_off"))
        return money

    def _account(self, request: web.Request) -> Account:
        account = self._money().accounts.get(request.match_info["account_id"])
        if account is None:
            raise refused_unknown("account", request.match_info["account_id"])
        return account

    async def version(self, account: Account) -> str:
        """What a form saw of the account: its settings, holds and the last entry a person
        made (a payment, refund, adjustment...); a change by anyone else makes the form
        stale. Charges of consumption do not: they arrive all the time."""
        last = await self._money().ledger.entries(account.id, kinds=MANUAL_KINDS, limit=1)
        seen = f"{account!r}|{last[0].id if last else ''}"
        control = control_of(self.hub)
        if control is not None:
            seen += f"|{control.holds.open_rows(account.id)!r}"
        return hashlib.sha256(seen.encode()).hexdigest()[:16]

    # --- the list --------------------------------------------------------------------------

    @allow(scoped=True)
    async def accounts(self, request: web.Request) -> web.Response:
        """Every account in the caller's scope, with its balance; search and filters."""
        kit = PageKit.of(request.app)
        money = self._money()
        view = kit.in_view(request)
        query = request.query
        search = query.get("q", "").strip().lower()
        state = query.get("state", "")
        building = query.get("building", "")
        rows = []
        buildings = set()
        for account_id, account in money.accounts.items():
            if view is not None and account_id not in view[1]:
                continue
            if account.tags.get("building"):
                buildings.add(account.tags["building"])
            row = self._row(account)
            if building and account.tags.get("building") != building:
                continue
            if search and search not in f"{account_id} {account.name} " \
                    f"{' '.join(str(v) for v in account.contacts.values())}".lower():
                continue
            if state == "act_on" and row["state"] not in ("arrears", "low"):
                continue
            if state in ("arrears", "low") and row["state"] != state:
                continue
            rows.append(row)
        rows.sort(key=lambda row: (row["balance"], row["id"]) if state else row["id"])
        shown = paged(query, rows, PAGE_SIZE)
        return kit.render(request, "accounts.html", rows=shown.items, total=len(rows),
                          search=query.get("q", ""), state=state, building=building,
                          buildings=sorted(buildings), **shown.values())

    def _row(self, account: Account) -> dict[str, Any]:
        balance = self._money().ledger.balance(account.id)
        state = balance_state(account, balance) or "ok"
        control = control_of(self.hub)
        hold = control.holds.active(account.id) if control is not None else None
        return {"id": account.id, "name": account.name, "balance": balance, "state": state,
                "billing": account.billing, "hold": hold.kind if hold else None,
                "moved_out": account.move_out, "tags": account.tags}

    # --- one account -----------------------------------------------------------------------

    async def _page(self, request: web.Request, account: Account,
                    form: dict[str, str] | None = None, failed: str | None = None
                    ) -> dict[str, Any]:
        kit = PageKit.of(request.app)
        money = self._money()
        entries = await money.ledger.entries(account.id, limit=LEDGER_SHOWN)
        reversed_ids = {entry.reverses for entry in entries if entry.reverses}
        metering = metering_of(self.hub)
        control = control_of(self.hub)
        meters = []
        for meter in (metering.meters_of(account.id) if metering else []):
            point = "relay" if "relay" in meter.model.capabilities else \
                "valve" if "valve" in meter.model.capabilities else None
            state = control.commands.known_state(meter.id, point) if control and point else None
            meters.append({"id": meter.id, "name": meter.name, "kind": meter.kind,
                           "online": meter.online, "point": point, "state": state})
        holds = control.holds.open_rows(account.id) if control is not None else []
        schedule = control.trips.pending(account.id) if control is not None else None
        may = {name: kit.may_call(request, f"account.{name}") for name in (
            "recharge", "refund", "adjust", "reverse", "update", "hold", "release_hold",
            "emergency_credit", "move_out")}
        return {"account": account, "row": self._row(account), "entries": entries,
                "reversed_ids": reversed_ids, "meters": meters, "holds": holds,
                "schedule": schedule, "emergency_used": money.ledger.emergency_used(account.id),
                "version": await self.version(account), "key": kit.new_key(), "methods": METHODS,
                "may": may, "form": form or {}, "today": kit.now().date(),
                "failed": failed}

    @allow(scoped=True)
    async def account(self, request: web.Request) -> web.Response:
        """An account's page."""
        account = self._account(request)
        return PageKit.of(request.app).render(request, "account.html",
                                              **await self._page(request, account))

    @allow(scoped=True)
    async def receipt(self, request: web.Request) -> web.Response:
        """A printable receipt of one payment or refund of the account."""
        kit = PageKit.of(request.app)
        account = self._account(request)
        entry = await self._money().ledger.entry(request.match_info["entry_id"])
        if entry is None or entry.account_id != account.id:
            raise refused(404, Text("web.no_entry"))
        return kit.render(request, "receipt.html", account=account, entry=entry)

    # --- changes ---------------------------------------------------------------------------

    @allow(*CHANGERS, scoped=True)
    async def change(self, request: web.Request) -> web.Response:
        """One of the account forms; on a refusal the page again with why (4xx)."""
        kit = PageKit.of(request.app)
        account = self._account(request)
        action = request.match_info["action"]
        form = await kit.form(request)
        try:
            done = await self._replayed(request, account, action, form)
            if done is not None:
                return done
            if form.get("version") != await self.version(account):
                raise PageError(kit.translator(request)("account.stale"), 409)
            if action in ("adjust", "reverse", "refund"):
                t = kit.translator(request)
                asked = kit.confirm(request, form, title=t(f"account.{action}"),
                                    message=t(f"account.confirm.{action}", name=account.name,
                                              amount=form.get("amount", "")))
                if asked is not None:
                    return asked
            return await self.handlers[action](request, account, form)
        except PageError as err:
            return kit.fail(request, "account.html", err.message, status=err.status,
                            **await self._page(request, account, form, action))

    async def _replayed(self, request: web.Request, account: Account, action: str,
                        form: dict[str, str]) -> web.Response | None:
        """A recharge or refund whose key was used already: its receipt (counted once)."""
        if action not in ("recharge", "refund") or not form.get("key"):
            return None
        entry = await self._money().ledger.find(f"{action}:{self._reference(form)}")
        if entry is None:
            return None
        if entry.account_id != account.id:
            raise PageError(Text("page.reference_used", entry=entry.id))
        return PageKit.of(request.app).redirect(
            request, f"/accounts/{account.id}/receipt/{entry.id}",
            PageKit.of(request.app).translator(request)("account.counted_once"), kind="warn")

    @staticmethod
    def _reference(form: dict[str, str]) -> str:
        """The payment's reference: the one typed (a receipt number), else the form's key."""
        return form.get("reference") or f"counter-{form.get('key', '')}"

    async def _call(self, request: web.Request, service: str, data: dict[str, Any]) -> Any:
        domain = "meter" if service in ("trip", "close") else "account"
        return await PageKit.of(request.app).call_service(request, domain, service, data)

    async def _recharge(self, request: web.Request, account: Account,
                        form: dict[str, str]) -> web.Response:
        amount = parse_amount(form.get("amount", ""), "amount")
        if form.get("amount_again", "") and \
                parse_amount(form["amount_again"], "amount_again") != amount:
            raise PageError(PageKit.of(request.app).translator(request)(
                "account.amounts_differ"))
        if not form.get("amount_again") and form.get("confirmed") != "1":
            raise PageError(PageKit.of(request.app).translator(request)(
                "account.amount_twice"))
        data = {"account_id": account.id, "amount": amount, "method": form.get("method", ""),
                "reference": self._reference(form)}
        if form.get("note"):
            data["note"] = form["note"]
        answer = await self._call(request, "recharge", data)
        return self._to_receipt(request, account, answer, "account.recharged")

    def _to_receipt(self, request: web.Request, account: Account, answer: Any,
                    message: str) -> web.Response:
        kit = PageKit.of(request.app)
        entry_id = (answer or {}).get("entry", {}).get("id") if isinstance(answer, dict) else None
        where = (f"/accounts/{account.id}/receipt/{entry_id}" if entry_id
                 else f"/accounts/{account.id}")
        return kit.redirect(request, where, kit.translator(request)(message))

    async def _refund(self, request: web.Request, account: Account,
                      form: dict[str, str]) -> web.Response:
        amount = parse_amount(form.get("amount", ""), "amount")
        answer = await self._call(request, "refund", {
            "account_id": account.id, "amount": amount, "method": form.get("method", "cash"),
            "reference": self._reference(form), "reason": form.get("reason") or "refund"})
        return self._to_receipt(request, account, answer, "account.refunded")

    async def _adjust(self, request: web.Request, account: Account,
                      form: dict[str, str]) -> web.Response:
        amount = signed_amount(form.get("amount", ""), "amount")
        if not form.get("reason"):
            raise PageError(Text("page.adjust_reason"))
        await self._call(request, "adjust", {"account_id": account.id, "amount": amount,
                                             "reason": form["reason"],
                                             "reference": f"page-{form.get('key', '')}"})
        return self._back(request, account, "account.adjusted")

    async def _reverse(self, request: web.Request, account: Account,
                       form: dict[str, str]) -> web.Response:
        entry = await self._money().ledger.entry(form.get("entry_id", ""))
        if entry is None or entry.account_id != account.id:
            raise PageError(Text("page.no_entry"), 404)
        await self._call(request, "reverse", {"entry_id": entry.id,
                                              "reason": form.get("reason") or "undo"})
        return self._back(request, account, "account.reversed")

    async def _trip_policy(self, request: web.Request, account: Account,
                           form: dict[str, str]) -> web.Response:
        policy: dict[str, Any] = {"mode": form.get("mode", "")}
        if form.get("at"):
            policy["at"] = form["at"]
        await self._call(request, "update", {"account_id": account.id,
                                             "changes": {"trip_policy": policy}})
        return self._back(request, account, "account.policy_saved")

    async def _hold(self, request: web.Request, account: Account,
                    form: dict[str, str]) -> web.Response:
        data: dict[str, Any] = {"account_id": account.id, "kind": form.get("kind", ""),
                                "reason": form.get("reason", "")}
        if form.get("until"):
            data["until"] = form["until"]
        await self._call(request, "hold", data)
        return self._back(request, account, "account.hold_set")

    async def _release_hold(self, request: web.Request, account: Account,
                            form: dict[str, str]) -> web.Response:
        await self._call(request, "release_hold", {"account_id": account.id,
                                                   "reason": form.get("reason", "")})
        return self._back(request, account, "account.hold_released")

    async def _emergency_credit(self, request: web.Request, account: Account,
                                form: dict[str, str]) -> web.Response:
        await self._call(request, "emergency_credit", {"account_id": account.id})
        return self._back(request, account, "account.emergency_given")

    async def _move_in(self, request: web.Request, account: Account,
                       form: dict[str, str]) -> web.Response:
        changes: dict[str, Any] = {"move_in": form.get("move_in", "")}
        if form.get("name"):
            changes["name"] = form["name"]
        if form.get("phone"):
            changes["contacts"] = {**account.contacts, "phone": form["phone"]}
        if form.get("deposit"):
            changes["deposit"] = str(parse_amount(form["deposit"], "deposit"))
        if account.move_out is not None:  # the last tenant's move-out, set at runtime
            await self._call(request, "revert", {"account_id": account.id,
                                                 "fields": ["move_out"]})
            left = self._money().accounts[account.id].move_out
            if left is not None:
                raise PageError(Text("page.moved_out_yaml", day=str(left)))
        await self._call(request, "update", {"account_id": account.id, "changes": changes})
        return self._back(request, account, "account.moved_in")

    def _back(self, request: web.Request, account: Account, message: str) -> web.Response:
        kit = PageKit.of(request.app)
        return kit.redirect(request, f"/accounts/{account.id}", kit.translator(request)(message))

    # --- move-out --------------------------------------------------------------------------

    @allow(scoped=True)
    async def move_out_page(self, request: web.Request) -> web.Response:
        """The move-out form: date, final read, and what happens to the balance."""
        account = self._account(request)
        return PageKit.of(request.app).render(request, "move_out.html",
                                              **await self._page(request, account))

    @allow("admin", "finance", scoped=True)
    async def move_out(self, request: web.Request) -> web.Response:
        """Final read, final bill (pro-rata), the deposit applied and what remains paid back
        (billing's move-out settlement); then the statement, printable."""
        kit = PageKit.of(request.app)
        t = kit.translator(request)
        account = self._account(request)
        form = await kit.form(request)
        try:
            if form.get("version") != await self.version(account):
                raise PageError(t("account.stale"), 409)
            asked = kit.confirm(request, form, title=t("account.move_out"),
                                message=t("account.confirm.move_out", name=account.name,
                                          date=form.get("date", "")))
            if asked is not None:
                return asked
            data: dict[str, Any] = {"account_id": account.id, "read": form.get("read") == "1",
                                    "format": "text"}
            if form.get("date"):
                data["date"] = form["date"]
            result = await kit.call_service(request, "account", "move_out", data)
        except PageError as err:
            return kit.fail(request, "move_out.html", err.message, status=err.status,
                            **await self._page(request, account, form))
        account = self._money().accounts.get(account.id, account)  # now with its move-out
        return kit.render(request, "statement.html", account=account, result=result,
                          balance=self._money().ledger.balance(account.id), printed=utcnow())


def entry_author(entry: Entry) -> str:
    """Who made an entry (the user, else the operator typed, else what posted it)."""
    return entry.context.user_id or entry.operator or entry.context.origin or ""
