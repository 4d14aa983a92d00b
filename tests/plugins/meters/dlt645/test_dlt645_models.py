"""The ddsy/dtsy models as data: addresses, options, points, reply filters, relay frames, hooks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import voluptuous as vol
from dlt645_support import METER

import meterhub_dlt645
from hub.metering.model import (
    Capability,
    Command,
    FrameParser,
    MeterModel,
    MeterRef,
    MeterRefused,
    NoReply,
    ProtocolCodec,
    ProtocolError,
)
from hub.metering.sim import SimClock
from hub.plugins import PluginManager
from hub.util.dt import site_time_zone
from meterhub_dlt645.codec import Dlt645Parser, Frame, decode_frame, parse_relay
from meterhub_dlt645.models import DDSY, DTSY, reply_filter
from meterhub_dlt645.simulator import Dlt645Simulator


class LoopTransport:
    """A transport that hands requests straight to a simulator (no sockets)."""

    def __init__(self, sim: Dlt645Simulator) -> None:
        self.sim = sim
        self.sent: list[bytes] = []

    async def transact(self, request: bytes, parser: FrameParser,
                       accept: Callable[[Any], bool], timeout: float) -> Any:
        self.sent.append(request)
        for frame in Dlt645Parser().feed(request):
            reply = self.sim.handle_frame(frame)
            for answer in parser.feed(reply or b""):
                if accept(answer):
                    return answer
        raise NoReply("no reply")

    async def send(self, data: bytes) -> None:
        self.sent.append(data)
        for frame in Dlt645Parser().feed(data):
            assert self.sim.handle_frame(frame) is None


@pytest.mark.parametrize(("given", "expected"), [
    ("202400001234", "202400001234"), ("1234", "000000001234"), (1234, "000000001234"),
    (Decimal(1), "000000000001"), (" 000000000042 ", "000000000042"),
])
def test_addresses_are_normalised(given: Any, expected: str) -> None:
    assert DDSY.validate_address(given) == expected


@pytest.mark.parametrize("bad", ["12AB", "1234567890123", "", "-1", True, None, 1.5, ["1"]])
def test_bad_addresses_say_what_is_expected(bad: Any) -> None:
    with pytest.raises(vol.Invalid, match="expected up to 12 decimal digits, got "):
        DDSY.validate_address(bad)


def test_address_message_format() -> None:
    with pytest.raises(vol.Invalid) as err:
        DDSY.validate_address("12AB")
    assert str(err.value) == "expected up to 12 decimal digits, got '12AB'"
    with pytest.raises(vol.Invalid, match="broadcast"):
        DDSY.validate_address("999999999999")


def test_options_defaults_and_yaml_numbers() -> None:
    assert DDSY.options({}) == {
        "password_level": "02", "password": "000000", "operator": "00000000",
        "close_mode": "direct", "relay_validity": 10, "validity_clock": "meter",
        "timeout": 3.0}
    options = DDSY.options({"password_level": 4, "password": 123456, "operator": 1,
                            "timeout": Decimal("1.5"), "close_mode": "allowed"})
    assert (options["password_level"], options["password"], options["operator"]) == (
        "04", "123456", "00000001")
    assert options["timeout"] == 1.5 and options["close_mode"] == "allowed"
    assert DDSY.options(options) == options  # validated options validate again unchanged


@pytest.mark.parametrize(("raw", "message"), [
    ({"password": "12AB56"}, "expected a password of 6 decimal digits"),
    ({"password_level": "2XY"}, "password level"),
    ({"operator": "123456789"}, "operator code"),
    ({"close_mode": "sometimes"}, "expected one of direct, allowed"),
    ({"relay_validity": 0}, "at least 1"),
    ({"timeout": 0}, "above 0"),
    ({"pasword": "123456"}, "extra keys not allowed"),
])
def test_bad_options(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(vol.Invalid, match=message) as err:
        DDSY.options(raw)
    assert "12AB56" not in str(err.value)  # a password is never echoed


def test_points_and_capabilities_are_data() -> None:
    assert {DDSY.name, DTSY.name} == {"ddsy", "dtsy"}
    assert "voltage" in DDSY.points() and "voltage_b" not in DDSY.points()
    assert {"voltage_a", "voltage_b", "voltage_c", "current_c", "power_a",
            "status_word_6"} <= set(DTSY.points())
    for model in (DDSY, DTSY):
        assert isinstance(model, MeterModel)
        assert {"relay", "balance", "energy_import_t4", "meter_time"} <= set(model.points())
        assert set(model.default_points()) <= set(model.points())
        assert {Capability.RELAY, Capability.PREPAID, Capability.TOU,
                Capability.CLOCK} <= model.capabilities
    assert Capability.THREE_PHASE in DTSY.capabilities
    assert Capability.THREE_PHASE not in DDSY.capabilities
    assert DDSY.point_table["energy_import_t1"] == 0x00010100
    assert DTSY.point_table["current_b"] == 0x02020200


def test_reply_filter() -> None:
    accept = reply_filter(METER, 0x11, 0x00010000)
    good = Frame(METER, 0x91, bytes.fromhex("0000010056341200"))
    assert accept(good)
    assert accept(Frame(METER, 0xB1, bytes.fromhex("00000100")))  # first of several frames
    assert accept(Frame(METER, 0xD1, b"\x02"))  # abnormal answer: no DI to check
    assert not accept(Frame("202400005678", 0x91, good.data))  # another meter
    assert not accept(Frame(METER, 0x91, bytes.fromhex("0001010056341200")))  # another DI
    assert not accept(Frame(METER, 0x11, good.data))  # the request echoed
    assert not accept(Frame(METER, 0x94, good.data))  # a reply to another function
    assert not accept(Frame(METER, 0xD1, b""))
    assert not accept(b"not a frame")
    follow = reply_filter(METER, 0x12, 0x00010000, seq=2)
    assert follow(Frame(METER, 0x92, bytes.fromhex("00000100" "12" "02")))
    assert not follow(Frame(METER, 0x92, bytes.fromhex("00000100" "12" "01")))
    control = reply_filter(METER, 0x1C)
    assert control(Frame(METER, 0x9C)) and control(Frame(METER, 0xDC, b"\x04"))
    assert not control(Frame(METER, 0x9C | 0x20))


@pytest.mark.parametrize(("command", "mode", "n1"), [
    (Command.TRIP, "direct", 0x1A), (Command.CLOSE, "direct", 0x1C),
    (Command.CLOSE, "allowed", 0x1B), (Command.ALARM_ON, "direct", 0x2A),
    (Command.ALARM_OFF, "direct", 0x2B), (Command.PROTECT_ON, "direct", 0x3A),
    (Command.PROTECT_OFF, "direct", 0x3B),
])
async def test_relay_frames_carry_credentials_and_meter_clock_validity(
        command: Command, mode: str, n1: int) -> None:
    meter_time = datetime(2025, 3, 14, 23, 55, 30, tzinfo=site_time_zone())
    sim = DDSY.create_simulator(METER, clock=SimClock(speed=0, start=meter_time),
                                passwords={4: "654321"})
    transport = LoopTransport(sim)
    meter = MeterRef("m", METER, {"password_level": "04", "password": "654321",
                                  "operator": "1234ABCD", "relay_validity": 15,
                                  "close_mode": mode})
    result = await DDSY.command(transport, meter, command)
    assert result.accepted
    relay = parse_relay(decode_frame(transport.sent[-1]))
    assert relay.action == n1 and relay.n2 == 0
    assert (relay.credentials.level, relay.credentials.password,
            relay.credentials.operator) == (0x04, "654321", "1234ABCD")
    # 15 minutes after the meter's clock, across midnight
    assert relay.valid_until == datetime(2025, 3, 15, 0, 10, 30)


async def test_unsupported_commands_are_protocol_errors() -> None:
    sim = DDSY.create_simulator(METER, clock=SimClock(speed=0))
    with pytest.raises(ProtocolError, match="does not support"):
        await DDSY.command(LoopTransport(sim), MeterRef("m", METER), Command.VALVE_OPEN)


def test_simulators_of_the_models() -> None:
    single = DDSY.create_simulator("1234")
    three = DTSY.create_simulator(METER, price=None)
    assert isinstance(single, Dlt645Simulator) and single.address == "000000001234"
    assert single.phases == 1 and three.phases == 3 and three.price is None
    assert single.protocol == "dlt645" and isinstance(single.new_parser(), FrameParser)
    with pytest.raises(vol.Invalid):
        DDSY.create_simulator("12AB")


def test_hooks_register_the_models_and_the_codec() -> None:
    models = meterhub_dlt645.register_meter_models()
    assert [m.name for m in models] == ["ddsy", "dtsy", "ddsy1997", "dtsy1997"]
    codecs = meterhub_dlt645.register_protocols()
    assert [c.name for c in codecs] == ["dlt645", "dlt645_1997"]
    assert all(isinstance(codec, ProtocolCodec) for codec in codecs)
    tables = meterhub_dlt645.translations()
    assert tables["en"]["dlt645.err.04"] == "password wrong / not authorised"
    assert tables["zh-CN"]["dlt645.err.02"] == "无请求数据"
    assert tables["en"]["dlt645_1997.err.02"] == "wrong data identifier"
    assert tables["zh-CN"]["dlt645_1997.err.04"] == "密码错"
    assert tables["zh-CN"]["dlt645.relay.trip"] == "拉闸"
    assert set(tables["en"]) == set(tables["zh-CN"])


def test_plugin_is_loaded_through_its_entry_point() -> None:
    plugins = PluginManager()
    plugins.load(core=False)
    plugins.collect()
    assert plugins.registries.meter_models.get("ddsy") is DDSY
    assert plugins.registries.meter_models.get("dtsy") is DTSY
    assert plugins.registries.protocols.get("dlt645") is not None
    assert plugins.registries.meter_models.plugin_of("ddsy") == "dlt645"


async def test_read_clock_rereads_the_date_just_after_midnight() -> None:
    sim = DDSY.create_simulator(
        METER, clock=SimClock(speed=0, start=datetime(2025, 3, 14, 23, 59, 59,
                                                      tzinfo=site_time_zone())))

    class MidnightTransport(LoopTransport):
        async def transact(self, request: bytes, parser: FrameParser,
                           accept: Callable[[Any], bool], timeout: float) -> Any:
            reply = await super().transact(request, parser, accept, timeout)
            self.sim.clock.advance(timedelta(seconds=1))  # the clock ticks past midnight
            return reply

    when = await DDSY.read_clock(MidnightTransport(sim), MeterRef("m", METER))
    assert when == datetime(2025, 3, 15, 0, 0, 0, tzinfo=site_time_zone())


class UnsupportedAsFF(Dlt645Simulator):
    """A cheap meter that answers FF FF FF FF for what it does not have (not BCD)."""

    def value_bytes(self, di: int) -> bytes | None:
        if di == 0x00900200:
            return b"\xff" * 4
        return super().value_bytes(di)


async def test_bad_values_and_refusals_become_point_errors() -> None:
    sim = UnsupportedAsFF(METER, clock=SimClock(speed=0), energy="3.00")
    result = await DDSY.read(LoopTransport(sim), MeterRef("m", METER),
                             ["balance", "energy_import_total", "voltage_b"])
    assert result.registers == {"energy_import_total": Decimal("3.00")}
    assert result.errors == {"balance": "bad reply: not BCD: FF FF FF FF",
                             "voltage_b": "not a point of model ddsy"}
    assert result.frames == 2
    plain = DDSY.create_simulator(METER, clock=SimClock(speed=0), price=None)
    with pytest.raises(MeterRefused) as err:
        await DDSY.read_di(LoopTransport(plain), METER, 0x00900200, 1.0)
    assert str(err.value) == (f"meter {METER} refused DI 00900200: no requested data "
                              "(ERR 02)")


async def test_a_simulator_made_from_the_meter_options_accepts_them() -> None:
    options = {"password_level": 4, "password": 123456, "operator": 7, "timeout": 1,
               "close_mode": "allowed"}
    sim = DDSY.create_simulator(METER, clock=SimClock(speed=0), **options)
    assert sim.passwords == {4: "123456"}
    result = await DDSY.command(LoopTransport(sim), MeterRef("m", METER, options),
                                Command.TRIP)
    assert result.accepted and not sim.relay_closed
    wrong = MeterRef("m", METER, {**options, "password": 654321})
    with pytest.raises(MeterRefused, match="password wrong"):
        await DDSY.command(LoopTransport(sim), wrong, Command.CLOSE)
    with pytest.raises(ValueError, match="unknown simulator option 'bogus'"):
        DDSY.create_simulator(METER, bogus=1)
