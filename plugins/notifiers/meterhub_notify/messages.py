"""The notify plugin's refusals and delivery errors (config, services, providers) in zh-CN and
en; the notices' own texts are in strings.py."""

from __future__ import annotations

from hub.i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "notify.apprise_url": "apprise cannot use this {label} URL",
        "notify.unknown_type": "expected a notifier type ({known}), got unknown type {value}",
        "notify.none_loaded": "none loaded",
        "notify.by_name": "expected notifiers by name, like 'landlord: {{urls: [...]}}'",
        "notify.cannot_write": "cannot write {file}: {reason}",
        "notify.duration": "expected a duration above 0",
        "notify.phone": "expected a phone number like 13800138000 or +8613800138000, got {value}",
        "notify.url": "expected a URL like https://host, got {value}",
        "notify.empty_key": "expected a key, got an empty text (use !secret)",
        "notify.recipients": "give '{own}' or 'to_account: true' (the account's contacts)",
        "notify.param_error": "template parameter '{name}': {reason}",
        "notify.no_recipient_account": "no recipient: account {account} has no "
                                       "contacts.{contact}",
        "notify.no_recipient": "no recipient: the message has no contacts.{contact}",
        "notify.not_json": "{provider}: HTTP {status} without a JSON answer",
        "notify.rest_left": "{provider}: more recipients left; sending the rest",
        "notify.message_or_template": "give either 'message' (text) or 'template' (a notice "
                                      "name)",
        "notify.account_twice": "give 'account_id' or 'account', not both",
        "notify.template_error": "template error: {reason}",
        "notify.empty_message": "the message is empty after rendering",
        "notify.unknown_account": "account_id: unknown account '{account}'",
        "notify.params_numbered": "expected parameters numbered like the template's {{1}}, "
                                  "{{2}}: '1', '2'...",
        "notify.params_range": "expected parameters 1..{count}, got {found}",
        "notify.tencent_no_response": "Tencent SMS: HTTP {status} without a Response",
        "notify.numbers_refused": "{failed} of {total} number(s) refused; {first}",
        "notify.no_answer_within": "no answer within {seconds}s",
        "notify.not_delivered_within": "not delivered within {seconds}s",
        "notify.apprise_crashed": "{kind}: {reason}",
        "notify.apprise_refused": "apprise: {reason}",
        "notify.apprise_failed": "apprise reported a failure",
        "notify.unreachable": "{provider}: cannot reach the endpoint ({kind})",
        "notify.provider_refused": "{provider} refused ({code}: {detail}): {outcome}",
        "notify.retried": "retried",
        "notify.not_retried": "not retried",
        "notify.template_params": "give the template's data keys",
        "notify.one_url": "give at least one URL",
    },
    "zh-CN": {
        "notify.apprise_url": "apprise 无法使用这个 {label} 地址",
        "notify.unknown_type": "通知方式应为 {known} 之一，实际为未知类型 {value}",
        "notify.none_loaded": "未加载任何通知方式",
        "notify.by_name": "通知对象应按名称列出，例如 'landlord: {{urls: [...]}}'",
        "notify.cannot_write": "无法写入 {file}：{reason}",
        "notify.duration": "时长应大于 0",
        "notify.phone": "应为手机号，例如 13800138000 或 +8613800138000，实际为 {value}",
        "notify.url": "应为网址，例如 https://host，实际为 {value}",
        "notify.empty_key": "密钥不能为空（请用 !secret）",
        "notify.recipients": "请填写 '{own}' 或 'to_account: true'（发给账户的联系人）",
        "notify.param_error": "模板参数 '{name}'：{reason}",
        "notify.no_recipient_account": "没有收件人：账户 {account} 没有 contacts.{contact}",
        "notify.no_recipient": "没有收件人：该消息没有 contacts.{contact}",
        "notify.not_json": "{provider}：HTTP {status}，应答不是 JSON",
        "notify.rest_left": "{provider}：还有收件人未发送，继续发送其余的",
        "notify.message_or_template": "'message'（文字）和 'template'（通知名称）只能给一个",
        "notify.account_twice": "'account_id' 和 'account' 只能给一个",
        "notify.template_error": "模板错误：{reason}",
        "notify.empty_message": "模板渲染后消息为空",
        "notify.unknown_account": "account_id：未知的账户 '{account}'",
        "notify.params_numbered": "参数应按模板的 {{1}}、{{2}} 编号：'1'、'2'……",
        "notify.params_range": "参数应为 1..{count}，实际为 {found}",
        "notify.tencent_no_response": "腾讯云短信：HTTP {status}，应答中没有 Response",
        "notify.numbers_refused": "{total} 个号码中有 {failed} 个被拒绝；{first}",
        "notify.no_answer_within": "{seconds} 秒内没有应答",
        "notify.not_delivered_within": "{seconds} 秒内未能送达",
        "notify.apprise_crashed": "{kind}：{reason}",
        "notify.apprise_refused": "apprise 发送失败：{reason}",
        "notify.apprise_failed": "apprise 报告发送失败",
        "notify.unreachable": "{provider}：无法连接接口（{kind}）",
        "notify.provider_refused": "{provider} 拒绝发送（{code}：{detail}）：{outcome}",
        "notify.retried": "将重试",
        "notify.not_retried": "不再重试",
        "notify.template_params": "请给出模板的数据字段",
        "notify.one_url": "请至少给出一个 URL",
    },
}
add_strings(STRINGS)
