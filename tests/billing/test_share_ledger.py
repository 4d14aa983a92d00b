"""公摊 in a running hub: the common meter priced from storage, shares posted once to the ledger."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from analysis_support import collect, energy, hub_yaml, running_hub, settle, store

from hub.billing.analysis.api import ReportError, report_table
from hub.billing.analysis.base import Period
from hub.billing.analysis.checks import check_share_groups
from hub.billing.analysis.service import Analysis
from hub.billing.sharing import SHARE_GROUPS_SCHEMA, ShareError
from hub.bootstrap import prepare
from hub.ledger.ledger import Ledger
from hub.storage import Storage

D = Decimal
OCT = Period.month(2026, 10)

CONFIG = hub_yaml("""
meters:
  - {id: common_a, model: ddsy, link: sim1, address: "000000000001", tariff: flat,
     tags: {building: A}}
  - {id: pump, model: ddsy, link: sim1, address: "000000000002", tariff: flat,
     share_group: pump_a}
  - {id: r1_e, model: ddsy, link: sim1, address: "000000000011", account: r1, tariff: flat,
     tags: {building: A}}
  - {id: r2_e, model: ddsy, link: sim1, address: "000000000012", account: r2, tariff: flat,
     tags: {building: A}}
  - {id: r4_e, model: ddsy, link: sim1, address: "000000000014", account: r4, tariff: flat,
     tags: {building: B}}
accounts:
  - {id: r1, area: 30, persons: 1}
  - {id: r2, area: 30, persons: 2}
  - {id: r3, area: 40, persons: 0, tags: {building: A}}
  - {id: r4, area: 50, persons: 4}
tariffs:
  - {id: flat, type: flat, price: 1.00}
  - {id: dear, type: flat, price: 1.234}
share_groups:
  - {id: stairs_a, meter: common_a, tags: {building: A}, split: area}
  - {id: pump_a, members: [r1, r2, r3], split: persons, tariff: dear}
