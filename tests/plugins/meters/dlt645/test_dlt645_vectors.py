"""Every DL/T 645 vector of PROTOCOLS.md section 2: decoded and encoded, by the API and the CLI."""

from __future__ import annotations

import asyncio
import json
from datetime import date, time
from decimal import Decimal
from typing import Any

import pytest
from dlt645_support import VECTORS, run_cli, run_cli_batch, vector

from meterhub_dlt645.codec import (
    Dlt645Parser,
    ack_reply,
    address_reply,
    decode_frame,
    error_reply,
    parse_di,
    read_reply,
)
from meterhub_dlt645.dis import item
from meterhub_dlt645.protocol import CODEC

STATUS_FLAGS = {"relay_open", "trip_commanded", "pre_trip_alarm", "protected"}
# V9 and V15 use "the same credentials" as V8 (PROTOCOLS.md section 2.1): level 02,
# password 123456, operator 00000001, valid until 2030-12-31 12:00:00.
V8_CREDENTIALS = {"password_level": "02", "password": "123456", "operator": "00000001"}
V8_VALID_UNTIL = "2030-12-31T12:00:00"

REQUESTS = [v for v in VECTORS if v["direction"] == "request"]
REPLIES = [v for v in VECTORS if v["direction"] == "reply"]


def _ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in vectors]


def check_decoded(decoded: dict[str, Any], vec: dict[str, Any]) -> None:
    """Every field the vector states must be in the decoded dict, equal."""
    for key, expected in vec.items():
        if key in ("name", "hex"):
            continue
        actual = decoded["status"][key] if key in STATUS_FLAGS else decoded.get(key)
        assert actual == expected, f"{vec['name']}: {key} = {actual!r}, expected {expected!r}"


def request_args(vec: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The frame-tool action and parameters that should build a request vector."""
    control = vec["control"]
    params: dict[str, str] = {}
    wake = 0
    while vec["hex"][2 * wake:2 * wake + 2] == "FE":
        wake += 1
    if wake:
        params["preamble"] = str(wake)
    if control == "11":
        return "read", {**params, "di": vec["di"]}
    if control == "12":
        return "read-follow-up", {**params, "di": vec["di"], "seq": str(vec["seq"])}
    if control == "13":
        return "read-address", params
    if control == "14":
        return "write", {**params, **V8_CREDENTIALS, "di": vec["di"], "value": vec["value"]}
    if control == "1C":
        creds = {k: vec.get(k, v) for k, v in V8_CREDENTIALS.items()}
        return (vec["relay_action"].replace("_", "-"),
                {**params, **creds, "valid_until": vec.get("valid_until", V8_VALID_UNTIL)})
    if control == "08":
        return "time-sync", {**params, "time": vec["time"]}
    raise AssertionError(f"no action for control {control}")


def reply_bytes(vec: dict[str, Any]) -> bytes:
    """Build a reply vector with the codec's reply builders and the DI table."""
    control, address = int(vec["control"], 16), vec["address"]
    function = control & 0x1F
    if control & 0xC0 == 0xC0:
        return error_reply(address, function, int(vec["error"], 16))
    if function == 0x13:
        return address_reply(vec["value"])
    if "di" not in vec:
        return ack_reply(address, function)
    di = parse_di(vec["di"])
    spec = item(di)
    value: Any
    if "values" in vec:
        value = [Decimal(v) for v in vec["values"]]
    elif vec["value"].startswith("0x"):
        value = int(vec["value"], 16)
    elif "weekday" in vec:
        value = date.fromisoformat(vec["value"])
    elif vec["value"].count(":") == 2:
        value = time.fromisoformat(vec["value"])
    else:
        value = Decimal(vec["value"])
    return read_reply(address, di, spec.encode(value))


@pytest.mark.parametrize("vec", VECTORS, ids=_ids(VECTORS))
def test_vector_decodes(vec: dict[str, Any]) -> None:
    data = bytes.fromhex(vec["hex"])
    check_decoded(CODEC.decode(data), vec)
    frame = decode_frame(data)
    assert frame.address == vec["address"]
    assert frame.control == int(vec["control"], 16)
    assert Dlt645Parser().feed(data) == [frame]


@pytest.mark.parametrize("vec", REQUESTS, ids=_ids(REQUESTS))
def test_request_vector_encodes(vec: dict[str, Any]) -> None:
    action, params = request_args(vec)
    assert CODEC.encode(action, vec["address"], **params).hex().upper() == vec["hex"]


@pytest.mark.parametrize("vec", REPLIES, ids=_ids(REPLIES))
def test_reply_vector_encodes(vec: dict[str, Any]) -> None:
    assert reply_bytes(vec).hex().upper() == vec["hex"]


def test_value_vectors_are_exact() -> None:
    reply = CODEC.decode(bytes.fromhex(vector("V3 reply 5.123")["hex"]))
    assert reply["value"] == "5.123" and reply["unit"] == "A"
    negative = vector("V3 reply -1.500")
    frame = decode_frame(bytes.fromhex(negative["hex"]))
    value = item(0x02020100).decode(frame.data[4:])
    assert value == Decimal("-1.500") and str(value) == "-1.500"


def _encode_argv(vec: dict[str, Any]) -> list[str]:
    action, params = request_args(vec)
    args = ["frame", "encode", "--protocol", "dlt645", action, "--address", vec["address"]]
    for key, value in params.items():
        args += ["--di", value] if key == "di" else ["--param", f"{key}={value}"]
    return args


async def test_every_vector_through_the_cli() -> None:
    decodes = [["frame", "decode", "--protocol", "dlt645", v["hex"]] for v in VECTORS]
    encodes = [_encode_argv(v) for v in REQUESTS]
    async with asyncio.timeout(50):
        results = await run_cli_batch(decodes + encodes)
    for vec, (code, out, err) in zip(VECTORS, results[:len(VECTORS)], strict=True):
        assert code == 0, f"{vec['name']}: exit {code}: {err}"
        check_decoded(json.loads(out), vec)
    for vec, (code, out, err) in zip(REQUESTS, results[len(VECTORS):], strict=True):
        assert code == 0, f"{vec['name']}: exit {code}: {err}"
        assert out.strip() == vec["hex"], vec["name"]


async def test_vectors_through_the_installed_command() -> None:
    trip = vector("V8 relay trip")
    reply = vector("V6 reply")
    async with asyncio.timeout(50):
        (enc_code, enc_out, enc_err), (dec_code, dec_out, dec_err) = await asyncio.gather(
            run_cli(*_encode_argv(trip)),
            run_cli("frame", "decode", "-p", "dlt645", " ".join(
                reply["hex"][i:i + 2] for i in range(0, len(reply["hex"]), 2))))
    assert enc_code == 0 and enc_out.strip() == trip["hex"], enc_err
    assert dec_code == 0, dec_err
    check_decoded(json.loads(dec_out), reply)
