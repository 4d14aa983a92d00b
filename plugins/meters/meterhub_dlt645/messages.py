"""DL/T 645 meters' messages (address, password and its level) in zh-CN and en."""

from __future__ import annotations

from hub.i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "dlt645.password_level": "expected a password level of 2 hex digits like 02, "
                                 "got {value}",
        "dlt645.password": "expected a password of 6 decimal digits",
        "dlt645.address": "expected up to 12 decimal digits, got {value}",
        "dlt645.broadcast": "999999999999 is the broadcast address, not a meter's",
        "dlt645.esam": "password level {level} means ESAM ciphertext, which MeterHub "
                       "cannot produce: use a plaintext level 00..09",
        "dlt645.level_range": "password level {level} is not one of DL/T 645's 00 "
                              "(highest) .. 09",
    },
    "zh-CN": {
        "dlt645.password_level": "应为 2 位十六进制的密码等级，例如 02，实际为 {value}",
        "dlt645.password": "应为 6 位数字的密码",
        "dlt645.address": "应为最多 12 位的十进制数字，实际为 {value}",
        "dlt645.broadcast": "999999999999 是广播地址，不是某块表的地址",
        "dlt645.esam": "密码等级 {level} 表示 ESAM 密文，MeterHub 无法生成：请使用"
                       "明文等级 00..09",
        "dlt645.level_range": "密码等级 {level} 不在 DL/T 645 的 00（最高）.. 09 之"
                              "内",
    },
}
add_strings(STRINGS)
