"""WeChat Pay's errors (its keys, answers, bills) in zh-CN and en."""

from __future__ import annotations

from hub.i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "wechatpay.api_v3_key": "expected the 32-character APIv3 key (APIv3密钥)",
        "wechatpay.key_id": "platform_public_key needs its platform_public_key_id "
                            "(PUB_KEY_ID_...)",
        "wechatpay.platform_key": "give platform_public_key (with its id) or "
                                  "platform_certificates: notifications cannot be verified "
                                  "without one",
        "wechatpay.unreachable": "WeChat Pay {method} {path}: {reason}",
        "wechatpay.http": "WeChat Pay {method} {path}: HTTP {status} {body}",
        "wechatpay.not_genuine": "WeChat Pay {method} {path}: answer not genuine: {reason}",
        "wechatpay.not_json": "WeChat Pay {method} {path}: not JSON: {body}",
        "wechatpay.other_order": "order query of {order} answered for another order",
        "wechatpay.bill_download": "WeChat Pay bill download: {reason}",
        "wechatpay.bill_failed": "WeChat Pay bill download failed or its SHA1 differs",
    },
    "zh-CN": {
        "wechatpay.api_v3_key": "应为 32 个字符的 APIv3 密钥",
        "wechatpay.key_id": "填了 platform_public_key（微信支付公钥）就要填它的 "
                            "platform_public_key_id（PUB_KEY_ID_...）",
        "wechatpay.platform_key": "请填写 platform_public_key（及其 id）或 "
                                  "platform_certificates：没有它们无法验证支付通知",
        "wechatpay.unreachable": "微信支付 {method} {path}：无法连接（{reason}）",
        "wechatpay.http": "微信支付 {method} {path}：HTTP {status} {body}",
        "wechatpay.not_genuine": "微信支付 {method} {path}：应答验签失败：{reason}",
        "wechatpay.not_json": "微信支付 {method} {path}：应答不是 JSON：{body}",
        "wechatpay.other_order": "查询订单 {order}，微信支付答的是另一笔订单",
        "wechatpay.bill_download": "微信支付对账单下载失败：{reason}",
        "wechatpay.bill_failed": "微信支付对账单下载失败，或 SHA1 校验不符",
    },
}
add_strings(STRINGS)
