"""The TCP DTU link's messages in zh-CN and en."""

from __future__ import annotations

from hub.i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "tcp_dtu.unregistered": "{link}: connection from {peer} is not registered",
    },
    "zh-CN": {
        "tcp_dtu.unregistered": "{link}：来自 {peer} 的连接尚未注册",
    },
}
add_strings(STRINGS)
