"""Alipay's errors (its answers, bills, amounts) in zh-CN and en."""

from __future__ import annotations

from hub.i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "alipay.amount": "amount {value} is not a number",
        "alipay.unreachable": "Alipay {method}: {reason}",
        "alipay.http": "Alipay {method}: HTTP {status} {body}",
        "alipay.bad_answer": "Alipay {method}: {reason}",
        "alipay.unsigned": "Alipay {method}: a success without a signature",
        "alipay.bad_signature": "Alipay {method}: the answer's signature is bad",
        "alipay.no_node": "no {node} in the answer",
        "alipay.other_order": "trade query of {order} answered for another order",
        "alipay.bill_download": "Alipay bill download: {reason}",
        "alipay.bill_failed": "Alipay bill download failed",
        "alipay.bill_unreadable": "Alipay bill unreadable: {reason}",
    },
    "zh-CN": {
        "alipay.amount": "金额 {value} 不是数字",
        "alipay.unreachable": "支付宝 {method}：无法连接（{reason}）",
        "alipay.http": "支付宝 {method}：HTTP {status} {body}",
        "alipay.bad_answer": "支付宝 {method}：应答有误：{reason}",
        "alipay.unsigned": "支付宝 {method}：成功应答没有签名",
        "alipay.bad_signature": "支付宝 {method}：应答的签名不对",
        "alipay.no_node": "应答中没有 {node}",
        "alipay.other_order": "查询订单 {order}，支付宝答的是另一笔订单",
        "alipay.bill_download": "支付宝对账单下载失败：{reason}",
        "alipay.bill_failed": "支付宝对账单下载失败",
        "alipay.bill_unreadable": "支付宝对账单无法读取：{reason}",
    },
}
add_strings(STRINGS)
