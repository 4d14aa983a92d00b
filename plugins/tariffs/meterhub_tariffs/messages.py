"""The tariff types' messages (day schedules, zones, bands) in zh-CN and en."""

from __future__ import annotations

from hub.i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "tariffs.no_segments": "expected segments, the first starting at 00:00",
        "tariffs.segments_max": "at most {limit} segments in a day schedule (DL/T 645), this "
                                "one has {count}",
        "tariffs.first_gap": "gap: 00:00–{first} is not covered (the first segment must start "
                             "at 00:00), got {first}",
        "tariffs.band_price": "this band has no price (prices: {prices}), got '{band}'",
        "tariffs.none_defined": "none defined",
        "tariffs.unknown_schedule": "unknown schedule (schedules: {known}), got '{name}'",
        "tariffs.time_of_day": "expected a time of day like {example}, got {value}",
        "tariffs.price_negative": "a price cannot be negative, got {value}",
        "tariffs.amount_negative": "an amount cannot be negative, got {value}",
        "tariffs.quantity": "expected a quantity above 0, got {value}",
        "tariffs.month_day": "expected a month-day like '07-01', got {value}",
        "tariffs.no_bands": "expected at least one band with its price, e.g. {{flat: "
                            "0.6}}",
        "tariffs.bands_max": "at most {limit} bands (DL/T 645 rates), got {count}",
        "tariffs.last_open": "the last tier is open-ended: remove its up_to (usage "
                             "above it would have no price), got {bound}",
        "tariffs.up_to_needed": "every tier but the last needs up_to (the total where "
                                "it ends)",
        "tariffs.tier_order": "tiers out of order: up_to must be above the previous "
                              "tier's {previous} (list tiers from low to high), got "
                              "{bound}",
        "tariffs.surcharge_per_band": "expected a surcharge per band, e.g. {{peak: "
                                      "0.06, valley: 0.03}}",
        "tariffs.surcharge_or_prices": "give the tier's surcharge (a number, or one "
                                       "per band) or its prices per band",
        "tariffs.surcharge_not_both": "give the tier's surcharge (a number, or one "
                                      "per band) or its prices per band, not both",
        "tariffs.no_tiers": "expected at least one tier",
        "tariffs.tiers_max": "at most {limit} tiers, got {count}",
        "tariffs.register": "expected a meter register t1..t{limit}, got {value}",
        "tariffs.tier_period": "tier_surcharges need tier_period: monthly or yearly",
        "tariffs.crossing_needs_tiers": "crossing_month needs tier_surcharges",
        "tariffs.no_band_price": "no price for band '{band}' (every priced band needs "
                                 "one: {bands})",
        "tariffs.no_band_surcharge": "no surcharge for band '{band}' (every priced "
                                     "band needs one: {bands})",
        "tariffs.band_unpriced": "band '{band}' has no price under prices (bands: "
                                 "{bands})",
        "tariffs.first_crossing": "the first tier is the base price: crossing applies "
                                  "to the tiers above it",
        "tariffs.shanghai_crossing": "crossing_month: shanghai needs the tier's flat "
                                     "surcharge in the month its threshold is crossed, "
                                     "e.g. crossing: 0.05",
        "tariffs.crossing_banded": "crossing_month applies to tier surcharges per "
                                   "band (surcharge: {{peak: ..., valley: ...}} or "
                                   "prices:); with one surcharge per tier every rule "
                                   "bills the same",
        "tariffs.band_register": "band '{band}' needs the meter register that counts "
                                 "it: add registers: {{{band}: t5}} (sharp, peak, "
                                 "flat, valley are t1..t4)",
        "tariffs.register_shared": "band '{band}' would share register t{number} with "
                                   "band '{owner}', got t{number}",
        "tariffs.register_unpriced": "band '{band}' has no price under prices, got "
                                     "t{number}",
        "tariffs.same_start": "overlap: starts at the same time as the previous segment, "
                              "got {start}",
        "tariffs.start_before": "overlap: starts before the previous segment's start "
                                "{before} (list segments in time order), got {start}",
        "tariffs.schedules_map": "expected day schedules by name, got {value}",
        "tariffs.schedules_max": "at most {limit} day schedules (DL/T 645), got {count}",
        "tariffs.no_zones": "expected at least one zone, e.g. {{start: '01-01', schedule: "
                            "normal}}",
        "tariffs.zones_max": "at most {limit} yearly zones (DL/T 645), got {count}",
        "tariffs.zone_order": "zones out of order: must start after the previous zone's "
                              "{previous} (list zones from January on), got {start}",
        "tariffs.zones_needed": "with several schedules, zones say which one applies "
                                "from which date, e.g. [{{start: '01-01', schedule: "
                                "normal}}, {{start: '07-01', schedule: summer}}]",
        "tariffs.tou_schedules": "a TOU tariff priced from interval usage needs schedules "
                                 "(or source: meter_registers)",
        "tariffs.tou_registers": "registers only apply with source: meter_registers",
        "tariffs.entry_map": "expected a mapping of tariff keys, got {value}",
        "tariffs.until_before_from": "valid_until is before valid_from {start}, got "
                                     "{until}",
        "tariffs.version_order": "valid_from must be after the previous version's "
                                 "{before} (list versions oldest first), got {start}",
        "tariffs.version_overlap": "overlaps the next version, valid from {start}, "
                                   "got {until}",
        "tariffs.version_gap": "gap: {first} – {last} would have no price (the next "
                               "version is valid from {start}; end this one on {last} "
                               "or leave valid_until out), got {until}",
        "tariffs.usage_order": "tariff '{tariff}': usage must be in time order without "
                               "overlaps, but {start} is before the end of the previous usage "
                               "{end}",
        "tariffs.no_price_at": "tariff '{tariff}' has no price valid at {at} (its prices: "
                               "{prices})",
        "tariffs.no_price_on": "tariff '{tariff}' has no price valid on {day} (its prices: "
                               "{prices})",
        "tariffs.register_missing": "tariff '{tariff}' prices the meter's register {register} "
                                    "({band}), but the usage from {start} has no such register "
                                    "(does this meter count time-of-use itself?)",
        "tariffs.register_unbilled": "tariff '{tariff}' has no price for register {register}, "
                                     "which counted {value} kWh in the usage from {start}",
        "tariffs.outside_occupancy": "tariff '{tariff}': usage in the tier period from {start} "
                                     "lies outside the occupancy (move-in {move_in}, move-out "
                                     "{move_out})",
    },
    "zh-CN": {
        "tariffs.no_segments": "应为时段列表，第一个时段从 00:00 开始",
        "tariffs.segments_max": "每天的时段表最多 {limit} 个时段（DL/T 645），此表有 {count} 个",
        "tariffs.first_gap": "空档：00:00–{first} 没有覆盖（第一个时段必须从 00:00 开始），"
                             "实际从 {first} 开始",
        "tariffs.band_price": "该时段（尖峰平谷）没有价格（已定价：{prices}），实际为 '{band}'",
        "tariffs.none_defined": "尚未定义",
        "tariffs.unknown_schedule": "未知的日时段表（现有：{known}），实际为 '{name}'",
        "tariffs.time_of_day": "应为一天中的时刻，例如 {example}，实际为 {value}",
        "tariffs.price_negative": "价格不能为负数，实际为 {value}",
        "tariffs.amount_negative": "金额不能为负数，实际为 {value}",
        "tariffs.quantity": "应为大于 0 的用量，实际为 {value}",
        "tariffs.month_day": "应为月-日，例如 '07-01'，实际为 {value}",
        "tariffs.no_bands": "至少需要一个时段类型及其价格，例如 {{flat: 0.6}}",
        "tariffs.bands_max": "最多 {limit} 个时段类型（DL/T 645 费率），实际为 {count} "
                             "个",
        "tariffs.last_open": "最后一档不设上限：请删除其 up_to（否则超出部分没有价"
                             "格），实际为 {bound}",
        "tariffs.up_to_needed": "除最后一档外，每一档都需要 up_to（该档的累计用量上"
                                "限）",
        "tariffs.tier_order": "阶梯顺序错误：up_to 必须大于上一档的 {previous}（阶"
                              "梯从低到高排列），实际为 {bound}",
        "tariffs.surcharge_per_band": "应为每个时段类型的加价，例如 {{peak: 0.06, "
                                      "valley: 0.03}}",
        "tariffs.surcharge_or_prices": "请给出该档的加价（一个数，或每个时段类型一"
                                       "个）或各时段类型的价格",
        "tariffs.surcharge_not_both": "请给出该档的加价（一个数，或每个时段类型一个"
                                      "）或各时段类型的价格，不能两者都给",
        "tariffs.no_tiers": "至少需要一档阶梯",
        "tariffs.tiers_max": "最多 {limit} 档阶梯，实际为 {count} 档",
        "tariffs.register": "应为电表费率寄存器 t1..t{limit}，实际为 {value}",
        "tariffs.tier_period": "tier_surcharges 需要 tier_period：monthly（按月）或"
                               " yearly（按年）",
        "tariffs.crossing_needs_tiers": "crossing_month 需要 tier_surcharges",
        "tariffs.no_band_price": "时段类型 '{band}' 没有价格（每个已定价的时段类型"
                                 "都需要：{bands}）",
        "tariffs.no_band_surcharge": "时段类型 '{band}' 没有加价（每个已定价的时段"
                                     "类型都需要：{bands}）",
        "tariffs.band_unpriced": "时段类型 '{band}' 在 prices 中没有价格（已定价："
                                 "{bands}）",
        "tariffs.first_crossing": "第一档是基础价格：crossing 只适用于更高的档",
        "tariffs.shanghai_crossing": "crossing_month: shanghai 需要在跨档当月按该档"
                                     "统一加价，例如 crossing: 0.05",
        "tariffs.crossing_banded": "crossing_month 只适用于按时段类型加价的阶梯（surcharge: "
                                   "{{peak: ..., valley: ...}} 或 prices:）；每档只"
                                   "有一个加价时各规则计费相同",
        "tariffs.band_register": "时段类型 '{band}' 需要计量它的电表寄存器：请添加"
                                 " registers: {{{band}: t5}}（尖、峰、平、谷为 t1..t4）",
        "tariffs.register_shared": "时段类型 '{band}' 会与 '{owner}' 共用寄存器 t{number}，"
                                   "实际为 t{number}",
        "tariffs.register_unpriced": "时段类型 '{band}' 在 prices 中没有价格，实际"
                                     "为 t{number}",
        "tariffs.same_start": "重叠：与上一个时段开始时间相同，实际为 {start}",
        "tariffs.start_before": "重叠：早于上一个时段的开始时间 {before}（时段须按"
                                "时间顺序排列），实际为 {start}",
        "tariffs.schedules_map": "应为按名称列出的日时段表，实际为 {value}",
        "tariffs.schedules_max": "最多 {limit} 张日时段表（DL/T 645），实际为 {count} "
                                 "张",
        "tariffs.no_zones": "至少需要一个时区，例如 {{start: '01-01', schedule: normal}}",
        "tariffs.zones_max": "每年最多 {limit} 个时区（DL/T 645），实际为 {count} "
                             "个",
        "tariffs.zone_order": "时区顺序错误：必须晚于上一个时区的开始日 {previous}（"
                              "从一月起排列），实际为 {start}",
        "tariffs.zones_needed": "有多张日时段表时，须用 zones 说明从哪天起用哪一张"
                                "，例如 [{{start: '01-01', schedule: normal}}, {{start: "
                                "'07-01', schedule: summer}}]",
        "tariffs.tou_schedules": "按区间用量计价的分时电价需要 schedules（或 source: "
                                 "meter_registers）",
        "tariffs.tou_registers": "registers 只在 source: meter_registers 时适用",
        "tariffs.entry_map": "应为电价的键值表，实际为 {value}",
        "tariffs.until_before_from": "valid_until 早于 valid_from {start}，实际为 "
                                     "{until}",
        "tariffs.version_order": "valid_from 必须晚于上一版本的 {before}（版本按从"
                                 "旧到新排列），实际为 {start}",
        "tariffs.version_overlap": "与下一版本重叠（下一版本从 {start} 起生效），实"
                                   "际为 {until}",
        "tariffs.version_gap": "空档：{first} – {last} 没有价格（下一版本从 {start} "
                               "起生效；请把本版本截止到 {last}，或省略 valid_until）"
                               "，实际为 {until}",
        "tariffs.usage_order": "价格方案 '{tariff}'：用量须按时间顺序且不重叠，但 {start} 早于"
                               "上一段用量的结束时间 {end}",
        "tariffs.no_price_at": "价格方案 '{tariff}' 在 {at} 没有有效的价格（其价格：{prices}）",
        "tariffs.no_price_on": "价格方案 '{tariff}' 在 {day} 没有有效的价格（其价格：{prices}）",
        "tariffs.register_missing": "电价 '{tariff}' 按电表寄存器 {register}（{band}）计价，但"
                                    "从 {start} 起的用量没有这个寄存器（这块表自己分时计量吗？）",
        "tariffs.register_unbilled": "电价 '{tariff}' 没有寄存器 {register} 的价格，而它在从 "
                                     "{start} 起的用量中计了 {value} kWh",
        "tariffs.outside_occupancy": "价格方案 '{tariff}'：从 {start} 起的阶梯周期内的用量不在入住"
                                     "期间内（入住 {move_in}，退租 {move_out}）",
    },
}
add_strings(STRINGS)
