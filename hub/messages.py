"""The core's messages (validation, values, voluptuous' own words) in zh-CN and en."""

from __future__ import annotations

import re

from .i18n import Text, add_strings

__all__ = ["ARGPARSE", "STRINGS", "VOLUPTUOUS", "pattern_text", "voluptuous_text"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "validation.at": "{path}: {reason}",
        "validation.got": "{reason}, got {value}",
        "validation.unknown_key": "unknown key '{key}'",
        "validation.unknown_key_hint": "unknown key '{key}' (did you mean '{hint}'?)",
        "validation.required": "required key is missing",
        "validation.duplicate": "duplicate {key} {value} (first used at item {first})",
        "validation.list": "expected a list, got {value}",
        "validation.text": "expected text, got {value}",
        "validation.text_quote": "expected text, got {value} (quote it)",
        "validation.slug": "expected lower-case letters, digits and underscores, got {value}",
        "validation.identifier": "expected an id of letters, digits, '_', '-' or '.', got {value}",
        "validation.entity_id": "expected an entity id like 'meter.r101_e', got {value}",
        "validation.boolean": "expected true or false, got {value}",
        "validation.int_min": "expected a whole number of at least {least}, got {value}",
        "validation.int": "expected a whole number, got {value}",
        "validation.port": "expected a port number from {least} to 65535, got {value}",
        "validation.number": "expected a number, got {value}",
        "validation.finite": "expected a finite number, got {value}",
        "validation.number_min": "expected a number of at least 0, got {value}",
        "validation.money_form": "expected yuan as digits with at most 2 decimals, like 12.5, "
                                 "12.50 or 1000, got {value}",
        "validation.money": "expected an amount of yuan, got {value}",
        "validation.time_of_day": "expected a time of day like '23:00', got {value}",
        "validation.duration_min": "expected a duration of at least 0, got {value}",
        "validation.duration_units": "unknown duration unit(s) {units}: use {allowed}",
        "validation.duration": "expected a duration like '90s', '15m', '1h 30m' or "
                               "'01:30:00', got {value}",
        "validation.ip_address": "expected an IP address, got {value}",
        "validation.time_zone": "unknown time zone {value}, expected a name like "
                                "'Asia/Shanghai'",
        "validation.one_of": "expected one of {choices}, got {value}",
        "validation.one_of_hint": "expected one of {choices}, got {value} (did you mean "
                                  "'{hint}'?)",
        "core.service_not_found": "service {service} is not registered",
        "core.no_response": "this service does not return a response",
        "core.response_only": "this service only returns a response: call it with "
                              "return_response",
        "config.api_token_gone": "http: api_token is gone: API tokens are per user, scoped "
                                 "and revocable now; create one with 'meterhub token create' "
                                 "(docs/access.md)",
        "config.network": "'{value}' is not an IP address or network (like 192.168.1.10 or "
                          "10.0.0.0/8)",
        "plugins.duplicate": "{kind} '{name}' from plugin '{plugin}' is already registered "
                             "by plugin '{owner}': ignored",
        "plugins.cannot_import": "cannot import {path}",
        "plugins.ignored": "{reason}: ignored",
        "cli.error": "error: {message}",
        "cli.not_hex": "not hex: '{value}'",
        "cli.param": "--param expects KEY=VALUE, got '{value}'",
        "cli.argument": "{argument}: {message}",
        "cli.required": "the following arguments are required: {names}",
        "cli.unrecognized": "unrecognized arguments: {names}",
        "cli.invalid_choice": "argument {name}: invalid choice: {value} (choose from {choices})",
        "cli.invalid_value": "argument {name}: invalid {type} value: {value}",
        "cli.expected_one": "argument {name}: expected one argument",
        "cli.unknown_protocol": "meterhub frame: unknown protocol '{protocol}'",
        "client.unreachable": "no hub answers on port {port} ({reason}); start it with "
                              "'meterhub run'",
        "listen.unresolved": "cannot listen on {host}:{port}: {reason} ({key})",
        "listen.port": "port {port}",
        "listen.udp_port": "UDP port {port}",
        "listen.in_use": "{what} is in use ({key})",
        "listen.privileged": "{what} needs privileges this user does not have ({key})",
        "listen.not_here": "{host} is not an address of this machine ({key})",
        "listen.failed": "cannot listen on {host} {what}: {reason} ({key})",
        "listen.key_http": "http: port in hub.yaml, or --port",
        "listen.key_link": "{path} in hub.yaml: link {link}",
        "output.format": "unknown format '{format}': use csv or xlsx",
        "output.unknown_suffix": "cannot tell the format of {path}: name it .csv or .xlsx (or "
                                 "give --format csv|xlsx)",
        "output.suffix_differs": "{path} says .{suffix} but the format is {format}: name it "
                                 ".{format}",
        "output.no_folder": "the folder {folder} does not exist: create it first, or choose "
                            "another",
        "calendar.date": "expected a date like 2025-07-01, got {value}",
        "calendar.to_before": "'to' is before 'from' {start}, got {end}",
        "calendar.range": "a range has at most {most} days, got {days} days to {end}",
        "calendar.both": "also listed under holidays (a day is one or the other), got {day}",
        "config.problem": "{count} problem in {path}:",
        "config.problems": "{count} problems in {path}:",
        "config.empty": "the file is empty: a site needs at least links: and meters: (see the "
                        "README's configuration reference)",
        "config.not_mapping": "the top level of hub.yaml must be a mapping of keys",
        "config.unknown_block": "unknown key: no loaded plugin configures '{key}'",
        "config.unknown_block_hint": "unknown key (did you mean '{hint}'?): no loaded plugin "
                                     "configures '{key}'",
        "api.unknown": "unknown {what} '{value}'",
        "what.account": "account", "what.alarm": "alarm", "what.bill": "bill",
        "what.command": "command", "what.share_group": "share group", "what.meter": "meter",
        "what.automation": "automation",
        "value.mapping": "a mapping",
        "value.list": "a list",
        "value.null": "nothing (null)",
        "vol.expected_type": "expected {type}",
        "vol.expected_dict": "expected a dictionary",
        "vol.expected_list": "expected a list",
        "vol.extra_key": "extra keys not allowed",
        "vol.required": "required key not provided",
        "vol.invalid": "not a valid value",
        "vol.no_valid": "no valid value found",
        "vol.at_least": "value must be at least {limit}",
        "vol.at_most": "value must be at most {limit}",
        "vol.higher": "value must be higher than {limit}",
        "vol.lower": "value must be lower than {limit}",
        "vol.length_at_least": "length of value must be at least {limit}",
        "vol.length_at_most": "length of value must be at most {limit}",
        "vol.one_of": "value must be one of {choices}",
        "vol.not_one_of": "value must not be one of {choices}",
        "vol.regex": "does not match regular expression {pattern}",
        "vol.format": "value does not match expected format {format}",
        "vol.boolean": "expected boolean",
        "vol.email": "expected an email address",
        "vol.url": "expected a URL",
        "vol.not_allowed": "value is not allowed",
        "vol.duplicates": "contains duplicate items: {items}",
        # the usual tag names, in every table, page and report (others shown as typed)
        "tag.building": "Building",
        "tag.floor": "Floor",
        "tag.room": "Room",
        "tag.line": "Line",
        "tag.department": "Department",
        "tag.use": "Use",
        "tag.unit": "Unit",
        "tag.park": "Park",
    },
    "zh-CN": {
        "validation.at": "{path}：{reason}",
        "validation.got": "{reason}，实际为 {value}",
        "validation.unknown_key": "未知的键 '{key}'",
        "validation.unknown_key_hint": "未知的键 '{key}'（是否应为 '{hint}'？）",
        "validation.required": "缺少必填项",
        "validation.duplicate": "{key} {value} 重复（第 {first} 项已使用）",
        "validation.list": "应为列表，实际为 {value}",
        "validation.text": "应为文本，实际为 {value}",
        "validation.text_quote": "应为文本，实际为 {value}（请加引号）",
        "validation.slug": "只能包含小写字母、数字和下划线，实际为 {value}",
        "validation.identifier": "编号只能包含字母、数字、'_'、'-' 或 '.'，实际为 {value}",
        "validation.entity_id": "应为实体编号（如 'meter.r101_e'），实际为 {value}",
        "validation.boolean": "应为是或否（true 或 false），实际为 {value}",
        "validation.int_min": "应为不小于 {least} 的整数，实际为 {value}",
        "validation.int": "应为整数，实际为 {value}",
        "validation.port": "端口号应在 {least} 到 65535 之间，实际为 {value}",
        "validation.number": "应为数字，实际为 {value}",
        "validation.finite": "应为有限的数字，实际为 {value}",
        "validation.number_min": "应为不小于 0 的数字，实际为 {value}",
        "validation.money_form": "金额（元）只能是数字，最多两位小数，如 12.5、12.50 或 1000，"
                                 "实际为 {value}",
        "validation.money": "应为以元计的金额，实际为 {value}",
        "validation.time_of_day": "应为一天中的时刻（如 '23:00'），实际为 {value}",
        "validation.duration_min": "时长不能小于 0，实际为 {value}",
        "validation.duration_units": "未知的时长单位 {units}：可用 {allowed}",
        "validation.duration": "应为时长（如 '90s'、'15m'、'1h 30m' 或 '01:30:00'），"
                               "实际为 {value}",
        "validation.ip_address": "应为 IP 地址，实际为 {value}",
        "validation.time_zone": "未知的时区 {value}，应为 'Asia/Shanghai' 这样的名称",
        "validation.one_of": "应为 {choices} 之一，实际为 {value}",
        "validation.one_of_hint": "应为 {choices} 之一，实际为 {value}（是否应为 '{hint}'？）",
        "core.service_not_found": "服务 {service} 未注册",
        "core.no_response": "该服务不返回结果",
        "core.response_only": "该服务只返回结果：请带上 return_response 调用",
        "config.api_token_gone": "http：api_token 已取消：API 令牌现在按用户签发、有管辖范围且可"
                                 "撤销；请用 'meterhub token create' 创建（见 docs/access.md）",
        "config.network": "'{value}' 不是 IP 地址或网段（如 192.168.1.10 或 10.0.0.0/8）",
        "plugins.duplicate": "插件 '{plugin}' 的 {kind} '{name}' 已由插件 '{owner}' 注册：已忽略",
        "plugins.cannot_import": "无法导入 {path}",
        "plugins.ignored": "{reason}：已忽略",
        "cli.error": "错误：{message}",
        "cli.not_hex": "不是十六进制：'{value}'",
        "cli.param": "--param 应为 键=值，实际为 '{value}'",
        "cli.argument": "{argument}：{message}",
        "cli.required": "缺少以下参数：{names}",
        "cli.unrecognized": "无法识别的参数：{names}",
        "cli.invalid_choice": "参数 {name}：无效的选项 {value}（可选：{choices}）",
        "cli.invalid_value": "参数 {name}：{value} 不是有效的 {type} 值",
        "cli.expected_one": "参数 {name}：需要一个值",
        "cli.unknown_protocol": "meterhub frame：未知的协议 '{protocol}'",
        "client.unreachable": "端口 {port} 上没有 MeterHub 响应（{reason}）；请先用 "
                              "'meterhub run' 启动",
        "listen.unresolved": "无法在 {host}:{port} 上监听：{reason}（{key}）",
        "listen.port": "端口 {port}",
        "listen.udp_port": "UDP 端口 {port}",
        "listen.in_use": "{what} 已被占用（{key}）",
        "listen.privileged": "{what} 需要当前用户没有的权限（{key}）",
        "listen.not_here": "{host} 不是本机的地址（{key}）",
        "listen.failed": "无法在 {host} 的 {what} 上监听：{reason}（{key}）",
        "listen.key_http": "hub.yaml 的 http: port，或 --port",
        "listen.key_link": "hub.yaml 的 {path}：链路 {link}",
        "output.format": "未知的格式 '{format}'：请用 csv 或 xlsx",
        "output.unknown_suffix": "无法判断 {path} 的格式：文件名请以 .csv 或 .xlsx 结尾（或给出 "
                                 "--format csv|xlsx）",
        "output.suffix_differs": "{path} 的扩展名是 .{suffix}，但格式是 {format}：请命名为 "
                                 ".{format}",
        "output.no_folder": "文件夹 {folder} 不存在：请先创建它，或换一个文件夹",
        "calendar.date": "应为日期，如 2025-07-01，实际为 {value}",
        "calendar.to_before": "'to' 早于 'from' {start}，实际为 {end}",
        "calendar.range": "一个日期范围最多 {most} 天，实际为 {days} 天（到 {end}）",
        "calendar.both": "同时列在 holidays 中（一天只能是其中之一），实际为 {day}",
        "config.problem": "{path} 中有 {count} 个问题：",
        "config.problems": "{path} 中有 {count} 个问题：",
        "config.empty": "文件是空的：一个站点至少需要 links: 和 meters:（见 README 的配置说明）",
        "config.not_mapping": "hub.yaml 的顶层必须是键值映射",
        "config.unknown_block": "未知的键：没有已加载的插件使用 '{key}'",
        "config.unknown_block_hint": "未知的键（是否应为 '{hint}'？）：没有已加载的插件使用 "
                                     "'{key}'",
        "api.unknown": "未知的{what} '{value}'",
        "what.account": "账户", "what.alarm": "告警", "what.bill": "账单",
        "what.command": "指令", "what.share_group": "公摊组", "what.meter": "表",
        "what.automation": "自动化",
        "value.mapping": "一个映射",
        "value.list": "一个列表",
        "value.null": "空值（null）",
        "vol.expected_type": "应为{type}",
        "vol.expected_dict": "应为映射（键值对）",
        "vol.expected_list": "应为列表",
        "vol.extra_key": "不允许的多余键",
        "vol.required": "缺少必填项",
        "vol.invalid": "值无效",
        "vol.no_valid": "没有符合要求的值",
        "vol.at_least": "值不能小于 {limit}",
        "vol.at_most": "值不能大于 {limit}",
        "vol.higher": "值必须大于 {limit}",
        "vol.lower": "值必须小于 {limit}",
        "vol.length_at_least": "长度不能少于 {limit}",
        "vol.length_at_most": "长度不能超过 {limit}",
        "vol.one_of": "值应为 {choices} 之一",
        "vol.not_one_of": "值不能是 {choices} 之一",
        "vol.regex": "不符合格式 {pattern}",
        "vol.format": "不符合格式 {format}",
        "vol.boolean": "应为是或否（true 或 false）",
        "vol.email": "应为电子邮件地址",
        "vol.url": "应为网址（URL）",
        "vol.not_allowed": "不允许的值",
        "vol.duplicates": "有重复项：{items}",
        # the usual tag names, in every table, page and report (others shown as typed)
        "tag.building": "楼栋",
        "tag.floor": "楼层",
        "tag.room": "房间",
        "tag.line": "线路",
        "tag.department": "部门",
        "tag.use": "用途",
        "tag.unit": "单元",
        "tag.park": "园区",
    },
}
TYPES = ("type.int", "type.str", "type.float", "type.bool", "type.Decimal")
STRINGS["en"].update({"type.int": "int", "type.str": "str", "type.float": "float",
                      "type.bool": "bool", "type.Decimal": "Decimal"})
