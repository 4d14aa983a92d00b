"""The order book: payment orders from creation to credit, refunds, and late payments found.

An order is written (``created``) before its provider hears of it. A payment the provider
vouches for — its signed notification, an order query, the daily reconciliation — is first
written on the order (``paid``, with the transaction id), then credited through
``account.recharge`` with the transaction id as the reference (the ledger's idempotency key
``recharge:<transaction id>``) and a context whose origin names the order; the order then
becomes ``credited``. Every step is repeatable: the same payment told 20 times, or told again
after a crash between two steps, is credited once. A payment whose amount differs from the
order is kept on the order with the problem and never credited by itself.

A refund is reserved on the order (never more than paid on it), debited from the balance
through ``account.refund`` (never more than the balance), then asked of the provider; a
refund the provider refuses is reversed in the ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ...core import Context
from ...events import EVENT_PAYMENT_MISMATCH, EVENT_PAYMENT_ORDER, EVENT_PAYMENT_REFUNDED
from ...exceptions import ServiceValidationError
from ...i18n import Joined, Text, restored, stored, text_of
from ...ledger import from_fen, to_fen
from ...storage import OrderRow, PaymentStore, RefundRow, StorageError, from_ms, to_ms
from ...util.dt import as_local
from ...util.ids import new_id
from .. import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .provider import (
    Channel,
    NotificationRejected,
    OrderRequest,
    Payment,
    PaymentProvider,
    PaymentState,
    ProviderError,
    RefundOutcome,
    RefundState,
    Reply,
)

if TYPE_CHECKING:
    from ...core import Hub
    from ...ledger import Account, Ledger
    from ...storage import Storage

_LOGGER = logging.getLogger(__name__)

DOMAIN = "payment"
CREDITED = ("credited", "partially_refunded", "refunded")


@dataclass
class Merchant:
    """One ``providers:`` entry: a provider for one landlord's merchant account."""

    provider_name: str
    landlord: str  # '' for the site's own account (every account without its own)
    provider: PaymentProvider
    config: Mapping[str, Any]

    @property
    def path(self) -> str:
        """The notification path of this merchant account."""
        return f"/api/payments/{self.provider_name}/{self.landlord or '_'}/notify"


def refuse(service: str, *problems: str) -> ServiceValidationError:
    """The error a refused payment call raises."""
    return ServiceValidationError(f"{DOMAIN}.{service}", list(problems))


def order_view(row: OrderRow) -> dict[str, Any]:
    """An order as the services and the API show it (money in yuan, times ISO)."""
    return {
        "order_id": row.order_id, "account_id": row.account_id, "provider": row.provider,
        "landlord": row.merchant, "channel": row.channel, "amount": from_fen(row.amount_fen),
        "state": row.state, "created": from_ms(row.created_ts).isoformat(),
        "expires": from_ms(row.expires_ts).isoformat(),
        "paid": None if row.paid_fen is None else from_fen(row.paid_fen),
        "paid_at": None if row.paid_ts is None else from_ms(row.paid_ts).isoformat(),
        "transaction_id": row.transaction_id, "entry_id": row.entry_id,
        "refunded": from_fen(row.refunded_fen), "problem": row.problem,
        "pay": json.loads(row.checkout) if row.checkout else {},
    }


