"""Checks of the ``share_groups`` block: real meters, accounts and tariffs, feasible splits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...metering.config import meter_kind
from ..sharing import resolve_members
from .base import UNIT_OF_KIND


def check_share_groups(config: Mapping[str, Any]) -> list[tuple[list[Any], str]]:
    """The problems of the ``share_groups`` block as (key path, message)."""
    problems: list[tuple[list[Any], str]] = []
    meters = {meter["id"]: meter for meter in config.get("meters") or []}
    accounts = {account["id"]: account for account in config.get("accounts") or []}
    tariffs = {tariff["id"]: tariff for tariff in config.get("tariffs") or []}
    groups = config.get("share_groups") or []
    group_ids = {group["id"] for group in groups}
    for index, meter in enumerate(config.get("meters") or []):
        named = meter.get("share_group")
        if named is not None and named not in group_ids:
            known = ", ".join(sorted(group_ids)) or "none configured"
            problems.append((["meters", index, "share_group"],
                             f"unknown share group '{named}' (share groups: {known})"))
    for index, group in enumerate(groups):
        path = ["share_groups", index]
        common = list(group["meters"]) + [m["id"] for m in meters.values()
                                          if m.get("share_group") == group["id"]
                                          and m["id"] not in group["meters"]]
        for position, meter_id in enumerate(group["meters"]):
            if meter_id not in meters:
                problems.append(([*path, "meters", position], f"unknown meter '{meter_id}'"))
        fixed = group.get("amount") is not None
        if not common and not group.get("invoices_only") and not fixed:
            problems.append(([*path, "meter"], f"share group '{group['id']}' has no common "
                             "meter: give 'meter' (or let meters say share_group: "
                             f"{group['id']}; or invoices_only: true for a group that splits "
                             "invoices)"))
        if (group.get("invoices_only") or fixed) and group["split"] == "consumption":
            problems.append(([*path, "split"], f"share group '{group['id']}' has no common "
                             "meter to weigh consumption against: split by area, persons, "
                             "equal or ratios"))
        problems.extend(_check_tariffs(group, path, common, meters, tariffs))
        for position, account_id in enumerate(group["members"]):
            if account_id not in accounts:
                problems.append(([*path, "members", position],
                                 f"unknown account '{account_id}'"))
        members = resolve_members(
            [a for a in group["members"] if a in accounts], group["tags"],
            {a: dict(entry.get("tags") or {}) for a, entry in accounts.items()},
            [(m.get("account"), dict(m.get("tags") or {})) for m in meters.values()],
            [meters[m].get("account") or "" for m in common if m in meters])
        if not members:
            problems.append(([*path, "tags" if group["tags"] else "members"],
                             f"share group '{group['id']}' matches no account"))
        if group["split"] == "ratios":
            problems.extend(([*path, "ratios"], f"share group '{group['id']}' splits by "
                             f"ratios, but account '{account_id}' has none")
                            for account_id in members if account_id not in group["ratios"])
            problems.extend(([*path, "ratios", account_id], f"unknown account '{account_id}'")
                            for account_id in group["ratios"] if account_id not in accounts)
        if group["split"] in ("area", "persons"):
            for account_id in members:
                if accounts[account_id].get(group["split"]) is None:
                    problems.append(([*path, "split"], f"share group '{group['id']}' splits "
                                     f"by {group['split']}, but account '{account_id}' has "
                                     f"no {group['split']}"))
    return problems


def _check_tariffs(group: Mapping[str, Any], path: list[Any], common: list[str],
                   meters: Mapping[str, Mapping[str, Any]],
                   tariffs: Mapping[str, Mapping[str, Any]]) -> list[tuple[list[Any], str]]:
    problems: list[tuple[list[Any], str]] = []
    own = group.get("tariff")
    if own is not None and own not in tariffs:
        known = ", ".join(sorted(tariffs)) or "none configured"
        return [([*path, "tariff"], f"unknown tariff '{own}' (tariffs: {known})")]
    kinds = set()
    for meter_id in common:
        meter = meters.get(meter_id)
        if meter is None:
            continue
        kind = meter_kind(meter)
        kinds.add(kind)
        tariff_id = own or meter.get("tariff")
        if tariff_id is None:
            problems.append(([*path, "tariff"], f"common meter '{meter_id}' has no tariff: "
                             "give the meter or the group a tariff"))
            continue
        unit = UNIT_OF_KIND.get(kind or "")
        tariff = tariffs.get(tariff_id)
        if tariff is not None and unit is not None and tariff.get("unit") not in (None, unit):
            problems.append(([*path, "tariff"], f"tariff '{tariff_id}' is priced per "
                             f"{tariff.get('unit')}, but common meter '{meter_id}' measures "
                             f"{kind} ({unit})"))
    if len({k for k in kinds if k}) > 1:
        problems.append(([*path, "meters"], f"share group '{group['id']}' mixes electricity "
                         "and water meters: make one group per kind"))
    return problems
