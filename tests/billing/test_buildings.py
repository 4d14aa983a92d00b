"""Buildings added and changed at runtime: kept across restarts, hub.yaml wins by the same
rule as accounts and meters, and energy use per m² follows at once."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from common import bounded
from money_support import FROZEN_SIM, running_hub

from hub.billing.analysis.base import Period
from hub.billing.analysis.service import Analysis
from hub.billing.buildings import BuildingBook
from hub.core import Context, Hub
from hub.exceptions import ServiceValidationError

CFG = FROZEN_SIM + """
links:
  - {id: sim1, type: sim, speed: 0}
meters:
  - {id: c1, model: ddsy, link: sim1, address: "202400000001", tags: {building: C}}
"""


async def call(hub: Hub, service: str, data: dict[str, object]) -> object:
    async with asyncio.timeout(20):
        return await hub.services.call("building", service, data, return_response=True,
                                       context=Context(user_id="clerk"))


@bounded(90)
async def test_a_runtime_building_is_kept_and_yaml_wins_for_a_changed_field(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, CFG) as hub:
        await call(hub, "create", {"building": {"id": "C", "name": "C栋", "area": "1200"}})
        await call(hub, "update", {"building_id": "C", "changes": {"persons": 40}})
        with pytest.raises(ServiceValidationError, match="already exists"):
            await call(hub, "create", {"building": {"id": "C"}})
        with pytest.raises(ServiceValidationError, match="area"):
            await call(hub, "update", {"building_id": "C", "changes": {"area": "-1"}})
        with pytest.raises(ServiceValidationError, match="colour"):
            await call(hub, "create", {"building": {"id": "D", "colour": "red"}})
        table = await hub.component("analysis", Analysis).intensity_report(
            Period.year(2026))
        row = table.as_dict()["rows"][0]
        assert (row["building"], row["name"], row["area"], row["persons"]) == (
            "C", "C栋", Decimal(1200), 40)
    async with running_hub(tmp_path, CFG) as hub:
        book = hub.component("buildings", BuildingBook)
        assert book.entries == [{"id": "C", "name": "C栋", "area": Decimal(1200),
                                 "persons": 40}]
    # hub.yaml now defines C itself: hub.yaml wins for the whole building
    async with running_hub(tmp_path, CFG + "buildings:\n  - {id: C, area: 900}\n") as hub:
        book = hub.component("buildings", BuildingBook)
        assert book.entries == [{"id": "C", "area": Decimal(900)}]
