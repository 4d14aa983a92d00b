"""Register maps: request planning, shipped maps, and user YAML maps with clear errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
from modbus_support import EXAMPLE_MAP, ScriptedTransport, meter

from hub import validation as cv
from hub.bootstrap import prepare
from meterhub_modbus.errors import ModbusError
from meterhub_modbus.maps import shipped_map
from meterhub_modbus.model import shipped_models
from meterhub_modbus.options import user_map_options
from meterhub_modbus.regmap import RegisterPoint, compile_map
from meterhub_modbus.values import DataType

MODELS = {model.name: model for model in shipped_models()}


def _errors(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(vol.Invalid) as caught:
        user_map_options(raw)
    return cv.humanize_invalid(caught.value, raw, "options")


def _point(address: int, function: int = 4, data_type: DataType = DataType.FLOAT32,
           name: str = "voltage") -> RegisterPoint:
    return RegisterPoint(name, function, address, data_type)


def test_adjacent_points_share_a_request() -> None:
    """Touching registers of one function merge; a gap or another function splits."""
    regmap = compile_map({"registers": [{"point": "voltage", "address": 0, "type": "float32"}]})
    blocks = regmap.plan([_point(0), _point(2, name="current"), _point(6, name="power"),
                          _point(2, function=3, name="frequency")])
    assert [(b.function, b.address, b.count, len(b.points)) for b in blocks] == [
        (3, 2, 2, 1), (4, 0, 4, 2), (4, 6, 2, 1)]


def test_max_gap_and_max_span() -> None:
    """A gap up to max_gap is read over; a block never exceeds max_span registers."""
    regmap = compile_map({"max_gap": 2, "max_span": 6, "registers": [
        {"point": "voltage", "address": 0, "type": "float32"}]})
    blocks = regmap.plan([_point(0), _point(4, name="current"), _point(8, name="power"),
                          _point(20, name="frequency")])
    assert [(b.address, b.count) for b in blocks] == [(0, 6), (8, 2), (20, 2)]


def test_overlapping_points_share_registers() -> None:
    """A point inside another's registers costs nothing more."""
    regmap = compile_map({"registers": [{"point": "voltage", "address": 0, "type": "float32"}]})
    blocks = regmap.plan([_point(0, data_type=DataType.UINT64), _point(2, name="current")])
    assert [(b.address, b.count) for b in blocks] == [(0, 4)]


def test_shipped_maps() -> None:
    """SDM120 and DDSU666 as PROTOCOLS.md gives them: FC 04, float32 ABCD, no relay."""
    sdm = shipped_map("sdm120")
    assert {p.point: p.address for p in sdm.points} == {
        "voltage": 0x0000, "current": 0x0006, "power": 0x000C, "power_factor": 0x001E,
        "frequency": 0x0046, "energy_import_total": 0x0048, "energy_export_total": 0x004A,
        "energy_combined_total": 0x0156}
    assert {p.unit for p in sdm.points if p.point == "power"} == {"W"}
    ddsu = shipped_map("ddsu666")
    assert {p.point: p.address for p in ddsu.points} == {
        "voltage": 0x2000, "current": 0x2002, "power": 0x2004, "power_factor": 0x200A,
        "frequency": 0x200E, "energy_import_total": 0x4000, "energy_export_total": 0x400A}
    for regmap in (sdm, ddsu):
        assert regmap.relay is None
        assert {(p.function, p.type, p.order) for p in regmap.points} == {
            (4, DataType.FLOAT32, "ABCD")}
    assert [(b.address, b.count) for b in ddsu.plan(ddsu.points)] == [
        (0x2000, 6), (0x200A, 2), (0x200E, 2), (0x4000, 2), (0x400A, 2)]
    with pytest.raises(KeyError, match="shipped: sdm120, ddsu666"):
        shipped_map("sdm630")


