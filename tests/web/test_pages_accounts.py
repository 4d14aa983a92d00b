"""The accounts pages: a recharge at the counter counted once however often the form is
sent, amounts checked, a stale form refused with nothing changed, adjustments undone by a
reversal, holds and the trip policy, a scoped or under-privileged caller refused, and names
with HTML shown as text."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from access_support import access_site
from common import bounded, settle
from pages_support import browser, hidden_fields, page, post_form, section, text_of

from hub.ledger import Ledger
from hub.prepaid import Control

SITE = """
site: {name: Accounts, time_zone: Asia/Shanghai}
http: {host: 127.0.0.1, port: 0}
metering: {read_on_start: false}
storage: {commit_interval: 0.02}
links:
  - {id: sim1, type: sim, speed: 0}
meters:
  - {id: a1, model: ddsy, link: sim1, address: "202400000001", account: acc_a, tariff: flat,
     tags: {building: A}}
  - {id: b1, model: ddsy, link: sim1, address: "202400000002", account: acc_b, tariff: flat,
     tags: {building: B}}
accounts:
  - {id: acc_a, name: "<img src=x onerror=alert(1)>", opening_balance: 30.00}
  - {id: acc_b, name: 乙, opening_balance: 10.00}
tariffs:
  - {id: flat, type: flat, price: 1.00}
