"""The notices' built-in texts (zh-CN and en), added to the hub's i18n table.

Keys: ``notify.<notice>.title`` and ``notify.<notice>.message`` with ``{placeholders}`` filled
from the notice's variables (money already formatted as ¥12.30, times in the site's zone).
"""

from __future__ import annotations

ZH_CN: dict[str, str] = {
    "notify.default_title": "{site}",
    "notify.meter_named": "表计 {meter}",
    "notify.meter_named.electricity": "电表 {meter}",
    "notify.meter_named.water": "水表 {meter}",
    "notify.balance_low.title": "余额不足提醒",
    "notify.balance_low.message": (
        "【{site}】{account}，您的账户余额为 {balance}，已低于提醒线 {level}，"
        "请及时充值，以免停电停水。"),
    "notify.balance_exhausted.title": "欠费提醒",
    "notify.balance_exhausted.message": (
        "【{site}】{account}，您的账户余额为 {balance}，已欠费。请尽快充值，"
        "欠费将按规定停止供电/供水。"),
    "notify.balance_restored.title": "充值到账",
    "notify.balance_restored.message": (
        "【{site}】{account}，您的账户余额已恢复为 {balance}，感谢缴费。"
        "如已停电/停水，将自动恢复。"),
    "notify.trip_warning.title": "停电预告",
    "notify.trip_warning.message": (
        "【{site}】{account}，您的账户已欠费，将于 {due} 停止供电/供水。"
        "请在此之前充值，充值后不会停电。"),
    "notify.relay_tripped.title": "已停电",
    "notify.relay_tripped.message": (
        "【{site}】{account}，{meter_name} 已断电。如因欠费，充值后将自动恢复供电。"),
    "notify.relay_closed.title": "已恢复供电",
    "notify.relay_closed.message": "【{site}】{account}，{meter_name} 已恢复供电。",
    "notify.valve_closed.title": "已停水",
    "notify.valve_closed.message": (
        "【{site}】{account}，{meter_name} 阀门已关闭。如因欠费，充值后将自动恢复供水。"),
    "notify.valve_opened.title": "已恢复供水",
    "notify.valve_opened.message": "【{site}】{account}，{meter_name} 阀门已打开，恢复供水。",
    "notify.bill_issued.title": "账单通知",
    "notify.bill_issued.message": (
        "【{site}】{account}，您 {period} 的账单金额为 {total}{due_note}。"),
    "notify.bill_issued.due_note": "，请于 {due_date} 前缴纳",
    "notify.bill_reminder.title": "缴费提醒",
    "notify.bill_reminder.message": (
        "【{site}】{account}，您有 {amount_due} 的账单待缴纳，缴费截止日 {due_date}，"
        "请及时缴纳。"),
    "notify.bill_overdue.title": "欠费催缴",
    "notify.bill_overdue.message": (
        "【{site}】{account}，您的账单已逾期，尚欠 {amount_due}（截止日 {due_date}）。"
        "请尽快缴纳，逾期未缴将停止供电/供水。"),
    "notify.alarm.title": "设备告警",
    "notify.alarm.message": (
        "【{site}】{meter_name}{where}：{alarm}{phase}{detail}。"),
    "notify.alarm_detail": "，当前值 {value}（阈值 {threshold}）",
    "notify.meter_offline.title": "表计离线",
    "notify.meter_offline.message": (
        "【{site}】{meter_name}{where} 连续 {misses} 次抄表失败，已离线。"),
    "notify.dtu_offline.title": "DTU 离线",
    "notify.dtu_offline.message": "【{site}】DTU {dtu}（链路 {link}）已离线：{reason}。",
    "notify.link_alarm.title": "链路告警",
    "notify.link_alarm.message": (
        "【{site}】链路 {link} 拒绝了来自 {peer} 的可疑接入（{kind}）：{message}。"),
    "notify.calendar_unknown_year.title": "计费日历缺少年份",
    "notify.calendar_unknown_year.message": (
        "【{site}】计费日历不知道 {year} 年的节假日与调休安排（holidays {holidays_version} "
        "只到 {newest_known} 年）：{year} 年暂按法定节假日计价、不含调休。请升级 holidays，"
        "或在 hub.yaml 的 calendar: 中填写国务院公布的安排。"),
    "notify.payment_received.title": "充值成功",
    "notify.payment_received.message": (
        "【{site}】{account} 充值 {amount} 已到账，当前余额 {balance}。"),
    "notify.payment_refunded.title": "退款成功",
    "notify.payment_refunded.message": (
        "【{site}】{account} 已退款 {amount}（订单 {order_id}），当前余额 {balance}。"),
    "notify.payment_mismatch.title": "支付对账差异",
    "notify.payment_mismatch.message": (
        "【{site}】{provider} 对账有差异（{day}）：已付未入账 {paid_not_credited}；"
        "已入账未付 {credited_not_paid}；金额不符 {amount_differs}。请查看对账报告。"),
    "notify.backup_failed.title": "夜间备份失败",
    "notify.backup_failed.message": (
        "【{site}】今晚的数据备份没有写到 {target}：{error}。请检查 U 盘或网络共享是否已挂载、"
        "可写且有空间；明晚会再试。"),
    "notify.where": "（{account}）",
    "notify.summary.title": "【{site}】{count} 条通知合并发送",
    "notify.summary.message": "短时间内有 {count} 条通知，合并为一条：{kinds}",
    "notify.summary.more": "……另有 {count} 条",
    "notify.summary.kind": "{name} ×{count}",
    "notify.phase": "（{phase} 相）",
    "notify.alarm_kind.over_voltage": "过压",
    "notify.alarm_kind.under_voltage": "欠压",
    "notify.alarm_kind.over_current": "过流",
    "notify.alarm_kind.phase_loss": "缺相",
    "notify.alarm_kind.power_loss": "失电",
    "notify.alarm_kind.reverse_energy": "反向电量",
    "notify.alarm_kind.valve_abnormal": "阀门异常",
    "notify.alarm_kind.battery_low": "电池电量低",
    "notify.alarm_kind.clock_drift": "时钟偏差",
    "notify.alarm_kind.loss": "损耗过高（疑似偷电或漏水）",
    "notify.alarm_kind.loss_negative": "分表之和大于总表（接线或表计故障）",
}

