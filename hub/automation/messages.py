"""Automations' messages (check-config of triggers, conditions and steps; the editor; the
automation.* services' refusals) in zh-CN and en."""

from __future__ import annotations

from ..i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "automation.time_what": "give 'after', 'before' or 'weekday'",
        "automation.holiday_both": "give 'holiday' or 'day_type', not both",
        "automation.condition_map": "expected a condition (a mapping), got {value}",
        "automation.condition_type": "unknown condition type {kind} (known: {known})",
        "automation.condition_text": "a condition given as text must be a template "
                                     "('{{{{ ... }}}}')",
        "automation.mapping": "expected a mapping, got {value}",
        "automation.unknown_kind": "unknown {kind} {value} (known: {known})",
        "automation.delay_max": "at most {days} days, got {duration}",
        "automation.service_name": "expected a service as 'domain.name' (meter.trip), "
                                   "got {value}",
        "automation.repeat_max": "at most {limit} repeats, got {count}",
        "automation.repeat_one": "a repeat needs exactly one of count, while, until, "
                                 "for_each",
        "automation.step_map": "expected a step (a mapping), got {value}",
        "automation.step_kind": "a step needs one of: {known} (got keys {keys})",
        "automation.none": "none",
        "automation.numeric_what": "give 'above', 'below' or both",
        "automation.pattern_what": "give at least one of hours, minutes, seconds",
        "automation.divisor": "'/n' needs n from 1 to {limit}, got {number}",
        "automation.range": "expected 0 to {last}, got {number}",
        "automation.pattern": "expected a number, '*' or '/n', got {value}",
        "automation.at": "expected a time of day like '23:00' or an entity id whose "
                         "state is a time, got {value}",
        "automation.no_config_file": "the hub was started without a configuration "
                                     "file",
        "automation.no_include": "hub.yaml has no 'automation: !include automations.yaml': "
                                 "add that line (and the file) to edit automations "
                                 "here",
        "automation.inline": "the automations are written inside hub.yaml: move them "
                             "to automations.yaml with 'automation: !include automations.yaml' "
                             "to edit them here",
        "automation.too_large": "the text is larger than {limit} KiB",
        "automation.not_set_up": "automation '{automation}' is not set up",
        "automation.stays_off": "automation '{automation}' stays off",
        "automation.no_run": "no stored run '{run}' of automation '{automation}'",
        "automation.nothing_to_reload": "the hub was started without a configuration "
                                        "file: nothing to reload",
        "automation.kept_problems": "the running automations are kept: {count} problem(s) "
                                    "in {path}",
        "automation.kept": "the running automations are kept",
        "automation.unknown_ref": "unknown {what} '{value}'",
        "automation.meter": "meter",
        "automation.account": "account",
        "automation.unknown": "unknown automation '{automation}'",
        "automation.problem_at": "{file}:{line} {reason}",
        "automation.not_a_list": "{file}: expected a list of automations (- id: ...), got {type}",
        "automation.template_slow": "took longer than {seconds} s",
        "automation.template_range": "range of {count} items (at most {limit})",
        "automation.template_money": "money: {value} is not an amount",
        "automation.template_quantity": "quantity: {value} is not a number",
        "automation.template_syntax": "{name}: {reason} (template line {line}): {source}",
        "automation.template_in": "template in {where}",
        "automation.template": "template",
        "automation.template_output": "output longer than {limit} characters",
        "automation.template_failed": "{name}: {reason} ({source})",
        "automation.template_crashed": "{name}{line}: {kind}: {reason} ({source})",
        "automation.template_line": " (template line {line})",
        "automation.step_failed": "{where}: {reason}",
        "automation.step_crashed": "{where}: {kind}: {reason}",
        "automation.every_call_failed": "every call of {service} failed: {reason}",
        "automation.delay_rendered": "delay rendered to {value}, not a duration",
        "automation.wait_timed_out": "timed out waiting",
        "automation.for_each_list": "for_each needs a list, got {value}",
        "automation.repeat_many": "at most {limit} repeats, got {count}",
        "automation.repeat_stopped": "stopped after {limit} repeats",
        "automation.condition_false": "a condition step was false",
        "automation.not_set_up_because": "automation '{automation}' is not set up: {problems}",
        "automation.where": "automation {automation}, {path}",
        "automation.skip_single": "already running (mode: single)",
        "automation.skip_max": "{runs} runs already (max {max})",
        "automation.call_refused": "{service}: {reason}",
        "automation.cancelled": "cancelled",
        "automation.crashed": "{kind}: {reason}",
        "automation.expired": "its {kind} at {path} ended {late} before the restart, more than "
                              "max_late {max_late}",
        "automation.loop": "loop: caused by automations {levels} levels deep (each run's action "
                           "triggering the next)",
        "automation.over_rate": "more than {limit} runs in a minute (max_per_minute)",
    },
    "zh-CN": {
        "automation.time_what": "请给出 'after'、'before' 或 'weekday'",
        "automation.holiday_both": "请给出 'holiday' 或 'day_type'，不能两者都给",
        "automation.condition_map": "应为条件（键值表），实际为 {value}",
        "automation.condition_type": "未知的条件类型 {kind}（可用：{known}）",
        "automation.condition_text": "以文本给出的条件必须是模板（'{{{{ ... }}}}'）",
        "automation.mapping": "应为键值表，实际为 {value}",
        "automation.unknown_kind": "未知的 {kind} 类型 {value}（可用：{known}）",
        "automation.delay_max": "最多 {days} 天，实际为 {duration}",
        "automation.service_name": "应为 '域.名称' 形式的服务（如 meter.trip），实"
                                   "际为 {value}",
        "automation.repeat_max": "最多重复 {limit} 次，实际为 {count}",
        "automation.repeat_one": "重复步骤需要且只能有 count、while、until、for_each "
                                 "之一",
        "automation.step_map": "应为步骤（键值表），实际为 {value}",
        "automation.step_kind": "步骤需要以下之一：{known}（实际的键：{keys}）",
        "automation.none": "无",
        "automation.numeric_what": "请给出 'above'、'below' 或两者",
        "automation.pattern_what": "请至少给出 hours、minutes、seconds 之一",
        "automation.divisor": "'/n' 中的 n 应在 1 到 {limit} 之间，实际为 {number}",
        "automation.range": "应在 0 到 {last} 之间，实际为 {number}",
        "automation.pattern": "应为数字、'*' 或 '/n'，实际为 {value}",
        "automation.at": "应为一天中的时刻（如 '23:00'）或状态为时刻的实体编号，实"
                         "际为 {value}",
        "automation.no_config_file": "MeterHub 启动时没有使用配置文件",
        "automation.no_include": "hub.yaml 中没有 'automation: !include automations.yaml'："
                                 "请添加这一行（以及该文件）后再在此编辑自动化",
        "automation.inline": "自动化写在 hub.yaml 中：请用 'automation: !include automations.yaml' "
                             "移到 automations.yaml 后再在此编辑",
        "automation.too_large": "文本超过 {limit} KiB",
        "automation.not_set_up": "自动化 '{automation}' 未能设置",
        "automation.stays_off": "自动化 '{automation}' 保持关闭",
        "automation.no_run": "自动化 '{automation}' 没有保存的运行记录 '{run}'",
        "automation.nothing_to_reload": "MeterHub 启动时没有使用配置文件：无可重新"
                                        "加载",
        "automation.kept_problems": "继续运行当前的自动化：{path} 中有 {count} 个问"
                                    "题",
        "automation.kept": "继续运行当前的自动化",
        "automation.unknown_ref": "未知的{what} '{value}'",
        "automation.meter": "表",
        "automation.account": "账户",
        "automation.unknown": "未知的自动化 '{automation}'",
        "automation.problem_at": "{file} 第 {line} 行：{reason}",
        "automation.not_a_list": "{file}：应为自动化列表（- id: ...），实际为 {type}",
        "automation.template_slow": "渲染超过 {seconds} 秒",
        "automation.template_range": "range 有 {count} 项（最多 {limit} 项）",
        "automation.template_money": "money（金额）：{value} 不是金额",
        "automation.template_quantity": "quantity（数量）：{value} 不是数字",
        "automation.template_syntax": "{name}：{reason}（模板第 {line} 行）：{source}",
        "automation.template_in": "{where} 中的模板",
        "automation.template": "模板",
        "automation.template_output": "输出超过 {limit} 个字符",
        "automation.template_failed": "{name}：{reason}（{source}）",
        "automation.template_crashed": "{name}{line}：{kind}：{reason}（{source}）",
        "automation.template_line": "（模板第 {line} 行）",
        "automation.step_failed": "{where}：{reason}",
        "automation.step_crashed": "{where}：{kind}：{reason}",
        "automation.every_call_failed": "{service} 的每次调用都失败了：{reason}",
        "automation.delay_rendered": "delay 渲染结果为 {value}，不是时长",
        "automation.wait_timed_out": "等待超时",
        "automation.for_each_list": "for_each 需要列表，实际为 {value}",
        "automation.repeat_many": "最多重复 {limit} 次，实际为 {count} 次",
        "automation.repeat_stopped": "重复 {limit} 次后停止",
        "automation.condition_false": "条件步骤不成立",
        "automation.not_set_up_because": "自动化 '{automation}' 未能设置：{problems}",
        "automation.where": "自动化 {automation}，{path}",
        "automation.skip_single": "正在运行（mode: single，不重复启动）",
        "automation.skip_max": "已有 {runs} 次运行（最多 {max} 次）",
        "automation.call_refused": "{service} 被拒绝：{reason}",
        "automation.cancelled": "已取消",
        "automation.crashed": "意外错误 {kind}：{reason}",
        "automation.expired": "{path} 处的 {kind} 在重启前 {late} 已结束，超过 max_late {max_late}",
        "automation.loop": "循环：由 {levels} 层自动化连续触发（每次运行的动作触发下一次）",
        "automation.over_rate": "一分钟内运行超过 {limit} 次（max_per_minute）",
    },
}
add_strings(STRINGS)
