"""The web server's messages (access API refusals, paging, start-up) in zh-CN and en."""

from __future__ import annotations

from ..i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "web.scope": "{where}: a scope is an object of tags, like {{\"building\": \"A\"}}",
        "web.bad_json": "the body is not valid JSON",
        "web.not_object": "the body must be a JSON object",
        "web.user_change": "give password, disabled, or role (with scope)",
        "web.user_change_types": "password must be text, disabled true or false",
        "web.token_days": "days: a whole number of days above 0",
        "web.limit": "expected at most {most}, got {value}",
        "web.cursor": "expected a cursor from a 'next' link, got {value}",
        "web.ssl": "http: ssl_certificate / ssl_key cannot be used ({certificate}, {key}): "
                   "{reason}",
        "web.role_refused": "a {role} may not call {service}",
        "web.not_found": "not found",
        "web.service_off": "{service} is not available (its component is off)",
        "web.alarms_off": "alarms need storage (it is off)",
        "web.commands_off": "commands need storage (it is off)",
        "web.metering_off": "metering is off",
        "web.reports_off": "reports are off (no storage)",
        "web.ledger_off": "the ledger is off (no storage)",
    },
    "zh-CN": {
        "web.scope": "{where}：管辖范围应为标签对象，如 {{\"building\": \"A\"}}",
        "web.bad_json": "请求内容不是有效的 JSON",
        "web.not_object": "请求内容必须是 JSON 对象",
        "web.user_change": "请给出 password、disabled 或 role（及 scope）",
        "web.user_change_types": "password 应为文本，disabled 应为 true 或 false",
        "web.token_days": "days：应为大于 0 的整数天数",
        "web.limit": "最多为 {most}，实际为 {value}",
        "web.cursor": "应为“下一页”链接中的游标，实际为 {value}",
        "web.ssl": "http：无法使用 ssl_certificate / ssl_key（{certificate}，{key}）：{reason}",
        "web.role_refused": "{role} 角色无权调用 {service}",
        "web.not_found": "未找到。",
        "web.service_off": "{service} 不可用（其所属部分已关闭）",
        "web.alarms_off": "告警需要数据存储（存储已关闭）",
        "web.commands_off": "指令需要数据存储（存储已关闭）",
        "web.metering_off": "抄表功能已关闭",
        "web.reports_off": "报表已关闭（没有数据存储）",
        "web.ledger_off": "账本已关闭（没有数据存储）",
    },
}
add_strings(STRINGS)
