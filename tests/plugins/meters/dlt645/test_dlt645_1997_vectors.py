"""DL/T 645-1997 vectors (public frames with their source, and frames of the standard's
layout): decoded right by the codec and by ``meterhub frame decode``, requests rebuilt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dlt645_support import run_cli_batch

from meterhub_dlt645.protocol import CODEC
from meterhub_dlt645.protocol1997 import CODEC_1997

HERE = Path(__file__).resolve().parent
DOC: dict[str, Any] = json.loads((HERE / "dlt645_1997_vectors.json").read_text(encoding="utf-8"))
VECTORS: list[dict[str, Any]] = DOC["vectors"]
IDS = [v["name"] for v in VECTORS]
FIELDS = ("address", "control", "di", "value", "values", "unit", "weekday", "value_part", "error",
          "error_reasons", "error_reasons_zh", "time", "new_address", "baud", "baud_word",
          "password_level", "password", "new_password_level", "new_password", "preamble")


def _expected(vec: dict[str, Any]) -> dict[str, Any]:
    return {key: vec[key] for key in FIELDS if key in vec}


def _got(decoded: dict[str, Any], vec: dict[str, Any]) -> dict[str, Any]:
    return {key: decoded.get(key) for key in FIELDS if key in vec}


def test_every_vector_names_its_source() -> None:
    assert len(VECTORS) >= 25
    assert sum(v["name"].startswith("P") for v in VECTORS) >= 10  # public frames
    for vec in VECTORS:
        assert len(vec["source"]) > 20, vec["name"]


@pytest.mark.parametrize("vec", VECTORS, ids=IDS)
def test_checksum_and_length_by_hand(vec: dict[str, Any]) -> None:
    raw = bytes.fromhex(vec["hex"]).lstrip(b"\xfe")
    assert raw[0] == raw[7] == 0x68 and raw[-1] == 0x16
    assert len(raw) == 12 + raw[9]
    assert sum(raw[:-2]) % 256 == raw[-2]


@pytest.mark.parametrize("vec", VECTORS, ids=IDS)
def test_vector_decodes_as_1997(vec: dict[str, Any]) -> None:
    for codec in (CODEC, CODEC_1997):
        decoded = codec.decode(bytes.fromhex(vec["hex"]))
        shared = codec is CODEC and vec["control"] == "08"  # the same frame in 2007
        assert decoded["version"] == ("both" if shared else "1997"), (codec.name, decoded)
        assert "data_error" not in decoded and "warning" not in decoded, decoded
        assert _got(decoded, vec) == _expected(vec)


def test_names_of_1997_identifiers_in_both_languages() -> None:
    decoded = CODEC.decode(bytes.fromhex(VECTORS[1]["hex"]))  # B611
    assert (decoded["di_name"], decoded["di_name_zh"]) == ("voltage, phase A", "A相电压")
    energy = CODEC.decode(bytes.fromhex(VECTORS[4]["hex"]))  # 9010
    assert (energy["di_name"], energy["di_name_zh"], energy["point"]) == (
        "forward active energy, total", "正向有功总电能", "energy_import_total")
    assert energy["control_meaning"] == "read data: normal reply"
    assert energy["control_meaning_zh"] == "读数据: 正常应答"


REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    ("P1 read B611 (voltage A), request", "read", {"di": "B611"}),
    ("P2 read 9010, request", "read", {"di": "9010"}),
    ("P5 read 9010, request", "read", {"di": "9010"}),
    ("P6 read 9010 at 000010000192, 3 FE", "read", {"di": "9010", "preamble": "3"}),
    ("P7 write C032 (meter number) = 000010000193", "write",
     {"di": "C032", "value": "000010000193", "password_level": "66", "password": "888866"}),
    ("S1 read C010 (date and week), request", "read", {"di": "C010"}),
    ("S11 broadcast time 2025-03-14 09:26:53", "time-sync", {"time": "2025-03-14T09:26:53"}),
    ("S12 write device address 202400001234 (0A)", "write-address",
     {"new_address": "202400001234"}),
    ("S13 change baud to 2400 (0C)", "change-baud", {"baud": "2400"}),
    ("S14 change password 000000 -> 123456, level 02 (0F)", "change-password",
     {"new_password": "123456"}),
    ("S15 write C011 = 12:30:00, password 123456", "write",
     {"di": "C011", "value": "12:30:00", "password": "123456"}),
]


@pytest.mark.parametrize(("name", "action", "params"), REQUESTS, ids=[r[0] for r in REQUESTS])
def test_request_vectors_encode(name: str, action: str, params: dict[str, str]) -> None:
    vec = next(v for v in VECTORS if v["name"] == name)
    built = CODEC_1997.encode(action, vec["address"], **params)
    assert built.hex().upper() == vec["hex"]


async def test_every_vector_through_the_cli() -> None:
    argvs = [["frame", "decode", "--protocol", "dlt645", vec["hex"]] for vec in VECTORS]
    argvs.append(["frame", "decode", "--protocol", "dlt645_1997", VECTORS[0]["hex"]])
    argvs.append(["frame", "encode", "--protocol", "dlt645_1997", "read", "--address", "3",
                  "--di", "B611"])
    results = await run_cli_batch(argvs)
    for vec, (code, out, err) in zip(VECTORS, results, strict=False):
        assert code == 0, (vec["name"], err)
        decoded = json.loads(out)
        assert decoded["version"] == ("both" if vec["control"] == "08" else "1997")
        assert _got(decoded, vec) == _expected(vec), vec["name"]
    code, out, _err = results[-2]
    assert code == 0 and json.loads(out)["protocol"] == "dlt645_1997"
    code, out, _err = results[-1]
    assert code == 0 and out.strip() == VECTORS[0]["hex"]


async def test_the_readme_1997_examples_say_what_the_tool_does() -> None:
    readme = (HERE.parents[3] / "README.md").read_text(encoding="utf-8").splitlines()
    examples = [(n, line.removeprefix("$ meterhub ").split()) for n, line in enumerate(readme)
                if line.startswith("$ meterhub frame") and ("1997" in line or "44E9" in line)]
    assert len(examples) == 2
    results = await run_cli_batch([argv for _n, argv in examples])
    (decode_at, _argv), (encode_at, _argv2) = examples
    code, out, _err = results[0]
    decoded = json.loads(out)
    shown = readme[decode_at + 1] + readme[decode_at + 2]
    assert code == 0 and decoded["version"] == "1997"
    for key in ("address", "control", "di", "di_name", "di_name_zh", "value", "unit"):
        assert f'"{key}": "{decoded[key]}"' in shown, key
    code, out, _err = results[1]
    assert code == 0 and out.strip() == readme[encode_at + 1].strip()
