"""DL/T 645 meters' messages (options, parameters, refusals) in zh-CN and en."""

from __future__ import annotations

from hub.i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "dlt645.freeze_date": "daily freeze {n} back: impossible date {digits} (YYMMDDhhmm), "
                              "not taken",
        "dlt645.password_level": "expected a password level of 2 hex digits like 02, "
                                 "got {value}",
        "dlt645.password": "expected a password of 6 decimal digits",
        "dlt645.address": "expected up to 12 decimal digits, got {value}",
        "dlt645.broadcast": "999999999999 is the broadcast address, not a meter's",
        "dlt645.esam": "password level {level} means ESAM ciphertext, which MeterHub "
                       "cannot produce: use a plaintext level 00..09",
        "dlt645.level_range": "password level {level} is not one of DL/T 645's 00 "
                              "(highest) .. 09",
        "dlt645.digits": "expected digits, got {value}",
        "dlt645.operator_code": "expected an operator code of up to 8 hex digits, got {value}",
        "dlt645.seconds": "expected a number of seconds above 0, got {value}",
        "dlt645.protocol": "expected protocol 2007, 1997 or auto, got {value}",
        "dlt645.auto_no_reply": "meter {address} answered neither a DL/T 645-2007 read of "
                                "00010000 nor a DL/T 645-1997 read of 9010 (protocol: auto)",
        "dlt645.no_table": "model {model} has no {dialect} point table",
        "dlt645.follow_ups": "DI {di}: more than {limit} follow-up frames",
        "dlt645.no_relay": "model {model} has no relay",
        "dlt645.unsupported": "model {model} does not support {command}",
        "dlt645.no_remote_relay": "meter {meter} speaks {dialect}, which has no remote relay "
                                  "control (0x1C is DL/T 645-2007): {command} not sent",
        "dlt645.no_frozen": "meter {meter} speaks {dialect}: no daily frozen data",
        "dlt645.no_load_records": "meter {meter} speaks {dialect}: no load records",
        "dlt645.no_events": "meter {meter} speaks {dialect}: no event records",
        "dlt645.no_param": "model {model} has no writable parameter {name}",
        "dlt645.write_2007": "meter {meter} speaks {dialect}: {name} is written with DL/T "
                             "645-2007 identifiers, not sent",
        "dlt645.sim_option": "unknown simulator option {option} for model {model}",
        "dlt645.at_least": "at least {low} {unit}, got {value}",
        "dlt645.not_fit": "{value} does not fit {pattern} {unit}: {reason}",
        "dlt645.date_time": "expected 'now' or a date-time like 2027-01-01T08:00:00, got {value}",
        "dlt645.clock_year": "a meter clock runs 2000..2099, got {year}",
        "dlt645.switch_form": "expected {{table: <TOU table>, switch_at: <date-time>}}, got "
                              "{value}",
        "dlt645.switch_now": "switch_at: expected a date-time, got 'now' (write tou instead)",
        "dlt645.not_bcd": "{what}: not BCD digits: {digits}",
        "dlt645.zone_table": "zone table",
        "dlt645.day_table": "day table {number}",
        "dlt645.holidays_held": "the meter holds {count} public holidays: more than {limit}",
        "dlt645.holiday_bad": "public holiday {n}: not a date and day table: {text}",
        "dlt645.holidays_max": "{count} public holidays: a meter keeps {limit} at most",
        "dlt645.not_tou": "the meter holds {zones} zones and {tables} day tables: not a TOU "
                          "table",
        "dlt645.tou_invalid": "the meter's TOU table is not valid: {reason}",
    },
    "zh-CN": {
        "dlt645.freeze_date": "向前第 {n} 个日冻结：日期 {digits}（YYMMDDhhmm）不存在，未采用",
        "dlt645.password_level": "应为 2 位十六进制的密码等级，例如 02，实际为 {value}",
        "dlt645.password": "应为 6 位数字的密码",
        "dlt645.address": "应为最多 12 位的十进制数字，实际为 {value}",
        "dlt645.broadcast": "999999999999 是广播地址，不是某块表的地址",
        "dlt645.esam": "密码等级 {level} 表示 ESAM 密文，MeterHub 无法生成：请使用"
                       "明文等级 00..09",
        "dlt645.level_range": "密码等级 {level} 不在 DL/T 645 的 00（最高）.. 09 之"
                              "内",
        "dlt645.digits": "应为数字，实际为 {value}",
        "dlt645.operator_code": "应为最多 8 位十六进制的操作者代码，实际为 {value}",
        "dlt645.seconds": "应为大于 0 的秒数，实际为 {value}",
        "dlt645.protocol": "协议应为 2007、1997 或 auto，实际为 {value}",
        "dlt645.auto_no_reply": "表 {address} 对 DL/T 645-2007 读 00010000 和 DL/T 645-1997 "
                                "读 9010 均无应答（协议：自动识别）",
        "dlt645.no_table": "型号 {model} 没有 {dialect} 的数据点表",
        "dlt645.follow_ups": "数据标识 {di}：后续帧超过 {limit} 帧",
        "dlt645.no_relay": "型号 {model} 没有继电器",
        "dlt645.unsupported": "型号 {model} 不支持 {command}",
        "dlt645.no_remote_relay": "表 {meter} 使用 {dialect}，不支持远程拉合闸（0x1C 属于 "
                                  "DL/T 645-2007）：{command} 未发送",
        "dlt645.no_frozen": "表 {meter} 使用 {dialect}：没有日冻结数据",
        "dlt645.no_load_records": "表 {meter} 使用 {dialect}：没有负荷记录",
        "dlt645.no_events": "表 {meter} 使用 {dialect}：没有事件记录",
        "dlt645.no_param": "型号 {model} 没有可写参数 {name}",
        "dlt645.write_2007": "表 {meter} 使用 {dialect}：{name} 需用 DL/T 645-2007 的数据标识"
                             "写入，未发送",
        "dlt645.sim_option": "型号 {model} 的模拟器没有选项 {option}",
        "dlt645.at_least": "至少为 {low} {unit}，实际为 {value}",
        "dlt645.not_fit": "{value} 超出格式 {pattern} {unit}：{reason}",
        "dlt645.date_time": "应为 'now' 或日期时间，例如 2027-01-01T08:00:00，实际为 {value}",
        "dlt645.clock_year": "电表时钟的年份在 2000 到 2099 之间，实际为 {year}",
        "dlt645.switch_form": "应为 {{table: <时段表>, switch_at: <日期时间>}}，实际为 {value}",
        "dlt645.switch_now": "switch_at：应为日期时间，不能是 'now'（请改为写 tou）",
        "dlt645.not_bcd": "{what}：不是 BCD 数字：{digits}",
        "dlt645.zone_table": "时区表",
        "dlt645.day_table": "日时段表 {number}",
        "dlt645.holidays_held": "表内存有 {count} 个公共假日，超过 {limit} 个",
        "dlt645.holiday_bad": "公共假日 {n}：不是日期加日时段表号：{text}",
        "dlt645.holidays_max": "{count} 个公共假日：一块表最多保存 {limit} 个",
        "dlt645.not_tou": "表内有 {zones} 个时区和 {tables} 个日时段表：不是有效的分时费率表",
        "dlt645.tou_invalid": "表内的分时费率表无效：{reason}",
    },
}
add_strings(STRINGS)
