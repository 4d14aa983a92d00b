"""``meterhub frame decode|encode --protocol modbus_rtu``: JSON out, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from modbus_support import EXAMPLE_MAP

from hub.cli import main


@pytest.fixture(autouse=True)
def english_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tool speaks the site's language (./hub.yaml's; zh-CN without one): these cases
    read its English."""
    (tmp_path / "hub.yaml").write_text("site: {name: t, language: en}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)


def test_the_tool_speaks_the_sites_language(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """It printed `error: too short…` on a zh-CN site (the default)."""
    (tmp_path / "hub.yaml").write_text("site: {name: t, language: zh-CN}\n", encoding="utf-8")
    assert main(["frame", "decode", "--protocol", "modbus_rtu", "0104"]) == 1
    assert capsys.readouterr().err.startswith("错误：太短：2 字节")
    assert main(["frame", "encode", "--protocol", "modbus_rtu", "read", "--address", "1",
                 "--param", "register"]) == 1
    assert capsys.readouterr().err == "错误：--param 应为 键=值，实际为 'register'\n"


def _decode(capsys: pytest.CaptureFixture[str], text: str) -> dict[str, object]:
    assert main(["frame", "decode", "--protocol", "modbus_rtu", text]) == 0
    out: dict[str, object] = json.loads(capsys.readouterr().out)
    return out


def _encode(capsys: pytest.CaptureFixture[str], action: str, *params: str,
            address: str = "1") -> str:
    argv = ["frame", "encode", "--protocol", "modbus_rtu", action, "--address", address]
    for param in params:
        argv += ["--param", param]
    assert main(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out.strip()


def test_decode_reply_shows_register_readings(capsys: pytest.CaptureFixture[str]) -> None:
    """A read reply: registers in decimal and hex, with the usual interpretations."""
    out = _decode(capsys, "01 04 04 43 66 00 00 0E 1F")
    assert out["function_name"] == "read input registers"
    assert out["registers"] == [0x4366, 0] and out["registers_hex"] == ["0x4366", "0x0000"]
    values = out["values"]
    assert isinstance(values, dict)
    assert values["float32_abcd"] == ["230"] and values["uint32_abcd"] == ["1130758144"]
    assert out["crc"] == "0E1F"


def test_decode_relay_write_and_its_reply(capsys: pytest.CaptureFixture[str]) -> None:
    """The DDS238-2 relay-off request (FC 10) and the meter's reply."""
    request = _decode(capsys, "0110001A0001020000A46A")
    assert (request["direction"], request["register_hex"], request["values"]) == (
        "request", "0x001A", [0])
    reply = _decode(capsys, "0110001A0001200E")
    assert (reply["direction"], reply["count"]) == ("reply", 1)


def test_decode_single_write_echo_is_ambiguous(capsys: pytest.CaptureFixture[str]) -> None:
    """An FC 06 request and its echo are the same bytes: the tool says so."""
    frame = _encode(capsys, "write", "register=0x001A", "value=1")
    out = _decode(capsys, frame)
    assert out["direction"] == "request or reply (echo)" and out["value"] == 1


@pytest.mark.parametrize(("text", "reason"), [
    ("0104", "too short: 2 bytes"),
    ("010404436600000E1E", "bad CRC: frame ends 0E 1E, its CRC is 0E 1F"),
    ("0141000000021DFA", "bad CRC"),
    ("zz", "not hex"),
])
def test_decode_errors_are_one_line(text: str, reason: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Invalid input: exit 1 and one line saying why."""
    assert main(["frame", "decode", "--protocol", "modbus_rtu", text]) == 1
    err = capsys.readouterr().err
    assert reason in err and err.count("\n") == 1


def test_decode_unknown_function_and_wrong_length(capsys: pytest.CaptureFixture[str]) -> None:
    """A right CRC on a wrong frame still gets a reason."""
    from meterhub_modbus.frames import crc

    for body, reason in ((bytes.fromhex("0141"), "unknown function code 0x41"),
                         (bytes.fromhex("01040000"), "wrong length: 6 bytes")):
        assert main(["frame", "decode", "--protocol", "modbus_rtu",
                     (body + crc(body)).hex()]) == 1
        assert reason in capsys.readouterr().err


def test_encode_actions(capsys: pytest.CaptureFixture[str]) -> None:
    """read defaults to FC 04 and 2 registers; write, coil, trip and close build frames."""
    assert _encode(capsys, "read", "register=0x0156") == "0104015600029027"
    assert _encode(capsys, "write", "register=0x001A", "values=0", "function=16") == \
        "0110001A0001020000A46A"
    assert _encode(capsys, "trip", f"map={EXAMPLE_MAP}") == "0110001A0001020000A46A"
    assert _encode(capsys, "close", f"map={EXAMPLE_MAP}").startswith("0110001A0001020001")
    assert _encode(capsys, "coil", "coil=5", "state=on").startswith("01050005FF00")


@pytest.mark.parametrize(("args", "reason"), [
    (["read", "--address", "1"], "missing --param register=..."),
    (["read", "--address", "300", "--param", "register=1"], "address: expected a slave id"),
    (["read", "--address", "0", "--param", "register=1"], "a read cannot be broadcast"),
    (["read", "--address", "1", "--param", "register=abc"], "register: expected a number"),
    (["read", "--address", "1", "--param", "register=1", "--param", "count=0"],
     "count 0 is outside 1..125"),
    (["read", "--address", "1", "--param", "register=1", "--param", "speed=9"],
     "unknown parameter 'speed' for read"),
    (["trip", "--address", "1"], "give --param map=FILE.yaml"),
    (["valve-open", "--address", "1"], "unknown action 'valve-open'"),
])
def test_encode_errors_are_one_line(args: list[str], reason: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Bad arguments: exit 1 and one line naming the problem."""
    assert main(["frame", "encode", "--protocol", "modbus_rtu", *args]) == 1
    err = capsys.readouterr().err
    assert reason in err and err.count("\n") == 1