""")


async def _readings(hub_storage: Storage) -> None:
    await store(hub_storage, [
        energy("common_a", "2026-10-01T00:00", "1000"),
        energy("common_a", "2026-10-16T00:00", "1040"),
        energy("common_a", "2026-11-01T00:00", "1100"),  # 100 kWh in October
        energy("pump", "2026-10-01T00:00", "0"),
        energy("pump", "2026-11-01T00:00", "10.01"),  # 10.01 kWh x 1.234 = 12.35234
    ])


async def test_shares_are_posted_once_and_sum_to_the_cost(tmp_path: Path) -> None:
    async with running_hub(tmp_path, CONFIG) as hub:
        analysis = hub.component("analysis", Analysis)
        ledger = hub.component("ledger", Ledger)
        seen = collect(hub, "share_allocated")
        async with asyncio.timeout(30):
            await _readings(hub.component("storage", Storage))
            allocation = await analysis.share_run("stairs_a", OCT)
            await settle(hub)
        assert allocation.quantity == D(100) and allocation.cost == D("100.00")
        assert allocation.complete
        assert [(s.account_id, s.amount) for s in allocation.lines] == [
            ("r1", D("30.00")), ("r2", D("30.00")), ("r3", D("40.00"))]
        assert [ledger.balance(a) for a in ("r1", "r2", "r3", "r4")] == [
            D("-30.00"), D("-30.00"), D("-40.00"), D(0)]
        (entry,) = await ledger.entries("r3", kinds=["share"])
        assert entry.key == "share:stairs_a:2026-10:r3" and entry.amount == D("-40.00")
        assert entry.period == date(2026, 10, 1) and entry.detail["split"] == "area"
        assert seen[0].data["posted"] == 3 and seen[0].data["cost"] == D("100.00")

        async with asyncio.timeout(30):
            again = await analysis.share_run("stairs_a", OCT)  # a re-run changes nothing
            await settle(hub)
        assert again == allocation
        assert ledger.balance("r3") == D("-40.00")
        assert len(await ledger.entries("r3", kinds=["share"])) == 1
        assert seen[1].data["posted"] == 0

        async with asyncio.timeout(30):
            pump = await analysis.share_preview("pump_a", OCT)
        # 12.35234 rounds once to 12.35 = 1235 fen by persons 1:2:0 -> 411.67, 823.33, 0:
        # floors 411 + 823 = 1234, the fen left goes to r1 (.67 > .33)
        assert pump.cost == D("12.35") and pump.meters[0].tariff_id == "dear"
        assert [(s.account_id, s.amount) for s in pump.lines] == [
            ("r1", D("4.12")), ("r2", D("8.23")), ("r3", D("0.00"))]
        assert ledger.balance("r1") == D("-30.00")  # a preview posts nothing


async def test_the_nightly_job_waits_for_data_then_posts(tmp_path: Path) -> None:
    async with running_hub(tmp_path, CONFIG) as hub:
        analysis = hub.component("analysis", Analysis)
        ledger = hub.component("ledger", Ledger)
        storage = hub.component("storage", Storage)
        async with asyncio.timeout(30):
            await store(storage, [energy("common_a", "2026-10-01T00:00", "1000"),
                                  energy("common_a", "2026-10-31T00:00", "1050")])
            assert await analysis.settle_shares(date(2026, 11, 1)) == []  # not complete yet
            await store(storage, [energy("common_a", "2026-11-01T00:00", "1060")])
            done = await analysis.settle_shares(date(2026, 11, 2))
            await settle(hub)
        # pump_a has no readings at all: it waited, and posts nothing (cost 0) on day 4
        assert [a.group_id for a in done] == ["stairs_a"]
        assert done[0].cost == D("60.00") and done[0].complete
        assert sum(line.amount for line in done[0].lines) == done[0].cost
        async with asyncio.timeout(30):
            assert await analysis.settle_shares(date(2026, 11, 3)) == []  # already posted
            later = await analysis.settle_shares(date(2026, 11, 4))
        assert [a.group_id for a in later] == ["pump_a"] and later[0].cost == 0
        assert ledger.balance("r2") == -done[0].lines[1].amount


async def test_a_split_that_cannot_be_made_names_the_group(tmp_path: Path) -> None:
    text = CONFIG.replace("split: persons, tariff: dear", "split: persons")
    text = text.replace("{id: r1, area: 30, persons: 1}", "{id: r1, area: 30, persons: 0}")
    text = text.replace("{id: r2, area: 30, persons: 2}", "{id: r2, area: 30, persons: 0}")
    async with running_hub(tmp_path, text) as hub:
        analysis = hub.component("analysis", Analysis)
        failed = collect(hub, "share_failed")
        async with asyncio.timeout(30):
            await _readings(hub.component("storage", Storage))
            with pytest.raises(ShareError, match=r"share group 'pump_a'.*zero"):
                await analysis.share_preview("pump_a", OCT)
            await analysis.settle_shares(date(2026, 11, 10))
            await asyncio.sleep(0)
        assert [e.data["group"] for e in failed] == ["pump_a"]
        with pytest.raises(ReportError, match="unknown share group 'nope'"):
            await report_table(analysis, "share", {"group": "nope"}, date(2026, 11, 2))
        with pytest.raises(ReportError, match="calendar months"):
            await report_table(analysis, "share", {"group": "pump_a", "period": "2026-10-03"},
                               date(2026, 11, 2))


def _problems(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "hub.yaml"
    path.write_text(text, encoding="utf-8")
    return [str(problem) for problem in prepare(path, data_dir=tmp_path / "data").problems]


def test_check_config_names_what_is_wrong(tmp_path: Path) -> None:
    text = CONFIG.replace("meter: common_a", "meter: common_x").replace(
        "{id: r3, area: 40,", "{id: r3,").replace("members: [r1, r2, r3]", "members: [r1, r9]")
    text = text.replace("share_group: pump_a}", "share_group: pumps}")
    problems = _problems(text, tmp_path)
    joined = "\n".join(problems)
    assert "unknown meter 'common_x'" in joined
    assert "splits by area, but account 'r3' has no area" in joined
    assert "unknown account 'r9'" in joined
    assert "unknown share group 'pumps'" in joined
    assert "share group 'pump_a' has no common meter" in joined
    assert all("hub.yaml" in problem for problem in problems)  # with file and line


def test_check_config_tariff_and_empty_groups() -> None:
    groups = SHARE_GROUPS_SCHEMA([
        {"id": "g1", "meter": "m1", "members": ["a1"], "split": "equal", "tariff": "nope"},
        {"id": "g2", "meter": "m2", "tags": {"building": "Z"}, "split": "equal"},
    ])
    config = {"meters": [{"id": "m1", "model": "ddsy"}, {"id": "m2", "model": "ddsy"}],
              "accounts": [{"id": "a1"}], "tariffs": [], "share_groups": groups}
    messages = [message for _path, message in check_share_groups(config)]
    assert "unknown tariff 'nope' (tariffs: none configured)" in messages
    assert "common meter 'm2' has no tariff: give the meter or the group a tariff" in messages
    assert "share group 'g2' matches no account" in messages
    with pytest.raises(Exception, match="needs 'members'"):
        SHARE_GROUPS_SCHEMA([{"id": "g3", "meter": "m1", "split": "equal"}])