"""
D = Decimal


def _ledger(site: object) -> Ledger:
    return site.hub.component("ledger", Ledger)  # type: ignore[attr-defined]


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_recharge_at_the_counter_counts_once_and_has_a_receipt(tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        ledger = _ledger(site)
        url = site.base + "/accounts/acc_a/recharge"
        async with browser(site, "operator") as operator:
            _status, html = await page(operator, site.base + "/accounts/acc_a")
            assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html
            form = {**hidden_fields(html, "/accounts/acc_a/recharge"), "amount": "50.00",
                    "amount_again": "50.00", "method": "cash", "reference": "",
                    "note": "<b>押金</b>"}
            assert form["key"] and form["version"] and form["csrf"]
            status, _html, receipt = await post_form(operator, url, form)
            assert status == 303 and receipt is not None and "/receipt/" in receipt
            assert ledger.balance("acc_a") == D("80.00")
            # the same form again (a double click, a resend): the same receipt, no second post
            status, _html, again = await post_form(operator, url, form)
            assert status == 303 and again == receipt
            assert ledger.balance("acc_a") == D("80.00")
            _status, html = await page(operator, site.base + again)
            assert "只计一次" in html  # the flash says it counted once
            receipt_text = text_of(section(html, "receipt"))
            assert "¥50.00" in receipt_text and "¥80.00" in receipt_text
            assert "operator" in receipt_text and "现金" in receipt_text
            assert "<b>押金</b>" in receipt_text and "<b>押金</b>" not in html  # as text

            # amounts that differ, too many decimals, not a number: 4xx, nothing posted
            _status, html = await page(operator, site.base + "/accounts/acc_a")
            fresh = hidden_fields(html, "/accounts/acc_a/recharge")
            for amount, again_amount, says in (("10.00", "100.00", "不一致"),
                                                ("10.001", "10.001", "amount"),
                                                ("ten", "ten", "amount"),
                                                ("-5", "-5", "amount")):
                status, html, _where = await post_form(operator, url, {
                    **fresh, "amount": amount, "amount_again": again_amount,
                    "method": "cash"})
                assert status == 400 and says in text_of(section(html, "main")), amount
                assert 'id="recharge"' in html  # the form again, with what was typed
            assert ledger.balance("acc_a") == D("80.00")
            entries = await ledger.entries("acc_a", kinds=("recharge",))
            assert len(entries) == 1 and entries[0].context.user_id == "operator"


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_stale_form_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        ledger = _ledger(site)
        async with browser(site, "finance") as finance:
            _status, html = await page(finance, site.base + "/accounts/acc_b")
            form = hidden_fields(html, "/accounts/acc_b/adjust")
            # meanwhile another user takes a payment on the account
            await site.hub.services.call("account", "recharge", {
                "account_id": "acc_b", "amount": D("5.00"), "method": "cash",
                "reference": "desk-2"})
            await settle(site.hub)
            status, html, _where = await post_form(
                finance, site.base + "/accounts/acc_b/adjust",
                {**form, "amount": "-15.00", "reason": "多收", "confirmed": "1"})
            assert status == 409
            assert "其他人修改了该账户" in text_of(section(html, "main"))
            assert ledger.balance("acc_b") == D("15.00")  # the adjustment was not posted
            assert [entry.reason for entry in await ledger.entries(
                "acc_b", kinds=("adjustment",)) if not entry.opening] == []


@pytest.mark.timeout(150)
@bounded(120)
async def test_an_adjustment_is_undone_by_a_reversal_and_holds_and_policy_are_set(
        tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        ledger = _ledger(site)
        control = site.hub.component("control", Control)
        async with browser(site, "admin") as admin:
            account = site.base + "/accounts/acc_b"
            _status, html = await page(admin, account)
            form = hidden_fields(html, "/accounts/acc_b/adjust")
            status, asked, _where = await post_form(
                admin, account + "/adjust", {**form, "amount": "-4.50", "reason": "多收"})
            assert status == 200 and 'name="confirmed" value="1"' in asked  # asked first
            assert ledger.balance("acc_b") == D("10.00")
            status, _html, where = await post_form(
                admin, account + "/adjust",
                {**form, "amount": "-4.50", "reason": "多收", "confirmed": "1"})
            assert status == 303 and where == "/accounts/acc_b"
            assert ledger.balance("acc_b") == D("5.50")
            adjustment = (await ledger.entries("acc_b", kinds=("adjustment",), limit=1))[0]
            assert adjustment.reason == "多收" and adjustment.context.user_id == "admin"

            _status, html = await page(admin, account)
            undo = html[html.index(f'data-entry="{adjustment.id}"'):]
            fields = hidden_fields(undo, "/accounts/acc_b/reverse")
            assert fields["entry_id"] == adjustment.id
            status, _html, _where = await post_form(admin, account + "/reverse",
                                                    {**fields, "confirmed": "1"})
            assert status == 303 and ledger.balance("acc_b") == D("10.00")
            _status, html = await page(admin, account)
            assert f'data-entry="{adjustment.id}"' in html
            assert html.count("/accounts/acc_b/reverse") == 0  # nothing left to undo

            fields = hidden_fields(html, "/accounts/acc_b/hold")
            status, _html, _where = await post_form(admin, account + "/hold", {
                **fields, "kind": "keep_on", "reason": "孕妇", "until": "2099-01-31"})
            assert status == 303
            assert [row.kind for row in control.holds.open_rows("acc_b")] == ["keep_on"]
            _status, html = await page(admin, account)
            fields = hidden_fields(html, "/accounts/acc_b/trip_policy")
            status, _html, _where = await post_form(admin, account + "/trip_policy", {
                **fields, "mode": "delayed", "at": "22:30"})
            assert status == 303
            assert str(site.hub.component("control", Control).accounts["acc_b"].trip_mode) \
                == "delayed"
            _status, html = await page(admin, account)
            fields = hidden_fields(html, "/accounts/acc_b/release_hold")
            status, _html, _where = await post_form(admin, account + "/release_hold",
                                                    {**fields, "reason": "出院"})
            assert status == 303 and control.holds.open_rows("acc_b") == []


@pytest.mark.timeout(150)
@bounded(120)
async def test_what_a_caller_may_not_do_is_refused_and_not_offered(tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        ledger = _ledger(site)
        async with browser(site, "landlord_a") as landlord:
            _status, html = await page(landlord, site.base + "/accounts/acc_a")
            assert 'id="recharge"' in html and 'id="refund"' not in html  # no money out
            form = hidden_fields(html, "/accounts/acc_a/recharge")
            status, html, _where = await post_form(
                landlord, site.base + "/accounts/acc_a/refund",
                {**form, "amount": "1.00", "confirmed": "1"})
            assert status == 403 and "account.refund" in text_of(section(html, "main"))
            status, _html, _where = await post_form(
                landlord, site.base + "/accounts/acc_b/recharge",
                {**form, "amount": "1.00", "amount_again": "1.00", "method": "cash"})
            assert status == 404  # another landlord's account: not found
            _status, html = await page(landlord, site.base + "/accounts")
            assert "acc_a" in html and "acc_b" not in html
        assert ledger.balance("acc_a") == D("30.00") and ledger.balance("acc_b") == D("10.00")


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_move_in_records_the_tenant_and_a_bad_date_is_refused(tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site, browser(site, "landlord_b") as landlord:
        account = site.base + "/accounts/acc_b"
        _status, html = await page(landlord, account)
        fields = hidden_fields(html, "/accounts/acc_b/move_in")
        status, html, _where = await post_form(landlord, account + "/move_in", {
            **fields, "name": "新租户", "phone": "13800000000", "move_in": "2026-13-01",
            "deposit": "300"})
        assert status == 400 and "move_in" in text_of(section(html, "main"))
        assert site.hub.component("control", Control).accounts["acc_b"].name == "乙"
        status, _html, _where = await post_form(landlord, account + "/move_in", {
            **fields, "name": "新租户", "phone": "13800000000", "move_in": "2026-12-01",
            "deposit": "300"})
        assert status == 303
        moved = site.hub.component("control", Control).accounts["acc_b"]
        assert (moved.name, moved.contacts.get("phone"), str(moved.move_in),
                moved.deposit) == ("新租户", "13800000000", "2026-12-01", D("300"))
        _status, html = await page(landlord, account)
        assert "新租户" in html and "2026-12-01 入住" in html


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_scoped_landlord_moves_the_next_tenant_in_after_a_move_out(
        tmp_path: Path) -> None:
    """The week's job: the last tenant moved out (a runtime move-out date), the landlord of
    building B moves the next one in from the page (the move-out date is reverted in the same
    step; the landlord of building A may not touch the account)."""
    async with access_site(tmp_path, SITE) as site:
        await site.hub.services.call("account", "update", {
            "account_id": "acc_b", "changes": {"move_out": "2026-11-30"}})
        assert str(site.hub.component("control", Control).accounts["acc_b"].move_out) \
            == "2026-11-30"
        account = site.base + "/accounts/acc_b"
        async with browser(site, "landlord_a") as other:
            assert (await page(other, account))[0] == 404
        async with browser(site, "landlord_b") as landlord:
            _status, html = await page(landlord, account)
            fields = hidden_fields(html, "/accounts/acc_b/move_in")
            status, html, _where = await post_form(landlord, account + "/move_in", {
                **fields, "name": "下一位", "move_in": "2026-12-01"})
            assert status == 303, text_of(section(html, "main"))
        moved = site.hub.component("control", Control).accounts["acc_b"]
        assert (moved.name, str(moved.move_in), moved.move_out) == ("下一位", "2026-12-01", None)
