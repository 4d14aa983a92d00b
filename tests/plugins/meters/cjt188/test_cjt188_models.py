"""The CJ/T 188 water models: options, addresses, reply matching, reads, commands, uplinks."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import voluptuous as vol

from hub.metering.model import (
    Capability,
    Command,
    FrameParser,
    MeterRef,
    MeterRefused,
    NoReply,
    ProtocolError,
)
from hub.metering.sim import SimClock
from hub.plugins import PluginManager
from meterhub_cjt188 import register_meter_models, register_protocols
from meterhub_cjt188.codec import Cjt188Error, Cjt188Parser, Frame, decode_frame
from meterhub_cjt188.const import DiOrder
from meterhub_cjt188.models import Cjt188WaterModel, NbWaterModel

SHANGHAI = ZoneInfo("Asia/Shanghai")
METER = MeterRef("w1", "00000000001234")
C1_READ = bytes.fromhex("68103412000000000001031F90007116")
C1_READ_HI = bytes.fromhex("6810341200000000000103901F007116")
C1_REPLY = bytes.fromhex("68103412000000000081161F9000452301002C000001002C532609140325200000A416")
C2_CLOSE = bytes.fromhex("681034120000000000040417A001991716")
C2_REPLY = bytes.fromhex("681034120000000000840517A00101000016")
C4_ERROR = bytes.fromhex("681034120000000000C1030000008216")
APPDATA = "aBA0EgAAAAAAgRYfkABFIwEALAAAAQAsUyYJFAMlIAAApBY="  # PROTOCOLS.md §5.2


def cs(frame_without_tail: bytes) -> bytes:
    """Append CS and 16 (the definition: byte sum mod 256)."""
    return frame_without_tail + bytes((sum(frame_without_tail) % 256, 0x16))


class FakeTransport:
    """Answers each request with canned byte chunks, through the model's own parser and
    accept, like a link; records what was sent."""

    def __init__(self, *replies: bytes | Callable[[bytes], bytes]) -> None:
        self.replies = list(replies)
        self.sent: list[bytes] = []
        self.skipped: list[Any] = []

    async def transact(self, request: bytes, parser: FrameParser,
                       accept: Callable[[Any], bool], timeout: float) -> Any:
        self.sent.append(request)
        parser.reset()
        reply = self.replies.pop(0)
        chunk = reply(request) if callable(reply) else reply
        for frame in parser.feed(chunk):
            if accept(frame):
                return frame
            self.skipped.append(frame)
        raise NoReply(f"no acceptable reply within {timeout:g}s")

    async def send(self, data: bytes) -> None:
        self.sent.append(data)


# --- registration, options, addresses ----------------------------------------------------


def test_plugin_registers_models_and_codec() -> None:
    import meterhub_cjt188

    plugins = PluginManager()
    plugins.register(meterhub_cjt188, "cjt188")
    assert plugins.collect() == []
    assert set(plugins.registries.meter_models.names()) == {"nb_water", "cjt188_water"}
    assert plugins.registries.protocols.names() == ["cjt188"]
    models = {m.name: m for m in register_meter_models()}
    assert models["nb_water"].capabilities == {Capability.VALVE, Capability.CLOCK,
                                               Capability.SLEEPY}
    assert Capability.SLEEPY not in models["cjt188_water"].capabilities
    assert models["nb_water"].kind == "water" and models["nb_water"].protocol == "cjt188"
    assert [c.name for c in register_protocols()] == ["cjt188"]


def test_options_defaults_and_spellings() -> None:
    model = NbWaterModel()
    assert model.options({}) == {"di_order": "1F90", "meter_type": 0x10,
                                 "timeout": Decimal("60"), "check_ser": True}
    assert Cjt188WaterModel().options({})["timeout"] == Decimal("3")
    assert model.options({"di_order": "901F"})["di_order"] == "901F"
    assert model.options({"di_order": "hi_first"})["di_order"] == "901F"
    assert model.options({"di_order": "lo_first"})["di_order"] == "1F90"
    assert model.options({"meter_type": "11"})["meter_type"] == 0x11
    assert model.options({"meter_type": 0x12})["meter_type"] == 0x12


@pytest.mark.parametrize(("options", "message"), [
    ({"di_order": "sideways"}, "expected 1F90 (lo_first) or 901F (hi_first), got 'sideways'"),
    ({"meter_type": "30"}, "expected a water meter type 10-19"),
    ({"meter_type": "zz"}, "got 'zz'"),
    ({"timeout": 0}, "expected seconds above 0"),
    ({"password": "1"}, "extra keys not allowed"),
])
def test_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(vol.Invalid) as err:
        NbWaterModel().options(options)
    assert message in str(err.value)


@pytest.mark.parametrize(("given_", "expected"), [
    ("00000000001234", "00000000001234"), ("1234", "00000000001234"),
    ("78330011223344", "78330011223344"),
    (" 0011 2233 44 ", "00000011223344"), ("abcdef", "00000000ABCDEF"),
])
def test_validate_address(given_: Any, expected: str) -> None:
    assert NbWaterModel().validate_address(given_) == expected


@pytest.mark.parametrize(("bad", "message"), [
    ("xyz", "expected 14 hex digits (shorter numbers are left-padded with 0), got 'xyz'"),
    ("123456789012345", "got '123456789012345'"),
    ("", "got ''"),
    (None, "got nothing (null)"),
    ("AAAAAAAAAAAAAA", "is the wildcard address"),
    (668, "got the number 668 (quote it"),  # what YAML makes of 00000000001234 unquoted
])
def test_validate_address_rejects_junk(bad: Any, message: str) -> None:
    with pytest.raises(vol.Invalid) as err:
        NbWaterModel().validate_address(bad)
    assert message in str(err.value)


# --- reads -------------------------------------------------------------------------------


async def test_read_sends_the_vector_and_maps_points() -> None:
    transport = FakeTransport(b"\xfe\xfe" + C1_REPLY)
    result = await Cjt188WaterModel().read(transport, METER)
    assert transport.sent == [C1_READ]
    assert result.registers == {"water_total": Decimal("123.45"),
                                "water_settlement": Decimal("100.00")}
    assert result.status["valve"] == "open" and result.status["battery_low"] is False
    assert result.status["status_word"] == 0
    assert result.meter_time == datetime(2025, 3, 14, 9, 26, 53, tzinfo=SHANGHAI)
    assert result.errors == {} and result.frames == 1


async def test_read_in_vendor_di_order_accepts_either_echo() -> None:
    meter = MeterRef("w1", "1234", {"di_order": "901F"})
    transport = FakeTransport(C1_REPLY)  # the meter echoes 1F 90: accepted all the same
    result = await Cjt188WaterModel().read(transport, meter, ["water_total"])
    assert transport.sent == [C1_READ_HI]
    assert result.registers == {"water_total": Decimal("123.45")}
    assert result.status == {} and result.meter_time is None


async def test_read_converts_litres_and_reports_bad_fields() -> None:
    data = bytes.fromhex("1F9000" "67452301" "29" "FFFFFFFF" "29" "53260914032520" "0600")
    reply = cs(bytes.fromhex("6810341200000000008116") + data)
    result = await Cjt188WaterModel().read(FakeTransport(reply), METER)
    assert result.registers == {"water_total": Decimal("12.34567")}
    assert "not BCD: FF FF FF FF" in result.errors["water_settlement"]
    assert result.status["valve"] == "abnormal" and result.status["battery_low"] is True


async def test_read_unknown_point_is_an_error_without_traffic() -> None:
    transport = FakeTransport()
    result = await NbWaterModel().read(transport, METER, ["energy_import_total"])
    assert transport.sent == []
    assert "has no point 'energy_import_total'" in result.errors["energy_import_total"]


async def test_abnormal_reply_fills_errors_with_reasons() -> None:
    result = await Cjt188WaterModel().read(FakeTransport(C4_ERROR), METER)
    assert result.registers == {}
    assert set(result.errors) == {"water_total", "water_settlement", "valve", "battery_low",
                                  "meter_time"}
    assert "refused the read data request (abnormal reply C1, SER 00)" in \
        result.errors["water_total"]


def _reply_from(address: str = "00000000001234", control: int = 0x81,
                di: bytes = b"\x1f\x90", ser: int = 0, meter_type: int = 0x10) -> bytes:
    payload = bytes.fromhex("452301002C000001002C532609140325200000")
    data = di + bytes((ser,)) + (payload if control == 0x81 else b"")
    return Frame(meter_type, address, control, data).encode()


@pytest.mark.parametrize("wrong", [
    _reply_from(address="00000000001235"),  # another meter
    _reply_from(di=b"\x7f\x90"),  # another DI (907F)
    _reply_from(control=0x84, di=b"\x1f\x90"),  # not an answer to a read
    _reply_from(control=0x01),  # a request (echo on a half-duplex bus)
    _reply_from(ser=7),  # a stale answer to another request
    _reply_from(meter_type=0x11),  # another meter type
])
async def test_wrong_replies_are_rejected_never_taken(wrong: bytes) -> None:
    transport = FakeTransport(wrong)
    with pytest.raises(NoReply):
        await Cjt188WaterModel().read(transport, METER)
    assert len(transport.skipped) == 1
    # with the right reply after the wrong one, the right one is taken
    transport = FakeTransport(wrong + C1_REPLY)
    result = await Cjt188WaterModel().read(transport, METER)
    assert result.registers["water_total"] == Decimal("123.45")


async def test_ser_check_can_be_switched_off() -> None:
    meter = MeterRef("w1", "1234", {"check_ser": False})
    result = await Cjt188WaterModel().read(FakeTransport(_reply_from(ser=9)), meter)
    assert result.registers["water_total"] == Decimal("123.45")


# --- commands, clock -----------------------------------------------------------------------


async def test_valve_close_matches_the_vector() -> None:
    model = Cjt188WaterModel()
    transport = FakeTransport(C1_REPLY, C2_REPLY)
    await model.read(transport, METER)  # SER 00
    result = await model.command(transport, METER, Command.VALVE_CLOSE)  # SER 01
    assert transport.sent[1] == C2_CLOSE
    assert result.accepted
    assert "valve close" in result.detail and "closed" in result.detail


async def test_valve_refused() -> None:
    refusal = cs(bytes.fromhex("681034120000000000C403000300"))
    result = await Cjt188WaterModel().command(FakeTransport(refusal), METER,
                                              Command.VALVE_OPEN)
    assert not result.accepted
    assert "refused the valve control request" in result.detail
    assert "valve abnormal" in result.detail


async def test_unsupported_command() -> None:
    with pytest.raises(ProtocolError, match="does not support trip"):
        await NbWaterModel().command(FakeTransport(), METER, Command.TRIP)


async def test_read_clock_and_refusal() -> None:
    clock = await NbWaterModel().read_clock(FakeTransport(C1_REPLY), METER)
    assert clock == datetime(2025, 3, 14, 9, 26, 53, tzinfo=SHANGHAI)
    with pytest.raises(MeterRefused) as err:
        await NbWaterModel().read_clock(FakeTransport(C4_ERROR), METER)
    assert err.value.reasons and "refused" in err.value.reasons[0]


async def test_sync_time_writes_a015_in_site_time() -> None:
    def ack(request: bytes) -> bytes:
        frame = decode_frame(request)
        return Frame(0x10, frame.address, 0x84, frame.data[:3]).encode()

    transport = FakeTransport(ack)
    now = datetime(2025, 3, 14, 1, 26, 53, tzinfo=ZoneInfo("UTC"))
    await Cjt188WaterModel().sync_time(transport, METER, now)
    sent = decode_frame(transport.sent[0])
    assert sent.control == 0x04
    assert sent.data == bytes.fromhex("15A000" "53260914032520")
    with pytest.raises(ProtocolError, match="no broadcast time sync"):
        await Cjt188WaterModel().sync_time(transport, None, now)


# --- uplinks -------------------------------------------------------------------------------


def test_decode_uplink_of_the_ctwing_example() -> None:
    result = NbWaterModel().decode_uplink(base64.b64decode(APPDATA), METER)
    assert result.registers == {"water_total": Decimal("123.45"),
                                "water_settlement": Decimal("100.00")}
    assert result.status["valve"] == "open" and result.status["battery_low"] is False
    assert result.meter_time == datetime(2025, 3, 14, 9, 26, 53, tzinfo=SHANGHAI)
    assert result.frames == 0


def test_decode_uplink_of_a_valve_ack() -> None:
    result = NbWaterModel().decode_uplink(C2_REPLY, METER)
    assert result.status["valve"] == "closed" and result.registers == {}


@pytest.mark.parametrize(("data", "error", "message"), [
    (b"\x00\x01", Cjt188Error, "no CJ/T 188 frame"),
    (_reply_from(address="00000000009999"), Cjt188Error, "from meter 00000000009999"),
    (_reply_from(meter_type=0x30), Cjt188Error, "wrong meter type 30"),
    (C1_READ, Cjt188Error, "not a 901F report"),
    (C4_ERROR, MeterRefused, "refused"),
])
def test_decode_uplink_rejects(data: bytes, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        NbWaterModel().decode_uplink(data, METER)


def test_create_simulator_validates() -> None:
    model = NbWaterModel()
    sim = model.create_simulator("1234", di_order="901F", meter_type="11")
    assert sim.address == "00000000001234" and sim.meter_type == 0x11
    assert isinstance(sim.new_parser(), Cjt188Parser)
    # a link may pass all of a meter's options: the link-side ones are ignored
    sim = model.create_simulator("1234", **model.options({"di_order": "901F"}),
                                 clock=SimClock(speed=0))
    assert sim.di_order is DiOrder.HI_FIRST and sim.meter_type == 0x10
    with pytest.raises(vol.Invalid):
        model.create_simulator("1234", di_order="sideways")
    with pytest.raises(vol.Invalid):
        model.create_simulator("zz")
