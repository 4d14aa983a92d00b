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
    },
}
add_strings(STRINGS)
