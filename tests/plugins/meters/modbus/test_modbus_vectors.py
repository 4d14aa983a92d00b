"""Every frame of the shared Modbus vectors, built and parsed exactly (API, model and CLI)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from modbus_support import EXAMPLE_MAP, ScriptedTransport, meter, vectors

from hub.cli import main
from hub.metering.model import Command, MeterRefused, NoReply
from meterhub_modbus.frames import Request, RtuParser, exception_reply, read_reply
from meterhub_modbus.model import shipped_models
from meterhub_modbus.values import ByteOrder, DataType, decode_value, encode_value

REQUESTS = [v for v in vectors() if v["direction"] == "request"]
REPLIES = [v for v in vectors() if v["direction"] == "reply"]
MODELS = {model.name: model for model in shipped_models()}


def _name(vector: dict[str, Any]) -> str:
    return str(vector["name"])


def _tolerance(vector: dict[str, Any]) -> Decimal:
    return Decimal(vector.get("tolerance", "0"))


def test_vectors_are_all_covered() -> None:
    """The vector file has the frames these tests expect (no silent empty parametrize)."""
    assert len(REQUESTS) == 4
    assert len(REPLIES) == 3


@pytest.mark.parametrize("vector", REQUESTS, ids=_name)
def test_request_built(vector: dict[str, Any]) -> None:
    """pymodbus's PDU + RTU framer build the request byte for byte."""
    request = Request(vector["slave"], vector["function"], vector["register"], vector["count"])
    assert request.encode().hex().upper() == vector["hex"]


@pytest.mark.parametrize("vector", REQUESTS, ids=_name)
def test_request_parsed(vector: dict[str, Any]) -> None:
    """A request split in two chunks parses to its slave, function, register and count."""
    data = bytes.fromhex(vector["hex"])
    parser = RtuParser(requests=True)
    assert parser.feed(data[:3]) == []
    (frame,) = parser.feed(data[3:])
    assert (frame.slave, frame.function) == (vector["slave"], vector["function"])
    assert frame.pdu is not None
    assert (frame.pdu.address, frame.pdu.count) == (vector["register"], vector["count"])
    assert frame.raw == data


@pytest.mark.parametrize("vector", REPLIES, ids=_name)
def test_reply_parsed_and_built(vector: dict[str, Any]) -> None:
    """Each reply is found by the parser, decoded exactly, and rebuilt to the same bytes."""
    data = bytes.fromhex(vector["hex"])
    request = Request(vector["slave"], vector["function"] & 0x7F, 0, 2)
    (frame,) = RtuParser(expect=request).feed(b"\x00\xff" + data)
    assert request.accept(frame)
    if "exception" in vector:
        assert frame.exception_code == vector["exception"]
        with pytest.raises(MeterRefused) as caught:
            request.registers(frame)
        assert caught.value.reasons == ["illegal data address (02)"]
        assert exception_reply(vector["slave"], 4, vector["exception"]) == data
        return
    registers = request.registers(frame)
    value = decode_value(registers, DataType.FLOAT32, ByteOrder.ABCD)
    expected = Decimal(vector["value"])
    assert abs(value - expected) <= _tolerance(vector)
    assert read_reply(vector["slave"], vector["function"], registers) == data
    rebuilt = encode_value(expected, DataType.FLOAT32, ByteOrder.ABCD)
    assert abs(decode_value(rebuilt, DataType.FLOAT32, ByteOrder.ABCD) - expected) \
        <= _tolerance(vector)
    if not _tolerance(vector):
        assert read_reply(vector["slave"], vector["function"], rebuilt) == data


def test_sdm120_reply_value_is_exact() -> None:
    """230.0 V arrives as Decimal 230 exactly (no float residue)."""
    registers = [0x4366, 0x0000]
    assert decode_value(registers, DataType.FLOAT32, ByteOrder.ABCD) == Decimal("230.0")


def test_ddsu666_reply_within_tolerance() -> None:
    """The DDSU666 frame holds the float32 next to 230.2: its shortest text is 230.20001."""
    value = decode_value([0x4366, 0x3334], DataType.FLOAT32, ByteOrder.ABCD)
    assert value == Decimal("230.20001")
    assert abs(value - Decimal("230.2")) <= Decimal("0.05")


