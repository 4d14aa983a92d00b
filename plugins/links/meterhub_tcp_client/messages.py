"""The TCP client link's messages (framing hints) in zh-CN and en."""

from __future__ import annotations

from hub.i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "tcp_client.option": "link {link} option framing: {framing} (rtu | mbap)",
        "tcp_client.no_frame": "{count} bytes came back but not one {framing} frame: the "
                               "framing may be wrong ({option}; try framing: {other})",
        "tcp_client.mbap_port": "port {port} is Modbus/TCP's: a Modbus/TCP gateway needs "
                                "framing: mbap ({option})",
        "tcp_client.not_rtu": "framing mbap carries Modbus RTU requests only, and this request "
                              "is not one (a DL/T 645 or CJ/T 188 meter needs framing: rtu)",
        "tcp_client.framing_choice": "framing is one of {names}",
    },
    "zh-CN": {
        "tcp_client.option": "链路 {link} 的选项 framing：{framing}（rtu | mbap）",
        "tcp_client.no_frame": "收到 {count} 字节，但没有一帧是 {framing} 帧：帧格式可能设置错了"
                               "（{option}；请试 framing: {other}）",
        "tcp_client.mbap_port": "端口 {port} 是 Modbus/TCP 端口：Modbus/TCP 网关需要 "
                                "framing: mbap（{option}）",
        "tcp_client.not_rtu": "framing mbap 只能承载 Modbus RTU 请求，而此请求不是"
                              "（DL/T 645 或 CJ/T 188 表需要 framing: rtu）",
        "tcp_client.framing_choice": "framing 只能是以下之一：{names}",
    },
}
add_strings(STRINGS)