EN: dict[str, str] = {
    "notify.default_title": "{site}",
    "notify.meter_named": "meter {meter}",
    "notify.meter_named.electricity": "meter {meter}",
    "notify.meter_named.water": "water meter {meter}",
    "notify.balance_low.title": "Low balance",
    "notify.balance_low.message": (
        "{site}: {account}, your balance is {balance}, below {level}. "
        "Please recharge soon to keep power and water on."),
    "notify.balance_exhausted.title": "Balance used up",
    "notify.balance_exhausted.message": (
        "{site}: {account}, your balance is {balance}: the account is in arrears. "
        "Please recharge; power and water may be cut off."),
    "notify.balance_restored.title": "Payment received",
    "notify.balance_restored.message": (
        "{site}: {account}, your balance is back to {balance}. Thank you. "
        "If the supply was cut off, it comes back automatically."),
    "notify.trip_warning.title": "Supply cut-off notice",
    "notify.trip_warning.message": (
        "{site}: {account}, your account is in arrears: the supply will be cut off at "
        "{due}. Recharge before then to keep it on."),
    "notify.relay_tripped.title": "Power cut off",
    "notify.relay_tripped.message": (
        "{site}: {account}, {meter_name} has been switched off. If this was for arrears, "
        "power comes back automatically after a recharge."),
    "notify.relay_closed.title": "Power restored",
    "notify.relay_closed.message": "{site}: {account}, {meter_name} is switched on again.",
    "notify.valve_closed.title": "Water shut off",
    "notify.valve_closed.message": (
        "{site}: {account}, the valve of {meter_name} has been closed. If this was for "
        "arrears, water comes back automatically after a recharge."),
    "notify.valve_opened.title": "Water restored",
    "notify.valve_opened.message": (
        "{site}: {account}, the valve of {meter_name} is open again."),
    "notify.bill_issued.title": "New bill",
    "notify.bill_issued.message": (
        "{site}: {account}, your bill for {period} is {total}{due_note}."),
    "notify.bill_issued.due_note": ", due by {due_date}",
    "notify.bill_reminder.title": "Payment reminder",
    "notify.bill_reminder.message": (
        "{site}: {account}, {amount_due} is unpaid on your bill, due on {due_date}. "
        "Please pay soon."),
    "notify.bill_overdue.title": "Overdue bill",
    "notify.bill_overdue.message": (
        "{site}: {account}, your bill is overdue: {amount_due} unpaid (due {due_date}). "
        "Please pay now; the supply will be cut off if it stays unpaid."),
    "notify.alarm.title": "Meter alarm",
    "notify.alarm.message": (
        "{site}: {meter_name}{where}: {alarm}{phase}{detail}."),
    "notify.alarm_detail": ", value {value} (threshold {threshold})",
    "notify.meter_offline.title": "Meter offline",
    "notify.meter_offline.message": (
        "{site}: {meter_name}{where} missed {misses} reads in a row and is offline."),
    "notify.dtu_offline.title": "DTU offline",
    "notify.dtu_offline.message": "{site}: DTU {dtu} (link {link}) went offline: {reason}.",
    "notify.link_alarm.title": "Link alarm",
    "notify.link_alarm.message": (
        "{site}: link {link} refused a suspicious attempt from {peer} ({kind}): {message}."),
    "notify.calendar_unknown_year.title": "Billing calendar lacks a year",
    "notify.calendar_unknown_year.message": (
        "{site}: the billing calendar does not know the holidays and make-up working days "
        "(调休) of {year} (holidays {holidays_version} goes up to {newest_known}): {year} is "
        "priced with the statutory holidays only, no make-up days. Upgrade holidays, or add "
        "the State Council's schedule under calendar: in hub.yaml."),
    "notify.payment_received.title": "Payment received",
    "notify.payment_received.message": (
        "{site}: {account} paid {amount}; the balance is {balance}."),
    "notify.payment_refunded.title": "Refund paid",
    "notify.payment_refunded.message": (
        "{site}: {account} was refunded {amount} (order {order_id}); the balance is "
        "{balance}."),
    "notify.payment_mismatch.title": "Payment reconciliation differences",
    "notify.payment_mismatch.message": (
        "{site}: {provider} ({day}) differs from the order book: paid but not credited "
        "{paid_not_credited}; credited but not paid {credited_not_paid}; another amount "
        "{amount_differs}. See the reconciliation report."),
    "notify.backup_failed.title": "Nightly backup failed",
    "notify.backup_failed.message": (
        "{site}: tonight's backup was not written to {target}: {error}. Check that the USB "
        "stick or network share is mounted, writable and has room; it tries again tomorrow "
        "night."),
    "notify.where": " ({account})",
    "notify.summary.title": "{site}: {count} messages in one",
    "notify.summary.message": "{count} messages in a short time, merged into one: {kinds}",
    "notify.summary.more": "... and {count} more",
    "notify.summary.kind": "{name} ×{count}",
    "notify.phase": " (phase {phase})",
    "notify.alarm_kind.over_voltage": "over-voltage",
    "notify.alarm_kind.under_voltage": "under-voltage",
    "notify.alarm_kind.over_current": "over-current",
    "notify.alarm_kind.phase_loss": "phase loss",
    "notify.alarm_kind.power_loss": "power loss",
    "notify.alarm_kind.reverse_energy": "reverse energy",
    "notify.alarm_kind.valve_abnormal": "valve fault",
    "notify.alarm_kind.battery_low": "battery low",
    "notify.alarm_kind.clock_drift": "clock drift",
    "notify.alarm_kind.loss": "high loss (possible theft or leak)",
    "notify.alarm_kind.loss_negative": "sub-meters above their main meter (wiring or meter fault)",
}

TRANSLATIONS: dict[str, dict[str, str]] = {"zh-CN": ZH_CN, "en": EN}
