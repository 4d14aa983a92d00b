"""Device maintenance's messages (parameter writes, jobs) in zh-CN and en."""

from __future__ import annotations

from ..i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "devices.unknown_meter": "meter_id: unknown meter '{meter}'",
        "devices.unknown_meter_in": "meters: unknown meter '{meter}'",
        "devices.targets": "give meter_id, meters or tags",
        "devices.no_tags": "tags: no meter has the tags {tags}",
        "devices.not_writable": "param: model {model} of meter {meter} does not declare "
                                "{param!r} writable (writable: {declared})",
        "devices.none": "none",
        "devices.bad_value": "value: {param} of meter {meter}: {reason}",
        "devices.value_required": "value: required (or from_tariff: true for tou / tou_next)",
        "devices.firmware_unknown": "updater: no firmware updater {updater} (updaters: "
                                    "{known})",
        "devices.none_installed": "none installed",
        "devices.from_tariff_param": "from_tariff: only tou and tou_next come from "
                                     "a tariff, not {param}",
        "devices.no_billing": "from_tariff: billing (the tariffs) is not set up",
        "devices.tou_next_on": "on: tou_next from the tariff needs the day it takes "
                               "over (on: 2027-01-01)",
        "devices.from_tariff_meter": "from_tariff: meter {meter}: {reason}",
        "devices.on_date": "on: expected a date like 2027-01-01, got {value}",
        "devices.job_password": "password: a job over several meters resumes after "
                                "a restart, so it uses the meters' configured passwords",
        "devices.no_job": "job_id: no job {job}",
        "devices.cancel_what": "give command_id or job_id",
        "devices.ratio_what": "give ct_ratio and/or pt_ratio (or from_meter: true)",
        "devices.ratio_at": "at: expected a date-time like 2026-11-15T10:00, got {value}",
        "devices.ratio_future": "at: a ratio change cannot be in the future",
        "devices.ratio_past": "registers: a change in the past needs the meter's registers "
                              "at that time (they cannot be read now)",
        "devices.ratio_unread": "the meter's registers could not be read for the change: "
                                "{reason}",
        "devices.ratio_not_read": "from_meter: {key} not read: {reason}",
        "devices.ratio_bad": "from_meter: the meter keeps {key} {value}, not a ratio",
        "devices.ratio_none": "from_meter: the model of meter {meter} keeps no ratio",
        "devices.tou_zone_rest": "{what}: a zone has its own weekend or holiday schedule, "
                                 "but a meter has one rest-day table for the whole "
                                 "year",
        "devices.tou_minute": "{what}: schedule {name} has a segment starting at {start}; "
                              "a meter's segments start on whole minutes",
        "devices.tou_band": "{what}: band {band} of schedule {name} has no meter rate "
                            "(the meter's rates are {known})",
        "devices.tou_invalid": "{what}: {reason}",
        "devices.tou_no_schedule": "tariff {tariff} ({type}) has no time-of-use schedule "
                                   "valid on {day}",
        "devices.tou_tariff": "tariff {tariff}",
        "devices.tou_holidays_unknown": "the official holidays of {year} are not known "
                                        "yet: the meter gets the statutory holidays "
                                        "without make-up working days",
        "devices.credential": "{field}: {reason} (meter {meter})",
        "devices.tag_form": "expected KEY=VALUE, got {value}",
        "devices.write_cancelled": "cancelled: {reason}",
        "devices.write_unconfigured": "meter {meter} or its writable parameter '{param}' is no "
                                      "longer configured",
        "devices.write_invalid": "stored value no longer valid: {reason}",
        "devices.write_password": "the password given with the call is not stored, and the "
                                  "hub restarted before the write was confirmed: submit it "
                                  "again",
        "devices.write_refused": "meter refused: {reason}",
        "devices.write_no_reply": "no reply from the meter ({reason})",
        "devices.write_timeout": "timeout",
        "devices.write_not_sent": "not sent: {reason}",
        "devices.write_meter_gone": "meter no longer configured",
        "devices.readback_refused": "read back refused by the meter: {reason}",
        "devices.readback_failed": "the value could not be read back: {reason}",
        "devices.readback_differs": "the meter acknowledged but reads back {actual}, not "
                                    "{wanted}",
        "devices.write_after": "{reason} (after {attempts} attempts)",
        "devices.write_confirmed": "confirmed by reading back",
        "devices.load_filled": "{first} .. {last}: {count} load records",
        "devices.fw_unconfigured": "the updater or the meter is no longer configured",
        "devices.fw_not_started": "not started: {reason}",
        "devices.fw_installed": "version {version} installed",
        "devices.fw_failed": "the updater reports failure",
        "devices.tamper": "{kind} at {at} (meter clock; event {count} in its log)",
        "devices.tou_differs": "TOU table differs from the tariff's: {found}",
        "devices.tou_agrees": "TOU table agrees with the tariff's again",
        "devices.tou_zones": "zones {meter} instead of {wanted}",
        "devices.tou_day_table": "day table {number} {meter} instead of {wanted}",
        "devices.tou_rest": "rest days {meter_days} on table {meter_table} instead of "
                            "{wanted_days} on table {wanted_table}",
        "devices.tou_holiday": "holiday {day} {meter} instead of {wanted}",
        "devices.tou_on_table": "on day table {table}",
        "devices.tou_not_listed": "not listed",
        "devices.tou_none": "none",
        "devices.tou_more": "{count} more holidays differ",
    },
    "zh-CN": {
        "devices.unknown_meter": "meter_id：未知的表计 '{meter}'",
        "devices.unknown_meter_in": "meters：未知的表计 '{meter}'",
        "devices.targets": "请给出 meter_id、meters 或 tags",
        "devices.no_tags": "tags：没有表计带有标签 {tags}",
        "devices.not_writable": "param：表计 {meter} 的型号 {model} 不支持写入参数 {param!r}"
                                "（可写参数：{declared}）",
        "devices.none": "无",
        "devices.bad_value": "value：表计 {meter} 的参数 {param}：{reason}",
        "devices.value_required": "value：必填（或对 tou / tou_next 使用 from_tariff: true）",
        "devices.firmware_unknown": "updater：没有名为 {updater} 的固件升级程序（现"
                                    "有：{known}）",
        "devices.none_installed": "未安装",
        "devices.from_tariff_param": "from_tariff：只有 tou 和 tou_next 可取自电价"
                                     "，{param} 不行",
        "devices.no_billing": "from_tariff：计费（电价）未配置",
        "devices.tou_next_on": "on：取自电价的 tou_next 需要给出切换日期（on: 2027-01-01）",
        "devices.from_tariff_meter": "from_tariff：表 {meter}：{reason}",
        "devices.on_date": "on：应为日期，例如 2027-01-01，实际为 {value}",
        "devices.job_password": "password：多表任务在重启后会继续执行，因此使用各表"
                                "配置中的密码",
        "devices.no_job": "job_id：没有任务 {job}",
        "devices.cancel_what": "请给出 command_id 或 job_id",
        "devices.ratio_what": "请给出 ct_ratio 和/或 pt_ratio（或 from_meter: true）",
        "devices.ratio_at": "at：应为日期时间，例如 2026-11-15T10:00，实际为 {value}",
        "devices.ratio_future": "at：变比变更不能在将来",
        "devices.ratio_past": "registers：过去的变更需要给出当时表的读数（现在无法"
                              "读取）",
        "devices.ratio_unread": "变更所需的表读数无法读取：{reason}",
        "devices.ratio_not_read": "from_meter：未能读取 {key}：{reason}",
        "devices.ratio_bad": "from_meter：表中的 {key} 为 {value}，不是有效变比",
        "devices.ratio_none": "from_meter：表 {meter} 的型号不保存变比",
        "devices.tou_zone_rest": "{what}：某个时区有自己的周末或节假日时段表，但电"
                                 "表全年只有一张休息日时段表",
        "devices.tou_minute": "{what}：时段表 {name} 有一个时段从 {start} 开始；电"
                              "表的时段须从整分钟开始",
        "devices.tou_band": "{what}：时段表 {name} 的时段类型 {band} 没有对应的电表"
                            "费率（电表费率：{known}）",
        "devices.tou_invalid": "{what}：{reason}",
        "devices.tou_no_schedule": "电价 {tariff}（{type}）在 {day} 没有有效的分时"
                                   "时段表",
        "devices.tou_tariff": "电价 {tariff}",
        "devices.tou_holidays_unknown": "{year} 年的官方节假日安排尚未公布：电表只"
                                        "写入法定节假日，不含调休上班日",
        "devices.credential": "{field}：{reason}（表 {meter}）",
        "devices.tag_form": "应为 键=值，实际为 {value}",
        "devices.write_cancelled": "已取消：{reason}",
        "devices.write_unconfigured": "表 {meter} 或其可写参数 '{param}' 已不在配置中",
        "devices.write_invalid": "保存的参数值已无效：{reason}",
        "devices.write_password": "调用时给出的密码不会保存，而 MeterHub 在写入确认前重启了："
                                  "请重新提交",
        "devices.write_refused": "表拒绝写入：{reason}",
        "devices.write_no_reply": "表没有应答（{reason}）",
        "devices.write_timeout": "超时",
        "devices.write_not_sent": "未发送：{reason}",
        "devices.write_meter_gone": "表已不在配置中",
        "devices.readback_refused": "表拒绝回读：{reason}",
        "devices.readback_failed": "无法回读参数值：{reason}",
        "devices.readback_differs": "表已确认写入，但回读值为 {actual}，而不是 {wanted}",
        "devices.write_after": "{reason}（已尝试 {attempts} 次）",
        "devices.write_confirmed": "回读确认",
        "devices.load_filled": "{first} .. {last}：补录 {count} 条负荷记录",
        "devices.fw_unconfigured": "升级程序或该表已不在配置中",
        "devices.fw_not_started": "未能开始升级：{reason}",
        "devices.fw_installed": "已安装版本 {version}",
        "devices.fw_failed": "升级程序报告升级失败",
        "devices.tamper": "{kind}：发生于 {at}（表内时钟；表内事件记录第 {count} 条）",
        "devices.tou_differs": "表内分时时段表与电价不一致：{found}",
        "devices.tou_agrees": "表内分时时段表已与电价一致",
        "devices.tou_zones": "时区为 {meter}，应为 {wanted}",
        "devices.tou_day_table": "第 {number} 日时段表为 {meter}，应为 {wanted}",
        "devices.tou_rest": "休息日为 {meter_days}（第 {meter_table} 日时段表），应为 "
                            "{wanted_days}（第 {wanted_table} 日时段表）",
        "devices.tou_holiday": "节假日 {day} {meter}，应为 {wanted}",
        "devices.tou_on_table": "用第 {table} 日时段表",
        "devices.tou_not_listed": "未设置",
        "devices.tou_none": "无",
        "devices.tou_more": "另有 {count} 个节假日不一致",
    },
}
add_strings(STRINGS)
