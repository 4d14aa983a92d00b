"""Metering's messages (TOU tables, meters, links) in zh-CN and en."""

from __future__ import annotations

from ..i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "tou.clock": "{where}: expected a time of day HH:MM, got {value}",
        "tou.clock_range": "{where}: {text} is not a time of day (00:00 to 23:59)",
        "tou.month_day": "{where}: expected a month-day MM-DD, got {value}",
        "tou.month_day_range": "{where}: {text} is not a day of the year",
        "tou.number": "{where}: expected a whole number {low}..{high}, got {value}",
        "tou.number_range": "{where}: expected {low}..{high}, got {value}",
        "tou.no_zone": "zones: a TOU table needs at least one zone",
        "tou.zones_max": "zones: at most {limit} yearly zones, got {count}",
        "tou.tables_count": "tables: 1 to {limit} day tables, got {count}",
        "tou.no_segment": "{where}: a day table needs at least one segment",
        "tou.segments_max": "{where}: at most {limit} segments a day, got {count}",
        "tou.first_segment": "{where}: the first segment must start at 00:00",
        "tou.segment_order": "{where}: segments must start in time order, each once",
        "tou.zone_order": "zones: zones must start in calendar order, each once",
        "tou.table_missing": "zones: day table {table} is used but only {count} are given",
        "tou.table": "expected a TOU table {{zones, tables}}, got {value}",
        "tou.unknown_key": "{key}: not a key of a TOU table (zones, tables, rest_table, "
                           "rest_days)",
        "tou.zones_list": "zones: expected a list, got {value}",
        "tou.tables_map": "tables: expected day tables by number, got {value}",
        "tou.zone": "{where}: expected {{start, table}}, got {value}",
        "tou.tables_numbered": "tables: day tables are numbered 1..n without gaps, got "
                               "{numbers}",
        "tou.segments_list": "{where}: expected a list of segments, got {value}",
        "tou.segment": "{where}: expected {{start, rate}}, got {value}",
        "tou.fits_segments": "tables.{table}: {what} takes at most {limit} segments a day, "
                             "got {count}",
        "tou.fits_rates": "tables.{table}: {what} has rates 1..{limit}, got rate {rate} at "
                          "{at}",
        "tou.the_meter": "the meter",
        "metering.unknown_meter": "unknown meter '{meter}'",
        "metering.meter_id": "meter_id: {reason}",
    },
    "zh-CN": {
        "tou.clock": "{where}：应为时刻 HH:MM，实际为 {value}",
        "tou.clock_range": "{where}：{text} 不是有效的时刻（00:00 至 23:59）",
        "tou.month_day": "{where}：应为月-日 MM-DD，实际为 {value}",
        "tou.month_day_range": "{where}：{text} 不是一年中的日期",
        "tou.number": "{where}：应为 {low} 到 {high} 的整数，实际为 {value}",
        "tou.number_range": "{where}：应在 {low} 到 {high} 之间，实际为 {value}",
        "tou.no_zone": "zones：分时表至少需要一个时区（季节）",
        "tou.zones_max": "zones：一年最多 {limit} 个时区，实际为 {count} 个",
        "tou.tables_count": "tables：日时段表应为 1 到 {limit} 张，实际为 {count} 张",
        "tou.no_segment": "{where}：日时段表至少需要一个时段",
        "tou.segments_max": "{where}：每天最多 {limit} 个时段，实际为 {count} 个",
        "tou.first_segment": "{where}：第一个时段必须从 00:00 开始",
        "tou.segment_order": "{where}：时段必须按时间先后排列，且起始时间不能重复",
        "tou.zone_order": "zones：时区必须按日历先后排列，且起始日期不能重复",
        "tou.table_missing": "zones：用到了第 {table} 张日时段表，但只给出了 {count} 张",
        "tou.table": "应为分时表 {{zones, tables}}，实际为 {value}",
        "tou.unknown_key": "{key}：不是分时表的键（可用 zones、tables、rest_table、rest_days）",
        "tou.zones_list": "zones：应为列表，实际为 {value}",
        "tou.tables_map": "tables：应为按编号给出的日时段表，实际为 {value}",
        "tou.zone": "{where}：应为 {{start, table}}，实际为 {value}",
        "tou.tables_numbered": "tables：日时段表须从 1 起连续编号，实际为 {numbers}",
        "tou.segments_list": "{where}：应为时段列表，实际为 {value}",
        "tou.segment": "{where}：应为 {{start, rate}}，实际为 {value}",
        "tou.fits_segments": "tables.{table}：{what}每天最多支持 {limit} 个时段，实际为 {count} 个",
        "tou.fits_rates": "tables.{table}：{what}的费率号为 1 到 {limit}，{at} 处为费率 {rate}",
        "tou.the_meter": "该电表",
        "metering.unknown_meter": "未知的表计 '{meter}'",
        "metering.meter_id": "meter_id：{reason}",
    },
}
add_strings(STRINGS)
