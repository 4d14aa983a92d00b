"""The ``dlt645`` frame tool: decode details, encode actions and errors, CLI exit codes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from dlt645_support import METER, run_cli, run_cli_batch

from hub.util import dt as dt_util
from meterhub_dlt645.codec import decode_frame, encode_frame
from meterhub_dlt645.errors import Dlt645Error
from meterhub_dlt645.protocol import CODEC


def test_codec_describes_itself() -> None:
    assert CODEC.name == "dlt645"
    assert {"read", "read-address", "write", "trip", "close", "close-allowed", "alarm-on",
            "alarm-off", "protect-on", "protect-off", "time-sync", "freeze"} <= set(
        CODEC.actions)


@pytest.mark.parametrize(("action", "params", "n1"), [
    ("trip", {}, "1A"), ("close", {}, "1C"), ("close-allowed", {}, "1B"),
    ("alarm-on", {}, "2A"), ("alarm_off", {}, "2B"), ("protect-on", {}, "3A"),
    ("protect-off", {}, "3B"), ("trip-restore-close", {}, "1D"),
])
def test_relay_actions_round_trip(action: str, params: dict[str, str], n1: str) -> None:
    before = dt_util.now().replace(tzinfo=None)
    decoded = CODEC.decode(CODEC.encode(action, METER, **params))
    assert decoded["control"] == "1C" and decoded["n1"] == n1
    assert decoded["relay_action"] == action.replace("-", "_")
    assert (decoded["password_level"], decoded["password"], decoded["operator"]) == (
        "02", "000000", "00000000")
    until = datetime.fromisoformat(decoded["valid_until"])
    assert timedelta(minutes=9) < until - before < timedelta(minutes=11)  # default 10 min


def test_encode_defaults_and_parameters() -> None:
    frame = decode_frame(CODEC.encode("freeze", METER))
    assert frame.control == 0x16 and frame.data == bytes.fromhex("99999999")
    frame = decode_frame(CODEC.encode("read", "1234", di="0201FF00", preamble="2")[2:])
    assert frame.address == "000000001234"
    assert CODEC.encode("read", METER, di="00010000", preamble="4")[:4] == b"\xfe" * 4
    now = dt_util.now().replace(tzinfo=None)
    synced = CODEC.decode(CODEC.encode("time-sync", "999999999999"))
    assert abs(datetime.fromisoformat(synced["time"]) - now) < timedelta(minutes=1)
    assert CODEC.decode(CODEC.encode("change-baud", METER, baud="2400"))["baud"] == 2400
    validity = CODEC.decode(CODEC.encode("trip", METER, validity="60"))["valid_until"]
    assert timedelta(minutes=59) < datetime.fromisoformat(validity) - now < timedelta(
        minutes=61)
    written = CODEC.decode(CODEC.encode("write", METER, di="04000102", value="23:59:58",
                                        password="123456"))
    assert written["value"] == "23:59:58" and written["password"] == "123456"


@pytest.mark.parametrize(("action", "address", "params", "message"), [
    ("explode", METER, {}, "unknown action 'explode': expected one of read,"),
    ("read", METER, {}, "read needs di"),
    ("read", "12AB", {"di": "00010000"}, "expected an address of 12 decimal digits"),
    ("read", METER, {"di": "0001000"}, "expected a DI of 8 hex digits"),
    ("trip", METER, {"pasword": "1"}, "unknown parameter 'pasword' for trip"),
    ("trip", METER, {"password": "12345X"}, "expected a 6-digit password"),
    ("trip", "999999999999", {}, "needs a meter address"),
    ("trip", METER, {"valid_until": "tomorrow"}, "valid_until: expected an ISO time"),
    ("read-follow-up", METER, {"di": "00010000", "seq": "300"}, "seq: expected 0..255"),
    ("write", METER, {"di": "12345678", "value": "1"}, "unknown DI 0x12345678"),
    ("write", METER, {"di": "04001001", "value": "10.005"}, "more than 2 decimals"),
    ("write", METER, {"di": "04000101", "value": "2025-13-01"}, "does not fit DI 04000101"),
    ("freeze", METER, {"at": "1299"}, "MMDDhhmm"),
    ("read", METER, {"di": "00010000", "preamble": "5"}, "preamble: expected 0..4"),
    ("change-baud", METER, {"baud": "1000"}, "baud rate"),
])
def test_encode_errors_name_the_problem(action: str, address: str, params: dict[str, str],
                                        message: str) -> None:
    with pytest.raises(Dlt645Error) as err:
        CODEC.encode(action, address, **params)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_decode_of_frames_beyond_the_vectors() -> None:
    part = CODEC.decode(encode_frame(METER, 0xB1, bytes.fromhex("00000100" "5634")))
    assert part["has_follow_up"] and part["value_part"] == "5634" and "value" not in part
    follow = CODEC.decode(encode_frame(METER, 0x92, bytes.fromhex("00000100" "1200" "01")))
    assert follow["seq"] == 1 and follow["value_part"] == "1200"
    serr = CODEC.decode(encode_frame(METER, 0xDC, bytes.fromhex("0400")))
    assert serr["is_error"] and serr["error"] == "0004" and "SERR" in serr["error_reasons"][0]
    unknown = CODEC.decode(encode_frame(METER, 0x91, bytes.fromhex("78563412" "01")))
    assert unknown["di"] == "12345678" and unknown["warning"].startswith("unknown DI 0x12345678")
    not_bcd = CODEC.decode(encode_frame(METER, 0x91, bytes.fromhex("00000100" "FFFFFFFF")))
    assert not_bcd["value_error"].startswith("not BCD") and not_bcd["value_raw"] == "FFFFFFFF"
    words = bytes(5) + b"\x10" + bytes(8)  # word 3 high byte 0x10: bit 12, protect
    block = CODEC.decode(encode_frame(METER, 0x91, bytes.fromhex("FF050004") + words))
    assert block["values"][2] == "0x1000" and block["status"][2]["protected"] is True
    no_end = CODEC.decode(encode_frame(METER, 0x1C, bytes(10) + b"\x99" * 6))
    assert no_end["valid_until"] is None and no_end["valid_until_raw"] == "999999999999"
    assert CODEC.decode(encode_frame(METER, 0x1C, bytes(3)))["data_error"].startswith(
        "relay control carries 16 data bytes")
    new_address = CODEC.decode(encode_frame("AAAAAAAAAAAA", 0x15, bytes.fromhex(
        "341200002420")))
    assert new_address["value"] == METER and new_address["address_kind"] == "wildcard"
    zh = CODEC.decode(encode_frame(METER, 0xD1, b"\x02"))
    assert zh["error_reasons_zh"] == ["无请求数据"] and zh["control_meaning_zh"].startswith(
        "读数据")


def test_decode_counts_the_preamble() -> None:
    raw = bytes.fromhex("FEFE6801000000000068110433333433B316")
    assert CODEC.decode(raw)["preamble"] == 2


BAD_CLI = [
    (["decode", "-p", "dlt645", "6834120000242068DC01376F16"],
     "error: bad checksum: expected 0x6E, got 0x6F"),
    (["decode", "-p", "dlt645", "68 34 12"], "error: frame too short"),
    (["decode", "-p", "dlt645", "6834120000242068DC0137"], "error: frame too short"),
    (["decode", "-p", "dlt645", "6834120000242068DC01376E17"], "error: missing end byte 0x16"),
    (["decode", "-p", "dlt645", "68ZZ"], "error: not hex"),
    (["encode", "-p", "dlt645", "explode", "--address", METER], "error: unknown action"),
    (["encode", "-p", "dlt645", "read", "--address", "12AB", "--di", "00010000"],
     "error: expected an address of 12 decimal digits"),
    (["encode", "-p", "dlt645", "read", "--address", METER], "error: read needs di"),
    (["encode", "-p", "dlt645", "freeze", "--address", METER, "--param", "at=30010712"],
     "error: freeze time 30010712: month 30 is out of range (01-12, or 99 = every)"),
    (["encode", "-p", "dlt645", "trip", "--address", METER, "--param", "password=12"],
     None),  # short passwords are left-padded: this one succeeds
]


async def test_cli_gives_a_one_line_reason_and_exit_1(tmp_path: Path) -> None:
    # the tool speaks the site's language (./hub.yaml's; zh-CN without one): English here
    (tmp_path / "hub.yaml").write_text("site: {name: t, language: en}\n", encoding="utf-8")
    async with asyncio.timeout(40):
        batch, real_decode, real_encode = await asyncio.gather(
            run_cli_batch([["frame", *args] for args, _message in BAD_CLI], cwd=tmp_path),
            run_cli("frame", *BAD_CLI[0][0], cwd=tmp_path),
            run_cli("frame", *BAD_CLI[5][0], cwd=tmp_path))
    for (args, message), (code, out, err) in zip(BAD_CLI, batch, strict=True):
        if message is None:
            assert code == 0 and out.strip().startswith("68341200002420681C10"), args
            continue
        assert code == 1, args
        assert out == "" and err.count("\n") == 1, args
        assert err.startswith(message), (args, err)
    # the installed entry point exits with the same code and prints the same line
    assert real_decode == batch[0] and real_encode == batch[5]
