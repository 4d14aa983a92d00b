"""The NB-IoT link's messages (its settings, queue and platform refusals) in zh-CN and en."""

from __future__ import annotations

from hub.i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "nbiot.imei": "expected an IMEI of 15 digits, got {value}",
        "nbiot.url": "expected a URL starting with http:// or https://, got {value}",
        "nbiot.ctwing_keys": "CTWing downlink needs app_key, app_secret and master_key "
                             "(missing: {missing})",
        "nbiot.sleeps": "{link}: meter {meter} sleeps (NB-IoT): it reports by itself, and "
                        "commands wait for it in queue_command()",
        "nbiot.unknown_command": "unknown command {name}",
        "nbiot.cannot_encode": "meter {meter} ({model}): {reason}",
        "nbiot.queue_full": "meter {meter} has {limit} open commands",
        "nbiot.no_frame": "model {model} built no frame for {name}",
        "nbiot.no_udp_path": "no UDP path to the meter",
        "nbiot.no_ctwing_api": "ctwing.api_url is not configured on the link",
        "nbiot.no_device_id": "the meter's CTWing deviceId is unknown (set "
                              "link_options.device_id)",
        "nbiot.no_onenet_api": "onenet.api_url is not configured on the link",
        "nbiot.no_imei": "the meter's IMEI is unknown (set link_options.imei)",
        "nbiot.unknown_path": "unknown uplink path {kind}",
        "nbiot.http": "{platform} answered HTTP {status}",
        "nbiot.not_json": "{platform} answered with something that is not JSON",
        "nbiot.not_object": "{platform} answered with JSON that is not an object",
        "nbiot.ctwing_unconfigured": "CTWing downlink needs app_key, app_secret and "
                                     "master_key",
        "nbiot.ctwing_product": "CTWing downlink needs the product id (product_id)",
        "nbiot.unreachable": "{platform} unreachable: {reason}",
        "nbiot.ctwing_refused": "CTWing refused the command: code {code} {reason}",
        "nbiot.ctwing_no_id": "CTWing accepted the command but gave no commandId",
        "nbiot.onenet_unconfigured": "OneNET downlink needs api_key",
        "nbiot.onenet_refused": "OneNET refused the command: errno {code} {reason}",
        "nbiot.window_silent": "no answer within the {seconds} s receive window",
        "nbiot.meter_refused": "meter refused: {reason}",
        "nbiot.after_attempts": "{reason} (after {attempts} attempts)",
        "nbiot.platform_reports": "platform reports {code}",
        "nbiot.not_acknowledged": "not acknowledged before its expiry",
    },
    "zh-CN": {
        "nbiot.imei": "应为 15 位数字的 IMEI，实际为 {value}",
        "nbiot.url": "应为以 http:// 或 https:// 开头的网址，实际为 {value}",
        "nbiot.ctwing_keys": "CTWing 下发命令需要 app_key、app_secret 和 master_key（缺少："
                             "{missing}）",
        "nbiot.sleeps": "{link}：表 {meter} 处于休眠（NB-IoT）：它自行上报，命令需排队等它上线"
                        "（queue_command()）",
        "nbiot.unknown_command": "未知的命令 {name}",
        "nbiot.cannot_encode": "表 {meter}（{model}）：{reason}",
        "nbiot.queue_full": "表 {meter} 已有 {limit} 条未完成的命令",
        "nbiot.no_frame": "型号 {model} 没有为 {name} 生成报文",
        "nbiot.no_udp_path": "没有到该表的 UDP 通道",
        "nbiot.no_ctwing_api": "该链路没有配置 ctwing.api_url",
        "nbiot.no_device_id": "不知道该表在 CTWing 的 deviceId（请设置 link_options.device_id）",
        "nbiot.no_onenet_api": "该链路没有配置 onenet.api_url",
        "nbiot.no_imei": "不知道该表的 IMEI（请设置 link_options.imei）",
        "nbiot.unknown_path": "未知的上行通道 {kind}",
        "nbiot.http": "{platform} 应答 HTTP {status}",
        "nbiot.not_json": "{platform} 的应答不是 JSON",
        "nbiot.not_object": "{platform} 的应答是 JSON，但不是对象",
        "nbiot.ctwing_unconfigured": "CTWing 下发命令需要 app_key、app_secret 和 master_key",
        "nbiot.ctwing_product": "CTWing 下发命令需要产品 ID（product_id）",
        "nbiot.unreachable": "无法连接 {platform}：{reason}",
        "nbiot.ctwing_refused": "CTWing 拒绝了该命令：代码 {code} {reason}",
        "nbiot.ctwing_no_id": "CTWing 接受了命令，但没有返回 commandId",
        "nbiot.onenet_unconfigured": "OneNET 下发命令需要 api_key",
        "nbiot.onenet_refused": "OneNET 拒绝了该命令：错误码 {code} {reason}",
        "nbiot.window_silent": "接收窗口 {seconds} 秒内表没有应答",
        "nbiot.meter_refused": "表拒绝执行：{reason}",
        "nbiot.after_attempts": "{reason}（已尝试 {attempts} 次）",
        "nbiot.platform_reports": "平台报告 {code}",
        "nbiot.not_acknowledged": "到期前没有得到确认",
    },
}
add_strings(STRINGS)