async def test_sdm120_model_reads_the_vector_frames() -> None:
    """The sdm120 model sends the vector request and decodes the vector reply."""
    model = MODELS["sdm120"]
    transport = ScriptedTransport([
        (bytes.fromhex("01040000000271CB"), [bytes.fromhex("01040443"),
                                              bytes.fromhex("6600000E1F")]),
    ])
    result = await model.read(transport, meter("1"), ["voltage"])
    assert result.values == {"voltage": Decimal("230")}
    assert result.frames == 1 and not result.errors


async def test_sdm120_model_total_energy_request_and_refusal() -> None:
    """The total-energy read is the vector frame; the exception vector becomes an error."""
    model = MODELS["sdm120"]
    transport = ScriptedTransport([
        (bytes.fromhex("0104015600029027"), [bytes.fromhex("018402C2C1")]),
    ])
    result = await model.read(transport, meter("1"), ["energy_combined_total"])
    assert result.registers == {}
    assert "illegal data address (02)" in result.errors["energy_combined_total"]


async def test_ddsu666_model_reads_the_vector_frames() -> None:
    """The ddsu666 model sends both vector requests (voltage, import energy)."""
    model = MODELS["ddsu666"]
    energy = read_reply(1, 4, encode_value(Decimal("1234.5"), DataType.FLOAT32,
                                           ByteOrder.ABCD))
    transport = ScriptedTransport([
        (bytes.fromhex("0104200000027A0B"), [bytes.fromhex("010404436633341B38")]),
        (bytes.fromhex("010440000002640B"), [energy]),
    ])
    result = await model.read(transport, meter("1"), ["voltage", "energy_import_total"])
    assert abs(result.values["voltage"] - Decimal("230.2")) <= Decimal("0.05")
    assert result.registers == {"energy_import_total": Decimal("1234.5")}


async def test_dds238_relay_off_frame() -> None:
    """PROTOCOLS.md §4.4: relay off through the example map is FC 10 to 0x001A, value 0."""
    model = MODELS["modbus"]
    ref = meter("1", {"map": str(EXAMPLE_MAP)})
    transport = ScriptedTransport([
        (bytes.fromhex("0110001A0001020000A46A"), [bytes.fromhex("0110001A0001200E")]),
    ])
    result = await model.command(transport, ref, Command.TRIP)
    assert result.accepted, result.detail


@pytest.mark.parametrize("vector", vectors(), ids=_name)
def test_cli_decodes_every_vector(vector: dict[str, Any],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """``meterhub frame decode --protocol modbus_rtu HEX`` prints the frame as JSON."""
    assert main(["frame", "decode", "--protocol", "modbus_rtu", vector["hex"]]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["slave"] == vector["slave"] and out["function"] == vector["function"]
    assert out["direction"] == vector["direction"] and out["crc_ok"] is True
    if "register" in vector:
        assert (out["register"], out["count"]) == (vector["register"], vector["count"])
    if "value" in vector:
        value = Decimal(out["values"]["float32_abcd"][0])
        assert abs(value - Decimal(vector["value"])) <= _tolerance(vector)
    if "exception" in vector:
        assert out["exception"] == vector["exception"]
        assert out["exception_name"] == "illegal data address (02)"


@pytest.mark.parametrize("vector", REQUESTS, ids=_name)
def test_cli_encodes_every_request(vector: dict[str, Any],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """``meterhub frame encode ... read`` prints the vector's hex."""
    argv = ["frame", "encode", "--protocol", "modbus_rtu", "read",
            "--address", str(vector["slave"]), "--param", f"register=0x{vector['register']:04X}",
            "--param", f"count={vector['count']}", "--param", f"function={vector['function']}"]
    assert main(argv) == 0
    assert capsys.readouterr().out.strip() == vector["hex"]


async def test_wrong_replies_are_skipped_until_the_right_one() -> None:
    """Wrong function, wrong slave, wrong size: skipped; the real reply is taken."""
    model = MODELS["sdm120"]
    wrong = [read_reply(1, 3, [0x4366, 0]),  # holding, not input registers
             read_reply(2, 4, [0x4366, 0]),  # another slave
             read_reply(1, 4, [0x4366, 0, 0, 0])]  # four registers, asked for two
    right = bytes.fromhex("010404436600000E1F")
    transport = ScriptedTransport([(None, [*wrong, right]), (None, wrong)])
    result = await model.read(transport, meter("1"), ["voltage"])
    assert result.values == {"voltage": Decimal("230")}
    with pytest.raises(NoReply):
        await model.read(transport, meter("1"), ["voltage"])
