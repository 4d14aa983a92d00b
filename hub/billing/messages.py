"""Billing's messages (bills, move-out) in zh-CN and en."""

from __future__ import annotations

from ..i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "billing.unknown_account": "account_id: unknown account '{account}'",
        "billing.bill_id": "bill_id: {reason}",
        "billing.no_tariffs": "meter '{meter}' cannot be billed: no tariffs are configured",
        "share.no_members": "share group '{group}' has no members",
        "share.zero_weights": "share group '{group}': every member's weight ({split}) is zero "
                              "for {period}, so its cost {cost} cannot be split",
        "share.unknown_accounts": "share group '{group}': unknown account(s) {accounts}",
        "share.no_common_meter": "share group '{group}' has no common meter (it splits "
                                 "invoices: meterhub share split)",
        "share.unknown_meter": "share group '{group}': unknown meter '{meter}'",
        "share.meter_no_tariff": "share group '{group}': common meter '{meter}' has no tariff "
                                 "and the group names none",
        "share.no_tariffs": "share group '{group}': no tariffs are configured",
        "share.problem": "share group '{group}': {reason}",
        "share.meter_problem": "share group '{group}': meter '{meter}': {reason}",
        "billing.tariff_entry": "expected a tariff (a mapping with id and type), got {value}",
        "billing.none_loaded": "none loaded",
        "billing.none_configured": "none configured",
        "billing.tariff_type": "unknown tariff type (known: {known}), got {value}",
        "billing.tariff_id_key": "the id differs from its key '{key}', got {value}",
        "billing.tariff_unknown_type": "tariff '{tariff}': unknown type '{type}'",
        "billing.unknown_tariff": "unknown tariff '{tariff}' (tariffs: {known})",
        "billing.meter_no_tariff": "meter '{meter}' has no tariff (set its tariff: or a "
                                   "tariff_defaults rule)",
        "billing.percentage": "expected a percentage from 0 to 100, got {value}",
        "billing.share_both": "a share group splits its common meters' cost or a fixed "
                              "monthly amount, not both",
        "billing.ratios_needed": "split: ratios needs ratios: {{account: weight, ...}}",
        "billing.share_members": "a share group needs 'members' (account ids) or 'tags' "
                                 "(accounts whose meters or selves carry them)",
        "billing.split_positive": "an amount to split is above 0, got {amount}",
        "billing.no_basis": "share group '{group}' splits by {rule}, but account '{account}' "
                            "has no {rule}",
        "billing.no_ratio": "share group '{group}' splits by ratios, but account '{account}' "
                            "has none",
        "billing.invoice_amount": "share group '{group}': an invoice amount is above "
                                  "0 with at most 2 decimals, got {amount}",
        "billing.invoice_order": "share group '{group}': the invoice period ends ({end}) "
                                 "before it starts ({start})",
        "billing.invoice_days": "share group '{group}': an invoice period of {days} "
                                "days (at most {limit}): check the dates {start} –"
                                " {end}",
        "billing.invoice_rule": "share group '{group}' splits by {rule}: an invoice "
                                "has no meters to weigh, give split: {splits}",
        "billing.invoice_no_ratios": "share group '{group}' splits by ratios, but "
                                     "account(s) {accounts} have none",
        "billing.invoice_unknown": "share group '{group}': unknown account(s) {accounts}",
        "billing.invoice_number": "share group '{group}': give the invoice number "
                                  "to post (it is the entries' reference)",
        "billing.invoice_posted": "invoice {invoice} of share group '{group}' was "
                                  "posted before with {before} for account '{account}', "
                                  "now {now}: reverse those entries to split it again",
        "billing.invoice_failed": "invoice {invoice}: {count} share(s) not posted: "
                                  "{reason}",
        "billing.building_exists": "building.id: '{building}' already exists",
        "billing.unknown_building": "unknown building '{building}'",
        "billing.id_fixed": "changes.id: an id never changes",
        "billing.report_order": "'from' ({first}) is after 'to' ({last})",
        "billing.report_months": "at most {limit} months at once",
        "billing.report_periods": "at most {limit} periods at once",
        "billing.report_by": "by must be day, month or year, got {value}",
        "billing.report_period": "expected a day like 2026-10-01, a month like 2026-10 "
                                 "or a year like 2026, got {value}",
        "billing.report_kind": "kind must be electricity or water, got {value}",
        "billing.report_tag": "tag expects KEY=VALUE (tag=building=A), got {value}",
        "billing.report_tag_needed": "give the tag to group by, e.g. tag=building",
        "billing.report_group_needed": "give the share group: group=ID",
        "billing.report_unknown": "unknown report {name} (reports: {known})",
    },
    "zh-CN": {
        "billing.unknown_account": "account_id：未知的账户 '{account}'",
        "billing.bill_id": "bill_id：{reason}",
        "billing.no_tariffs": "表计 '{meter}' 无法出账：尚未配置任何电价或水价",
        "share.no_members": "公摊组 '{group}' 没有成员",
        "share.zero_weights": "公摊组 '{group}'：{period} 所有成员的权重（{split}）均为 0，"
                              "公摊总额 {cost} 元无法分摊",
        "share.unknown_accounts": "公摊组 '{group}'：未知的账户 {accounts}",
        "share.no_common_meter": "公摊组 '{group}' 没有公共表（它用于分摊账单金额："
                                 "meterhub share split）",
        "share.unknown_meter": "公摊组 '{group}'：未知的表计 '{meter}'",
        "share.meter_no_tariff": "公摊组 '{group}'：公共表 '{meter}' 没有价格方案，公摊组也未指定",
        "share.no_tariffs": "公摊组 '{group}'：尚未配置任何价格方案",
        "share.problem": "公摊组 '{group}'：{reason}",
        "share.meter_problem": "公摊组 '{group}'：表计 '{meter}'：{reason}",
        "billing.tariff_entry": "应为一个价格方案（含 id 和 type 的映射），实际为 {value}",
        "billing.none_loaded": "未加载任何",
        "billing.none_configured": "尚未配置",
        "billing.tariff_type": "未知的计价类型（已知：{known}），实际为 {value}",
        "billing.tariff_id_key": "id 与其键 '{key}' 不一致，实际为 {value}",
        "billing.tariff_unknown_type": "价格方案 '{tariff}'：未知的计价类型 '{type}'",
        "billing.unknown_tariff": "未知的价格方案 '{tariff}'（现有方案：{known}）",
        "billing.meter_no_tariff": "表计 '{meter}' 没有价格方案（请设置其 tariff:，"
                                   "或添加一条 tariff_defaults 规则）",
        "billing.percentage": "应为 0 到 100 的百分比，实际为 {value}",
        "billing.share_both": "公摊组分摊公共表的费用或每月固定金额，不能两者都设",
        "billing.ratios_needed": "split: ratios 需要 ratios：{{账户: 权重, ...}}",
        "billing.share_members": "公摊组需要 'members'（账户编号）或 'tags'（按表或"
                                 "账户的标签选取账户）",
        "billing.split_positive": "分摊金额必须大于 0，实际为 {amount}",
        "billing.no_basis": "公摊组 '{group}' 按 {rule} 分摊，但账户 '{account}' 没"
                            "有设置 {rule}",
        "billing.no_ratio": "公摊组 '{group}' 按比例分摊，但账户 '{account}' 没有比"
                            "例",
        "billing.invoice_amount": "公摊组 '{group}'：发票金额须大于 0 且最多两位小"
                                  "数，实际为 {amount}",
        "billing.invoice_order": "公摊组 '{group}'：发票期间的结束日（{end}）早于开"
                                 "始日（{start}）",
        "billing.invoice_days": "公摊组 '{group}'：发票期间为 {days} 天（最多 {limit} "
                                "天）：请核对日期 {start} – {end}",
        "billing.invoice_rule": "公摊组 '{group}' 按 {rule} 分摊：发票没有可计量的"
                                "表，请指定 split：{splits}",
        "billing.invoice_no_ratios": "公摊组 '{group}' 按比例分摊，但账户 {accounts} "
                                     "没有比例",
        "billing.invoice_unknown": "公摊组 '{group}'：未知的账户 {accounts}",
        "billing.invoice_number": "公摊组 '{group}'：入账需要发票号（作为记账凭证号"
                                  "）",
        "billing.invoice_posted": "公摊组 '{group}' 的发票 {invoice} 之前已为账户 "
                                  "'{account}' 记入 {before}，现为 {now}：请先冲销"
                                  "这些记录再重新分摊",
        "billing.invoice_failed": "发票 {invoice}：{count} 笔分摊未能入账：{reason}",
        "billing.building_exists": "building.id：楼栋 '{building}' 已存在",
        "billing.unknown_building": "未知的楼栋 '{building}'",
        "billing.id_fixed": "changes.id：编号不能修改",
        "billing.report_order": "起始（from，{first}）晚于截止（to，{last}）",
        "billing.report_months": "一次最多 {limit} 个月",
        "billing.report_periods": "一次最多 {limit} 个期间",
        "billing.report_by": "by 应为 day（日）、month（月）或 year（年），实际为 "
                             "{value}",
        "billing.report_period": "应为日（如 2026-10-01）、月（如 2026-10）或年（如"
                                 " 2026），实际为 {value}",
        "billing.report_kind": "kind 应为 electricity（电）或 water（水），实际为 "
                               "{value}",
        "billing.report_tag": "tag 应为 键=值（如 tag=building=A），实际为 {value}",
        "billing.report_tag_needed": "请给出分组用的标签，例如 tag=building",
        "billing.report_group_needed": "请给出公摊组：group=编号",
        "billing.report_unknown": "未知的报表 {name}（可用报表：{known}）",
    },
}
add_strings(STRINGS)
