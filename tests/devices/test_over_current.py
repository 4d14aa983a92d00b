"""The over-current event threshold (过流事件电流触发下限 04090801, NNN.N A) and its judgement
delay (04090802, NN s), declared writable by the three-phase model: written over a real pty,
read back, out-of-range values and a single-phase meter refused before anything is stored."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from common import db_rows, start_hub
from device_support import command_events, devices, ended, pty_config, simulator

from hub.core import Context
from hub.exceptions import ServiceValidationError

USER = Context(user_id="operator-7")
THREE_PHASE = '  - {id: c301, model: dtsy, link: bus1, address: "202400000301"}'
OVER_CURRENT_BIT = 1 << 4  # status words 4..6 (phases A..C), bit 4


async def test_over_current_threshold_written_read_back_and_judged_by_the_meter(
        tmp_path: Path) -> None:
    async with start_hub(tmp_path, pty_config(tmp_path, extra=THREE_PHASE)) as hub:
        events = command_events(hub)
        service = devices(hub)
        sim = simulator(hub, "c301")
        sim.current_override[0] = Decimal("8.0")  # phase A draws 8 A
        assert not sim.status_word(4) & OVER_CURRENT_BIT  # under the factory 60 A
        for param, value in (("over_current", "5.0"), ("over_current_delay", "30")):
            answer = await hub.services.call("device", "write", {
                "meter_id": "c301", "param": param, "value": value},
                context=USER, return_response=True)
            done = await ended(events, answer["command_id"])
            assert done.data["state"] == "confirmed", done.data
            assert await service.writes.read_back("c301", param) == Decimal(value)
        # the meter judges phase A over-current by the written threshold
        assert sim.status_word(4) & OVER_CURRENT_BIT
        assert not sim.status_word(5) & OVER_CURRENT_BIT
        params = await hub.services.call("device", "params", {"meter_id": "c301"},
                                         context=USER, return_response=True)
        assert params["params"]["over_current"]["unit"] == "A"


@pytest.mark.parametrize(("meter", "param", "value", "expected"), [
    ("c301", "over_current", "1000.0", "does not fit XXX.X A"),
    ("c301", "over_current", "0", "at least 0.1 A, got 0"),
    ("c301", "over_current", "5.05", "does not fit XXX.X A"),
    ("c301", "over_current_delay", "100", "does not fit NN s"),
    ("c301", "over_current_delay", "0", "at least 1 s, got 0"),
    ("a101", "over_current", "5.0", "does not declare 'over_current' writable"),
])
async def test_over_current_values_out_of_range_are_refused(
        tmp_path: Path, meter: str, param: str, value: str, expected: str) -> None:
    async with start_hub(tmp_path, pty_config(tmp_path, extra=THREE_PHASE)) as hub:
        with pytest.raises(ServiceValidationError) as caught:
            await hub.services.call("device", "write", {
                "meter_id": meter, "param": param, "value": value},
                context=USER, return_response=True)
        assert expected in str(caught.value)
    assert db_rows(tmp_path / "data", "SELECT * FROM command") == []
