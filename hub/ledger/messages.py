"""The ledger's messages (accounts, entries) in zh-CN and en."""

from __future__ import annotations

from ..i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "ledger.unknown_account": "unknown account '{account}'",
        "ledger.id_fixed": "changes.id: an id never changes",
        "ledger.opening_balance": "changes.opening_balance: the opening balance (期初余额) is "
                                  "posted once, when the account starts; change a balance with "
                                  "account.adjust (with a reason)",
        "ledger.exists": "account.id: '{account}' already exists",
        "ledger.not_in_yaml": "account '{account}' is not in hub.yaml: nothing to go back to",
        "ledger.not_a_field": "fields: {fields} is not an account field (fields: {known})",
        "ledger.not_fields": "fields: {fields} are not account fields (fields: {known})",
        "ledger.reversal_zero": "a reversal needs an amount other than 0",
        "ledger.date": "expected a date like 2026-03-01, got {value}",
        "ledger.night": "expected a time range like '22:00-07:00', got {value}",
        "ledger.levels": "warning levels must be at least 0",
        "ledger.at_least": "{what} is at least {low}, got {amount}",
        "ledger.what_emergency": "emergency credit",
        "ledger.what_deposit": "a deposit",
        "ledger.what_max_recharge": "the largest recharge",
        "ledger.move_out": "move_out {move_out} is before move_in {move_in}",
        "ledger.unknown_entry": "unknown ledger entry '{entry}'",
        "ledger.reverse_reversal": "entry '{entry}' is itself a reversal: post an adjustment "
                                   "instead",
        "ledger.emergency_repaid": "emergency credit '{entry}' ({amount}) has been repaid since, "
                                   "in part or in full: reverse those emergency_repay entries "
                                   "first, then the credit",
        "ledger.amount_exact": "amount must be an exact decimal, got {amount}",
        "ledger.amount_fen": "amount {amount} has more than 2 decimals (fen)",
        "ledger.amount_zero": "a {kind} entry needs an amount other than 0",
        "ledger.credit_sign": "a {kind} entry is a credit: the amount must be above 0, got "
                              "{amount}",
        "ledger.debit_sign": "a {kind} entry is a debit: the amount must be below 0, got {amount}",
        "ledger.meter_exists": "meter.id: '{meter}' already exists",
        "ledger.unknown_meter": "meter_id: unknown meter '{meter}'",
        "ledger.meter_not_in_yaml": "meter '{meter}' is not in hub.yaml: nothing to go back to",
        "ledger.reason_opening_config": "opening balance (期初余额) from the configuration",
        "ledger.reason_opening_created": "opening balance (期初余额) given when the account was "
                                         "created",
    },
    "zh-CN": {
        "ledger.unknown_account": "未知的账户 '{account}'",
        "ledger.id_fixed": "changes.id：账户编号不能修改",
        "ledger.opening_balance": "changes.opening_balance：期初余额只在开户时记入一次；"
                                  "如需更改余额，请用 account.adjust 调账（并写明原因）",
        "ledger.exists": "account.id：账户 '{account}' 已存在",
        "ledger.not_in_yaml": "账户 '{account}' 不在 hub.yaml 中，无可恢复的配置",
        "ledger.not_a_field": "fields：{fields} 不是账户字段（可用字段：{known}）",
        "ledger.not_fields": "fields：{fields} 不是账户字段（可用字段：{known}）",
        "ledger.reversal_zero": "冲正金额不能为 0",
        "ledger.date": "应为日期（如 2026-03-01），实际为 {value}",
        "ledger.night": "应为时间段（如 '22:00-07:00'），实际为 {value}",
        "ledger.levels": "余额提醒线不能小于 0",
        "ledger.at_least": "{what}不能少于 {low} 元，实际为 {amount}",
        "ledger.what_emergency": "应急额度",
        "ledger.what_deposit": "押金",
        "ledger.what_max_recharge": "单笔充值上限",
        "ledger.move_out": "退租日期 move_out {move_out} 早于入住日期 move_in {move_in}",
        "ledger.unknown_entry": "未知的账目记录 '{entry}'",
        "ledger.reverse_reversal": "记录 '{entry}' 本身就是冲正，请改用调账",
        "ledger.emergency_repaid": "应急额度 '{entry}'（{amount} 元）已部分或全部归还：请先冲正"
                                   "那些 emergency_repay 记录，再冲正这笔额度",
        "ledger.amount_exact": "金额必须是精确的小数，实际为 {amount}",
        "ledger.amount_fen": "金额 {amount} 超过 2 位小数（精确到分）",
        "ledger.amount_zero": "{kind} 记录的金额不能为 0",
        "ledger.credit_sign": "{kind} 记录是入账：金额必须大于 0，实际为 {amount}",
        "ledger.debit_sign": "{kind} 记录是扣款：金额必须小于 0，实际为 {amount}",
        "ledger.meter_exists": "meter.id：表 '{meter}' 已存在",
        "ledger.unknown_meter": "meter_id：未知的表 '{meter}'",
        "ledger.meter_not_in_yaml": "表 '{meter}' 不在 hub.yaml 中：没有可恢复的配置",
        "ledger.reason_opening_config": "配置中的期初余额",
        "ledger.reason_opening_created": "开户时录入的期初余额",
    },
}
add_strings(STRINGS)
