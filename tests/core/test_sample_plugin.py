"""A third-party plugin installed with pip is found through its ``meterhub`` entry point."""

from __future__ import annotations

import asyncio
import importlib.metadata
from pathlib import Path

import pytest
from common import line_of, write
from core_support import HubFactory, cli_env, problem_lines, run_cli

from hub.bootstrap import prepare
from hub.const import ENTRY_POINT_GROUP
from hub.core import Event
from hub.plugins import PluginManager

SAMPLE_LINE = "sample 1.2.3 [entry_point]"


def sample_only() -> PluginManager:
    """Entry-point plugins, but only the sample one (the built-ins are tested elsewhere)."""
    others = {ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
              if ep.name != "sample"}
    manager = PluginManager()
    manager.load(core=False, disabled=others)
    return manager


def sample_config(folder: Path, gadgets_file: str) -> Path:
    """hub.yaml with a ``sample:`` block whose gadgets come from an included file."""
    write(folder / "config/gadgets.yaml", gadgets_file)
    return write(folder / "hub.yaml", """
        site: {name: Sample Site, language: en}
        sample:
          greeting: 你好
          gadgets: !include config/gadgets.yaml
    """)


GOOD_GADGETS = """
    - {id: g0, address: "202400000000", price: 0.58}
    - {id: g1, address: "202400000001"}
"""

BAD_GADGETS = """
    - id: g0
      address: "202400000000"
    - id: g1
      address: "202400000001"
    - id: g2
      address: "202400000002"
    - id: g3
      address: "12AB"
"""


# --- through the CLI, in real subprocesses ---------------------------------------------


def test_plugins_command_lists_the_installed_plugin(
    sample_plugin_site: Path, tmp_path: Path
) -> None:
    result = run_cli(["plugins"], cwd=tmp_path, env=cli_env([sample_plugin_site]))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    index = lines.index(f"{SAMPLE_LINE} loaded")
    details = "\n".join(lines[index + 1: index + 3])
    assert "hooks: config_schema, register_meter_models, setup, translations" in details
    assert "meter models: sample_ddsy" in details


def test_plugin_is_absent_without_the_install(tmp_path: Path) -> None:
    result = run_cli(["plugins"], cwd=tmp_path)
    assert SAMPLE_LINE not in result.stdout


def test_check_config_validates_the_plugin_block(
    sample_plugin_site: Path, tmp_path: Path
) -> None:
    path = sample_config(tmp_path, GOOD_GADGETS)
    result = run_cli(["check-config", "-c", str(path)], cwd=tmp_path,
                     env=cli_env([sample_plugin_site]))
    assert result.returncode == 0, result.stderr
    assert "Configuration OK" in result.stdout
    assert "sample" in result.stdout


def test_check_config_reports_plugin_schema_error_in_included_file(
    sample_plugin_site: Path, tmp_path: Path
) -> None:
    path = sample_config(tmp_path, BAD_GADGETS)
    result = run_cli(["check-config", "-c", str(path)], cwd=tmp_path,
                     env=cli_env([sample_plugin_site]))
    assert result.returncode == 1
    line = line_of(tmp_path / "config/gadgets.yaml", "12AB")
    assert problem_lines(result.stderr) == [
        f"config/gadgets.yaml:{line} sample.gadgets[3].address: "
        "expected 12 decimal digits, got '12AB'"
    ]


def test_plugin_block_is_an_unknown_key_without_the_plugin(tmp_path: Path) -> None:
    path = sample_config(tmp_path, GOOD_GADGETS)
    result = run_cli(["check-config", "-c", str(path)], cwd=tmp_path)
    assert result.returncode == 1
    assert f"hub.yaml:{line_of(path, 'sample:')} sample: unknown key" in result.stderr


def test_disabled_entry_point_plugin_is_not_loaded(
    sample_plugin_site: Path, tmp_path: Path
) -> None:
    path = write(tmp_path / "hub.yaml", """
        plugins: {disable: [sample]}
        sample: {greeting: hi}
    """)
    env = cli_env([sample_plugin_site])
    listed = run_cli(["plugins", "-c", str(path)], cwd=tmp_path, env=env)
    assert f"{SAMPLE_LINE} disabled" in listed.stdout.splitlines()
    checked = run_cli(["check-config", "-c", str(path)], cwd=tmp_path, env=env)
    assert checked.returncode == 1
    assert "没有已加载的插件使用 'sample'" in checked.stderr  # a zh-CN site (the default)


# --- in process -------------------------------------------------------------------------


def test_entry_point_is_declared_in_the_meterhub_group(sample_plugin_importable: Path) -> None:
    eps = [ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
           if ep.name == "sample"]
    assert len(eps) == 1
    assert eps[0].value == "meterhub_sample"


def test_plugin_manager_loads_it_with_version_and_distribution(
    sample_plugin_importable: Path,
) -> None:
    manager = sample_only()
    info = manager.info("sample")
    assert info is not None
    assert (info.status, info.source, info.version) == ("loaded", "entry_point", "1.2.3")
    assert (info.distribution or "").replace("_", "-") == "meterhub-sample"
    manager.collect()
    assert manager.registries.meter_models.plugin_of("sample_ddsy") == "sample"
    assert manager.config_schemas["sample"][0] == "sample"


async def test_installed_plugin_sets_up_registers_service_and_tears_down(
    sample_plugin_importable: Path, tmp_path: Path, make_hub: HubFactory
) -> None:
    manager = sample_only()  # no web server in this test
    prepared = prepare(sample_config(tmp_path, GOOD_GADGETS), plugins=manager)
    assert [str(p) for p in prepared.problems] == []
    hub = make_hub(prepared.config, prepared.plugins)
    torn_down: list[Event] = []
    hub.bus.listen("sample_teardown", torn_down.append)

    async with asyncio.timeout(5):
        await hub.start()

    assert await hub.services.call("sample", "greet", {"name": "李"},
                                   return_response=True) == {"text": "你好, 李", "gadgets": 2}
    assert hub.states.get("sample.g1").attributes["address"] == "202400000001"  # type: ignore[union-attr]
    assert hub.i18n("sample.hello", "zh-CN") == "你好"

    await hub.stop()
    assert len(torn_down) == 1
    assert not hub.services.has("sample", "greet")


async def test_installed_plugin_service_validates_its_data(
    sample_plugin_importable: Path, make_hub: HubFactory
) -> None:
    hub = make_hub(plugins=sample_only())
    await hub.start()
    with pytest.raises(ValueError, match=r"data\.name: required key is missing"):
        await hub.services.call("sample", "greet", {}, return_response=True)
