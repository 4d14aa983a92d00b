"""Cash at the landlord's desk (现金): an operator records a recharge with its receipt number.

The order is paid the moment it is recorded: the receipt number is its transaction id, so
it is credited once (the ledger key ``recharge:<receipt>``, the same as ``meterhub account
recharge --reference <receipt>``). The checkout holds the receipt's lines to print. A refund
is cash handed back. There is no remote record, so no notification and no reconciliation.
"""

from __future__ import annotations

from collections.abc import Mapping

from hub.hookspecs import hookimpl
from hub.prepaid.payments import (
    Channel,
    Checkout,
    Notification,
    NotificationRejected,
    OrderRequest,
    Payment,
    PaymentProvider,
    PaymentProviderType,
    PaymentState,
    RefundOutcome,
    RefundState,
    Reply,
)
from hub.util.dt import as_local


class Cash(PaymentProvider):
    """The landlord's cash desk."""

    method = "cash"
    channels = (Channel.COUNTER,)
    remote = False

    async def create_order(self, request: OrderRequest) -> Checkout:
        """Paid on the spot; the receipt to print."""
        receipt = request.reference or request.order_id
        now = self.clock()
        lines = [f"receipt: {receipt}", f"account: {request.account_id}",
                 f"amount: {request.amount_fen // 100}.{request.amount_fen % 100:02d}",
                 f"time: {as_local(now).strftime('%Y-%m-%d %H:%M')}",
                 f"order: {request.order_id}"]
        return Checkout({"receipt": receipt, "receipt_lines": lines},
                        paid=Payment(request.order_id, PaymentState.PAID, receipt,
                                     request.amount_fen, now))

    async def query_order(self, order_id: str) -> Payment:
        """The desk keeps no record of its own."""
        return Payment(order_id, PaymentState.UNKNOWN)

    async def close_order(self, order_id: str) -> None:
        """Nothing to close: a cash order is paid when created."""

    async def refund(self, order_id: str, refund_id: str, amount_fen: int, total_fen: int,
                     reason: str, notify_url: str) -> RefundOutcome:
        """Cash handed back at once."""
        return RefundOutcome(refund_id, RefundState.SUCCESS)

    async def query_refund(self, order_id: str, refund_id: str) -> RefundOutcome:
        """Handed back when recorded."""
        return RefundOutcome(refund_id, RefundState.SUCCESS)

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Cash sends no notifications."""
        raise NotificationRejected(  # i18n: internal (answered to the provider; logged)
            "the cash desk sends no notifications")

    def acknowledge(self, ok: bool, message: str) -> Reply:
        """Plain text."""
        return Reply(200 if ok else 400, message)



CASH = PaymentProviderType("cash", {}, Cash, "cash at the desk, with a receipt number")


@hookimpl
def register_payment_providers() -> list[PaymentProviderType]:
    """Cash."""
    return [CASH]
