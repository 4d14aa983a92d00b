"""Billing's messages (bills, move-out) in zh-CN and en."""

from __future__ import annotations

from ..i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "billing.unknown_account": "account_id: unknown account '{account}'",
        "billing.bill_id": "bill_id: {reason}",
        "billing.no_tariffs": "meter '{meter}' cannot be billed: no tariffs are configured",
        "billing.tariff_entry": "expected a tariff (a mapping with id and type), got {value}",
        "billing.none_loaded": "none loaded",
        "billing.none_configured": "none configured",
        "billing.tariff_type": "unknown tariff type (known: {known}), got {value}",
        "billing.tariff_id_key": "the id differs from its key '{key}', got {value}",
        "billing.tariff_unknown_type": "tariff '{tariff}': unknown type '{type}'",
        "billing.unknown_tariff": "unknown tariff '{tariff}' (tariffs: {known})",
        "billing.meter_no_tariff": "meter '{meter}' has no tariff (set its tariff: or a "
                                   "tariff_defaults rule)",
    },
    "zh-CN": {
        "billing.unknown_account": "account_id：未知的账户 '{account}'",
        "billing.bill_id": "bill_id：{reason}",
        "billing.no_tariffs": "表计 '{meter}' 无法出账：尚未配置任何电价或水价",
        "billing.tariff_entry": "应为一个价格方案（含 id 和 type 的映射），实际为 {value}",
        "billing.none_loaded": "未加载任何",
        "billing.none_configured": "尚未配置",
        "billing.tariff_type": "未知的计价类型（已知：{known}），实际为 {value}",
        "billing.tariff_id_key": "id 与其键 '{key}' 不一致，实际为 {value}",
        "billing.tariff_unknown_type": "价格方案 '{tariff}'：未知的计价类型 '{type}'",
        "billing.unknown_tariff": "未知的价格方案 '{tariff}'（现有方案：{known}）",
        "billing.meter_no_tariff": "表计 '{meter}' 没有价格方案（请设置其 tariff:，"
                                   "或添加一条 tariff_defaults 规则）",
    },
}
add_strings(STRINGS)
