"""The tariff types' messages (day schedules, zones, bands) in zh-CN and en."""

from __future__ import annotations

from hub.i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "tariffs.no_segments": "expected segments, the first starting at 00:00",
        "tariffs.segments_max": "at most {limit} segments in a day schedule (DL/T 645), this "
                                "one has {count}",
        "tariffs.first_gap": "gap: 00:00–{first} is not covered (the first segment must start "
                             "at 00:00), got {first}",
        "tariffs.band_price": "this band has no price (prices: {prices}), got '{band}'",
        "tariffs.none_defined": "none defined",
        "tariffs.unknown_schedule": "unknown schedule (schedules: {known}), got '{name}'",
    },
    "zh-CN": {
        "tariffs.no_segments": "应为时段列表，第一个时段从 00:00 开始",
        "tariffs.segments_max": "每天的时段表最多 {limit} 个时段（DL/T 645），此表有 {count} 个",
        "tariffs.first_gap": "空档：00:00–{first} 没有覆盖（第一个时段必须从 00:00 开始），"
                             "实际从 {first} 开始",
        "tariffs.band_price": "该时段（尖峰平谷）没有价格（已定价：{prices}），实际为 '{band}'",
        "tariffs.none_defined": "尚未定义",
        "tariffs.unknown_schedule": "未知的日时段表（现有：{known}），实际为 '{name}'",
    },
}
add_strings(STRINGS)
