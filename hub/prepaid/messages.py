"""Prepaid's messages (money services, control, holds) in zh-CN and en."""

from __future__ import annotations

from ..i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "prepaid.unknown_account": "account_id: unknown account '{account}' (accounts: {known})",
        "prepaid.none_configured": "none configured",
        "prepaid.reference_used": "reference: '{reference}' was already used for {amount} on "
                                  "account '{account}' (entry {entry}); a repeated reference "
                                  "must be the same payment",
        "prepaid.recharge_positive": "amount: a recharge must be above 0.00, got {amount}",
        "prepaid.recharge_max": "amount: {amount} is above this account's maximum recharge "
                                "{limit} (max_recharge)",
        "prepaid.refund_positive": "amount: a refund must be above 0.00, got {amount}",
        "prepaid.refund_covered": "amount: the refund {amount} is more than the refundable "
                                  "balance {available} (balance {balance} less emergency "
                                  "credit not repaid)",
        "prepaid.adjust_zero": "amount: an adjustment must not be 0.00",
        "prepaid.reason_operator": "reason and operator: both are required and not blank",
        "prepaid.adjust_max": "amount: {amount} is beyond the account's limit of {limit} "
                              "(max_recharge); split it or raise the limit",
        "prepaid.entry": "entry_id: {reason}",
        "prepaid.emergency_postpaid": "account_id: '{account}' is postpaid: emergency credit is "
                                      "for prepaid accounts",
        "prepaid.emergency_none": "account_id: '{account}' has no emergency credit "
                                  "(emergency_credit.amount is 0)",
        "prepaid.per_month": "month",
        "prepaid.per_year": "year",
        "prepaid.emergency_taken": "account_id: '{account}' already took its emergency credit "
                                   "this {per} (on {day}, entry {entry})",
    },
    "zh-CN": {
        "prepaid.unknown_account": "account_id：未知的账户 '{account}'（现有账户：{known}）",
        "prepaid.none_configured": "尚未配置",
        "prepaid.reference_used": "reference：流水号 '{reference}' 已用于账户 '{account}' 的 "
                                  "{amount} 元（记录 {entry}）；重复的流水号必须是同一笔款项",
        "prepaid.recharge_positive": "amount：充值金额必须大于 0.00 元，实际为 {amount}",
        "prepaid.recharge_max": "amount：{amount} 元超过该账户的单笔充值上限 {limit} 元"
                                "（max_recharge）",
        "prepaid.refund_positive": "amount：退款金额必须大于 0.00 元，实际为 {amount}",
        "prepaid.refund_covered": "amount：退款 {amount} 元超过可退余额 {available} 元"
                                  "（余额 {balance} 元减去未还的应急额度）",
        "prepaid.adjust_zero": "amount：调账金额不能为 0.00 元",
        "prepaid.reason_operator": "reason 和 operator：原因和经办人均为必填，不能为空",
        "prepaid.adjust_max": "amount：{amount} 元超过该账户的上限 {limit} 元"
                              "（max_recharge）；请分笔调账或提高上限",
        "prepaid.entry": "entry_id：{reason}",
        "prepaid.emergency_postpaid": "account_id：'{account}' 是后付费账户，应急额度仅适用于"
                                      "预付费账户",
        "prepaid.emergency_none": "account_id：'{account}' 没有应急额度"
                                  "（emergency_credit.amount 为 0）",
        "prepaid.per_month": "月",
        "prepaid.per_year": "年",
        "prepaid.emergency_taken": "account_id：'{account}' 本{per}已使用过应急额度"
                                   "（{day}，记录 {entry}）",
    },
}
add_strings(STRINGS)
