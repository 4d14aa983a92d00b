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
        "billing.invoice_entry": "invoice {invoice}",
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
        "billing.quote_argument": "argument {name}: {reason}",
        "billing.quantity_nan": "{name} '{text}' is not a number",
        "billing.quantity_infinite": "{name} '{text}' is not a finite number",
        "billing.quantity_negative": "{name} '{text}' is negative: usage is 0 or more",
        "billing.quantity_huge": "{name} '{text}' is more than {limit} (a typo?)",
        "billing.quote_file": "{path}: {reason}",
        "billing.quote_header_unknown": "{path}:{line}: not a header of start,end,kwh (optionally "
                                        "t1..t63): unknown column(s) {columns}",
        "billing.quote_header_start_end": "{path}:{line}: not a header of start,end,kwh "
                                          "(optionally t1..t63): start and end are both needed",
        "billing.quote_columns": "{path}:{line}: {count} values but {columns} columns ({names}); "
                                 "write numbers without thousands separators",
        "billing.quote_line": "{path}:{line}: {reason}",
        "billing.quote_no_rows": "{path}: no usage rows (expected start,end,kwh)",
        "billing.quote_overlap": "{path}: {row} ({start} – {end}) overlaps {other} ({other_start} "
                                 "– {other_end})",
        "billing.quote_row": "line {line}",
        "billing.quote_a_row": "a row",
        "billing.quote_time": "{name} '{text}' is not an ISO time like 2025-07-01T08:00",
        "billing.quote_date": "'{text}' is not a date like 2026-03-01",
        "billing.quote_period_form": "'{text}' is not a period like 2026-03-01:2026-03-31 "
                                     "(START:END, END its last day)",
        "billing.quote_period_long": "a quoted period ends on or after its start and lasts at "
                                     "most {months} bill months: from {start} it ends by {limit}, "
                                     "got {last}",
        "billing.quote_outside": "{row} ({start} – {end}) lies outside the period {first} – "
                                 "{last}: give the period's usage only",
        "billing.quote_period_needed": "--move-in and --move-out pro-rate a bill period: give "
                                       "--period too",
        "billing.quote_move_order": "--move-out {move_out} is before --move-in {move_in}",
        "billing.quote_away": "the tenant (move-in {move_in}, move-out {move_out}) does not live "
                              "there in the period {start} – {last}",
        "billing.usage_order": "usage ends ({end}) before it starts ({start})",
        "billing.usage_negative": "negative usage {quantity}",
        "billing.period_form": "expected a month like 2026-10 or a day like 2026-10-24, got "
                               "{value}",
        "billing.split_no_ledger": "posting an invoice's shares needs the ledger (storage is off)",
        "billing.receivable_no_ledger": "receivable vs received needs the ledger (storage is off)",
        "billing.share_month": "share groups split calendar months: give a month like {month}, "
                               "not {period}",
        "billing.split_ratio": "--ratio {item}: expected ACCOUNT=WEIGHT, e.g. r101=2",
        "billing.no_hub_no_database": "no hub answers and there is no database at {path}",
        "billing.no_hub_database_closed": "no hub answers on port {port} and the database cannot "
                                          "be opened: {problem}",
        "billing.charge_unknown_meter": "meter '{meter}' is not configured: not charged",
        "billing.charge_no_account": "meter '{meter}' has no account: not charged",
        "billing.charge_no_tariffs": "meter '{meter}' has no tariff (no tariffs: block)",
        "billing.charge_no_price": "{reason}: reading {reading} not charged (no price is ever "
                                   "assumed); give the meter a tariff",
        "billing.charge_moved_out": "account '{account}' moved out on {day}: usage of meter "
                                    "'{meter}' after it is not charged to it (give the meter its "
                                    "new account)",
        "billing.charge_no_period": "no open bill period for meter '{meter}'",
        "billing.state_inconsistent": "charge state of meter '{meter}' for {period} is "
                                      "inconsistent: line {line} charged {charged} but rounds to "
                                      "{amount}",
        "billing.retier_disagree": "tariff '{tariff}': the tier usage from {start} ({total}) and "
                                   "the charge states disagree: {quantity} used from {first} to "
                                   "{last}; the move-out's tiers cannot be re-priced",
        "billing.retier_registers": "tariff '{tariff}' changes its price on {day}, inside a "
                                    "month, and its lines are the meter's own register deltas: "
                                    "the tier usage before and after the change cannot be told "
                                    "apart, so the move-out's tiers cannot be re-priced exactly "
                                    "(move the price change to the 1st of a month)",
        "billing.bill_no_tariff": "{reason}: the bill of account '{account}' for {period} cannot "
                                  "be made",
        "billing.move_out_early": "move-out {day} is before the move-in {move_in}",
        "billing.moved_out_already": "account '{account}' moved out already (on {day})",
        "billing.reason_credit_line": "bill credit line",
        "billing.reason_credit_repaid": "move-out: emergency credit repaid",
        "billing.reason_paid_back": "move-out: balance and deposit paid back",
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
        "billing.invoice_entry": "公摊发票 {invoice}",
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
        "billing.quote_argument": "参数 {name}：{reason}",
        "billing.quantity_nan": "{name} '{text}' 不是数字",
        "billing.quantity_infinite": "{name} '{text}' 不是有限的数字",
        "billing.quantity_negative": "{name} '{text}' 为负数：用量应不小于 0",
        "billing.quantity_huge": "{name} '{text}' 大于 {limit}（是否输错？）",
        "billing.quote_file": "无法读取 {path}：{reason}",
        "billing.quote_header_unknown": "{path}:{line}：表头应为 start,end,kwh（可加 t1..t63）：未"
                                        "知的列 {columns}",
        "billing.quote_header_start_end": "{path}:{line}：表头应为 start,end,kwh（可加 t1..t63）："
                                          "start（开始）和 end（结束）两列都需要",
        "billing.quote_columns": "{path}:{line}：有 {count} 个值，但只有 {columns} 列（{names}）；"
                                 "数字请勿使用千位分隔符",
        "billing.quote_line": "{path} 第 {line} 行：{reason}",
        "billing.quote_no_rows": "{path}：没有用量行（应为 start,end,kwh）",
        "billing.quote_overlap": "{path}：{row}（{start} – {end}）与{other}（{other_start} – "
                                 "{other_end}）时间重叠",
        "billing.quote_row": "第 {line} 行",
        "billing.quote_a_row": "某一行",
        "billing.quote_time": "{name} '{text}' 不是有效的时间（应如 2025-07-01T08:00）",
        "billing.quote_date": "'{text}' 不是日期（如 2026-03-01）",
        "billing.quote_period_form": "'{text}' 不是期间（如 2026-03-01:2026-03-31，即 开始:结束，"
                                     "结束为最后一天）",
        "billing.quote_period_long": "试算期间的结束不能早于开始，且最长 {months} 个账期：从 "
                                     "{start} 起最晚到 {limit}，实际为 {last}",
        "billing.quote_outside": "{row}（{start} – {end}）不在期间 {first} – {last} 内：只提供该期"
                                 "间的用量",
        "billing.quote_period_needed": "--move-in 和 --move-out 按账期折算：请同时给出 --period",
        "billing.quote_move_order": "--move-out {move_out} 早于 --move-in {move_in}",
        "billing.quote_away": "租户（入住 {move_in}，退租 {move_out}）在期间 {start} – {last} 内不"
                              "在住",
        "billing.usage_order": "用量的结束时间（{end}）早于开始时间（{start}）",
        "billing.usage_negative": "用量为负数：{quantity}",
        "billing.period_form": "应为月份（如 2026-10）或日期（如 2026-10-24），实际为 {value}",
        "billing.split_no_ledger": "分摊入账需要账本（数据存储已关闭）",
        "billing.receivable_no_ledger": "应收与实收报表需要账本（数据存储已关闭）",
        "billing.share_month": "公摊组按自然月分摊：请给出月份（如 {month}），而不是 {period}",
        "billing.split_ratio": "--ratio {item}：应为 账户=权重，例如 r101=2",
        "billing.no_hub_no_database": "MeterHub 没有响应，{path} 也没有数据库",
        "billing.no_hub_database_closed": "端口 {port} 上没有 MeterHub 响应，数据库也无法打开："
                                          "{problem}",
        "billing.charge_unknown_meter": "表 '{meter}' 未配置：不计费",
        "billing.charge_no_account": "表 '{meter}' 没有账户：不计费",
        "billing.charge_no_tariffs": "表 '{meter}' 没有电价/水价（未配置 tariffs）",
        "billing.charge_no_price": "{reason}：读数 {reading} 未计费（从不假定价格）；请为该表设置"
                                   "价格",
        "billing.charge_moved_out": "账户 '{account}' 已于 {day} 退租：之后表 '{meter}' 的用量不再"
                                    "计入该账户（请为该表指定新账户）",
        "billing.charge_no_period": "表 '{meter}' 没有未结的账期",
        "billing.state_inconsistent": "表 '{meter}' 在 {period} 的计费状态不一致：明细 {line} 已计"
                                      " {charged}，但取整为 {amount}",
        "billing.retier_disagree": "价格 '{tariff}'：自 {start} 起的阶梯用量（{total}）与计费状态"
                                   "不一致：{first} 至 {last} 用量为 {quantity}；无法重新计算退租"
                                   "的阶梯价格",
        "billing.retier_registers": "价格 '{tariff}' 在月中 {day} 调价，且按表计自身的费率寄存器计"
                                    "量：无法区分调价前后的阶梯用量，因此不能精确重算退租的阶梯价"
                                    "格（请把调价日改为某月 1 日）",
        "billing.bill_no_tariff": "{reason}：无法生成账户 '{account}' 在 {period} 的账单",
        "billing.move_out_early": "退租日 {day} 早于入住日 {move_in}",
        "billing.moved_out_already": "账户 '{account}' 已经退租（{day}）",
        "billing.reason_credit_line": "账单抵扣项",
        "billing.reason_credit_repaid": "退租：归还应急额度",
        "billing.reason_paid_back": "退租：退还余额和押金",
    },
}
add_strings(STRINGS)
