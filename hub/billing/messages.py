"""Billing's messages (bills, move-out) in zh-CN and en."""

from __future__ import annotations

from ..i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "billing.unknown_account": "account_id: unknown account '{account}'",
        "billing.bill_id": "bill_id: {reason}",
        "billing.no_tariffs": "meter '{meter}' cannot be billed: no tariffs are configured",
    },
    "zh-CN": {
        "billing.unknown_account": "account_id：未知的账户 '{account}'",
        "billing.bill_id": "bill_id：{reason}",
        "billing.no_tariffs": "表计 '{meter}' 无法出账：尚未配置任何电价或水价",
    },
}
add_strings(STRINGS)