def test_example_map_file_is_valid() -> None:
    """config/modbus_maps/dds238_2.yaml loads with its relay and scaled integers."""
    options = user_map_options({"map": str(EXAMPLE_MAP)})
    assert options["source"] == str(EXAMPLE_MAP)
    assert options["relay"] == {"register": 0x1A, "write_function": 16, "read_function": 3,
                                "read_address": 0x1A, "closed": 1, "open": 0}
    assert options["registers"][0] == {
        "point": "energy_combined_total", "address": 0, "type": "uint32",
        "scale": Decimal("0.01"), "unit": "kWh", "function": 3, "order": "ABCD"}
    assert user_map_options(options) == options  # validated options validate again


def test_inline_registers_errors_name_entry_and_key() -> None:
    """Each bad entry is reported with its index and key, all at once."""
    lines = _errors({"registers": [
        {"point": "voltage", "address": 0, "type": "float32"},
        {"point": "volts", "address": 2, "type": "float32"},
        {"point": "power", "address": 4, "type": "flaot32"},
        {"point": "power_factor", "address": 70000, "type": "uint16"},
        {"point": "frequency", "address": 8, "type": "uint16", "scale": 0},
        {"point": "current", "address": 9, "type": "uint16", "unit": "kA"},
        {"point": "voltage", "address": 10, "type": "uint16", "endian": "big"},
        {"point": "relay", "address": 11, "type": "uint16"},
        {"point": "current", "address": 12, "type": "int16"},
    ]})
    assert lines == [
        "options.registers[1].point: expected a hub point such as voltage, current, power, "
        "power_factor, frequency, energy_import_total, energy_export_total, got 'volts' "
        "(did you mean 'voltage'?)",
        "options.registers[2].type: expected one of int16, uint16, int32, uint32, int64, "
        "uint64, float32, float64, got 'flaot32' (did you mean 'float32'?)",
        "options.registers[3].address: expected a register address 0..65535 (decimal or 0x "
        "hex), got 70000",
        "options.registers[4].scale: expected a scale factor other than 0, got 0",
        "options.registers[5].unit: current is kept in A; expected a unit among A, mA, "
        "got 'kA'",
        "options.registers[6].endian: unknown key 'endian'",
        "options.registers[7].point: 'relay' is a status point: the relay state comes from "
        "the 'relay' block, got a register entry for it",
        "options.registers[8].point: got 'current' again: registers[5] already reads it",
    ]


@pytest.mark.parametrize(("raw", "expected"), [
    ({}, "options.map: a modbus meter needs 'map' (a register map file, or !include) or "
         "inline 'registers'"),
    ({"registers": []}, "options.registers: a register map needs at least one register"),
    ({"registers": [{"point": "voltage", "address": 0, "type": "uint16"}],
      "relay": {"coil": 1, "register": 2}},
     "options.relay: give 'coil' or 'register', not both"),
    ({"registers": [{"point": "voltage", "address": 0, "type": "uint16"}],
      "relay": {"coil": 1, "closed": 2}}, "options.relay.closed: a coil is 0 or 1, got 2"),
    ({"registers": [{"point": "voltage", "address": 0, "type": "uint16"}],
      "relay": {"register": 1, "closed": 0}},
     "options.relay.closed: 'closed' and 'open' must differ, got 0 for both"),
    ({"registers": [{"point": "voltage", "address": 0, "type": "uint16"}], "byte_order": "ACBD"},
     "options.byte_order: expected one of ABCD, CDAB, BADC, DCBA, got 'ACBD' (did you "
     "mean 'ABCD'?)"),
    ({"registers": [{"point": "voltage", "address": 0, "type": "uint16"}], "max_span": 200},
     "options.max_span: value must be at most 125, got 200"),
    ({"map": "x.yaml", "registers": []}, "options.registers: give either 'map' or inline "
                                          "register map keys, not both (found registers)"),
    ({"registers": [{"point": "voltage", "address": 0, "type": "uint16"}], "maps": "x"},
     "options.maps: unknown key 'maps' (did you mean 'map'?)"),
])
def test_map_level_errors(raw: dict[str, Any], expected: str) -> None:
    """Map-level mistakes give one clear line each."""
    assert expected in _errors(raw)


