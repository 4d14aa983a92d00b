"""Modbus meters' messages (register maps, options, values, the register tool) in zh-CN and en."""

from __future__ import annotations

from hub.i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "modbus.register_address": "expected a register address 0..65535 (decimal or 0x hex), "
                                   "got {value}",
        "modbus.choice": "expected {what} {allowed}, got {value}",
        "modbus.function": "function",
        "modbus.write_function": "write function",
        "modbus.read_function": "read function",
        "modbus.register_value": "expected a register value 0..65535 (decimal or 0x hex), "
                                 "got {value}",
        "modbus.scale_zero": "expected a scale factor other than 0, got 0",
        "modbus.point": "expected a hub point such as voltage, current, power, power_factor, "
                        "frequency, energy_import_total, energy_export_total, got {value}{hint}",
        "modbus.did_you_mean": " (did you mean '{name}'?)",
        "modbus.status_point": "{key} is a status point: the relay state comes from the "
                               "'relay' block, got a register entry for it",
        "modbus.point_again": "got {point} again: registers[{index}] already reads it",
        "modbus.unit": "{point} is kept in {unit}; expected a unit among {units}, got {value}",
        "modbus.no_unit": "no unit",
        "modbus.past_end": "a {type} at {address} runs past register 65535",
        "modbus.coil_and_register": "give 'coil' or 'register', not both",
        "modbus.relay_needs": "a relay needs 'coil' or 'register'",
        "modbus.coil_write": "a coil is written with function 5, got {value}",
        "modbus.coil_read": "a coil is read with function 1 or 2, got {value}",
        "modbus.coil_value": "a coil is 0 or 1, got {value}",
        "modbus.register_write": "a register is written with function 6 or 16, got {value}",
        "modbus.register_read": "a register is read back with function 3 or 4, got {value}",
        "modbus.same_states": "'closed' and 'open' must differ, got {value} for both",
        "modbus.not_a_map": "expected a register map (a mapping with 'registers'), got {value}",
        "modbus.no_registers": "a register map needs at least one register",
        "modbus.seconds": "expected seconds above 0, got {value}",
        "modbus.slave": "expected a Modbus slave id from {low} to {high}, got {value}",
        "modbus.map_and_inline": "give either 'map' or inline register map keys, not both "
                                 "(found {keys})",
        "modbus.needs_map": "a modbus meter needs 'map' (a register map file, or !include) or "
                            "inline 'registers'",
        "modbus.map_missing": "expected a register map file, got {value}: not found (relative "
                              "paths start in {folder}; 'map: !include {name}' starts beside "
                              "hub.yaml)",
        "modbus.map_file": "{name}: {reason}",
        "modbus.meter_options": "meter {meter}: {problems}",
        "modbus.unsupported": "model {model} does not support {command}",
        "modbus.no_relay": "the {map} register map has no relay (a metering-only meter)",
        "modbus.nan": "the meter sent NaN (0x{raw}), not a number",
        "modbus.infinite": "the meter sent an infinite float (0x{raw})",
        "modbus.float32": "{value} does not fit a float32",
        "modbus.int_range": "{value} does not fit {type} ({low}..{high})",
        "modbus.tool_missing": "missing --param {key}=...",
        "modbus.tool_number": "{key}: expected a number like 342 or 0x0156, got {value}",
        "modbus.tool_short": "too short: {size} bytes, a Modbus RTU frame has at least {limit} "
                             "(slave, function, CRC)",
        "modbus.tool_long": "too long: {size} bytes, a Modbus RTU frame has at most {limit}",
        "modbus.tool_crc": "bad CRC: frame ends {ends}, its CRC is {crc}",
        "modbus.tool_function": "unknown function code {code}",
        "modbus.tool_exception_length": "wrong length: an exception reply has 5 bytes, got "
                                        "{size}",
        "modbus.tool_length": "wrong length: {size} bytes fit neither a {function} request nor "
                              "its reply",
        "modbus.tool_request_fields": "invalid {function} request: fields out of range",
        "modbus.tool_reply_fields": "invalid {function} reply: fields out of range",
        "modbus.tool_action": "unknown action {action} for modbus_rtu (use {actions})",
        "modbus.tool_param": "unknown parameter {param} for {action} (use {params})",
        "modbus.tool_slave": "address: expected a slave id 1..{limit} (0 = broadcast write), "
                             "got {value}",
        "modbus.tool_broadcast_read": "address: a read cannot be broadcast (slave 0)",
        "modbus.tool_read_function": "function: a read is 1, 2, 3 or 4, got {function}",
        "modbus.tool_values": "values: expected numbers like 1,0x00FF, got {value}",
        "modbus.tool_write_function": "function: write one register with 6 or any with 16, got "
                                      "{function} for {count} value(s)",
        "modbus.tool_state": "state: expected on or off, got {value}",
        "modbus.tool_needs_map": "{action}: give --param map=FILE.yaml (a register map with a "
                                 "relay); SDM120 and DDSU666 have no relay",
        "modbus.tool_map": "map: {map}: {reason}",
        "modbus.tool_no_relay": "map: {map} defines no relay",
    },
    "zh-CN": {
        "modbus.register_address": "应为 0..65535 的寄存器地址（十进制或 0x 十六进制），"
                                   "实际为 {value}",
        "modbus.choice": "{what}应为 {allowed}，实际为 {value}",
        "modbus.function": "功能码",
        "modbus.write_function": "写功能码",
        "modbus.read_function": "读功能码",
        "modbus.register_value": "应为 0..65535 的寄存器值（十进制或 0x 十六进制），实际为 {value}",
        "modbus.scale_zero": "倍率不能为 0",
        "modbus.point": "应为 MeterHub 的数据点，例如 voltage、current、power、power_factor、"
                        "frequency、energy_import_total、energy_export_total，实际为 "
                        "{value}{hint}",
        "modbus.did_you_mean": "（是否应为 '{name}'？）",
        "modbus.status_point": "{key} 是状态点：继电器状态来自 'relay' 配置块，不能写在寄存器"
                               "列表里",
        "modbus.point_again": "{point} 重复：registers[{index}] 已经读取它",
        "modbus.unit": "{point} 的单位是 {unit}；单位应为 {units} 之一，实际为 {value}",
        "modbus.no_unit": "无单位",
        "modbus.past_end": "地址 {address} 上的 {type} 超出了寄存器 65535",
        "modbus.coil_and_register": "'coil' 和 'register' 只能给一个",
        "modbus.relay_needs": "继电器需要 'coil' 或 'register'",
        "modbus.coil_write": "线圈用功能码 5 写入，实际为 {value}",
        "modbus.coil_read": "线圈用功能码 1 或 2 读取，实际为 {value}",
        "modbus.coil_value": "线圈的值只能是 0 或 1，实际为 {value}",
        "modbus.register_write": "寄存器用功能码 6 或 16 写入，实际为 {value}",
        "modbus.register_read": "寄存器用功能码 3 或 4 读回，实际为 {value}",
        "modbus.same_states": "'closed' 和 'open' 的值必须不同，实际两者都是 {value}",
        "modbus.not_a_map": "应为寄存器表（含 'registers' 的映射），实际为 {value}",
        "modbus.no_registers": "寄存器表至少要有一个寄存器",
        "modbus.seconds": "应为大于 0 的秒数，实际为 {value}",
        "modbus.slave": "应为 {low} 到 {high} 之间的 Modbus 从站地址，实际为 {value}",
        "modbus.map_and_inline": "'map' 和直接写的寄存器表只能用一种（多出：{keys}）",
        "modbus.needs_map": "modbus 表需要 'map'（寄存器表文件或 !include）或直接写 "
                            "'registers'",
        "modbus.map_missing": "找不到寄存器表文件 {value}（相对路径从 {folder} 算起；"
                              "'map: !include {name}' 从 hub.yaml 所在目录算起）",
        "modbus.map_file": "{name}：{reason}",
        "modbus.meter_options": "表 {meter}：{problems}",
        "modbus.unsupported": "型号 {model} 不支持 {command}",
        "modbus.no_relay": "寄存器表 {map} 没有继电器（只计量的表）",
        "modbus.nan": "电表发来的是 NaN（0x{raw}），不是数字",
        "modbus.infinite": "电表发来的是无穷大的浮点数（0x{raw}）",
        "modbus.float32": "{value} 超出 float32 的范围",
        "modbus.int_range": "{value} 超出 {type} 的范围（{low}..{high}）",
        "modbus.tool_missing": "缺少 --param {key}=...",
        "modbus.tool_number": "{key}：应为数字，例如 342 或 0x0156，实际为 {value}",
        "modbus.tool_short": "太短：{size} 字节，Modbus RTU 帧至少 {limit} 字节（从站、功能码、"
                             "CRC）",
        "modbus.tool_long": "太长：{size} 字节，Modbus RTU 帧最多 {limit} 字节",
        "modbus.tool_crc": "CRC 错误：帧末尾是 {ends}，正确的 CRC 是 {crc}",
        "modbus.tool_function": "未知的功能码 {code}",
        "modbus.tool_exception_length": "长度不对：异常应答是 5 字节，实际为 {size}",
        "modbus.tool_length": "长度不对：{size} 字节既不是 {function} 请求也不是它的应答",
        "modbus.tool_request_fields": "{function} 请求无效：字段超出范围",
        "modbus.tool_reply_fields": "{function} 应答无效：字段超出范围",
        "modbus.tool_action": "modbus_rtu 没有操作 {action}（可用：{actions}）",
        "modbus.tool_param": "{action} 没有参数 {param}（可用：{params}）",
        "modbus.tool_slave": "address：应为从站地址 1..{limit}（0 为广播写），实际为 {value}",
        "modbus.tool_broadcast_read": "address：读操作不能广播（从站 0）",
        "modbus.tool_read_function": "function：读操作的功能码是 1、2、3 或 4，实际为 {function}",
        "modbus.tool_values": "values：应为数字，例如 1,0x00FF，实际为 {value}",
        "modbus.tool_write_function": "function：写一个寄存器用 6，写多个用 16，实际为 "
                                      "{function}（{count} 个值）",
        "modbus.tool_state": "state：应为 on 或 off，实际为 {value}",
        "modbus.tool_needs_map": "{action}：请给出 --param map=FILE.yaml（带继电器的寄存器表）；"
                                 "SDM120 和 DDSU666 没有继电器",
        "modbus.tool_map": "map：{map}：{reason}",
        "modbus.tool_no_relay": "map：{map} 没有定义继电器",
    },
}
add_strings(STRINGS)