class PaymentBook:
    """The ``payments`` component: orders, notifications, queries, refunds."""

    def __init__(self, hub: Hub, storage: Storage, ledger: Ledger,
                 accounts: Mapping[str, Account], settings: Mapping[str, Any],
                 merchants: list[Merchant], clock: Callable[[], datetime]) -> None:
        self.hub = hub
        self.storage = storage
        self.ledger = ledger
        self.accounts = accounts
        self.settings = settings
        self.merchants = {(m.provider_name, m.landlord): m for m in merchants}
        self.clock = clock
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    # --- merchants --------------------------------------------------------------------

    def merchant_for(self, account: Account, provider: str) -> Merchant | None:
        """The merchant account an account's payments to ``provider`` go to: its landlord's,
        else the site's own."""
        return (self.merchants.get((provider, account.landlord or ""))
                or self.merchants.get((provider, "")))

    def merchant_of(self, row: OrderRow) -> Merchant:
        """The merchant account of a stored order."""
        merchant = self.merchants.get((row.provider, row.merchant))
        if merchant is None:
            raise ProviderError(Text("payments.merchant_gone", order=row.order_id,
                                     provider=row.provider,
                                     landlord=row.merchant or Text("payments.all_landlords")))
        return merchant

    def notify_url(self, merchant: Merchant) -> str:
        """Where the provider posts its notifications (``payments: public_url``)."""
        base = self.settings.get("public_url") or "http://127.0.0.1"
        return f"{base}{merchant.path}"

    async def start(self) -> None:
        """Open the providers' sessions and start watching unconfirmed orders."""
        for merchant in self.merchants.values():
            await merchant.provider.start()
        self.hub.create_background_task(self._watch(), "payment order watch")
        self.hub.create_background_task(self._nightly(), "payment reconciliation")

    async def stop(self) -> None:
        """Close the providers' sessions."""
        for merchant in self.merchants.values():
            try:
                await merchant.provider.stop()
            except Exception:
                _LOGGER.exception("Payment provider %s did not stop cleanly",
                                  merchant.provider_name)

    @contextlib.asynccontextmanager
    async def _lock(self, order_id: str) -> AsyncIterator[None]:
        """One step at a time per order (the lock goes when nobody holds or waits for it)."""
        entry = self._locks.setdefault(order_id, (asyncio.Lock(), [0]))
        entry[1][0] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1][0] -= 1
            if not entry[1][0]:
                self._locks.pop(order_id, None)

    def yesterday(self) -> date:
        """The site-local day before today."""
        return as_local(self.clock()).date() - timedelta(days=1)

    def _ms(self) -> int:
        return to_ms(self.clock())

    async def read(self, order_id: str) -> OrderRow | None:
        """One stored order."""
        return await self.storage.payments_read(lambda s: s.order(order_id))

    def _fire_order(self, row: OrderRow, state: str, previous: str | None,
                    context: Context | None) -> None:
        self.hub.bus.fire(EVENT_PAYMENT_ORDER, {
            "order_id": row.order_id, "account_id": row.account_id, "provider": row.provider,
            "state": state, "previous": previous, "amount": from_fen(row.amount_fen)},
            context=context)

    # --- creating ---------------------------------------------------------------------

    async def create_order(self, data: Mapping[str, Any], context: Context) -> dict[str, Any]:
        """Store an order, open it at the provider, answer what the payer needs."""
        service = "create_order"
        account = self.accounts.get(data["account_id"])
        if account is None:
            raise refuse(service, Text("prepaid.unknown_account_id", account=data["account_id"]))
        amount: Decimal = data["amount"]
        low = self.settings["min_amount"]
        if not low <= amount <= account.max_recharge:
            raise refuse(service, Text("payments.amount_limits", amount=amount, low=low,
                                       high=account.max_recharge))
        merchant = self.merchant_for(account, data["provider"])
        if merchant is None:
            known = ", ".join(sorted({name for name, _ in self.merchants})) \
                or Text("prepaid.none_configured")
            raise refuse(service, Text("payments.no_provider", provider=data["provider"],
                                       account=account.id, known=known))
        channel = Channel(data["channel"])
        provider = merchant.provider
        if channel not in provider.channels:
            raise refuse(service, Text("payments.channel", provider=merchant.provider_name,
                                       channels=", ".join(provider.channels), channel=channel))
        if channel == Channel.JSAPI and not data.get("openid"):
            raise refuse(service, Text("payments.openid"))
        if channel == Channel.WAP and provider.wap_phone_only and not data.get("payer_ip"):
            raise refuse(service, Text("payments.payer_ip", provider=merchant.provider_name))
        if channel == Channel.COUNTER and not data.get("reference"):
            raise refuse(service, Text("payments.receipt"))
        now = self.clock()
        expires = now + self.settings["order_ttl"]
        row = OrderRow(f"mh{new_id()}", account.id, merchant.provider_name, merchant.landlord,
                       channel, to_fen(amount), "created", to_ms(now), to_ms(now),
                       to_ms(expires), payer=data.get("openid"), context_id=context.id,
                       user_id=context.user_id)
        await self.storage.payments_write(lambda s: s.add_order(row))  # before the provider
        self._fire_order(row, "created", None, context)
        request = OrderRequest(
            row.order_id, account.id, row.amount_fen, channel,
            data.get("description") or f"{account.name} {amount}",
            self.notify_url(merchant), expires, data.get("openid"), data.get("return_url"),
            data.get("reference"), data.get("payer_ip"))
        try:
            checkout = await provider.create_order(request)
        except ProviderError as err:
            await self._set_state(row, "closed", context, problem=f"not opened: {err}")
            raise refuse(service, Text("payments.provider_refused",
                                       provider=merchant.provider_name, reason=text_of(err))) \
                from None
        text = json.dumps(dict(checkout.data), ensure_ascii=False)
        await self.storage.payments_write(
            lambda s: s.update_order(row.order_id, self._ms(), checkout=text))
        if checkout.paid is not None:
            outcome = await self.apply_payment(row.order_id, checkout.paid, "counter", context)
            if outcome == "duplicate_transaction":
                raise refuse(service, Text("payments.duplicate",
                                           transaction=checkout.paid.transaction_id))
        found = await self.read(row.order_id)
        assert found is not None
        return order_view(found)

    async def order(self, order_id: str) -> dict[str, Any]:
        """An order's state (payment.order)."""
        row = await self.read(order_id)
        if row is None:
            raise refuse(
                "order", Text("payments.unknown_order", order=order_id))
        view = order_view(row)
        view["balance"] = self.ledger.balance(row.account_id)
        return view

    async def _set_state(self, row: OrderRow, state: str, context: Context | None,
                         expected: tuple[str, ...] = (), **values: Any) -> bool:
        changed = await self.storage.payments_write(lambda s: s.update_order(
            row.order_id, self._ms(), expected=expected, state=state, **values))
        if changed and state != row.state:
            self._fire_order(row, state, row.state, context)
        return changed

    # --- a payment the provider vouches for -------------------------------------------

    async def apply_payment(self, order_id: str, payment: Payment, source: str,
                            context: Context | None = None) -> str:
        """Credit a paid order once; returns what happened: credited, duplicate,
        amount_differs, refused (the ledger refused: kept as a problem), unknown."""
        async with self._lock(order_id):
            return await self._apply(order_id, payment, source, context)

    async def _apply(self, order_id: str, payment: Payment, source: str,
                     context: Context | None) -> str:
        row = await self.read(order_id)
        if row is None:
            return "unknown"
        if row.state in CREDITED:
            if row.transaction_id != payment.transaction_id:
                _LOGGER.error("Order %s was credited for transaction %s; the %s names another "
                              "one, %s: not credited again", order_id, row.transaction_id,
                              source, payment.transaction_id)
            return "duplicate"
        paid_ms = to_ms(payment.paid_at) if payment.paid_at else self._ms()
        if row.state in ("created", "closed") and payment.transaction_id:
            other = await self.storage.payments_read(
                lambda s: s.order_by_transaction(str(payment.transaction_id)))
            if other is not None and other.order_id != order_id:
                _LOGGER.error("Order %s: transaction %s already paid order %s: not credited "
                              "twice", order_id, payment.transaction_id, other.order_id)
                await self._set_state(row, "closed", context, expected=("created",),
                                      problem=f"transaction {payment.transaction_id} already "
                                              f"paid order {other.order_id}")
                return "duplicate_transaction"
        if row.state in ("created", "closed"):
            if row.state == "closed":
                _LOGGER.warning("Order %s was closed, yet %s says it was paid (transaction "
                                "%s): the money is there, it is credited", order_id, source,
                                payment.transaction_id)
            await self._set_state(row, "paid", context, expected=("created", "closed"),
                                  transaction_id=payment.transaction_id,
                                  paid_fen=payment.amount_fen, paid_ts=paid_ms,
                                  payer=payment.payer or row.payer)
            row = await self.read(order_id) or row
        if payment.amount_fen != row.amount_fen:
            problem = (f"paid {from_fen(payment.amount_fen or 0)} for an order of "
                       f"{from_fen(row.amount_fen)} (transaction {payment.transaction_id}, "
                       f"told by the {source}): not credited")
            _LOGGER.error("Payment order %s: %s", order_id, problem)
            await self._set_state(row, "paid", context, problem=problem)
            self._mismatch(row, None, amount_differs=[order_id])
            return "amount_differs"
        return await self._credit(row, source, context)

    async def _credit(self, row: OrderRow, source: str, context: Context | None) -> str:
        merchant = self.merchants.get((row.provider, row.merchant))
        credit = Context(parent_id=row.context_id, origin=f"payment:{row.order_id}")
        try:
            answer = await self.hub.services.call("account", "recharge", {
                "account_id": row.account_id, "amount": from_fen(row.amount_fen),
                "method": merchant.provider.method if merchant else "other",
                "reference": row.transaction_id,
                "note": f"order {row.order_id} ({row.provider}, {source})"},
                context=credit, return_response=True)
        except ServiceValidationError as err:
            problem = f"the ledger refused the credit: {'; '.join(err.errors)}"
            _LOGGER.error("Payment order %s paid but not credited: %s", row.order_id, problem)
            await self._set_state(row, "paid", context, problem=problem)
            self._mismatch(row, None, paid_not_credited=[row.order_id])
            return "refused"
        await self._set_state(row, "credited", context or credit, expected=("paid",),
                              entry_id=answer["entry"]["id"], problem=None)
        return "duplicate" if answer["duplicate"] else "credited"

    def _mismatch(self, row: OrderRow, day: str | None, **lists: list[str]) -> None:
        data: dict[str, Any] = {"provider": row.provider, "landlord": row.merchant, "day": day,
                                "paid_not_credited": [], "credited_not_paid": [],
                                "amount_differs": []}
        data.update(lists)
        self.hub.bus.fire(EVENT_PAYMENT_MISMATCH, data)

    # --- notifications ----------------------------------------------------------------

    async def notification(self, provider: str, landlord: str, headers: Mapping[str, str],
                           body: bytes) -> Reply | None:
        """Verify and apply a provider's notification; the reply its documentation
        prescribes (None: no such merchant account here)."""
        merchant = self.merchants.get((provider, "" if landlord == "_" else landlord))
        if merchant is None:
            return None
        api = merchant.provider
        try:
            note = api.verify_notification(headers, body)
        except NotificationRejected as err:
            _LOGGER.warning("Payment notification to %s refused: %s", merchant.path, err.reason)
            await self._log(merchant, None, None, "refused", err.reason)
            return api.acknowledge(False, err.reason)
        row = await self.read(note.order_id)
        if row is None or (row.provider, row.merchant) != (provider, merchant.landlord):
            _LOGGER.warning("Payment notification for unknown order %s (%s): refused, the "
                            "provider will send it again", note.order_id, note.detail)
            await self._log(merchant, note.order_id, None, "retry", "unknown order")
            return api.acknowledge(False, f"unknown order {note.order_id}")
        try:
            outcome = await self._apply_note(row, note.payment, note.refund)
        except (StorageError, ProviderError) as err:
            _LOGGER.error("Payment notification for order %s not applied: %s", row.order_id,
                          err)
            return api.acknowledge(False, "not applied, send it again")
        txn = note.payment.transaction_id if note.payment else None
        await self._log(merchant, row.order_id, txn, outcome, note.detail)
        return api.acknowledge(True, outcome)

    async def _apply_note(self, row: OrderRow, payment: Payment | None,
                          refund: RefundOutcome | None) -> str:
        if refund is not None:
            await self._refund_settled(refund)
            return f"refund {refund.state}"
        if payment is None or payment.state == PaymentState.PENDING:
            return "recorded"
        if payment.state == PaymentState.CLOSED:
            await self._set_state(row, "closed", None, expected=("created",))
            return "closed"
        return await self.apply_payment(row.order_id, payment, "notification")

    async def _log(self, merchant: Merchant, order_id: str | None, txn: str | None,
                   outcome: str, detail: str) -> None:
        try:
            await self.storage.payments_write(lambda s: s.log_notification(
                self._ms(), merchant.provider_name, merchant.landlord, order_id, txn, outcome,
                detail[:500]))
        except StorageError as err:
            _LOGGER.warning("Payment notification not logged: %s", err)

    # --- orders nobody told us about --------------------------------------------------

    async def check_open_orders(self) -> None:
        """Query orders created ``query_after`` ago and still unpaid; close expired ones;
        credit orders left paid (a crash between writing and crediting)."""
        now = self._ms()
        after = int(self.settings["query_after"].total_seconds() * 1000)
        rows = await self.storage.payments_read(lambda s: s.orders(
            states=("created", "paid"), end_ts=now - after))
        for row in rows:
            try:
                await self._check(row, now)
            except (ProviderError, StorageError) as err:
                _LOGGER.warning("Payment order %s not checked: %s", row.order_id, err)
        refunds = await self.storage.payments_read(lambda s: s.refunds(states=("processing",)))
        for refund in refunds:
            try:
                order = await self.read(refund.order_id)
                if order is not None:
                    outcome = await self.merchant_of(order).provider.query_refund(
                        order.order_id, refund.refund_id)
                    if outcome.state != RefundState.PROCESSING:
                        await self._refund_settled(outcome)
            except (ProviderError, StorageError) as err:
                _LOGGER.warning("Refund %s not checked: %s", refund.refund_id, err)

    async def _check(self, row: OrderRow, now: int) -> None:
        if row.state == "paid":
            if row.problem is None:  # written paid, the credit not done yet
                await self.apply_payment(row.order_id, Payment(
                    row.order_id, PaymentState.PAID, row.transaction_id, row.paid_fen),
                    "order book")
            return
        provider = self.merchant_of(row).provider
        found = await provider.query_order(row.order_id)
        if found.state == PaymentState.PAID:
            await self.apply_payment(row.order_id, found, "order query")
        elif found.state == PaymentState.CLOSED:
            await self._set_state(row, "closed", None, expected=("created",))
        elif row.expires_ts <= now:
            if found.state != PaymentState.UNKNOWN:  # never opened there: nothing to close
                await provider.close_order(row.order_id)
            await self._set_state(row, "closed", None, expected=("created",),
                                  problem="expired unpaid")

    async def _watch(self) -> None:
        every = max(1.0, self.settings["query_every"].total_seconds())
        while True:
            await asyncio.sleep(every)
            try:
                await self.check_open_orders()
            except Exception:
                _LOGGER.exception("Checking open payment orders failed")

    async def _nightly(self) -> None:
        """Reconcile yesterday each night at ``reconcile_at``; at start, catch up yesterday
        if its time passed while the hub was down (no report kept for it)."""
        from .reconcile import reconcile_all, seconds_to_next

        at = self.settings["reconcile_at"]
        day = self.yesterday()
        missed = as_local(self.clock()).time() >= at and not await self.storage.payments_read(
            lambda s: s.reconciliations(day.isoformat(), day.isoformat()))
        while True:
            if not missed:
                await asyncio.sleep(seconds_to_next(self.clock(), at))
            missed = False
            try:
                await reconcile_all(self, self.yesterday())
            except Exception:
                _LOGGER.exception("The nightly payment reconciliation failed")

    # --- refunds ----------------------------------------------------------------------

    async def refund(self, data: Mapping[str, Any], context: Context) -> dict[str, Any]:
        """Pay (part of) an order back: reserved on the order, debited, asked of the
        provider; reversed in the ledger if the provider refuses."""
        service = "refund"
        row = await self.read(data["order_id"])
        if row is None:
            raise refuse(service, Text("payments.unknown_order", order=data["order_id"]))
        if row.state not in CREDITED or row.paid_fen is None:
            raise refuse(service, Text("payments.not_credited", order=row.order_id,
                                       state=row.state))
        try:
            merchant = self.merchant_of(row)
        except ProviderError as err:
            raise refuse(service, Text("payments.order_problem", reason=str(err))) from None
        amount_fen = to_fen(data["amount"]) if data.get("amount") is not None else None
        now = self._ms()
        reserve = RefundRow(f"rf{new_id()}", row.order_id, 0, "pending", data.get("reason"),
                            None, None, None, now, now, context.id, context.user_id)
        async with self._lock(row.order_id):
            def reserve_it(store: PaymentStore) -> tuple[RefundRow, int]:
                assert row.paid_fen is not None
                left = row.paid_fen - store.refunded_fen(row.order_id)
                refund = replace(reserve, amount_fen=left if amount_fen is None else amount_fen)
                if 0 < refund.amount_fen <= left:
                    store.add_refund(refund, row.paid_fen)
                return refund, left

            refund, left = await self.storage.payments_write(reserve_it)
            if refund.amount_fen <= 0 or refund.amount_fen > left:
                raise refuse(service, Text("payments.refund_left",
                                           amount=from_fen(refund.amount_fen),
                                           order=row.order_id, left=from_fen(left),
                                           paid=from_fen(row.paid_fen)))
            await self._order_refunded(row.order_id, context)
        try:
            debit = await self.hub.services.call("account", "refund", {
                "account_id": row.account_id, "amount": from_fen(refund.amount_fen),
                "reference": refund.refund_id, "method": merchant.provider.method,
                "reason": data.get("reason") or Text("payments.refund_reason",
                                                     order=row.order_id)},
                context=context, return_response=True)
        except ServiceValidationError as err:
            await self._refund_failed(refund, stored(Joined(err.errors)), context)
            raise refuse(service, *err.errors) from None
        await self.storage.payments_write(lambda s: s.update_refund(
            refund.refund_id, self._ms(), entry_id=debit["entry"]["id"]))
        try:
            outcome = await merchant.provider.refund(
                row.order_id, refund.refund_id, refund.amount_fen, row.paid_fen,
                data.get("reason") or "refund", self.notify_url(merchant))
        except ProviderError as err:  # maybe done there: the watch asks again later
            _LOGGER.warning("Refund %s: no answer from %s (%s); it is asked again later",
                            refund.refund_id, row.provider, err)
            outcome = RefundOutcome(refund.refund_id, RefundState.PROCESSING, error=str(err))
        await self._refund_settled(outcome, context)
        found = await self.storage.payments_read(lambda s: s.refund(refund.refund_id))
        assert found is not None
        if found.state == "failed":
            raise refuse(service, Text("payments.refund_reversed",
                                       reason=restored(found.error) or ""))
        return {"refund_id": found.refund_id, "order_id": row.order_id, "state": found.state,
                "amount": from_fen(found.amount_fen), "entry_id": found.entry_id,
                "balance": self.ledger.balance(row.account_id)}

    async def _order_refunded(self, order_id: str, context: Context | None) -> None:
        """Set an order's refunded amount and state from its live refunds."""
        row = await self.read(order_id)
        if row is None or row.paid_fen is None:
            return
        refunded = await self.storage.payments_read(lambda s: s.refunded_fen(order_id))
        state = ("refunded" if refunded >= row.paid_fen else
                 "partially_refunded" if refunded else "credited")
        await self.storage.payments_write(lambda s: s.update_order(
            order_id, self._ms(), refunded_fen=refunded))
        if state != row.state:
            await self._set_state(row, state, context)

    async def _refund_failed(self, refund: RefundRow, error: str,
                             context: Context | None) -> None:
        await self.storage.payments_write(lambda s: s.update_refund(
            refund.refund_id, self._ms(), state="failed", error=error))
        await self._order_refunded(refund.order_id, context)

    async def _refund_settled(self, outcome: RefundOutcome,
                              context: Context | None = None) -> None:
        """A refund's outcome (the provider's answer, its notification, a query)."""
        refund = await self.storage.payments_read(lambda s: s.refund(outcome.refund_id))
        if refund is None or refund.state in ("success", "failed"):
            return  # unknown, or settled before (a repeated notification)
        if outcome.state == RefundState.PROCESSING:
            await self.storage.payments_write(lambda s: s.update_refund(
                refund.refund_id, self._ms(), state="processing",
                provider_refund_id=outcome.provider_refund_id))
            return
        row = await self.read(refund.order_id)
        assert row is not None
        if outcome.state == RefundState.FAILED:
            error = Text("payments.refund_refused", provider=row.provider,
                         reason=outcome.error or "")
            if refund.entry_id is not None:
                await self.ledger.reverse(refund.entry_id, reason=Text(
                    "payments.refund_undone", refund=refund.refund_id, error=error),
                                          operator="payments", context=context)
            await self._refund_failed(refund, stored(error), context)
            return
        changed = await self.storage.payments_write(lambda s: s.update_refund(
            refund.refund_id, self._ms(), expected=("pending", "processing"), state="success",
            provider_refund_id=outcome.provider_refund_id))
        if changed:
            await self._order_refunded(refund.order_id, context)
            self.hub.bus.fire(EVENT_PAYMENT_REFUNDED, {
                "account_id": row.account_id, "order_id": row.order_id,
                "refund_id": refund.refund_id, "provider": row.provider,
                "amount": from_fen(refund.amount_fen), "state": "success",
                "balance": self.ledger.balance(row.account_id)}, context=context)
