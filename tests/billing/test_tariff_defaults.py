"""Tariffs by default: a meter without its own tariff takes the first fitting
``tariff_defaults`` rule (kind, tags, accounts); a meter with none gets no price at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.billing.tariff import TariffError
from hub.billing.tariffs import TariffBook
from hub.bootstrap import prepare

CONFIG = """
links: [{id: sim1, type: sim}]
accounts: [{id: shop1}, {id: r1}]
tariffs:
  - {id: home, type: flat, price: 0.50}
  - {id: shop, type: flat, price: 1.00}
  - {id: water, type: flat, unit: m3, price: 5.00}
tariff_defaults:
  - {accounts: [shop1], kind: electricity, tariff: shop}
  - {kind: electricity, tags: {building: A}, tariff: home}
  - {kind: water, tariff: water}
meters:
  - {id: own, model: ddsy, link: sim1, address: "1", tariff: shop, tags: {building: A}}
  - {id: a_e, model: ddsy, link: sim1, address: "2", account: r1, tags: {building: A}}
  - {id: s_e, model: ddsy, link: sim1, address: "3", account: shop1, tags: {building: A}}
  - {id: a_w, model: cjt188_water, link: sim1, address: "4", account: r1}
  - {id: b_e, model: ddsy, link: sim1, address: "5", tags: {building: B}}
"""


def book_for(tmp_path: Path, text: str) -> tuple[TariffBook, dict[str, dict[str, object]]]:
    path = tmp_path / "hub.yaml"
    path.write_text(text, encoding="utf-8")
    prepared = prepare(path)
    assert not prepared.problems, prepared.problems
    book = TariffBook.from_config(prepared.config, prepared.plugins.registries)
    meters = {m["id"]: m for m in prepared.config.block("meters")}
    return book, meters


def test_defaults_by_account_tag_and_kind(tmp_path: Path) -> None:
    book, meters = book_for(tmp_path, CONFIG)
    assert book.for_meter(meters["own"]).id == "shop"  # its own tariff wins
    assert book.for_meter(meters["a_e"]).id == "home"  # building A electricity
    assert book.for_meter(meters["s_e"]).id == "shop"  # the shop's account comes first
    assert book.for_meter(meters["a_w"]).id == "water"  # by kind
    with pytest.raises(TariffError, match="meter 'b_e' has no tariff"):
        book.for_meter(meters["b_e"])  # building B has no rule: never a silent price


def test_a_rule_naming_an_unknown_tariff_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(CONFIG.replace("tariff: water}", "tariff: waterr}"), encoding="utf-8")
    problems = [str(p) for p in prepare(path).problems]
    assert any("tariff_defaults[2].tariff: unknown tariff 'waterr'" in p for p in problems), \
        problems
    assert any(p.startswith("hub.yaml:11 ") for p in problems), problems
