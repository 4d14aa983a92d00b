"""The DL/T 645-1997 data identifiers (formats, names, points), the ``protocol`` option, and
the simulated 1997 meter's answers to every 1997 command over a real socket."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
import voluptuous as vol
from dlt645_support import METER, bus_link

from hub.metering.model import NoReply
from hub.metering.points import POINTS
from hub.metering.sim import SimClock, SimulatedMeter
from meterhub_dlt645.codec import Dlt645Parser, Frame, read_request
from meterhub_dlt645.dialect import DIALECTS
from meterhub_dlt645.errors import Dlt645Error
from meterhub_dlt645.models import DDSY, DDSY1997, DTSY, DTSY1997, MODELS
from meterhub_dlt645.protocol import CODEC
from meterhub_dlt645.protocol1997 import CODEC_1997
from meterhub_dlt645.v1997 import ITEMS_1997, item_1997, read_reply_1997, write_request_1997

NEW = "202400009999"


@pytest.mark.parametrize(("di", "pattern", "size", "decimals", "unit"), [
    (0x9010, "XXXXXX.XX", 4, 2, "kWh"), (0x9014, "XXXXXX.XX", 4, 2, "kWh"),
    (0x9020, "XXXXXX.XX", 4, 2, "kWh"), (0xB611, "XXX", 2, 0, "V"),
    (0xB623, "XX.XX", 2, 2, "A"), (0xB630, "XX.XXXX", 3, 4, "kW"),
    (0xB650, "X.XXX", 2, 3, ""), (0xC010, "YYMMDDWW", 4, 0, ""), (0xC011, "hhmmss", 3, 0, ""),
    (0xC030, "XXXXXX", 3, 0, "imp/kWh"), (0xC032, "NNNNNNNNNNNN", 6, 0, ""),
])
def test_formats_of_1997_identifiers(di: int, pattern: str, size: int, decimals: int,
                                     unit: str) -> None:
    spec = item_1997(di)
    assert (spec.fmt.pattern, spec.fmt.size, spec.fmt.decimals, spec.unit) == (
        pattern, size, decimals, unit)
    assert spec.width == 2 and spec.di_text == f"{di:04X}"


def test_every_1997_identifier_has_both_names_and_a_real_point() -> None:
    assert len(ITEMS_1997) >= 40
    for di, entry in ITEMS_1997.items():
        spec = entry.item
        assert spec.name_en and spec.name_zh and spec.name_en != spec.name_zh, f"{di:04X}"
        assert spec.point is None or spec.point in POINTS, f"{di:04X}"


def test_1997_tables_read_into_the_2007_points() -> None:
    for old, new in ((DDSY1997, DDSY), (DTSY1997, DTSY)):
        assert old.version == "1997" and new.version == "2007"
        assert set(old.point_table) <= set(new.point_table), old.name
        assert old.tables["2007"] == new.point_table and new.tables["1997"] == old.point_table
    assert DDSY1997.point_table["energy_import_total"] == 0x9010
    assert [DDSY1997.point_table[f"energy_import_t{n}"] for n in range(1, 5)] == [
        0x9011, 0x9012, 0x9013, 0x9014]
    assert (DDSY1997.point_table["voltage"], DDSY1997.point_table["current"]) == (0xB611, 0xB621)
    assert DTSY1997.point_table["voltage_c"] == 0xB613
    assert [m.name for m in MODELS] == ["ddsy", "dtsy", "ddsy1997", "dtsy1997"]


def test_protocol_option() -> None:
    assert DDSY.options({"protocol": 1997})["protocol"] == "1997"  # YAML reads it as a number
    assert DDSY.options({"protocol": "AUTO"})["protocol"] == "auto"
    assert "protocol" not in DDSY.options({})  # the model's own version
    for bad in ("2005", True, None, 1997.0):
        with pytest.raises(vol.Invalid, match="expected protocol 2007, 1997 or auto"):
            DDSY.options({"protocol": bad})
    assert DDSY.create_simulator(METER, protocol=1997).version == "1997"
    assert DDSY.create_simulator(METER, protocol="auto").version == "2007"
    assert DDSY1997.create_simulator(METER, protocol="auto").version == "1997"
    with pytest.raises(ValueError, match="2007 or 1997"):
        DDSY.create_simulator(METER, version="1998")


async def _exchange(transport: Any, request: bytes, timeout: float = 2.0) -> dict[str, Any]:
    frame = await transport.transact(request, Dlt645Parser(),
                                     lambda f: isinstance(f, Frame) and f.is_reply, timeout)
    return CODEC.decode(frame.encode())


async def test_the_simulated_1997_meter_answers_each_command() -> None:
    sim = DDSY1997.create_simulator(METER, clock=SimClock(speed=0), energy="12.34",
                                    passwords={2: "000000"})
    async with asyncio.timeout(20), bus_link([sim]) as (transport, _bus):
        energy = await _exchange(transport, CODEC_1997.encode("read", METER, di="9010"))
        baud = await _exchange(transport, CODEC_1997.encode("change-baud", METER, baud="2400"))
        bad_baud = await _exchange(transport, bytes.fromhex("68341200002420680C0134")
                                   + bytes((sum(bytes.fromhex("68341200002420680C0134"))
                                            & 0xFF, 0x16)))  # Z 01: no such rate
        password = await _exchange(transport, CODEC_1997.encode(
            "change-password", METER, new_password="123456", new_password_level="02"))
        old_password = await _exchange(transport, CODEC_1997.encode(
            "write", METER, di="C033", value="000000000042", password="000000"))
        written = await _exchange(transport, CODEC_1997.encode(
            "write", METER, di="C033", value="000000000042", password="123456"))
        customer = await _exchange(transport, CODEC_1997.encode("read", METER, di="C033"))
        read_only = await _exchange(transport, CODEC_1997.encode(
            "write", METER, di="9010", value="0", password="123456"))
        follow = await _exchange(transport, CODEC_1997.encode("read-follow-up", METER,
                                                              di="9010"))
        moved = await _exchange(transport, CODEC_1997.encode("write-address", "999999999999",
                                                             new_address=NEW))
        at_new = await _exchange(transport, CODEC_1997.encode("read", NEW, di="C032"))
        with pytest.raises(NoReply):  # a 1997 meter does not know 2007 function codes
            await _exchange(transport, read_request(NEW, 0x00010000), 0.3)
    assert (energy["control"], energy["value"]) == ("81", "12.34")
    assert (baud["control"], baud["baud"]) == ("8C", 2400) and sim.version == "1997"
    assert bad_baud["error_reasons"] == ["illegal data"]
    assert (password["control"], password["new_password"]) == ("8F", "123456")
    assert old_password["error_reasons"] == ["wrong password"]
    assert old_password["error_reasons_zh"] == ["密码错"]
    assert written["control"] == "84"
    assert customer["value"] == "000000000042"
    assert read_only["error_reasons"] == ["wrong data identifier"]
    assert follow["control"] == "C2" and follow["error_reasons"] == ["illegal data"]
    assert (moved["control"], moved["address"]) == ("8A", NEW)
    assert at_new["value"] == NEW  # answered at its new address (number = address here)
    assert sim.address == NEW and sim.passwords[2] == "123456"
    assert sim.registers[0] == Decimal("12.34")


class SplitsTheBlock(SimulatedMeter):
    """A 1997 meter that sends 901F in two frames: A1 (total, T1), then 82 (T2..T4)."""

    protocol = "dlt645"

    def __init__(self, address: str) -> None:
        super().__init__(address)
        self.asked: list[str] = []

    def new_parser(self) -> Dlt645Parser:
        return Dlt645Parser()

    def handle_frame(self, frame: Any) -> bytes | None:
        if not isinstance(frame, Frame) or frame.address != self.address or frame.is_reply:
            return None
        self.asked.append(f"{frame.control:02X}")
        value = item_1997(0x901F).encode([Decimal("1234.56"), Decimal("100"), Decimal("400"),
                                          Decimal("500"), Decimal("234.56")])
        if frame.function == 0x01:
            return read_reply_1997(self.address, 0x901F, value[:8], follow_up=True)
        return read_reply_1997(self.address, 0x901F, value[8:], function=0x02)


async def test_a_1997_block_in_follow_up_frames() -> None:
    sim = SplitsTheBlock(METER)
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        raw, frames = await DDSY1997.read_di(transport, METER, 0x901F, 2.0, DIALECTS["1997"])
    assert frames == 2 and sim.asked == ["01", "02"]  # 02 carries the DI only (no SEQ)
    assert item_1997(0x901F).decode(raw) == [Decimal("1234.56"), Decimal("100.00"),
                                             Decimal("400.00"), Decimal("500.00"),
                                             Decimal("234.56")]


def test_length_limits_of_1997_frames() -> None:
    assert len(write_request_1997(METER, 0xC034, bytes(44), 2, "000000")) == 12 + 50
    with pytest.raises(Dlt645Error, match="at most 50 data bytes, got 51"):
        write_request_1997(METER, 0xC034, bytes(45), 2, "000000")
    with pytest.raises(Dlt645Error, match="600, 1200, 2400, 4800 or 9600"):
        CODEC_1997.encode("change-baud", METER, baud="19200")
    with pytest.raises(Dlt645Error, match="unknown DL/T 645-1997 action 'trip'"):
        CODEC_1997.encode("trip", METER)
    with pytest.raises(Dlt645Error, match="4 hex digits like 9010"):
        CODEC_1997.encode("read", METER, di="00010000")
