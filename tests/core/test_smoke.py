"""A first end-to-end check of the core: bus, states and services on a started hub."""

from __future__ import annotations

import voluptuous as vol

from hub.core import Event, Hub
from hub.exceptions import ServiceValidationError


async def test_state_service_and_bus(hub: Hub) -> None:
    seen: list[Event] = []
    hub.bus.listen("state_changed", seen.append)
    hub.states.set("meter.r101_e", "1234.56", {"unit": "kWh"})
    hub.states.set("meter.r101_e", "1234.56", {"unit": "kWh"})
    assert len(seen) == 1

    async def double(call):  # type: ignore[no-untyped-def]
        return {"value": call.data["value"] * 2}

    hub.services.register("test", "double", double, vol.Schema({vol.Required("value"): int}),
                          supports_response="only")
    assert await hub.services.call("test", "double", {"value": 21},
                                   return_response=True) == {"value": 42}
    try:
        await hub.services.call("test", "double", {"value": "x"}, return_response=True)
    except ServiceValidationError as err:
        assert "data.value" in str(err)
    else:
        raise AssertionError("bad data reached the handler")
