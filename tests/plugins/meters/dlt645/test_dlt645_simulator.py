"""The simulated meter frame by frame: TOU bands, relay variants, writes, freeze, baud."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from dlt645_support import METER

from hub.metering.sim import ConstantLoad, DailyCurve, SimClock
from hub.util.dt import site_time_zone
from meterhub_dlt645.codec import (
    Credentials,
    Frame,
    change_baud_request,
    decode_frame,
    encode_frame,
    follow_up_request,
    freeze_request,
    read_request,
    relay_request,
    time_sync_request,
    write_request,
)
from meterhub_dlt645.const import RelayAction
from meterhub_dlt645.dis import DATA_ITEMS, item
from meterhub_dlt645.simulator import Dlt645Simulator, parse_schedule

CREDS = Credentials.parse("02", "000000", "00000001")
START = datetime(2025, 3, 14, 0, 0, tzinfo=site_time_zone())


def meter(**kwargs: Any) -> Dlt645Simulator:
    kwargs.setdefault("clock", SimClock(speed=0, start=START))
    kwargs.setdefault("load", ConstantLoad("1.0"))
    return Dlt645Simulator(METER, **kwargs)


def ask(sim: Dlt645Simulator, request: bytes) -> Frame | None:
    reply = sim.handle_frame(decode_frame(request))
    return decode_frame(reply) if reply is not None else None


def read(sim: Dlt645Simulator, di: int) -> Any:
    reply = ask(sim, read_request(METER, di))
    assert reply is not None and reply.control == 0x91, reply
    return item(di).decode(reply.data[4:])


def relay(sim: Dlt645Simulator, action: RelayAction, minutes: int = 10) -> Frame | None:
    until = sim.meter_now() + timedelta(minutes=minutes)
    return ask(sim, relay_request(METER, action, until, CREDS))


def test_a_whole_day_fills_the_tou_registers_by_the_schedule() -> None:
    sim = meter()
    sim.clock.advance(timedelta(days=1))
    # default day: valley 00-07 and 23-24 (8 h), flat 07-08 and 11-18 (8 h),
    # peak 08-11, 18-19 and 21-23 (6 h), sharp 19-21 (2 h); 1 kW all day
    assert read(sim, 0x0001FF00) == [Decimal(v) for v in ("24.00", "2.00", "6.00", "8.00",
                                                          "8.00")]


def test_tou_band_follows_the_meters_own_clock() -> None:
    sim = meter(tou_schedule=[("00:00", "valley"), ("12:00", "peak")])
    sim.set_meter_time(datetime(2025, 3, 14, 11, 0))  # simulation 00:00, meter 11:00
    sim.clock.advance(timedelta(hours=2))
    assert read(sim, 0x00010400) == Decimal("1.00")  # valley until the meter's 12:00
    assert read(sim, 0x00010200) == Decimal("1.00")


def test_load_curves_integrate() -> None:
    sim = meter(load=DailyCurve(scale=2))
    sim.clock.advance(timedelta(hours=2))
    assert read(sim, 0x00010000) == Decimal("0.54")  # (0.15 + 0.12) x 2


def test_schedule_validation() -> None:
    assert parse_schedule([("12:00", 2), (time(0, 0), "valley")]) == [
        (timedelta(0), 4), (timedelta(hours=12), 2)]
    with pytest.raises(ValueError, match="band"):
        parse_schedule([("00:00", 5)])
    with pytest.raises(ValueError, match="at least one"):
        parse_schedule([])


def test_trip_with_auto_restore() -> None:
    sim = meter(restore_delay=600)
    reply = relay(sim, RelayAction.TRIP_RESTORE_CLOSE)
    assert reply is not None and reply.control == 0x9C
    assert read(sim, 0x04000503) & 0x50 == 0x50  # open, trip commanded
    sim.clock.advance(timedelta(minutes=20))
    assert read(sim, 0x04000503) & 0x50 == 0  # closed again after 10 minutes
    assert read(sim, 0x00010000) == Decimal("0.16")  # 10 of the 20 minutes had power
    relay(sim, RelayAction.TRIP_RESTORE_ALLOWED)
    sim.clock.advance(timedelta(minutes=20))
    assert read(sim, 0x04000503) & 0x50 == 0x10  # open, waiting for the button
    sim.press_button()
    assert read(sim, 0x04000503) & 0x50 == 0


def test_alarm_sets_the_pre_trip_alarm_bit() -> None:
    sim = meter()
    relay(sim, RelayAction.ALARM_ON)
    assert read(sim, 0x04000503) & 0x80
    relay(sim, RelayAction.ALARM_OFF)
    assert not read(sim, 0x04000503) & 0x80


def test_refusals() -> None:
    sim = meter()
    expired = ask(sim, relay_request(METER, RelayAction.TRIP, sim.meter_now() - timedelta(
        seconds=1), CREDS))
    assert expired is not None and expired.control == 0xDC and expired.data == b"\x01"
    unknown_n1 = ask(sim, encode_frame(METER, 0x1C, CREDS.encode() + b"\x55\x00"
                                       + bytes.fromhex("000000010130")))
    assert unknown_n1 is not None and unknown_n1.data == b"\x01"
    level = ask(sim, relay_request(METER, RelayAction.TRIP, datetime(2030, 1, 1),
                                   Credentials.parse("98", "000000")))
    assert level is not None and level.data == b"\x04"
    assert sim.relay_closed
    unsupported = ask(sim, read_request(METER, 0x02010200))  # phase B on a single-phase meter
    assert unsupported is not None and unsupported.control == 0xD1
    assert unsupported.data == b"\x02"
    clear = ask(sim, encode_frame(METER, 0x1A, CREDS.encode()))  # meter clear: never
    assert clear is not None and clear.control == 0xDA


def test_writes_need_the_password_and_a_writable_di() -> None:
    sim = meter(price="0.60")
    ok = ask(sim, write_request(METER, 0x04001001, bytes.fromhex("00100000"), CREDS))
    assert ok is not None and ok.control == 0x94 and ok.data == b""
    assert read(sim, 0x04001001) == Decimal("10.00")
    assert read(sim, 0x04050103) == Decimal("0.6000")
    wrong = ask(sim, write_request(METER, 0x04001001, bytes.fromhex("00100000"),
                                   Credentials.parse("02", "123456")))
    assert wrong is not None and wrong.control == 0xD4 and wrong.data == b"\x04"
    read_only = ask(sim, write_request(METER, 0x00010000, bytes(4), CREDS))
    assert read_only is not None and read_only.data == b"\x04"
    unknown = ask(sim, write_request(METER, 0x12345678, bytes(4), CREDS))
    assert unknown is not None and unknown.data == b"\x02"
    bad_value = ask(sim, write_request(METER, 0x04001001, bytes.fromhex("FF"), CREDS))
    assert bad_value is not None and bad_value.data == b"\x01"


def test_broadcasts_are_applied_and_never_answered() -> None:
    sim = meter()
    target = sim.meter_now() + timedelta(minutes=4)  # within the default ±5 min
    assert ask(sim, time_sync_request(target)) is None
    assert sim.meter_now() == target
    assert ask(sim, freeze_request("999999999999")) is None
    assert ask(sim, read_request("999999999999", 0x00010000)) is None
    assert len(sim.freezes) == 1
    reply = ask(sim, freeze_request(METER, "99999999"))
    assert reply is not None and reply.control == 0x96 and len(sim.freezes) == 2
    assert sim.requests == 1  # broadcasts are not requests to this meter


@pytest.mark.parametrize("at", ["30010712", "13010000", "00010000", "12320000", "12002400",
                                "12312360", "99992400", "12991230", "99129999"])
def test_an_invalid_freeze_time_is_refused(at: str) -> None:
    sim = meter()
    raw = encode_frame(METER, 0x16, bytes.fromhex(at)[::-1])  # as a careless master sends
    reply = ask(sim, raw)
    assert reply is not None and reply.control == 0xD6 and reply.data == b"\x01"
    assert ask(sim, encode_frame("999999999999", 0x16, bytes.fromhex(at)[::-1])) is None
    assert sim.freezes == []


@pytest.mark.parametrize("at", ["12310830", "99310830", "99990830", "99999930", "99999999",
                                "01010000"])
def test_a_valid_freeze_time_is_acknowledged(at: str) -> None:
    sim = meter()
    reply = ask(sim, freeze_request(METER, at))
    assert reply is not None and reply.control == 0x96 and reply.data == b""
    assert [freeze[0] for freeze in sim.freezes] == [at]


def test_change_baud_echoes_the_word() -> None:
    sim = meter()
    reply = ask(sim, change_baud_request(METER, 9600))
    assert reply is not None and reply.control == 0x97 and reply.data == b"\x20"
    bad = ask(sim, encode_frame(METER, 0x17, b"\x03"))
    assert bad is not None and bad.control == 0xD7 and bad.data == b"\x08"


def test_follow_up_sequence_is_checked() -> None:
    sim = meter(energy="1234.56", max_reply_data=6)
    first = ask(sim, read_request(METER, 0x00010000))
    assert first is not None and first.control == 0xB1 and first.data[4:] == b"\x56\x34"
    out_of_order = ask(sim, follow_up_request(METER, 0x00010000, 2))
    assert out_of_order is not None and out_of_order.data == b"\x02"
    second = ask(sim, follow_up_request(METER, 0x00010000, 1))
    assert second is not None and second.control == 0xB2 and second.data[4:] == b"\x12\x01"
    last = ask(sim, follow_up_request(METER, 0x00010000, 2))
    assert last is not None and last.control == 0x92 and last.data[4:] == b"\x00\x02"


def test_three_phase_blocks() -> None:
    sim = meter(three_phase=True, load=ConstantLoad("3.3"))
    sim.set_voltage("230.0", "c")
    assert read(sim, 0x0201FF00) == [Decimal("220.0"), Decimal("220.0"), Decimal("230.0")]
    assert read(sim, 0x0203FF00) == [Decimal("3.3000"), Decimal("1.1000"), Decimal("1.1000"),
                                     Decimal("1.1000")]
    assert read(sim, 0x0202FF00)[2] == Decimal("4.782")
    assert read(sim, 0x040005FF)[4] == 0
    with pytest.raises(ValueError, match="no phase"):
        meter().lose_phase("b")


REQUIRED_SINGLE = [
    0x00000000, 0x0000FF00, 0x00010000, 0x00010100, 0x00010200, 0x00010300, 0x00010400,
    0x0001FF00, 0x00020000, 0x0002FF00, 0x02010100, 0x02020100, 0x02030000, 0x02030100,
    0x02060000, 0x02800002, 0x04000101, 0x04000102, 0x04000401, 0x00900200, 0x00900201,
    *range(0x04000501, 0x04000508), 0x040005FF,
]
REQUIRED_THREE = [*REQUIRED_SINGLE, 0x02010200, 0x02010300, 0x0201FF00, 0x02020300,
                  0x0202FF00, 0x02030300, 0x0203FF00, 0x02060200, 0x0206FF00]


@pytest.mark.parametrize("three_phase", [False, True])
def test_every_di_is_answered_with_a_value_or_no_requested_data(three_phase: bool) -> None:
    sim = meter(three_phase=three_phase, price="0.60", balance="12.34")
    sim.clock.advance(timedelta(hours=3))
    supported = set()
    for di in sorted(DATA_ITEMS):
        reply = ask(sim, read_request(METER, di))
        assert reply is not None and reply.address == METER
        if reply.control == 0xD1:
            assert reply.data == b"\x02", f"{di:08X}"
            continue
        assert reply.control == 0x91 and reply.di == di
        item(di).decode(reply.data[4:])  # a value of the DI's own format
        supported.add(di)
    required = REQUIRED_THREE if three_phase else REQUIRED_SINGLE
    assert set(required) <= supported, [f"{di:08X}" for di in set(required) - supported]
    if not three_phase:
        assert 0x02010200 not in supported and 0x0201FF00 not in supported
