"""Service calls through the web API keep numbers exact: JSON numbers become Decimals."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from common import web_client

from hub.core import Hub, ServiceCall
from hub.plugins import PluginManager


async def test_json_numbers_reach_services_as_exact_decimals(tmp_path: Path) -> None:
    hub = Hub(plugins=PluginManager())
    seen: list[Any] = []

    async def record(call: ServiceCall) -> dict[str, Any]:
        seen.append(call.data["amount"])
        return {"doubled": call.data["amount"] * 2}

    hub.services.register("test", "record", record, supports_response="optional")
    async with web_client(hub, tmp_path) as client:
        response = await client.post("/api/services/test/record?return_response=1",
                                     data='{"amount": 0.1}',
                                     headers={"Content-Type": "application/json"})
        assert response.status == 200
        body = await response.json()
    assert seen == [Decimal("0.1")] and isinstance(seen[0], Decimal)
    assert body["response"] == {"doubled": "0.2"}  # exact, as text: not 0.2000000000000001
