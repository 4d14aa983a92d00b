"""Printable statements of a bill: plain text (for a receipt printer) and HTML, zh-CN or en."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import jinja2

from .bills import Bill

if TYPE_CHECKING:
    from ..ledger.accounts import Account

_LOGGER = logging.getLogger(__name__)

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Statement", "title_final": "Move-out statement", "bill": "Bill",
        "account": "Account", "billing": "Billing", "prepaid": "prepaid",
        "postpaid": "postpaid", "period": "Period", "issued": "Issued", "due": "Due",
        "status": "Status", "no": "No", "meter": "Meter", "item": "Item",
        "quantity": "Quantity", "unit_price": "Unit price", "amount": "Amount",
        "total": "Total", "consumption": "of which usage", "fees": "fees",
        "per_read": "usage was charged to the balance reading by reading",
        "movements": "Account movements in the period", "opening": "Opening balance",
        "closing": "Closing balance", "settlement": "Settlement at move-out",
        "balance_before": "Balance before settlement", "deposit": "Deposit applied",
        "refund": "Paid back to the tenant", "debt": "Still owed by the tenant",
        "draft": "draft", "issued_status": "issued", "partly_paid": "partly paid",
        "paid": "paid", "recharge": "recharges", "charge": "usage charges",
        "share": "shared costs", "fee": "fees", "refund_kind": "refunds",
        "reversal": "reversals", "adjustment": "adjustments",
        "emergency_credit": "emergency credit", "emergency_repay": "emergency credit repaid",
        "deposit_kind": "deposit",
        "component.energy": "energy", "component.water": "water",
        "component.fixed": "fixed", "component.minimum": "minimum",
        "component.tier_surcharge": "tier_surcharge", "component.share": "share",
        "component.tier_adjustment": "tier_adjustment",
        "key.usage": "usage", "key.minimum": "minimum", "key.sharp": "sharp", "key.peak": "peak",
        "key.flat": "flat", "key.valley": "valley", "key.crossing": "crossing",
        "key_separator": "/", "tier_before": "tier", "tier_after": "", "price_from": "from",
        "unit.month": "month", "note.monthly_fee": "monthly fee",
        "note.monthly_fee_prorated": "monthly fee, pro-rated by day",
    },
    "zh-CN": {
        "title": "账单", "title_final": "退租结算单", "bill": "账单号", "account": "账户",
        "billing": "计费方式", "prepaid": "预付费", "postpaid": "后付费", "period": "账期",
        "issued": "出账时间", "due": "缴费截止", "status": "状态", "no": "序号",
        "meter": "表计", "item": "项目", "quantity": "数量", "unit_price": "单价",
        "amount": "金额", "total": "合计", "consumption": "其中用量", "fees": "固定费用",
        "per_read": "用量已在每次抄表后从余额中扣除", "movements": "本期账户变动",
        "opening": "期初余额", "closing": "期末余额", "settlement": "退租结算",
        "balance_before": "结算前余额", "deposit": "押金抵扣", "refund": "退还租户",
        "debt": "租户仍欠", "draft": "草稿", "issued_status": "已出账", "partly_paid": "部分缴清",
        "paid": "已缴清", "recharge": "充值", "charge": "用量扣费", "share": "公摊",
        "fee": "固定费用", "refund_kind": "退款", "reversal": "冲正", "adjustment": "调整",
        "emergency_credit": "应急额度", "emergency_repay": "应急额度归还",
        "deposit_kind": "押金",
        "component.energy": "电费", "component.water": "水费",
        "component.fixed": "固定费用", "component.minimum": "最低消费",
        "component.tier_surcharge": "阶梯加价", "component.share": "公摊",
        "component.tier_adjustment": "阶梯调整",
        "key.usage": "用量", "key.minimum": "", "key.sharp": "尖段", "key.peak": "峰段",
        "key.flat": "平段", "key.valley": "谷段", "key.crossing": "跨档月",
        "key_separator": "", "tier_before": "第", "tier_after": "档", "price_from": "价格起始于",
        "unit.month": "月", "note.monthly_fee": "月固定费用",
        "note.monthly_fee_prorated": "月固定费用，按天折算",
    },
}

_HTML = jinja2.Environment(autoescape=True).from_string("""<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ title }} {{ bill.bill_id }}</title>
<style>body{font-family:sans-serif;max-width:48em;margin:1em auto}table{border-collapse:collapse;
width:100%}td,th{border-bottom:1px solid #ccc;padding:.2em .4em;text-align:left}
td.n,th.n{text-align:right}</style></head><body>
<h1>{{ title }}</h1>
<p>{% for label, value in head %}<b>{{ label }}</b>: {{ value }}<br>{% endfor %}</p>
<table><tr><th>{{ t.no }}</th><th>{{ t.meter }}</th><th>{{ t.item }}</th>
<th class="n">{{ t.quantity }}</th><th class="n">{{ t.unit_price }}</th>
<th class="n">{{ t.amount }}</th></tr>
{% for row in rows %}<tr><td>{{ row[0] }}</td><td>{{ row[1] }}</td><td>{{ row[2] }}</td>
<td class="n">{{ row[3] }}</td><td class="n">{{ row[4] }}</td><td class="n">{{ row[5] }}</td></tr>
{% endfor %}<tr><th colspan="5">{{ t.total }}</th><th class="n">{{ bill.total }}</th></tr></table>
{% for line in notes %}<p>{{ line }}</p>{% endfor %}
{% for title, items in sections %}<h2>{{ title }}</h2><table>
{% for label, value in items %}<tr><td>{{ label }}</td><td class="n">{{ value }}</td></tr>
{% endfor %}</table>{% endfor %}
</body></html>
""")


_TIER = re.compile(r"^tier(\d+)$")
NOTES = {"monthly fee": "note.monthly_fee",
         "monthly fee, pro-rated by day": "note.monthly_fee_prorated"}
"""The notes bills store (in English), to their labels."""


def _key(key: str, t: Mapping[str, str]) -> str:
    """A line key (``peak/tier2``, ``usage``, a band or fee name) in the statement's words."""
    words = []
    for part in key.split("/"):
        tier = _TIER.match(part)
        words.append(f"{t['tier_before']}{tier[1]}{t['tier_after']}" if tier
                     else t.get(f"key.{part}", part))
    return t["key_separator"].join(word for word in words if word)


def _item(line: Any, t: Mapping[str, str]) -> str:
    text = " ".join(word for word in (t.get(f"component.{line.component}", line.component),
                                      _key(line.key, t)) if word)
    if line.price_from:
        text += f" ({t['price_from']} {line.price_from})"
    if line.note:
        text += f" — {t.get(NOTES.get(line.note, ''), line.note)}"
    return text


def _quantity(line: Any, t: Mapping[str, str]) -> str:
    number = format(line.quantity.normalize(), "f") if line.quantity else "0"
    return f"{number} {t.get(f'unit.{line.unit}', line.unit)}".strip()


def translations() -> dict[str, dict[str, str]]:
    """The statement's strings for the hub's i18n table (``statement.<name>``)."""
    return {lang: {f"statement.{name}": text for name, text in table.items()}
            for lang, table in LABELS.items()}


def render_statement(bill: Bill, account: Account | None, summary: Mapping[str, Any],
                     language: str, fmt: str = "text",
                     translate: Callable[..., str] | None = None) -> str:
    """The statement of ``bill`` as text or HTML (strings from ``translate``, the i18n table)."""
    lang = language if language in LABELS else "en"
    t: dict[str, str] = dict(LABELS[lang])
    if translate is not None:
        t = {name: translate(f"statement.{name}", lang) for name in LABELS["en"]}
    title = t["title_final"] if bill.kind == "final" else t["title"]
    status_key = "issued_status" if bill.status == "issued" else bill.status
    head = [(t["bill"], bill.bill_id),
            (t["account"], f"{bill.account_name} ({bill.account_id})"),
            (t["billing"], t.get(bill.billing, bill.billing)),
            (t["period"], f"{bill.period.start} – {bill.period.last_day}"),
            (t["status"], t.get(status_key, bill.status))]
    if bill.issued:
        head.append((t["issued"], bill.issued.isoformat(timespec="seconds")))
    if bill.due_date:
        head.append((t["due"], bill.due_date.isoformat()))
    rows = [(str(line.no), line.meter_id or "", _item(line, t), _quantity(line, t),
             str(line.unit_price), str(line.amount)) for line in bill.lines]
    notes = [f"{t['consumption']} {bill.consumption}, {t['fees']} {bill.fees}"]
    if bill.billing == "prepaid":
        notes.append(t["per_read"])
    sections: list[tuple[str, list[tuple[str, str]]]] = []
    if summary:
        items = [(t["opening"], str(summary["opening"]))]
        for kind, value in summary.get("movements", {}).items():
            label = t.get(f"{kind}_kind", t.get(kind, kind))
            items.append((label, _signed(value)))
        items.append((t["closing"], str(summary["closing"])))
        sections.append((t["movements"], items))
    if bill.settlement:
        settle = bill.settlement
        items = [(t["balance_before"], settle["balance_before"]),
                 (t["deposit"], settle["deposit"])]
        if Decimal(settle["refund"]):
            items.append((t["refund"], settle["refund"]))
        if Decimal(settle["debt"]):
            items.append((t["debt"], settle["debt"]))
        sections.append((t["settlement"], items))
    if fmt == "html":
        return _HTML.render(lang=lang, title=title, bill=bill, head=head, rows=rows,
                            notes=notes, sections=sections, t=t)
    return _text(title, head, rows, bill, t, notes, sections)


def _signed(value: Decimal) -> str:
    return f"+{value}" if value > 0 else str(value)


def _text(title: str, head: list[tuple[str, str]], rows: Sequence[tuple[str, ...]], bill: Bill,
          t: Mapping[str, str], notes: list[str],
          sections: list[tuple[str, list[tuple[str, str]]]]) -> str:
    out = [title, "=" * 60]
    out += [f"{label}: {value}" for label, value in head]
    out.append("-" * 60)
    header = (t["no"], t["meter"], t["item"], t["quantity"], t["unit_price"], t["amount"])
    table: list[tuple[str, ...]] = [header, *rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(6)]
    for row in table:
        cells = [str(row[i]).ljust(widths[i]) if i < 3 else str(row[i]).rjust(widths[i])
                 for i in range(6)]
        out.append("  ".join(cells).rstrip())
    out.append("-" * 60)
    out.append(f"{t['total']}: {bill.total}")
    out += notes
    for name, items in sections:
        out += ["", name]
        width = max(len(label) for label, _ in items)
        out += [f"  {label.ljust(width)}  {value}" for label, value in items]
    return "\n".join(out) + "\n"
