"""Every CJ/T 188 vector of PROTOCOLS.md §3.6 decodes to its fields and encodes to its bytes,
through the Python API and through ``meterhub frame`` (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from meterhub_cjt188.codec import Frame, decode_frame, encode_di
from meterhub_cjt188.const import DiOrder
from meterhub_cjt188.fields import encode_status
from meterhub_cjt188.payloads import encode_metering
from meterhub_cjt188.protocol import Cjt188Codec

HERE = Path(__file__).parent
VECTORS_FILE = HERE / "cjt188_vectors.json"
SHARED_FILE = Path("/work/shared/vectors/cjt188.json")
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text())["vectors"]
REQUESTS = [v for v in VECTORS if v["direction"] == "request"]
REPLIES = [v for v in VECTORS if v["direction"] == "reply"]
REPO = HERE.parents[3]


def _ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in vectors]


def test_vector_copy_matches_the_shared_file() -> None:
    assert len(VECTORS) == 10
    if SHARED_FILE.exists():  # the shared copy is not part of the repository
        assert json.loads(SHARED_FILE.read_text()) == json.loads(VECTORS_FILE.read_text())


def _check_fields(vector: dict[str, Any], out: dict[str, Any]) -> None:
    """Compare a decode (Python dict or CLI JSON) with the vector's fields."""
    assert out["direction"] == vector["direction"]
    assert out["meter_type"] == vector["meter_type"]
    assert out["address"] == vector["address"]
    assert out["control"] == vector["control"]
    if "di" in vector:
        assert out["di"] == vector["di"]
        assert out["di_order"] == vector["di_order"]
        assert out["ser"] == vector["ser"]
    if "flow" in vector:
        assert Decimal(str(out["values"]["flow"]["value"])) == Decimal(vector["flow"])
        assert str(out["values"]["flow"]["value"]) == vector["flow"]
        assert out["values"]["flow"]["unit"] == vector["unit"]
        assert str(out["values"]["settlement_flow"]["value"]) == vector["settlement_flow"]
        assert out["values"]["settlement_flow"]["unit"] == vector["unit"]
        assert out["values"]["meter_time"] == vector["time"]
    if "valve" in vector:
        assert out["status"]["valve"] == vector["valve"]
    if "battery_low" in vector:
        assert out["status"]["battery_low"] is vector["battery_low"]
    if "valve_action" in vector:
        assert out["values"]["valve_action"] == vector["valve_action"]
    if vector.get("error"):
        assert out["abnormal"] is True
        assert out["errors"] and "refused" in out["errors"][0]
    else:
        assert out["abnormal"] is False
        assert out["errors"] == []


@pytest.mark.parametrize("vector", VECTORS, ids=_ids(VECTORS))
def test_decode_api(vector: dict[str, Any]) -> None:
    out = Cjt188Codec().decode(bytes.fromhex(vector["hex"]))
    _check_fields(vector, out)
    # the same frame after a wake-up preamble decodes the same
    assert Cjt188Codec().decode(bytes.fromhex("FEFEFEFE" + vector["hex"])) == out


def _request_args(vector: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"ser": vector["ser"], "di_order": vector["di_order"],
                              "meter_type": vector["meter_type"]}
    if vector["control"] == "01":
        return "read", {**params, "di": vector["di"]}
    if vector["control"] == "03":
        return "read-address", params
    return f"valve-{vector['valve_action']}", params


@pytest.mark.parametrize("vector", REQUESTS, ids=_ids(REQUESTS))
def test_encode_requests_api(vector: dict[str, Any]) -> None:
    action, params = _request_args(vector)
    frame = Cjt188Codec().encode(action, vector["address"], **params)
    assert frame.hex().upper() == vector["hex"]


def _reply_data(vector: dict[str, Any]) -> bytes:
    """DATA of a reply vector, built from its fields (layouts of PROTOCOLS.md §3.4/3.5)."""
    if vector["control"] == "C1":
        return bytes((0x00,)) + encode_status("open")  # §3.6 C4: SER 00, ST 00 00
    order = DiOrder(vector["di_order"])
    head = encode_di(int(vector["di"], 16), order) + bytes((vector["ser"],))
    if vector["control"] == "81":
        return head + encode_metering(Decimal(vector["flow"]), Decimal(vector["settlement_flow"]),
                                      datetime.fromisoformat(vector["time"]),
                                      encode_status(vector["valve"], vector["battery_low"]))
    return head + encode_status(vector["valve"])


@pytest.mark.parametrize("vector", REPLIES, ids=_ids(REPLIES))
def test_encode_replies_api(vector: dict[str, Any]) -> None:
    frame = Frame(int(vector["meter_type"], 16), vector["address"], int(vector["control"], 16),
                  _reply_data(vector))
    assert frame.encode().hex().upper() == vector["hex"]
    assert decode_frame(bytes.fromhex(vector["hex"])) == frame


def _cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", "frame", *args], capture_output=True,
                          text=True, timeout=30, cwd=cwd, check=False)


@pytest.mark.parametrize("vector", VECTORS, ids=_ids(VECTORS))
def test_decode_cli(vector: dict[str, Any]) -> None:
    spaced = " ".join(vector["hex"][i:i + 2] for i in range(0, len(vector["hex"]), 2))
    done = _cli("decode", "--protocol", "cjt188", spaced)
    assert done.returncode == 0, done.stderr
    _check_fields(vector, json.loads(done.stdout))


@pytest.mark.parametrize("vector", REQUESTS, ids=_ids(REQUESTS))
def test_encode_cli(vector: dict[str, Any]) -> None:
    action, params = _request_args(vector)
    args = ["encode", "--protocol", "cjt188", action, "--address", vector["address"]]
    if "di" in params and action == "read":
        args += ["--di", params.pop("di")]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    done = _cli(*args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == vector["hex"]


@pytest.mark.parametrize(("args", "reason"), [
    (["decode", "--protocol", "cjt188", "68103412000000000001031F90007216"],
     "bad checksum: expected 71, got 72"),
    (["decode", "--protocol", "cjt188", "68103412000000000001031F900071"],
     "too short"),
    (["decode", "--protocol", "cjt188", "68103412000000000001031F90007117"],
     "missing end byte 16 (got 17)"),
    (["decode", "--protocol", "cjt188", "68553412000000000001031F90007116"],
     "wrong meter type 55"),
    (["encode", "--protocol", "cjt188", "valve-close", "--address", "xyz"],
     "expected up to 14 hex digits, got 'xyz'"),
    (["encode", "--protocol", "cjt188", "read", "--address", "1234", "--param", "ser=300"],
     "ser must be 0-255"),
    (["encode", "--protocol", "cjt188", "read", "--address", "1234", "--param",
      "di_order=sideways"], "di_order must be"),
    (["encode", "--protocol", "cjt188", "reboot", "--address", "1234"], "unknown action"),
])
def test_cli_errors_are_one_line(args: list[str], reason: str, tmp_path: Path) -> None:
    # the tool speaks the site's language (./hub.yaml's; zh-CN without one): English here
    (tmp_path / "hub.yaml").write_text("site: {name: t, language: en}\n", encoding="utf-8")
    done = _cli(*args, cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and reason in lines[0]
    assert done.stdout == ""
