"""The event catalog's messages (a plugin's event types refused at load) in zh-CN and en."""

from __future__ import annotations

from ..i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "events.bad_name": "{source} defines an event type named {name}: use lower case "
                           "letters, digits and _",
        "events.taken": "event type '{name}' from {source} is already defined by {owner}",
        "events.meaning_line": "event type '{name}' from {source}: the meaning must be one line",
    },
    "zh-CN": {
        "events.bad_name": "{source} 定义的事件类型名 {name} 不合规：只能用小写字母、数字和 _",
        "events.taken": "{source} 的事件类型 '{name}' 已由 {owner} 定义",
        "events.meaning_line": "{source} 的事件类型 '{name}'：含义说明只能写一行",
    },
}
add_strings(STRINGS)
