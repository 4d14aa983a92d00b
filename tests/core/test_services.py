"""ServiceRegistry: validation before the handler, response rules, non-blocking calls."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import voluptuous as vol

from hub import validation as cv
from hub.const import SupportsResponse
from hub.core import Context, Event, Hub, ServiceCall
from hub.events import EVENT_CALL_SERVICE, EVENT_SERVICE_REGISTERED, EVENT_SERVICE_REMOVED
from hub.exceptions import ServiceNotFound, ServiceValidationError

RECHARGE_SCHEMA = vol.Schema(
    {
        vol.Required("account"): cv.slug,
        vol.Required("amount"): cv.money,
        vol.Optional("target"): {vol.Required("meters"): [cv.entity_id]},
    }
)


class Recorder:
    """A service handler that records its calls."""

    def __init__(self, result: Any = None) -> None:
        self.calls: list[ServiceCall] = []
        self.result = result

    async def __call__(self, call: ServiceCall) -> Any:
        self.calls.append(call)
        return self.result


# --- validation ----------------------------------------------------------------------


async def test_valid_call_reaches_handler_with_validated_data(hub: Hub) -> None:
    handler = Recorder()
    hub.services.register("account", "recharge", handler, RECHARGE_SCHEMA)

    await hub.services.call("account", "recharge", {"account": "r101", "amount": "50"})

    assert len(handler.calls) == 1
    call = handler.calls[0]
    assert call.name == "account.recharge"
    assert call.data == {"account": "r101", "amount": cv.money("50.00")}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"amount": "50"}, "data.account: required key is missing"),
        ({"account": "R 101", "amount": "50"}, "data.account: expected lower-case"),
        ({"account": "r101", "amount": "1.234"},
         "data.amount: expected yuan as digits with at most 2"),
        ({"account": "r101", "amount": "5", "target": {"meters": ["meter.ok", "bad id"]}},
         "data.target.meters[1]: expected an entity id"),
        ({"account": "r101", "amount": "5", "amonut": 1}, "data.amonut: unknown key"),
    ],
)
async def test_schema_error_names_key_path_and_handler_never_runs(
    hub: Hub, data: dict[str, Any], expected: str
) -> None:
    handler = Recorder()
    calls: list[Event] = []
    hub.bus.listen(EVENT_CALL_SERVICE, calls.append)
    hub.services.register("account", "recharge", handler, RECHARGE_SCHEMA)

    with pytest.raises(ServiceValidationError) as info:
        await hub.services.call("account", "recharge", data)

    assert expected in str(info.value)
    assert str(info.value).startswith("account.recharge: ")
    assert info.value.service == "account.recharge"
    assert any(expected in line for line in info.value.errors)
    assert handler.calls == []
    assert calls == []


async def test_all_schema_errors_are_listed(hub: Hub) -> None:
    hub.services.register("account", "recharge", Recorder(), RECHARGE_SCHEMA)
    with pytest.raises(ServiceValidationError) as info:
        await hub.services.call("account", "recharge", {"account": "R 1", "amount": "x"})
    assert len(info.value.errors) == 2
    assert any(line.startswith("data.account:") for line in info.value.errors)
    assert any(line.startswith("data.amount:") for line in info.value.errors)


async def test_plain_dict_schema_is_accepted(hub: Hub) -> None:
    handler = Recorder()
    hub.services.register("meter", "read", handler, {vol.Required("meter"): cv.entity_id})
    with pytest.raises(ServiceValidationError, match=r"data\.meter"):
        await hub.services.call("meter", "read", {})
    await hub.services.call("meter", "read", {"meter": "Meter.R101_E"})
    assert handler.calls[0].data == {"meter": "meter.r101_e"}


async def test_validate_without_calling(hub: Hub) -> None:
    handler = Recorder()
    hub.services.register("account", "recharge", handler, RECHARGE_SCHEMA)
    assert hub.services.validate("account", "recharge", {"account": "a", "amount": 1}) == {
        "account": "a", "amount": cv.money(1)}
    with pytest.raises(ServiceValidationError):
        hub.services.validate("account", "recharge", {"account": "a"})
    with pytest.raises(ServiceNotFound):
        hub.services.validate("account", "nothing", {})
    assert handler.calls == []


async def test_unknown_service_error_names_it(hub: Hub) -> None:
    with pytest.raises(ServiceNotFound, match=r"service meter\.explode is not registered"):
        await hub.services.call("meter", "explode")


# --- return_response -----------------------------------------------------------------


async def test_response_none_service_refuses_return_response(hub: Hub) -> None:
    handler = Recorder({"ignored": True})
    hub.services.register("meter", "trip", handler)

    assert await hub.services.call("meter", "trip") is None
    with pytest.raises(ServiceValidationError, match="does not return a response"):
        await hub.services.call("meter", "trip", return_response=True)
    assert len(handler.calls) == 1


async def test_response_optional_service_returns_only_when_asked(hub: Hub) -> None:
    handler = Recorder({"balance": "12.30"})
    hub.services.register("account", "balance", handler, supports_response="optional")

    assert await hub.services.call("account", "balance") is None
    assert await hub.services.call("account", "balance", return_response=True) == {
        "balance": "12.30"}
    assert [call.return_response for call in handler.calls] == [False, True]


async def test_response_only_service_requires_return_response(hub: Hub) -> None:
    handler = Recorder({"quote": "1.00"})
    hub.services.register("tariff", "quote", handler,
                          supports_response=SupportsResponse.ONLY)

    with pytest.raises(ServiceValidationError, match="only returns a response"):
        await hub.services.call("tariff", "quote")
    assert handler.calls == []
    assert await hub.services.call("tariff", "quote", return_response=True) == {
        "quote": "1.00"}


async def test_unknown_supports_response_value_is_rejected(hub: Hub) -> None:
    with pytest.raises(ValueError, match="sometimes"):
        hub.services.register("x", "y", Recorder(), supports_response="sometimes")


# --- handlers ------------------------------------------------------------------------


async def test_sync_handler_is_called_and_its_result_returned(hub: Hub) -> None:
    def double(call: ServiceCall) -> dict[str, int]:
        return {"value": call.data["value"] * 2}

    hub.services.register("test", "double", double, {vol.Required("value"): int},
                          supports_response="only")
    assert await hub.services.call("test", "double", {"value": 21},
                                   return_response=True) == {"value": 42}


async def test_blocking_call_raises_the_handler_error(hub: Hub) -> None:
    async def broken(call: ServiceCall) -> None:
        raise RuntimeError("relay did not answer")

    hub.services.register("meter", "trip", broken)
    with pytest.raises(RuntimeError, match="relay did not answer"):
        await hub.services.call("meter", "trip")


async def test_blocking_call_waits_for_async_handler(hub: Hub) -> None:
    order: list[str] = []

    async def slow(call: ServiceCall) -> None:
        await asyncio.sleep(0.01)
        order.append("handler done")

    hub.services.register("meter", "read", slow)
    await hub.services.call("meter", "read")
    order.append("call returned")
    assert order == ["handler done", "call returned"]


async def test_non_blocking_call_returns_at_once_and_runs_as_task(hub: Hub) -> None:
    release = asyncio.Event()
    done: list[str] = []

    async def slow(call: ServiceCall) -> None:
        await release.wait()
        done.append(call.name)

    hub.services.register("meter", "read", slow)
    assert await hub.services.call("meter", "read", blocking=False) is None
    assert done == []
    release.set()
    await hub.block_till_done(2)
    assert done == ["meter.read"]


async def test_non_blocking_handler_error_is_logged_with_service_name(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    async def failing_trip_handler(call: ServiceCall) -> None:
        raise RuntimeError("relay did not answer")

    hub.services.register("meter", "trip", failing_trip_handler)
    await hub.services.call("meter", "trip", blocking=False)
    await hub.block_till_done(2)

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    message = errors[0].getMessage()
    assert "meter.trip" in message
    assert "failing_trip_handler" in message
    assert errors[0].exc_info is not None


async def test_non_blocking_call_still_validates_first(hub: Hub) -> None:
    handler = Recorder()
    hub.services.register("account", "recharge", handler, RECHARGE_SCHEMA)
    with pytest.raises(ServiceValidationError):
        await hub.services.call("account", "recharge", {}, blocking=False)
    await hub.block_till_done(2)
    assert handler.calls == []


# --- events and context ----------------------------------------------------------------


async def test_call_service_event_carries_data_and_context(hub: Hub) -> None:
    events: list[Event] = []
    hub.bus.listen(EVENT_CALL_SERVICE, events.append)
    handler = Recorder()
    hub.services.register("account", "recharge", handler, RECHARGE_SCHEMA)
    context = Context(user_id="cashier")

    await hub.services.call("account", "recharge", {"account": "r101", "amount": 10},
                            context=context)

    assert len(events) == 1
    assert events[0].data == {"domain": "account", "service": "recharge",
                              "service_data": {"account": "r101", "amount": cv.money(10)}}
    assert events[0].context is context
    assert handler.calls[0].context is context


async def test_call_without_context_gets_a_fresh_one(hub: Hub) -> None:
    handler = Recorder()
    hub.services.register("meter", "read", handler)
    await hub.services.call("meter", "read")
    await hub.services.call("meter", "read")
    assert handler.calls[0].context.id != handler.calls[1].context.id


async def test_handler_can_propagate_context_to_what_it_causes(hub: Hub) -> None:
    trips: list[Event] = []
    hub.bus.listen("trip", trips.append)

    async def trip(call: ServiceCall) -> None:
        hub.bus.fire("trip", {"meter": "r101_e"}, context=call.context.child())

    hub.services.register("meter", "trip", trip)
    cause = Context(user_id="landlord")
    await hub.services.call("meter", "trip", context=cause)
    assert trips[0].context.parent_id == cause.id
    assert trips[0].context.user_id == "landlord"


# --- register / remove ---------------------------------------------------------------


async def test_register_and_remove_fire_events(hub: Hub) -> None:
    events: list[Event] = []
    hub.bus.listen(EVENT_SERVICE_REGISTERED, events.append)
    hub.bus.listen(EVENT_SERVICE_REMOVED, events.append)

    remove = hub.services.register("Meter", "Read", Recorder())
    assert hub.services.has("meter", "read")
    assert hub.services.has("METER", "READ")
    remove()
    assert not hub.services.has("meter", "read")
    assert "meter" not in hub.services.all()

    assert [(e.event_type, dict(e.data)) for e in events] == [
        (EVENT_SERVICE_REGISTERED, {"domain": "meter", "service": "read"}),
        (EVENT_SERVICE_REMOVED, {"domain": "meter", "service": "read"}),
    ]
    with pytest.raises(ServiceNotFound):
        await hub.services.call("meter", "read")


async def test_removing_twice_is_harmless(hub: Hub) -> None:
    events: list[Event] = []
    hub.bus.listen(EVENT_SERVICE_REMOVED, events.append)
    remove = hub.services.register("meter", "read", Recorder())
    remove()
    remove()
    hub.services.remove("meter", "read")
    assert len(events) == 1


async def test_registering_again_replaces_and_old_remover_keeps_new_handler(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    old, new = Recorder("old"), Recorder("new")
    remove_old = hub.services.register("meter", "read", old, supports_response="only")
    hub.services.register("meter", "read", new, supports_response="only")
    assert any("registered again" in r.getMessage() for r in caplog.records)

    remove_old()  # must not remove the newer registration

    assert await hub.services.call("meter", "read", return_response=True) == "new"
    assert old.calls == []


async def test_description_defaults_to_first_docstring_line(hub: Hub) -> None:
    async def read(call: ServiceCall) -> None:
        """Read a meter now.

        Longer text that is not the description.
        """

    hub.services.register("meter", "read", read)
    hub.services.register("meter", "trip", Recorder(), description="Open the relay")
    services = hub.services.all()["meter"]
    assert services["read"].description == "Read a meter now."
    assert services["trip"].description == "Open the relay"
    assert services["read"].is_coroutine
