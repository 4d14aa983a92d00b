"""The dashboard's messages (form refusals, the history query) in zh-CN and en."""

from __future__ import annotations

from ..i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "page.amount_form": "{field}: not an amount: '{text}'",
        "page.amount_positive": "{field}: must be above 0.00, got '{text}'",
        "page.amount_fen": "{field}: at most two decimals (fen), got '{text}'",
        "page.reference_used": "reference: already used on another account ({entry})",
        "page.adjust_reason": "reason: an adjustment needs a reason",
        "page.no_entry": "entry_id: no such entry on this account",
        "page.moved_out_yaml": "move_out: hub.yaml says this account moved out on {day}; "
                               "remove move_out there first",
        "page.not_date": "{name}: '{text}' is not a date (YYYY-MM-DD)",
        "page.to_before_from": "to: {last} is before from: {first}",
        "page.reports_storage": "Reports need the hub's storage, which is not running.",
        "history.time": "expected an ISO date or date-time, got '{value}'",
        "history.order": "must be before end ({start} ≥ {end})",
        "history.span": "the range is longer than {days} days, the most for resolution "
                        "{resolution}",
    },
    "zh-CN": {
        "page.amount_form": "{field}：'{text}' 不是金额",
        "page.amount_positive": "{field}：金额必须大于 0.00，实际为 '{text}'",
        "page.amount_fen": "{field}：最多两位小数（到分），实际为 '{text}'",
        "page.reference_used": "reference：该单号已用在另一个账户上（{entry}）",
        "page.adjust_reason": "reason：调整金额需要填写原因",
        "page.no_entry": "entry_id：该账户没有这条记录",
        "page.moved_out_yaml": "move_out：hub.yaml 中写明该账户已于 {day} 退租；请先在那里删除 "
                               "move_out",
        "page.not_date": "{name}：'{text}' 不是日期（YYYY-MM-DD）",
        "page.to_before_from": "to：{last} 早于 from：{first}",
        "page.reports_storage": "报表需要 MeterHub 的数据存储，但存储未在运行。",
        "history.time": "应为 ISO 格式的日期或日期时间，实际为 '{value}'",
        "history.order": "必须早于结束时间（{start} ≥ {end}）",
        "history.span": "时间范围超过 {days} 天，这是 {resolution} 粒度允许的最长范围",
    },
}
add_strings(STRINGS)
