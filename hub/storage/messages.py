"""Storage's messages (backups, exports, rejected readings, a locked database) in zh-CN
and en."""

from __future__ import annotations

from ..i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "storage.no_database": "no database at {path}",
        "storage.backup_exists": "{path} exists already: choose a new file name",
        "storage.backup_check": "the backup of {path} failed its check: {problem}",
        "storage.not_database": "{path} is not a readable MeterHub database: {reason}",
        "storage.no_backup": "no backup file at {path}",
        "storage.backup_damaged": "the backup {path} is damaged: {problem}",
        "storage.backup_foreign": "{path} is not a MeterHub database",
        "storage.backup_newer": "the backup has schema v{backup}, newer than this MeterHub "
                                "(v{latest})",
        "storage.backup_folder_missing": "the backup folder {folder} does not exist (is the "
                                         "USB stick or network share mounted?); it is not "
                                         "created on the SD card",
        "storage.backup_not_folder": "the backup target {folder} is not a folder",
        "storage.backup_read_only": "the backup folder {folder} is not writable by this user",
        "storage.cannot_write": "cannot write {path}: {reason}",
        "storage.export_what": "export readings or consumption, not '{what}'",
        "storage.unknown_meters": "unknown meter(s): {meters}",
        "storage.export_format": "format must be csv or xlsx, not '{format}'",
        "storage.tag_form": "--tag expects KEY=VALUE, got '{item}'",
        "storage.bad_time": "bad time: {reason}",
        "storage.empty_range": "--end {end} is not after --start {start}: nothing lies "
                               "between them",
        "storage.command": "meterhub {command}: {message}",
        "storage.backup_written": "Backup of {source} written to {path}: {size} bytes, schema "
                                  "v{schema}, {readings} readings, {events} events",
        "storage.restored": "Restored {path} from {backup}.",
        "storage.restored_kept": "Restored {path} from {backup}. The previous database was "
                                 "kept as {moved}.",
        "storage.exported": "Exported {rows} rows of {what} to {path}",
        "storage.readings": "readings",
        "storage.consumption": "consumption",
        "storage.locked": "the database {path} is in use by another MeterHub ({holder}); "
                          "stop it first",
        "storage.locked_hint": "{reason}, or give this one another --data folder",
        "storage.holder": "pid {pid}",
        "storage.holder_port": "pid {pid}, web port {port}",
        "storage.unavailable": "storage is {status}: {problem}",
        "storage.not_started": "not started",
        "storage.above_zero": "expected a number above 0, got {value}",
        "storage.register": "register",
        "storage.value": "value",
        "storage.point_null": "{kind} {name} is missing (null)",
        "storage.point_not_number": "{kind} {name} is not a number: {value}",
        "storage.point_not_finite": "{kind} {name} is not a finite number: {value}",
        "storage.counter_negative": "register {name} is negative ({value}): a counter "
                                    "cannot be",
        "storage.registers_not_mapping": "registers are not a mapping",
        "storage.values_not_mapping": "values are not a mapping",
        "storage.no_meter": "the reading names no meter",
        "storage.future": "time {time} is in the future ({seconds} s ahead of the hub's clock)",
        "storage.too_old": "time {time} is older than the readings kept (retention_days)",
        "storage.nothing_left": "nothing left to keep: {reasons}",
        "storage.empty_reading": "the reading holds nothing: no register, value or status",
    },
    "zh-CN": {
        "storage.no_database": "{path} 处没有数据库",
        "storage.backup_exists": "{path} 已存在：请换一个新的文件名",
        "storage.backup_check": "{path} 的备份未通过校验：{problem}",
        "storage.not_database": "{path} 不是可读取的 MeterHub 数据库：{reason}",
        "storage.no_backup": "{path} 处没有备份文件",
        "storage.backup_damaged": "备份 {path} 已损坏：{problem}",
        "storage.backup_foreign": "{path} 不是 MeterHub 数据库",
        "storage.backup_newer": "备份的数据库版本为 v{backup}，比当前 MeterHub（v{latest}）更新",
        "storage.backup_folder_missing": "备份文件夹 {folder} 不存在（U 盘或网络共享是否已"
                                         "挂载？）；不会在 SD 卡上自动创建",
        "storage.backup_not_folder": "备份位置 {folder} 不是文件夹",
        "storage.backup_read_only": "当前用户无权写入备份文件夹 {folder}",
        "storage.cannot_write": "无法写入 {path}：{reason}",
        "storage.export_what": "只能导出 readings（读数）或 consumption（用量），不能导出 '{what}'",
        "storage.unknown_meters": "未知的表：{meters}",
        "storage.export_format": "格式只能是 csv 或 xlsx，不能是 '{format}'",
        "storage.tag_form": "--tag 应为 键=值 的形式，实际为 '{item}'",
        "storage.bad_time": "时间有误：{reason}",
        "storage.empty_range": "--end {end} 不晚于 --start {start}：两者之间没有数据",
        "storage.command": "meterhub {command}：{message}",
        "storage.backup_written": "{source} 已备份到 {path}：{size} 字节，数据库版本 v{schema}，"
                                  "{readings} 条读数，{events} 条事件",
        "storage.restored": "已从 {backup} 恢复 {path}。",
        "storage.restored_kept": "已从 {backup} 恢复 {path}。原数据库已保留为 {moved}。",
        "storage.exported": "已将 {rows} 行{what}导出到 {path}",
        "storage.readings": "读数",
        "storage.consumption": "用量",
        "storage.locked": "数据库 {path} 正被另一个 MeterHub 使用（{holder}）；请先停止它",
        "storage.locked_hint": "{reason}，或者为这个 MeterHub 指定另一个 --data 文件夹",
        "storage.holder": "进程号 {pid}",
        "storage.holder_port": "进程号 {pid}，网页端口 {port}",
        "storage.unavailable": "数据存储不可用（{status}）：{problem}",
        "storage.not_started": "尚未启动",
        "storage.above_zero": "应为大于 0 的数字，实际为 {value}",
        "storage.register": "寄存器",
        "storage.value": "数值",
        "storage.point_null": "{kind} {name} 缺失（null）",
        "storage.point_not_number": "{kind} {name} 不是数字：{value}",
        "storage.point_not_finite": "{kind} {name} 不是有限的数字：{value}",
        "storage.counter_negative": "寄存器 {name} 为负数（{value}）：累计读数不能为负",
        "storage.registers_not_mapping": "寄存器不是键值映射",
        "storage.values_not_mapping": "数值不是键值映射",
        "storage.no_meter": "读数没有指明是哪块表",
        "storage.future": "时间 {time} 在未来（比 MeterHub 的时钟快 {seconds} 秒）",
        "storage.too_old": "时间 {time} 早于保留的读数范围（retention_days）",
        "storage.nothing_left": "没有可保存的内容：{reasons}",
        "storage.empty_reading": "读数中什么都没有：没有寄存器、数值或状态",
    },
}
add_strings(STRINGS)