STRINGS["zh-CN"].update({"type.int": "整数", "type.str": "文本", "type.float": "数字",
                         "type.bool": "是或否", "type.Decimal": "数字"})
add_strings(STRINGS)

VOLUPTUOUS: list[tuple[re.Pattern[str], str, tuple[str, ...]]] = [
    (re.compile(r"^expected a dictionary$"), "vol.expected_dict", ()),
    (re.compile(r"^expected a list$"), "vol.expected_list", ()),
    (re.compile(r"^expected boolean$"), "vol.boolean", ()),
    (re.compile(r"^expected an email address$"), "vol.email", ()),
    (re.compile(r"^expected a (?:fully qualified domain name )?URL$"), "vol.url", ()),
    (re.compile(r"^expected (\w+)$"), "vol.expected_type", ("type",)),
    (re.compile(r"^extra keys not allowed$"), "vol.extra_key", ()),
    (re.compile(r"^required key not provided$"), "vol.required", ()),
    (re.compile(r"^not a valid value$"), "vol.invalid", ()),
    (re.compile(r"^no valid value found$"), "vol.no_valid", ()),
    (re.compile(r"^value must be at least (.+)$"), "vol.at_least", ("limit",)),
    (re.compile(r"^value must be at most (.+)$"), "vol.at_most", ("limit",)),
    (re.compile(r"^value must be higher than (.+)$"), "vol.higher", ("limit",)),
    (re.compile(r"^value must be lower than (.+)$"), "vol.lower", ("limit",)),
    (re.compile(r"^length of value must be at least (.+)$"), "vol.length_at_least",
     ("limit",)),
    (re.compile(r"^length of value must be at most (.+)$"), "vol.length_at_most",
     ("limit",)),
    (re.compile(r"^value must be one of (.+)$"), "vol.one_of", ("choices",)),
    (re.compile(r"^value must not be one of (.+)$"), "vol.not_one_of", ("choices",)),
    (re.compile(r"^does not match regular expression (.+)$"), "vol.regex", ("pattern",)),
    (re.compile(r"^value does not match expected format (.+)$"), "vol.format", ("format",)),
    (re.compile(r"^value is not allowed$"), "vol.not_allowed", ()),
    (re.compile(r"^contains duplicate items: (.+)$"), "vol.duplicates", ("items",)),
]
"""voluptuous' standard messages, each to its key and the values its words carry."""