def test_map_file_errors_name_file_and_line(tmp_path: Path) -> None:
    """A map file's problems come with the file, the line and the entry's key."""
    path = tmp_path / "meter.yaml"
    path.write_text("function: 3\nregisters:\n"
                    "  - {point: voltage, address: 0x0C, type: uint16, scale: 0.1}\n"
                    "  - {point: power, address: 0x0E, type: flaot32}\n")
    lines = _errors({"map": str(path)})
    assert lines == [
        "options.map: registers[1].type: expected one of int16, uint16, int32, uint32, int64, "
        f"uint64, float32, float64, got 'flaot32' (did you mean 'float32'?) (in {path}:4)"]
    missing = _errors({"map": str(tmp_path / "nope.yaml")})
    assert len(missing) == 1 and "expected a register map file" in missing[0]


def test_check_config_points_into_hub_yaml_and_included_maps(tmp_path: Path) -> None:
    """End to end: hub.yaml errors and errors inside an !include'd map, with file:line."""
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "bad.yaml").write_text(
        "function: 3\nregisters:\n"
        "  - {point: voltage, address: 0x0C, type: uint16, scale: 0.1}\n"
        "  - {point: power, address: 0x0E, type: int16, unit: VA}\n"
        "relay: {register: 0x1A, write_function: 5}\n")
    (tmp_path / "hub.yaml").write_text(
        "links:\n  - {id: sim1, type: sim}\nmeters:\n"
        "  - id: m1\n    model: modbus\n    link: sim1\n    address: 7\n"
        "    options:\n      registers:\n"
        "        - {point: voltage, address: 0, type: float32}\n"
        "        - {point: power, address: 4, type: flaot32}\n"
        "  - id: m2\n    model: modbus\n    link: sim1\n    address: 300\n"
        "    options: {map: !include maps/bad.yaml}\n"
        "  - {id: m3, model: sdm120, link: sim1, address: 3, options: {timeout: 0.5}}\n")
    problems = [str(p) for p in prepare(tmp_path / "hub.yaml").problems]
    assert problems == [
        "hub.yaml:11 meters[0].options.registers[1].type: expected one of int16, uint16, "
        "int32, uint32, int64, uint64, float32, float64, got 'flaot32' (did you mean "
        "'float32'?)",
        "hub.yaml:15 meters[1].address: expected a Modbus slave id from 1 to 247, got '300'",
        "maps/bad.yaml:4 meters[1].options.map.registers[1].unit: power is kept in kW; "
        "expected a unit among W, kW, MW, got 'VA'",
        "maps/bad.yaml:5 meters[1].options.map.relay.write_function: a register is written "
        "with function 6 or 16, got 5",
    ]


@pytest.mark.parametrize("address", [0, 248, "abc", "1.5", True, None])
def test_slave_id_is_validated(address: Any) -> None:
    """A meter's address is its slave id, 1 to 247."""
    with pytest.raises(vol.Invalid, match="slave id from 1 to 247"):
        MODELS["sdm120"].validate_address(address)
    assert MODELS["sdm120"].validate_address(" 17") == "17"
    assert MODELS["sdm120"].validate_address(247) == "247"


async def test_shipped_model_options_change_the_plan() -> None:
    """max_gap from a meter's options lets one request read over reserved registers."""
    ref = meter("1", {"max_gap": 80, "timeout": "0.5"})
    assert MODELS["sdm120"].options({"max_gap": 80})["timeout"] == Decimal(1)
    regmap = MODELS["sdm120"].register_map(ref)
    assert [(b.address, b.count) for b in regmap.plan(regmap.points)] == [(0, 76), (0x156, 2)]
    with pytest.raises(vol.Invalid):
        MODELS["sdm120"].options({"registers": []})


async def test_unknown_points_and_bad_options_at_read_time() -> None:
    """A point the map lacks is an error entry; a broken map is a ModbusError."""
    result = await MODELS["sdm120"].read(ScriptedTransport([]), meter("1"), ["water_total"])
    assert result.errors == {"water_total": "the sdm120 register map has no point "
                                            "'water_total'"}
    with pytest.raises(ModbusError, match=r"options\.registers"):
        await MODELS["modbus"].read(ScriptedTransport([]), meter("1", {"registers": 5}))
