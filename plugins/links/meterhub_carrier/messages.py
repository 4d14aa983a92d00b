"""The carrier link's messages (how its concentrator is reached) in zh-CN and en."""

from __future__ import annotations

from hub.i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "carrier.one_way": "give the concentrator either 'host' and 'port' or 'serial'",
        "carrier.port": "a concentrator reached over TCP needs 'port'",
    },
    "zh-CN": {
        "carrier.one_way": "集中器请只配置一种连接：'host' 加 'port'，或 'serial'",
        "carrier.port": "通过 TCP 连接的集中器需要 'port'",
    },
}
add_strings(STRINGS)