ARGPARSE: list[tuple[re.Pattern[str], str, tuple[str, ...]]] = [
    (re.compile(r"^the following arguments are required: (.+)$"), "cli.required", ("names",)),
    (re.compile(r"^unrecognized arguments: (.+)$"), "cli.unrecognized", ("names",)),
    (re.compile(r"^argument (.+?): invalid choice: (.+?) \(choose from (.+)\)$"),
     "cli.invalid_choice", ("name", "value", "choices")),
    (re.compile(r"^argument (.+?): invalid (\w+) value: (.+)$"), "cli.invalid_value",
     ("name", "type", "value")),
    (re.compile(r"^argument (.+?): expected one argument$"), "cli.expected_one", ("name",)),
]
"""argparse's messages, each to its key and the values its words carry."""


def pattern_text(message: str,
                 patterns: list[tuple[re.Pattern[str], str, tuple[str, ...]]]) -> str:
    """``message`` as a :class:`Text` when one of ``patterns`` reads it (else as it is)."""
    if isinstance(message, Text):
        return message
    for pattern, key, names in patterns:
        found = pattern.match(message)
        if found:
            values: dict[str, object] = dict(zip(names, found.groups(), strict=True))
            if key == "vol.expected_type":
                name = values["type"]
                values["type"] = Text(f"type.{name}") if f"type.{name}" in TYPES else name
            return Text(key, **values)
    return message


def voluptuous_text(message: str) -> str:
    """A voluptuous message as a :class:`Text` (a message of ours, or one no pattern
    knows, is returned as it is)."""
    return pattern_text(message, VOLUPTUOUS)

