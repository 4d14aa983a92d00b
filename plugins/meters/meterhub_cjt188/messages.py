"""CJ/T 188 water meters' messages (options, addresses, uplinks, refusals) in zh-CN and en."""

from __future__ import annotations

from hub.i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "cjt188.di_order": "expected 1F90 (lo_first) or 901F (hi_first), got {value}",
        "cjt188.meter_type": "expected a water meter type 10-19 (10 cold water, 11 hot water, "
                             "12 drinking water, 13 reclaimed water), got {value}",
        "cjt188.seconds": "expected seconds above 0, got {value}",
        "cjt188.address_number": "expected the address as quoted text of up to 14 hex digits, "
                                 "got the number {address} (quote it: YAML reads unquoted "
                                 "numbers with leading zeros as octal)",
        "cjt188.address": "expected 14 hex digits (shorter numbers are left-padded with 0), "
                          "got {value}",
        "cjt188.wildcard": "{address} is the wildcard address, not a meter's address",
        "cjt188.unsupported": "model {model} does not support {command}",
        "cjt188.no_broadcast_time": "CJ/T 188 has no broadcast time sync: set each meter's "
                                    "clock",
        "cjt188.no_frame": "no CJ/T 188 frame in the uplink ({size} bytes)",
        "cjt188.other_meter": "uplink frame is from meter {address}, not {expected}",
        "cjt188.wrong_type": "wrong meter type {found} ({name}) in the uplink, expected "
                             "{expected}",
        "cjt188.not_report": "uplink carries control {control} DI {di}, not a 901F report",
    },
    "zh-CN": {
        "cjt188.di_order": "应为 1F90（lo_first）或 901F（hi_first），实际为 {value}",
        "cjt188.meter_type": "应为 10-19 的水表类型（10 冷水、11 热水、12 直饮水、13 中水），"
                             "实际为 {value}",
        "cjt188.seconds": "应为大于 0 的秒数，实际为 {value}",
        "cjt188.address_number": "表地址应为加引号的最多 14 位十六进制数字，实际为数字 {address}"
                                 "（请加引号：YAML 会把以 0 开头的无引号数字当作八进制）",
        "cjt188.address": "应为 14 位十六进制数字（不足位左侧补 0），实际为 {value}",
        "cjt188.wildcard": "{address} 是通配地址，不是某块表的地址",
        "cjt188.unsupported": "型号 {model} 不支持 {command}",
        "cjt188.no_broadcast_time": "CJ/T 188 没有广播校时：请逐块表设置时钟",
        "cjt188.no_frame": "上报数据中没有 CJ/T 188 帧（{size} 字节）",
        "cjt188.other_meter": "上报帧来自表 {address}，不是 {expected}",
        "cjt188.wrong_type": "上报中的表类型 {found}（{name}）不对，应为 {expected}",
        "cjt188.not_report": "上报帧的控制码 {control}、数据标识 {di} 不是 901F 抄表数据",
    },
}
add_strings(STRINGS)
