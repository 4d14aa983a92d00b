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
        "prepaid.unknown_meter": "meter_id: unknown meter '{meter}'",
        "prepaid.unknown_account_id": "account_id: unknown account '{account}'",
        "prepaid.relay": "relay",
        "prepaid.valve": "valve",
        "prepaid.no_capability": "meter_id: meter {meter} ({model}) has no {what}",
        "prepaid.no_relay_use_valve": "meter_id: meter {meter} ({model}) has no relay (use "
                                      "meter.valve)",
        "prepaid.account_no_meter": "account_id: account {account} has no meter with a {what}",
        "prepaid.account_refused": "account {account}: {reason}",
        "prepaid.meter_refused": "meter {meter}: {reason}",
        "prepaid.unknown_command": "command_id: unknown command '{command}'",
        "prepaid.meter_never_cut": "meter_id: meter {meter} has never been cut off",
        "prepaid.account_never_cut": "account_id: no meter of account {account} has ever been "
                                     "cut off",
        "prepaid.why_targets": "give command_id, meter_id or account_id",
        "prepaid.keep_on_until": "until: a keep-on hold (保电) needs an end date (force-off "
                                 "holds may be open)",
        "prepaid.until": "until: {reason}",
        "prepaid.no_hold": "account_id: account {account} has no hold",
        "prepaid.until_time": " until {time}",
        "prepaid.force_off_active": "a force-off hold is active{until} ({reason}): release it "
                                    "with account.release_hold before closing",
        "prepaid.keep_on_active": "a keep-on hold (保电) is active{until} ({reason}): release it "
                                  "with account.release_hold before tripping",
        "payments.amount_limits": "amount: {amount} is outside this account's limits {low} to "
                                  "{high} (payments: min_amount, the account's max_recharge)",
        "payments.no_provider": "provider: '{provider}' takes no payments for account "
                                "'{account}' (providers: {known})",
        "payments.channel": "channel: '{provider}' offers {channels}, not '{channel}'",
        "payments.openid": "openid: a JSAPI payment needs the payer's openid",
        "payments.payer_ip": "payer_ip: {provider}'s page for a phone browser needs the "
                             "payer's IP address",
        "payments.receipt": "reference: a counter payment needs its receipt number",
        "payments.provider_refused": "provider: {provider} refused the order: {reason}",
        "payments.entry": "{provider}: {reason}",
        "payments.duplicate": "reference: '{transaction}' was already recorded on another order",
        "payments.unknown_order": "order_id: unknown order '{order}'",
        "payments.not_credited": "order_id: order '{order}' is {state}: only a credited order "
                                 "can be refunded",
        "payments.order_problem": "order_id: {reason}",
        "payments.refund_refused": "{provider} refused the refund: {reason}",
        "payments.refund_reversed": "provider: {reason}; the ledger entry was reversed",
        "payments.refund_undone": "refund {refund}: {error}",
        "payments.refund_reason": "refund of order {order}",
        "payments.refund_left": "amount: {amount} is more than what is left to refund on order "
                                "'{order}': {left} of {paid} paid",
        "prepaid.per_month": "month",
        "prepaid.per_year": "year",
        "prepaid.emergency_taken": "account_id: '{account}' already took its emergency credit "
                                   "this {per} (on {day}, entry {entry})",
        "replace.registers": "expected registers like {{energy_import_total: 1234.56}}",
        "replace.not_counter": "{key} is not a counter register (energy_import_total, "
                               "water_total...)",
        "replace.time": "expected a time like 2026-11-05T14:30+08:00, got {value}",
        "replace.unknown_meter": "meter_id: unknown meter '{meter}'",
        "replace.same_device": "new_address: {address} is the meter's device now; give the new "
                               "device's address",
        "replace.at_needs_final": "at: a swap time goes with a typed final reading (final); a "
                                  "final reading read from the old device is taken now",
        "replace.old_silent": "final: the old device did not answer ({reason}); type its final "
                              "reading from its display (final: {{energy_import_total: ...}}) "
                              "with the swap time (at)",
        "replace.not_stored": "final: {reason}; nothing was replaced",
        "replace.future": "at: {at} is in the future",
        "replace.before_last": "at: the swap time must be after the meter's last stored reading "
                               "({last})",
        "replace.below_last": "final.{key}: {value} is below the old device's last reading "
                              "{before} ({last}): check the display",
        "replace.new_not_read": "the new device was not read ({reason}): its first reading will "
                                "be its starting point",
        "prepaid.until_form": "expected a date like 2026-03-01 or a time like 2026-03-01T18:00, "
                         "got {value}",
        "prepaid.reason_needed": "a reason is required (who asked, and why)",
        "prepaid.target": "give meter_id or account_id",
        "prepaid.reference_length": "expected a reference of 1 to 128 characters, "
                                    "got {length}",
        "prepaid.reference_printable": "a reference is printable text without line "
                                       "breaks or control characters, got {value}",
        "prepaid.no_hub_no_database": "no hub answers and there is no database at {path}",
        "prepaid.command_unknown_meter": "unknown meter '{meter}'",
        "prepaid.no_relay": "meter {meter} ({model}) has no relay",
        "prepaid.no_valve": "meter {meter} ({model}) has no valve",
        "prepaid.hold_past": "the hold would end at {until}, which is not in the future",
        "prepaid.cmd_not_configured": "meter or command no longer configured",
        "prepaid.cmd_meter_gone": "meter no longer configured",
        "prepaid.cmd_expired": "expired: meter {meter} did not report before {until}",
        "prepaid.cmd_refused": "meter refused: {reason}",
        "prepaid.cmd_no_reply": "no reply from the meter ({reason})",
        "prepaid.cmd_timeout": "timeout",
        "prepaid.cmd_link_unavailable": "link unavailable: {reason}",
        "prepaid.cmd_error": "{kind}: {reason}",
        "prepaid.cmd_not_accepted": "not accepted: {reason}",
        "prepaid.cmd_no_reason": "no reason given",
        "prepaid.cmd_no_readback": "the {point} could not be read back: {reason}",
        "prepaid.cmd_not_taken": "the meter did not take the {command}: its {point} is {actual} "
                                 "and its relay command state is {held}",
        "prepaid.cmd_still": "accepted but the {point} is still {actual}",
        "prepaid.cmd_still_why": "accepted but the {point} is still {actual} ({notes})",
        "prepaid.cmd_pre_trip": "pre-trip alarm running",
        "prepaid.cmd_protect": "meter-side protect (保电) on",
        "prepaid.cmd_after": "{reason} (after {attempts} attempts)",
        "prepaid.cmd_link_refused": "link {link} refused: {reason}",
        "prepaid.cmd_downlink_ended": "the link's downlink ended {state}",
        "prepaid.cmd_downlink_ended_why": "the link's downlink ended {state}: {reason}",
        "prepaid.cmd_report_shows": "the report after the command still shows the {point} "
                                    "{actual}",
        "prepaid.word.relay": "relay",
        "prepaid.word.valve": "valve",
        "prepaid.word.relay.open": "open",
        "prepaid.word.relay.closed": "closed",
        "prepaid.word.valve.open": "open",
        "prepaid.word.valve.closed": "closed",
        "prepaid.word.trip": "trip",
        "prepaid.word.close": "close",
        "prepaid.word.valve_open": "valve_open",
        "prepaid.word.valve_close": "valve_close",
        "prepaid.word.failed": "failed",
        "prepaid.word.expired": "expired",
        "prepaid.word.cancelled": "cancelled",
        "payments.merchant_gone": "order {order}: provider '{provider}' of landlord '{landlord}' "
                                  "is no longer configured",
        "payments.all_landlords": "(all)",
        "payments.url": "expected an http(s):// URL the providers can reach, got {value}",
        "payments.none_loaded": "none loaded",
        "payments.unknown_provider": "expected a payment provider ({known}), got unknown provider "
                                     "{value}",
        "payments.second_merchant": "a second '{provider}' entry for landlord '{landlord}': one "
                                    "merchant account each",
        "payments.rsa_private": "expected an RSA private key",
        "payments.rsa_public": "expected an RSA public key",
        "payments.rsa_certificate": "expected a certificate with an RSA key",
        "payments.no_sandbox": "{provider} has no public sandbox host: give base_url with "
                               "sandbox: true",
        "payments.reconcile_none": "provider: no provider with a remote record matches",
        "prepaid.text_length": "expected a text of 1 to 500 characters",
        "prepaid.one_target": "give meter_id or account_id, not both",
        "payments.base_url": "expected an http(s):// URL",
        "payments.date_form": "expected a date (YYYY-MM-DD)",
        "prepaid.why_force_off_already": "force-off hold: already off",
        "prepaid.why_force_off": "force-off hold",
        "prepaid.why_paid_up": "paid up and on",
        "prepaid.why_restored": "balance restored",
        "prepaid.why_keep_on": "keep-on hold (保电)",
        "prepaid.why_never_alarm": "trip mode never: alarm only",
        "prepaid.why_already_off": "in arrears and already off",
        "prepaid.why_daily": "delayed trip: waiting for the daily check time",
        "prepaid.why_window": "inside a protection window",
        "prepaid.why_arrears": "in arrears",
        "prepaid.why_grace": "postpaid bill unpaid: in its grace period",
        "prepaid.why_never": "trip mode never: no trip is sent",
        "prepaid.why_found_off": "found off at its first reading; {reason}",
        "prepaid.why_next_daily": "in arrears: next daily check",
        "prepaid.why_not_owing": "{trigger}: not owing",
        "prepaid.why_gone": "account no longer configured",
        "prepaid.why_trigger": "{trigger}: {reason}",
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
        "prepaid.unknown_meter": "meter_id：未知的表计 '{meter}'",
        "prepaid.unknown_account_id": "account_id：未知的账户 '{account}'",
        "prepaid.relay": "继电器（拉合闸）",
        "prepaid.valve": "阀门",
        "prepaid.no_capability": "meter_id：表计 {meter}（{model}）没有{what}",
        "prepaid.no_relay_use_valve": "meter_id：表计 {meter}（{model}）没有继电器"
                                      "（水表请用 meter.valve 开关阀门）",
        "prepaid.account_no_meter": "account_id：账户 {account} 没有带{what}的表计",
        "prepaid.account_refused": "账户 {account}：{reason}",
        "prepaid.meter_refused": "表计 {meter}：{reason}",
        "prepaid.unknown_command": "command_id：未知的指令 '{command}'",
        "prepaid.meter_never_cut": "meter_id：表计 {meter} 从未被断电（跳闸）或关阀",
        "prepaid.account_never_cut": "account_id：账户 {account} 的表计从未被断电（跳闸）或关阀",
        "prepaid.why_targets": "请给出 command_id、meter_id 或 account_id",
        "prepaid.keep_on_until": "until：保电必须有结束日期（强制断电可以不设结束）",
        "prepaid.until": "until：{reason}",
        "prepaid.no_hold": "account_id：账户 {account} 没有保电或强制断电",
        "prepaid.until_time": "（至 {time}）",
        "prepaid.force_off_active": "强制断电中{until}（{reason}）：请先用 account.release_hold "
                                    "解除后再合闸",
        "prepaid.keep_on_active": "保电中{until}（{reason}）：请先用 account.release_hold "
                                  "解除后再跳闸",
        "payments.amount_limits": "amount：{amount} 元超出该账户的金额范围 {low} 至 {high} 元"
                                  "（payments: min_amount 和账户的 max_recharge）",
        "payments.no_provider": "provider：'{provider}' 不为账户 '{account}' 收款"
                                "（可用的收款方式：{known}）",
        "payments.channel": "channel：'{provider}' 支持 {channels}，不支持 '{channel}'",
        "payments.openid": "openid：公众号（JSAPI）支付需要付款人的 openid",
        "payments.payer_ip": "payer_ip：{provider} 的手机网页支付需要付款人的 IP 地址",
        "payments.receipt": "reference：柜台收款需要填写收据号",
        "payments.provider_refused": "provider：{provider} 拒绝了该订单：{reason}",
        "payments.entry": "{provider}：{reason}",
        "payments.duplicate": "reference：交易号 '{transaction}' 已记在另一个订单上",
        "payments.unknown_order": "order_id：未知的订单 '{order}'",
        "payments.not_credited": "order_id：订单 '{order}' 的状态是 {state}，只有已入账的订单"
                                 "才能退款",
        "payments.order_problem": "order_id：{reason}",
        "payments.refund_refused": "{provider} 拒绝了这笔退款：{reason}",
        "payments.refund_reversed": "provider：{reason}；退款的记账已冲回",
        "payments.refund_undone": "退款 {refund}：{error}",
        "payments.refund_reason": "订单 {order} 退款",
        "payments.refund_left": "amount：{amount} 元超过订单 '{order}' 的可退金额：已付 {paid} "
                                "元，可退 {left} 元",
        "prepaid.per_month": "月",
        "prepaid.per_year": "年",
        "prepaid.emergency_taken": "account_id：'{account}' 本{per}已使用过应急额度"
                                   "（{day}，记录 {entry}）",
        "replace.registers": "应为读数寄存器，例如 {{energy_import_total: 1234.56}}",
        "replace.not_counter": "{key} 不是累计读数寄存器（如 energy_import_total、water_total）",
        "replace.time": "应为时间，例如 2026-11-05T14:30+08:00，实际为 {value}",
        "replace.unknown_meter": "meter_id：未知的表 '{meter}'",
        "replace.same_device": "new_address：{address} 已是该表当前的设备；请填写新设备的地址",
        "replace.at_needs_final": "at：换表时间须与手填的旧表止码（final）一起给出；未手填止码"
                                  "时，当场读取旧表",
        "replace.old_silent": "final：旧表没有应答（{reason}）；请按表盘手填旧表止码"
                              "（final: {{energy_import_total: ...}}）并给出换表时间（at）",
        "replace.not_stored": "final：{reason}；未进行换表",
        "replace.future": "at：{at} 是将来的时间",
        "replace.before_last": "at：换表时间须晚于该表最后一次保存的读数（{last}）",
        "replace.below_last": "final.{key}：{value} 小于旧表上次读数 {before}（{last}）：请核对"
                              "表盘",
        "replace.new_not_read": "新表未能读取（{reason}）：其第一次读数将作为起始读数",
        "prepaid.until_form": "应为日期（如 2026-03-01）或时间（如 2026-03-01T18:00），"
                         "实际为 {value}",
        "prepaid.reason_needed": "必须填写原因（谁要求的，为什么）",
        "prepaid.target": "请给出 meter_id 或 account_id",
        "prepaid.reference_length": "凭证号应为 1 到 128 个字符，实际为 {length} 个",
        "prepaid.reference_printable": "凭证号须为可打印文本，不能含换行或控制字符"
                                       "，实际为 {value}",
        "prepaid.no_hub_no_database": "MeterHub 没有响应，{path} 也没有数据库",
        "prepaid.command_unknown_meter": "未知的表 '{meter}'",
        "prepaid.no_relay": "表计 {meter}（{model}）没有继电器（不能拉合闸）",
        "prepaid.no_valve": "表计 {meter}（{model}）没有阀门（不能开关阀）",
        "prepaid.hold_past": "保电/停电的结束时间 {until} 不在将来",
        "prepaid.cmd_not_configured": "表或命令已不在配置中",
        "prepaid.cmd_meter_gone": "表已不在配置中",
        "prepaid.cmd_expired": "已过期：表 {meter} 在 {until} 之前没有上报",
        "prepaid.cmd_refused": "表拒绝执行：{reason}",
        "prepaid.cmd_no_reply": "表没有应答（{reason}）",
        "prepaid.cmd_timeout": "超时",
        "prepaid.cmd_link_unavailable": "链路不可用：{reason}",
        "prepaid.cmd_error": "{kind}：{reason}",
        "prepaid.cmd_not_accepted": "未被接受：{reason}",
        "prepaid.cmd_no_reason": "未给原因",
        "prepaid.cmd_no_readback": "无法回读{point}状态：{reason}",
        "prepaid.cmd_not_taken": "表没有执行{command}：{point}为{actual}，其继电器命令状态为{held}",
        "prepaid.cmd_still": "表已接受，但{point}仍为{actual}",
        "prepaid.cmd_still_why": "表已接受，但{point}仍为{actual}（{notes}）",
        "prepaid.cmd_pre_trip": "跳闸前告警进行中",
        "prepaid.cmd_protect": "表端保电已开启",
        "prepaid.cmd_after": "{reason}（已尝试 {attempts} 次）",
        "prepaid.cmd_link_refused": "链路 {link} 拒绝：{reason}",
        "prepaid.cmd_downlink_ended": "链路下发已结束：{state}",
        "prepaid.cmd_downlink_ended_why": "链路下发已结束：{state}：{reason}",
        "prepaid.cmd_report_shows": "命令之后的上报仍显示{point}为{actual}",
        "prepaid.word.relay": "继电器",
        "prepaid.word.valve": "阀门",
        "prepaid.word.relay.open": "断开（已拉闸）",
        "prepaid.word.relay.closed": "闭合（通电）",
        "prepaid.word.valve.open": "开启",
        "prepaid.word.valve.closed": "关闭",
        "prepaid.word.trip": "拉闸",
        "prepaid.word.close": "合闸",
        "prepaid.word.valve_open": "开阀",
        "prepaid.word.valve_close": "关阀",
        "prepaid.word.failed": "失败",
        "prepaid.word.expired": "已过期",
        "prepaid.word.cancelled": "已取消",
        "payments.merchant_gone": "订单 {order}：房东 '{landlord}' 的支付渠道 '{provider}' 已不在"
                                  "配置中",
        "payments.all_landlords": "（全部）",
        "payments.url": "应为支付渠道能访问到的 http(s):// 网址，实际为 {value}",
        "payments.none_loaded": "未加载任何渠道",
        "payments.unknown_provider": "应为支付渠道（{known}），实际为未知的渠道 {value}",
        "payments.second_merchant": "房东 '{landlord}' 的第二个 '{provider}' 条目：每个房东每个渠"
                                    "道只能有一个商户号",
        "payments.rsa_private": "应为 RSA 私钥",
        "payments.rsa_public": "应为 RSA 公钥",
        "payments.rsa_certificate": "应为含 RSA 公钥的证书",
        "payments.no_sandbox": "{provider} 没有公开的沙箱地址：使用 sandbox: true 时请给出 base_ur"
                               "l",
        "payments.reconcile_none": "provider：没有符合条件且有对账记录的支付渠道",
        "prepaid.text_length": "应为 1 到 500 个字的文字",
        "prepaid.one_target": "meter_id 和 account_id 只能给出其中一个",
        "payments.base_url": "应为以 http:// 或 https:// 开头的网址",
        "payments.date_form": "应为日期（YYYY-MM-DD）",
        "prepaid.why_force_off_already": "强制断电中：已断开",
        "prepaid.why_force_off": "强制断电",
        "prepaid.why_paid_up": "已结清且在供电",
        "prepaid.why_restored": "余额已恢复",
        "prepaid.why_keep_on": "保电中",
        "prepaid.why_never_alarm": "从不断电模式：只报警",
        "prepaid.why_already_off": "欠费且已断开",
        "prepaid.why_daily": "延时断电：等待每日检查时间",
        "prepaid.why_window": "处于保护时段内",
        "prepaid.why_arrears": "欠费",
        "prepaid.why_grace": "后付费账单未付：在宽限期内",
        "prepaid.why_never": "从不断电模式：不发送断电命令",
        "prepaid.why_found_off": "首次读数时发现已断开；{reason}",
        "prepaid.why_next_daily": "欠费：等待下次每日检查",
        "prepaid.why_not_owing": "{trigger}：已不欠费",
        "prepaid.why_gone": "账户已不在配置中",
        "prepaid.why_trigger": "{trigger}：{reason}",
    },
}
add_strings(STRINGS)
