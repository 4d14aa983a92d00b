"""The README's plugin example is a real community DL/T 645 model, and it reads a meter.

The example lives in docs/examples/acme_meters.py; the README shows that file verbatim. It
uses only the public API of ``meterhub_dlt645`` (a point table, ``Dlt645Model``, a vendor
data identifier added with ``add_data_item``) and of ``hub``.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from types import ModuleType

import pytest
from dlt645_support import REPO, bus_link

import meterhub_dlt645
from hub.metering.model import Command, MeterRef
from hub.plugins import PluginManager

EXAMPLE = REPO / "docs" / "examples" / "acme_meters.py"
README = REPO / "README.md"


def _readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Writing a plugin"):]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    return next(block for block in blocks if block.startswith("# acme_meters.py"))


@pytest.fixture(scope="module")
def acme() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("acme_meters", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["acme_meters"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("acme_meters", None)


def test_the_readme_shows_the_example_file_verbatim() -> None:
    assert _readme_example() == EXAMPLE.read_text(encoding="utf-8")


def test_the_example_imports_only_public_names() -> None:
    tree = ast.parse(EXAMPLE.read_text(encoding="utf-8"))
    imports = [node for node in tree.body if isinstance(node, ast.ImportFrom)]
    for node in imports:
        if node.module == "meterhub_dlt645":
            assert {alias.name for alias in node.names} <= set(meterhub_dlt645.__all__)
        else:
            assert node.module in ("hub.hookspecs", "hub.metering.model"), node.module


def test_the_hook_registers_the_model(acme: ModuleType) -> None:
    plugins = PluginManager()
    plugins.register(acme, "acme_meters")
    assert not plugins.collect()
    model = plugins.registries.meter_models.get("acme_dds")
    assert model is acme.ACME_DDS
    assert model.kind == "electricity"
    assert list(model.default_points()) == [
        "energy_import_total", "voltage", "current", "balance", "relay"]


async def test_it_reads_a_simulated_meter_and_trips_it(acme: ModuleType) -> None:
    model = acme.ACME_DDS
    simulator = model.create_simulator("202400000042", energy="1234.5")
    simulator.params[acme.ACME_BALANCE] = Decimal("42.50")
    meter = MeterRef("r42_e", "202400000042")
    async with bus_link([simulator]) as (transport, _bus):
        result = await model.read(transport, meter)
        assert not result.errors, result.errors
        assert result.registers["energy_import_total"] == Decimal("1234.50")
        assert result.values["balance"] == Decimal("42.50")
        assert result.status["relay"] == "closed"
        assert set(result.values) == {"voltage", "current", "balance"}
        tripped = await model.command(transport, meter, Command.TRIP)
        assert tripped.accepted, tripped.detail
        assert (await model.read(transport, meter, ["relay"])).status["relay"] == "open"


def test_adding_a_vendor_di_twice_is_harmless_but_a_clash_is_refused(
        acme: ModuleType) -> None:
    existing = meterhub_dlt645.data_item(acme.ACME_BALANCE)
    assert meterhub_dlt645.add_data_item(existing) is existing
    clash = meterhub_dlt645.DataItem(acme.ACME_BALANCE, "other", "其他",
                                     meterhub_dlt645.number("XXXX.XX"))
    with pytest.raises(ValueError, match="04A00100"):
        meterhub_dlt645.add_data_item(clash)
