"""Configuration validation: file:line and key paths, hints, all problems at once, the CLI."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
import yaml
from common import line_of, write
from core_support import BAD_CONFIG, CONFIG_TREE, cli_env, problem_lines, run_cli

from hub import validation as cv
from hub import yamlload
from hub.bootstrap import Prepared, create_hub, prepare
from hub.config import DEMO_CONFIG, ConfigError, salvage
from hub.hookspecs import hookimpl
from hub.plugins import PluginManager

SECRET_TOKEN = "S3cret-Landlord-Token!"


def twelve_digits(value: Any) -> str:
    text = cv.string(value)
    if not re.fullmatch(r"\d{12}", text):
        raise vol.Invalid(f"expected 12 decimal digits, got {cv.show_value(value)}")
    return text


GADGET = cv.Strict({
    vol.Required("id"): cv.slug,
    vol.Required("address"): twelve_digits,
    vol.Optional("price"): cv.money,
})


class GadgetPlugin:
    """An in-process plugin owning the ``gadgets`` and ``gadget_site`` blocks."""

    @hookimpl
    def config_schema(self) -> dict[str, Any]:
        return {
            "gadgets": cv.ListOf(GADGET),
            "gadget_site": cv.Strict({vol.Required("owner"): cv.string,
                                      vol.Optional("rooms", default=1): cv.positive_int}),
        }


def prepare_with_gadgets(path: Path) -> Prepared:
    plugins = PluginManager()
    plugins.register(GadgetPlugin(), "gadgets")
    return prepare(path, plugins=plugins)


def problems_of(path: Path) -> list[str]:
    return [str(problem) for problem in prepare_with_gadgets(path).problems]


def expected_bad_config_problems() -> list[str]:
    """What check-config must say about tests/fixtures/bad_config, computed from its files."""
    hub_yaml = BAD_CONFIG / "hub.yaml"
    rooms = BAD_CONFIG / "config/rooms.yaml"
    broken = BAD_CONFIG / "config/broken.yaml"
    return [
        f"config/rooms.yaml:{line_of(rooms, 'address', 3)} duplicate key 'address' "
        f"(first written at line {line_of(rooms, 'address', 2)})",
        f"config/rooms.yaml:{line_of(rooms, 'no_such_secret')} "
        "!secret: 'no_such_secret' is not defined in secrets.yaml",
        f"hub.yaml:{line_of(hub_yaml, 'missing.yaml')} "
        "!include: file not found: config/missing.yaml",
        f"config/broken.yaml:{line_of(broken, 'second:')} "
        "YAML syntax error: mapping values are not allowed "
        + ("here" if yamlload._SafeLoader is yaml.SafeLoader else "in this context"),
        f"hub.yaml:{line_of(hub_yaml, 'nmae')} site.nmae: unknown key 'nmae' "
        "(did you mean 'name'?)",
        f"hub.yaml:{line_of(hub_yaml, '70000')} http.port: expected a port number from 0 "
        "to 65535, got 70000",
        f"hub.yaml:{line_of(hub_yaml, 'sitee')} sitee: unknown key (did you mean 'site'?): "
        "no loaded plugin configures 'sitee'",
        f"config/rooms.yaml:{line_of(rooms, '12AB')} bad_rooms[3].address: "
        "expected 12 decimal digits, got '12AB'",
        f"config/rooms.yaml:{line_of(rooms, 'landlord_token')} bad_rooms[4].id: "
        "expected lower-case letters, digits and underscores, got '<secret>'",
    ]


# --- key paths and positions -----------------------------------------------------------


def test_error_in_item_of_included_list_names_that_file_line_and_path(tmp_path: Path) -> None:
    write(tmp_path / "hub.yaml", """
        site: {name: Test}
        gadgets: !include config/gadgets.yaml
    """)
    gadgets = write(tmp_path / "config/gadgets.yaml", """
        - id: g0
          address: "202400000000"
        - id: g1
          address: "202400000001"
        - id: g2
          address: "202400000002"
        - id: g3
          address: "12AB"
        - id: g4
          address: "202400000004"
    """)
    assert problems_of(tmp_path / "hub.yaml") == [
        f"config/gadgets.yaml:{line_of(gadgets, '12AB')} gadgets[3].address: "
        "expected 12 decimal digits, got '12AB'"
    ]


def test_errors_in_several_items_are_all_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", """
        gadgets:
          - {id: ok, address: "202400000000"}
          - {id: Bad Id, address: "202400000001"}
          - {id: g2, address: "202400000002", price: 1.005}
          - {id: g3}
    """)
    assert problems_of(path) == [
        f"hub.yaml:{line_of(path, 'Bad Id')} gadgets[1].id: expected lower-case letters, "
        "digits and underscores, got 'Bad Id'",
        f"hub.yaml:{line_of(path, '1.005')} gadgets[2].price: expected yuan as digits with at "
        "most 2 decimals, like 12.5, 12.50 or 1000, got 1.005",
        f"hub.yaml:{line_of(path, 'id: g3')} gadgets[3].address: required key is missing",
    ]


def test_unknown_key_in_core_block_has_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", """
        site:
          name: Test
          time_zon: Asia/Shanghai
    """)
    assert problems_of(path) == [
        f"hub.yaml:{line_of(path, 'time_zon')} site.time_zon: unknown key 'time_zon' "
        "(did you mean 'time_zone'?)"
    ]


def test_unknown_key_in_plugin_block_has_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", """
        gadget_site:
          owner: Li
          romos: 3
    """)
    assert problems_of(path) == [
        f"hub.yaml:{line_of(path, 'romos')} gadget_site.romos: unknown key 'romos' "
        "(did you mean 'rooms'?)"
    ]


def test_unknown_top_level_key_has_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", """
        site: {name: Test}
        gadgest: []
    """)
    assert problems_of(path) == [
        f"hub.yaml:{line_of(path, 'gadgest')} gadgest: unknown key (did you mean "
        "'gadgets'?): no loaded plugin configures 'gadgest'"
    ]


def test_unknown_top_level_key_without_close_match_has_no_hint(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", "zzzqqq: 1\n")
    problems = problems_of(path)
    assert problems == ["hub.yaml:1 zzzqqq: unknown key: no loaded plugin configures 'zzzqqq'"]


def test_wrong_value_in_core_blocks(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", """
        site:
          language: fr
          time_zone: Mars/Olympus
        logger:
          default: loud
    """)
    problems = problems_of(path)
    assert f"hub.yaml:{line_of(path, 'fr')} site.language: expected one of zh-CN, en, " \
           "got 'fr'" in problems
    assert any(p.startswith(f"hub.yaml:{line_of(path, 'Mars')} site.time_zone: unknown time "
                            "zone 'Mars/Olympus'") for p in problems)
    assert any(p.startswith(f"hub.yaml:{line_of(path, 'loud')} logger.default: expected one "
                            "of") for p in problems)
    assert len(problems) == 3


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", "- just\n- a list\n")
    problems = problems_of(path)
    assert len(problems) == 1
    assert "must be a mapping" in problems[0]


def test_empty_config_gives_defaults_and_says_it_is_empty(tmp_path: Path) -> None:
    prepared = prepare_with_gadgets(write(tmp_path / "hub.yaml", "# nothing\n"))
    assert [problem.message for problem in prepared.problems] == [
        "the file is empty: a site needs at least links: and meters: (see the README's "
        "configuration reference)"]
    config = prepared.config
    assert (config.site_name, config.language, config.time_zone, config.currency) == (
        "MeterHub", "zh-CN", "Asia/Shanghai", "CNY")
    assert config.http_port == 8123
    assert config.block("gadgets") == []


def test_null_core_block_gives_its_defaults(tmp_path: Path) -> None:
    prepared = prepare_with_gadgets(write(tmp_path / "hub.yaml", "site:\nhttp:\n"))
    assert prepared.problems == []
    assert prepared.config.site_name == "MeterHub"


def test_validated_plugin_block_is_exact(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", """
        gadgets:
          - {id: g0, address: "202400000000", price: 0.58}
    """)
    prepared = prepare_with_gadgets(path)
    assert prepared.problems == []
    price = prepared.config.block("gadgets")[0]["price"]
    assert price == Decimal("0.58")
    assert isinstance(price, Decimal)


# --- the fixture trees -----------------------------------------------------------------


def test_config_tree_validates_and_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METERHUB_TEST_TREE_PORT", "18999")
    prepared = prepare(CONFIG_TREE / "hub.yaml", entry_points=False)
    assert [str(p) for p in prepared.problems] == []
    config = prepared.config
    assert config.site_name == "阳光公寓"
    assert config.http_port == 18999
    assert config.http_host == "127.0.0.1"
    assert config.plugin_dirs == [CONFIG_TREE / "plugins"]
    assert prepared.plugins.info("tree_plugin") is not None
    assert config.block("tree_tariffs")["residential"]["price"] == Decimal("0.5883")
    assert [m["id"] for m in config.block("tree_meters")] == ["r101_e", "r102_e", "r201_e",
                                                               "r301_e"]


def test_all_problems_in_all_files_are_reported_at_once() -> None:
    prepared = prepare(BAD_CONFIG / "hub.yaml", entry_points=False)
    assert sorted(str(p) for p in prepared.problems) == sorted(expected_bad_config_problems())


def test_config_error_lists_every_problem_and_hides_secrets() -> None:
    prepared = prepare(BAD_CONFIG / "hub.yaml", entry_points=False)
    with pytest.raises(ConfigError) as info:
        create_hub(prepared)
    message = str(info.value)
    assert message.startswith("9 problems in the configuration:")
    for line in expected_bad_config_problems():
        assert line in message
    assert SECRET_TOKEN not in message


# --- check-config and run in real subprocesses -------------------------------------------


def test_check_config_exit_0_on_a_good_config(tmp_path: Path) -> None:
    result = run_cli(["check-config", "-c", str(CONFIG_TREE / "hub.yaml")], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Configuration OK" in result.stdout
    assert "阳光公寓" in result.stdout
    assert "tree_meters" in result.stdout


def test_check_config_exit_1_lists_every_problem_with_file_and_line(tmp_path: Path) -> None:
    result = run_cli(["check-config", "-c", str(BAD_CONFIG / "hub.yaml")], cwd=tmp_path)
    assert result.returncode == 1
    assert "9 problems in" in result.stderr
    assert sorted(problem_lines(result.stderr)) == sorted(expected_bad_config_problems())
    assert SECRET_TOKEN not in result.stdout + result.stderr


def test_check_config_missing_file_exit_1(tmp_path: Path) -> None:
    result = run_cli(["check-config", "-c", str(tmp_path / "nope.yaml")], cwd=tmp_path)
    assert result.returncode == 1
    assert "configuration file not found" in result.stderr


@pytest.mark.parametrize("text", ["", "# nothing but a comment\n"])
def test_check_config_says_an_empty_file_is_no_site(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "hub.yaml", text)
    result = run_cli(["check-config", "-c", str(path)], cwd=tmp_path)
    assert result.returncode == 1 and "Configuration OK" not in result.stdout
    # no site: block, so the default language (zh-CN) words it
    assert problem_lines(result.stderr) == [
        "文件是空的：一个站点至少需要 links: 和 meters:（见 README 的配置说明）"]


def test_check_config_notes_a_site_without_meters(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", "site: {name: 空站}\n")
    result = run_cli(["check-config", "-c", str(path)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Note: no meters are configured: the hub will read nothing" in result.stdout
    demo = run_cli(["check-config", "-c", str(DEMO_CONFIG)], cwd=tmp_path)
    assert demo.returncode == 0 and "Note:" not in demo.stdout


def test_check_config_reads_env_var_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", "http:\n  port: !env_var METERHUB_TEST_PORT\n"
                                        "site: {language: en}\n")
    missing = run_cli(["check-config", "-c", str(path)], cwd=tmp_path)
    assert missing.returncode == 1
    assert "hub.yaml:2 !env_var: environment variable METERHUB_TEST_PORT is not set" in \
        missing.stderr
    bad = run_cli(["check-config", "-c", str(path)], cwd=tmp_path,
                  env=cli_env(METERHUB_TEST_PORT="99999"))
    assert bad.returncode == 1
    assert "hub.yaml:2 http.port:" in bad.stderr
    good = run_cli(["check-config", "-c", str(path)], cwd=tmp_path,
                   env=cli_env(METERHUB_TEST_PORT="18080"))
    assert good.returncode == 0, good.stderr


def test_run_refuses_to_start_with_the_same_problems(tmp_path: Path) -> None:
    result = run_cli(["run", "-c", str(BAD_CONFIG / "hub.yaml"), "--data", str(tmp_path)],
                     cwd=tmp_path)
    assert result.returncode == 1
    assert "not starting until the configuration is fixed" in result.stderr
    assert sorted(problem_lines(result.stderr)) == sorted(expected_bad_config_problems())
    assert "MeterHub started" not in result.stderr
    assert SECRET_TOKEN not in result.stdout + result.stderr


def test_a_list_with_unique_ids_reports_duplicates_with_its_items_errors() -> None:
    schema = cv.ListOf(cv.Strict({vol.Required("id"): cv.identifier,
                                  vol.Optional("size"): cv.positive_int}), unique="id")
    with pytest.raises(vol.MultipleInvalid) as caught:
        schema([{"id": 101}, {"id": "101", "size": -1}, {"id": "a"}, {"id": "a"}])
    found = sorted((cv.format_path(list(e.path)), e.error_message) for e in caught.value.errors)
    assert [path for path, _message in found] == ["[1].id", "[1].size", "[3].id"]
    assert "duplicate id '101' (first used at item 0)" in dict(found)["[1].id"]
    assert "duplicate id 'a' (first used at item 2)" in dict(found)["[3].id"]
    assert schema([{"id": "a"}, {"id": "b"}]) == [{"id": "a"}, {"id": "b"}]


# --- schema and cross-reference problems in one pass ----------------------------------------


def test_check_config_reports_schema_and_reference_problems_in_one_run(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", """
        site: {language: en}
        links:
          - {id: sim1, type: sim}
          - {id: sim2, type: sim, nonsense: 1}
        meters: !include meters.yaml
        accounts:
          - {id: r1, name: A}
          - {id: r2, name: B}
        tariffs:
          flat: {type: flat, unit: kWh, price: 0.5}
          broken: {type: flat, unit: kWh, price: cheap}
        share_groups:
          - {id: stairs, meter: m1, members: [r2, ghost], split: equal}
    """)
    meters = write(tmp_path / "meters.yaml", """
        - {id: m1, model: ddsy, link: sim1, address: "202400000001", account: r1, tariff: flat}
        - {id: m2, model: ddsy, link: sim1, address: "12AB", account: r1}
        - {id: m3, model: ddsy, link: sim1, address: "202400000003", account: nobody, tariff: flat}
        - {id: m4, model: ddsy, link: sim1, address: "202400000004", account: r1, tariff: no_such}
        - {id: m5, model: ddsy, link: sim2, address: "202400000005", account: r1, tariff: broken}
    """)
    result = run_cli(["check-config", "-c", str(path)], cwd=tmp_path)
    assert result.returncode == 1
    # the schema errors, and the references of the items that passed (at their own lines,
    # although an item before them failed); m5's link and tariff failed their schemas, so
    # they are not reported again as unknown
    assert sorted(problem_lines(result.stderr)) == sorted([
        f"hub.yaml:{line_of(path, 'nonsense')} links[1].nonsense: unknown key 'nonsense'",
        f"hub.yaml:{line_of(path, 'cheap')} tariffs.broken.price: expected a number, "
        "got 'cheap'",
        f"meters.yaml:{line_of(meters, '12AB')} meters[1].address: expected up to 12 decimal "
        "digits, got '12AB'",
        f"meters.yaml:{line_of(meters, 'nobody')} meters[2].account: unknown account 'nobody'",
        f"meters.yaml:{line_of(meters, 'no_such')} meters[3].tariff: unknown tariff 'no_such' "
        "(tariffs: flat)",
        f"hub.yaml:{line_of(path, 'ghost')} share_groups[0].members[1]: unknown account "
        "'ghost'",
    ])
    assert "6 problems in" in result.stderr


def test_salvage_keeps_the_items_that_pass_and_drops_a_block_missing_a_required_key() -> None:
    schema = cv.ListOf(cv.Strict({vol.Required("id"): cv.identifier}), unique="id")
    value = [{"id": "a"}, {"id": "b c"}, {"id": "d"}, {"id": "a"}]
    with pytest.raises(vol.Invalid) as caught:
        schema(value)
    part = salvage(schema, value, caught.value)
    assert part.found
    assert (part.value, part.kept) == ([{"id": "a"}, {"id": "d"}], [0, 2])
    assert part.failed_ids == {"b c", "a"}  # 'a' is still valid: validate() forgets it
    site = cv.Strict({vol.Required("owner"): cv.string, vol.Optional("rooms"): cv.positive_int})
    for bad, found in (({"owner": "x", "rooms": 0}, {"owner": "x"}), ({"owner": ["x"]}, None)):
        with pytest.raises(vol.Invalid) as caught:
            site(bad)
        part = salvage(site, bad, caught.value)
        assert (part.value if part.found else None) == found and part.kept is None
