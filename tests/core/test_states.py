"""States: when state_changed fires, last_changed vs last_updated, immutability, ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from hub.core import Context, Event, Hub, State
from hub.events import EVENT_STATE_CHANGED
from hub.exceptions import InvalidEntityId

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=15)
T2 = T0 + timedelta(minutes=30)


@pytest.fixture
def changes(hub: Hub) -> list[Event]:
    """Every state_changed event fired on the hub during the test."""
    seen: list[Event] = []
    hub.bus.listen(EVENT_STATE_CHANGED, seen.append)
    return seen


async def test_first_set_fires_with_no_old_state(hub: Hub, changes: list[Event]) -> None:
    new = hub.states.set("meter.r101_e", Decimal("1234.56"), {"unit": "kWh"})

    assert len(changes) == 1
    data = changes[0].data
    assert data["entity_id"] == "meter.r101_e"
    assert data["old_state"] is None
    assert data["new_state"] is new
    assert hub.states.get("meter.r101_e") is new


async def test_same_value_and_attributes_do_not_fire(hub: Hub, changes: list[Event]) -> None:
    first = hub.states.set("meter.r101_e", "on", {"unit": "kWh"}, timestamp=T0)
    again = hub.states.set("meter.r101_e", "on", {"unit": "kWh"}, timestamp=T1)

    assert len(changes) == 1
    assert again is first
    assert again.last_updated == T0


async def test_value_change_fires_and_moves_both_timestamps(
    hub: Hub, changes: list[Event]
) -> None:
    old = hub.states.set("meter.r101_e", "10", timestamp=T0)
    new = hub.states.set("meter.r101_e", "11", timestamp=T1)

    assert len(changes) == 2
    assert changes[1].data["old_state"] is old
    assert changes[1].data["new_state"] is new
    assert new.last_changed == T1
    assert new.last_updated == T1


async def test_attribute_change_fires_but_keeps_last_changed(
    hub: Hub, changes: list[Event]
) -> None:
    hub.states.set("meter.r101_e", "10", {"rssi": -60}, timestamp=T0)
    new = hub.states.set("meter.r101_e", "10", {"rssi": -70}, timestamp=T1)

    assert len(changes) == 2
    assert new.last_changed == T0
    assert new.last_updated == T1
    assert new.attributes["rssi"] == -70


async def test_removing_attributes_counts_as_a_change(hub: Hub, changes: list[Event]) -> None:
    hub.states.set("meter.r101_e", "10", {"rssi": -60})
    hub.states.set("meter.r101_e", "10")
    assert len(changes) == 2
    assert dict(hub.states.get("meter.r101_e").attributes) == {}  # type: ignore[union-attr]


async def test_force_update_fires_without_change_and_keeps_last_changed(
    hub: Hub, changes: list[Event]
) -> None:
    hub.states.set("meter.r101_e", "10", {"unit": "kWh"}, timestamp=T0)
    forced = hub.states.set("meter.r101_e", "10", {"unit": "kWh"}, force_update=True,
                            timestamp=T1)

    assert len(changes) == 2
    assert forced.last_changed == T0
    assert forced.last_updated == T1


async def test_value_back_to_earlier_value_moves_last_changed(hub: Hub) -> None:
    hub.states.set("relay.r101", "closed", timestamp=T0)
    hub.states.set("relay.r101", "open", timestamp=T1)
    back = hub.states.set("relay.r101", "closed", timestamp=T2)
    assert back.last_changed == T2


async def test_remove_fires_with_new_state_none(hub: Hub, changes: list[Event]) -> None:
    old = hub.states.set("meter.r101_e", "10")
    context = Context(user_id="admin")

    assert hub.states.remove("meter.r101_e", context=context) is True

    assert "meter.r101_e" not in hub.states
    assert hub.states.get("meter.r101_e") is None
    assert changes[-1].data == {"entity_id": "meter.r101_e", "old_state": old,
                                "new_state": None}
    assert changes[-1].context is context


async def test_remove_unknown_entity_returns_false_and_fires_nothing(
    hub: Hub, changes: list[Event]
) -> None:
    assert hub.states.remove("meter.nobody") is False
    assert changes == []


async def test_set_after_remove_starts_fresh(hub: Hub, changes: list[Event]) -> None:
    hub.states.set("meter.r101_e", "10", timestamp=T0)
    hub.states.remove("meter.r101_e")
    again = hub.states.set("meter.r101_e", "10", timestamp=T1)
    assert changes[-1].data["old_state"] is None
    assert again.last_changed == T1


@pytest.mark.parametrize(
    "bad_id",
    ["meter", "meter.", ".r101", "meter.r-101", "meter.r 101", "meter.r101.e", "电表.r101",
     "meter/r101", ""],
)
async def test_invalid_entity_ids_are_rejected_with_a_clear_message(
    hub: Hub, changes: list[Event], bad_id: str
) -> None:
    with pytest.raises(InvalidEntityId) as info:
        hub.states.set(bad_id, "1")
    message = str(info.value)
    assert repr(bad_id) in message
    assert "domain.object_id" in message
    assert changes == []
    assert len(hub.states) == 0


def test_invalid_entity_id_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invalid entity id"):
        State("Not An Id", "1")


async def test_entity_id_is_stored_lower_case(hub: Hub) -> None:
    state = hub.states.set("Meter.R101_E", "1")
    assert state.entity_id == "meter.r101_e"
    assert state.domain == "meter"
    assert state.object_id == "r101_e"


def test_state_is_immutable() -> None:
    state = State("meter.r101_e", "10", {"unit": "kWh"})
    for name in ("state", "attributes", "entity_id", "last_changed", "context", "new"):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(state, name, None)


def test_state_attributes_are_read_only_and_copied() -> None:
    source = {"unit": "kWh", "rssi": -60}
    state = State("meter.r101_e", "10", source)

    with pytest.raises(TypeError):
        state.attributes["unit"] = "MWh"  # type: ignore[index]
    source["unit"] = "MWh"
    assert state.attributes["unit"] == "kWh"


async def test_caller_mutating_its_attribute_dict_does_not_change_the_state(
    hub: Hub, changes: list[Event]
) -> None:
    attrs = {"rssi": -60}
    hub.states.set("meter.r101_e", "10", attrs)
    attrs["rssi"] = -99
    assert hub.states.get("meter.r101_e").attributes["rssi"] == -60  # type: ignore[union-attr]
    # and the mutated dict is a real change when set again
    hub.states.set("meter.r101_e", "10", attrs)
    assert len(changes) == 2


async def test_state_carries_the_context_of_the_change(hub: Hub, changes: list[Event]) -> None:
    context = Context(user_id="operator")
    state = hub.states.set("meter.r101_e", "10", context=context)
    assert state.context is context
    assert changes[0].context is context


async def test_all_and_entity_ids_filter_by_domain(hub: Hub) -> None:
    hub.states.set("meter.r101_e", "1")
    hub.states.set("meter.r102_e", "2")
    hub.states.set("relay.r101", "closed")

    assert sorted(hub.states.entity_ids()) == ["meter.r101_e", "meter.r102_e", "relay.r101"]
    assert sorted(hub.states.entity_ids("meter")) == ["meter.r101_e", "meter.r102_e"]
    assert [s.entity_id for s in hub.states.all("relay")] == ["relay.r101"]
    assert len(hub.states) == 3


async def test_restore_puts_state_back_without_event(hub: Hub, changes: list[Event]) -> None:
    saved = State("meter.r101_e", Decimal("99.5"), {"unit": "kWh"}, last_changed=T0,
                  last_updated=T1)
    hub.states.restore(saved)
    assert changes == []
    assert hub.states.get("meter.r101_e") is saved
    # setting the same value afterwards is no change
    hub.states.set("meter.r101_e", Decimal("99.5"), {"unit": "kWh"})
    assert changes == []


def test_state_as_dict_is_json_friendly() -> None:
    state = State("meter.r101_e", Decimal("1.50"), {"unit": "kWh"}, last_updated=T0)
    data = state.as_dict()
    assert data["entity_id"] == "meter.r101_e"
    assert data["state"] == Decimal("1.50")
    assert data["attributes"] == {"unit": "kWh"}
    assert data["last_changed"] == data["last_updated"] == T0.isoformat()


def test_states_of_a_domain_share_its_name_and_keep_no_object_id_string() -> None:
    first = State("meter." + "r101_e", 1)  # built at run time, as a hub builds entity ids
    second = State("".join(["meter.", "r102_e"]), 2)
    assert first.domain == "meter" and first.domain is second.domain  # one string a domain
    assert (first.object_id, second.object_id) == ("r101_e", "r102_e")
    assert "object_id" not in State.__slots__  # worked out when asked, not held per state
