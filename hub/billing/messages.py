"""Billing's messages (bills, move-out) in zh-CN and en."""

from __future__ import annotations

from ..i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "billing.unknown_account": "account_id: unknown account '{account}'",
        "billing.bill_id": "bill_id: {reason}",
        "billing.no_tariffs": "meter '{meter}' cannot be billed: no tariffs are configured",
        "share.no_members": "share group '{group}' has no members",
        "share.zero_weights": "share group '{group}': every member's weight ({split}) is zero "
                              "for {period}, so its cost {cost} cannot be split",
        "share.unknown_accounts": "share group '{group}': unknown account(s) {accounts}",
        "share.no_common_meter": "share group '{group}' has no common meter (it splits "
                                 "invoices: meterhub share split)",
        "share.unknown_meter": "share group '{group}': unknown meter '{meter}'",
        "share.meter_no_tariff": "share group '{group}': common meter '{meter}' has no tariff "
                                 "and the group names none",
        "share.no_tariffs": "share group '{group}': no tariffs are configured",
        "share.problem": "share group '{group}': {reason}",
        "share.meter_problem": "share group '{group}': meter '{meter}': {reason}",
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
        "share.no_members": "公摊组 '{group}' 没有成员",
        "share.zero_weights": "公摊组 '{group}'：{period} 所有成员的权重（{split}）均为 0，"
                              "公摊总额 {cost} 元无法分摊",
        "share.unknown_accounts": "公摊组 '{group}'：未知的账户 {accounts}",
        "share.no_common_meter": "公摊组 '{group}' 没有公共表（它用于分摊账单金额："
                                 "meterhub share split）",
        "share.unknown_meter": "公摊组 '{group}'：未知的表计 '{meter}'",
        "share.meter_no_tariff": "公摊组 '{group}'：公共表 '{meter}' 没有价格方案，公摊组也未指定",
        "share.no_tariffs": "公摊组 '{group}'：尚未配置任何价格方案",
        "share.problem": "公摊组 '{group}'：{reason}",
        "share.meter_problem": "公摊组 '{group}'：表计 '{meter}'：{reason}",
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
