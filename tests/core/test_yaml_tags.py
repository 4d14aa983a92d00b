"""YAML loading: every tag, secrets lookup, env vars, decimals, and load errors with file:line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
from common import line_of, write
from core_support import CONFIG_TREE

from hub.validation import SecretStr
from hub.yamlload import LoadContext, NodeDict, NodeList, load_yaml


def load(path: Path, root: Path | None = None) -> tuple[Any, list[str]]:
    """Load a file; return the data and the problems as text."""
    data, ctx = load_yaml(path, root)
    return data, [str(problem) for problem in ctx.problems]


def load_ok(path: Path, root: Path | None = None) -> Any:
    data, problems = load(path, root)
    assert problems == []
    return data


@pytest.fixture(scope="module")
def tree() -> Any:
    """The fixture config tree, loaded once (no environment override of the port)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("METERHUB_TEST_TREE_PORT", raising=False)
        return load_ok(CONFIG_TREE / "hub.yaml")


# --- the tags on the fixture tree ------------------------------------------------------


def test_include_loads_the_other_file(tree: Any) -> None:
    rooms = tree["tree_rooms"]
    assert isinstance(rooms, NodeList)
    assert [room["id"] for room in rooms] == ["r101", "r102"]
    assert rooms.pos is not None and rooms.pos.file == "config/rooms.yaml"


def test_nested_include_is_relative_to_the_including_file(tmp_path: Path) -> None:
    write(tmp_path / "hub.yaml", "accounts: !include config/accounts.yaml\n")
    write(tmp_path / "config/accounts.yaml", "- !include people/r101.yaml\n")
    write(tmp_path / "config/people/r101.yaml", "id: r101\nname: 张三\n")
    data = load_ok(tmp_path / "hub.yaml")
    assert data == {"accounts": [{"id": "r101", "name": "张三"}]}
    assert data["accounts"][0].pos.file == "config/people/r101.yaml"


def test_include_dir_named_maps_file_stem_to_content(tree: Any) -> None:
    assert tree["tree_buildings"] == {
        "a": {"floors": 6, "name": "Building A"},
        "b": {"floors": 4, "name": "Building B"},
    }


def test_include_dir_merge_named_merges_the_mappings(tree: Any) -> None:
    assert tree["tree_tariffs"] == {
        "residential": {"type": "flat", "price": Decimal("0.5883")},
        "water": {"type": "flat", "price": Decimal("3.45")},
    }


def test_include_dir_merge_list_concatenates_recursively_sorted_skipping_hidden(
    tree: Any,
) -> None:
    ids = [meter["id"] for meter in tree["tree_meters"]]
    assert ids == ["r101_e", "r102_e", "r201_e", "r301_e"]
    assert "must_not_load" not in ids


def test_include_dir_merge_list_items_keep_their_own_file_and_line(tree: Any) -> None:
    meters = tree["tree_meters"]
    block_b = CONFIG_TREE / "config/meters/block_b.yaml"
    assert str(meters.item_pos[2]) == f"config/meters/block_b.yaml:{line_of(block_b, 'r201_e')}"
    assert meters.item_pos[3].file == "config/meters/nested/block_c.yaml"


def test_include_dir_list_gives_one_item_per_file_in_order(tree: Any) -> None:
    automations = tree["tree_automations"]
    assert [item["id"] for item in automations] == ["low_balance", "nightly_trip"]
    assert automations[1]["trigger"] == {"platform": "time", "at": "23:00"}


def test_secret_from_config_root_reaches_an_included_file_in_a_subfolder(tree: Any) -> None:
    phone = tree["tree_rooms"][0]["phone"]
    assert phone == "13800000000"
    assert isinstance(phone, SecretStr)
    assert repr(phone) == "'<secret>'"


def test_secrets_beside_the_file_win_over_the_parent_folder(tree: Any) -> None:
    assert tree["tree_rooms"][0]["token"] == "token-beside-the-file"


def test_secret_in_the_main_file(tree: Any) -> None:
    assert tree["site"]["name"] == "阳光公寓"


def test_secrets_file_is_not_picked_up_by_dir_includes(tmp_path: Path) -> None:
    write(tmp_path / "parts/secrets.yaml", "token: abc\n")
    write(tmp_path / "parts/one.yaml", "- 1\n")
    write(tmp_path / "hub.yaml", "items: !include_dir_merge_list parts\n")
    assert load_ok(tmp_path / "hub.yaml") == {"items": [1]}


def test_env_var_default_used_when_unset(tree: Any) -> None:
    assert tree["http"]["port"] == "18123"


# --- !env_var ------------------------------------------------------------------------


def test_env_var_value_when_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METERHUB_TEST_TOKEN", "from-env")
    write(tmp_path / "hub.yaml", """
        a: !env_var METERHUB_TEST_TOKEN
        b: !env_var METERHUB_TEST_TOKEN fallback
        c: !env_var [METERHUB_TEST_TOKEN, fallback]
    """)
    assert load_ok(tmp_path / "hub.yaml") == {"a": "from-env", "b": "from-env",
                                              "c": "from-env"}


def test_env_var_default_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("METERHUB_TEST_UNSET", raising=False)
    write(tmp_path / "hub.yaml", """
        a: !env_var METERHUB_TEST_UNSET two words
        b: !env_var [METERHUB_TEST_UNSET, listed default]
    """)
    assert load_ok(tmp_path / "hub.yaml") == {"a": "two words", "b": "listed default"}


def test_env_var_missing_without_default_is_an_error_with_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("METERHUB_TEST_UNSET", raising=False)
    path = write(tmp_path / "hub.yaml", """
        site:
          name: ok
        token: !env_var METERHUB_TEST_UNSET
    """)
    _data, problems = load(path)
    assert problems == [
        f"hub.yaml:{line_of(path, 'token:')} !env_var: environment variable "
        "METERHUB_TEST_UNSET is not set (and no default)"
    ]


# --- !secret -------------------------------------------------------------------------


def test_unknown_secret_is_an_error_with_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "secrets.yaml", "known: value\n")
    sub = write(tmp_path / "config/accounts.yaml", """
        - id: r101
          phone: !secret unknown_phone
    """)
    write(tmp_path / "hub.yaml", "accounts: !include config/accounts.yaml\n")
    _data, problems = load(tmp_path / "hub.yaml")
    assert problems == [
        f"config/accounts.yaml:{line_of(sub, 'unknown_phone')} "
        "!secret: 'unknown_phone' is not defined in secrets.yaml"
    ]


def test_secrets_above_the_config_root_are_not_used(tmp_path: Path) -> None:
    write(tmp_path / "secrets.yaml", "outside: do-not-read\n")
    path = write(tmp_path / "conf/hub.yaml", "token: !secret outside\n")
    data, problems = load(path)
    assert data == {"token": None}
    assert len(problems) == 1
    assert "'outside' is not defined" in problems[0]
    assert "do-not-read" not in problems[0]


def test_secret_lookup_walks_up_several_folders(tmp_path: Path) -> None:
    write(tmp_path / "secrets.yaml", "deep: found-at-root\n")
    write(tmp_path / "a/b/c/leaf.yaml", "value: !secret deep\n")
    write(tmp_path / "hub.yaml", "leaf: !include a/b/c/leaf.yaml\n")
    assert load_ok(tmp_path / "hub.yaml") == {"leaf": {"value": "found-at-root"}}


def test_secret_inside_secrets_file_is_refused(tmp_path: Path) -> None:
    secrets = write(tmp_path / "secrets.yaml", "a: x\nb: !secret a\n")
    write(tmp_path / "hub.yaml", "v: !secret a\n")
    _data, problems = load(tmp_path / "hub.yaml")
    assert problems == [
        f"secrets.yaml:{line_of(secrets, 'b:')} !secret cannot be used inside secrets.yaml"
    ]


def test_non_string_secrets_keep_their_type(tmp_path: Path) -> None:
    write(tmp_path / "secrets.yaml", "pin: 1234\nrate: 0.55\n")
    write(tmp_path / "hub.yaml", "pin: !secret pin\nrate: !secret rate\n")
    assert load_ok(tmp_path / "hub.yaml") == {"pin": 1234, "rate": Decimal("0.55")}


# --- numbers -------------------------------------------------------------------------


def test_fractional_numbers_load_as_exact_decimals(tmp_path: Path) -> None:
    write(tmp_path / "hub.yaml", """
        price: 0.5883
        tenth: 0.1
        fifth: 0.2
        negative: -12.50
        underscored: 1_000.25
        exponent: 6.5e+2
        whole: 42
        text: "0.5883"
    """)
    data = load_ok(tmp_path / "hub.yaml")
    assert data["price"] == Decimal("0.5883")
    assert type(data["price"]) is Decimal
    assert data["tenth"] + data["fifth"] == Decimal("0.3")
    assert data["negative"] == Decimal("-12.50")
    assert str(data["negative"]) == "-12.50"  # trailing zero kept: it was written
    assert data["underscored"] == Decimal("1000.25")
    assert data["exponent"] == Decimal("650")
    assert type(data["whole"]) is int
    assert data["text"] == "0.5883"


def test_no_float_anywhere_in_nested_config(tmp_path: Path) -> None:
    write(tmp_path / "hub.yaml", """
        tariffs:
          - {name: tou, bands: [{price: 1.0121}, {price: 0.6121}, {price: 0.3121}]}
    """)
    data = load_ok(tmp_path / "hub.yaml")

    def floats(value: Any) -> list[Any]:
        if isinstance(value, dict):
            return [f for v in value.values() for f in floats(v)]
        if isinstance(value, list):
            return [f for v in value for f in floats(v)]
        return [value] if isinstance(value, float) else []

    assert floats(data) == []
    assert [b["price"] for b in data["tariffs"][0]["bands"]] == [
        Decimal("1.0121"), Decimal("0.6121"), Decimal("0.3121")]


# --- load errors ---------------------------------------------------------------------


def test_duplicate_key_is_reported_at_the_second_key(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", """
        site:
          name: first
          language: en
          name: second
    """)
    _data, problems = load(path)
    assert problems == [
        f"hub.yaml:{line_of(path, 'name: second')} duplicate key 'name' "
        f"(first written at line {line_of(path, 'name: first')})"
    ]


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "hub.yaml", "site: !include parts/site.yaml\n")
    part = write(tmp_path / "parts/site.yaml", """
        name: ok
        language: en
        currency: CNY: oops
        time_zone: Asia/Shanghai
    """)
    _data, problems = load(tmp_path / "hub.yaml")
    assert len(problems) == 1
    assert problems[0].startswith(f"parts/site.yaml:{line_of(part, 'oops')} YAML syntax error:")


def test_missing_include_file_names_the_including_line(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", """
        site: {name: x}
        meters: !include config/nope.yaml
    """)
    data, problems = load(path)
    assert data["meters"] is None
    assert problems == [
        f"hub.yaml:{line_of(path, 'nope.yaml')} !include: file not found: config/nope.yaml"
    ]


def test_missing_include_folder_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", "meters: !include_dir_merge_list config/none\n")
    _data, problems = load(path)
    assert problems == ["hub.yaml:1 !include_dir_merge_list: folder not found: config/none"]


def test_include_loop_is_reported_at_the_include_that_closes_it(tmp_path: Path) -> None:
    write(tmp_path / "hub.yaml", "a: !include a.yaml\n")
    write(tmp_path / "a.yaml", "b: !include b.yaml\n")
    closing = write(tmp_path / "b.yaml", "x: 1\n# the include that closes the loop:\n"
                                         "a: !include a.yaml\n")
    _data, problems = load(tmp_path / "hub.yaml")
    assert problems == [f"b.yaml:{line_of(closing, 'a: !include')} !include loop: a.yaml -> "
                        "b.yaml -> a.yaml (a file cannot include itself)"]


def test_merge_list_file_that_is_not_a_list(tmp_path: Path) -> None:
    write(tmp_path / "parts/a.yaml", "- 1\n")
    write(tmp_path / "parts/b.yaml", "not: a list\n")
    write(tmp_path / "hub.yaml", "items: !include_dir_merge_list parts\n")
    data, problems = load(tmp_path / "hub.yaml")
    assert data == {"items": [1]}
    assert problems == ["parts/b.yaml:1 !include_dir_merge_list: this file must hold a list"]


def test_merge_named_duplicate_key_across_files(tmp_path: Path) -> None:
    first = write(tmp_path / "parts/a.yaml", "flat: {price: 1.0}\n")
    second = write(tmp_path / "parts/b.yaml", "other: {}\nflat: {price: 2.0}\n")
    write(tmp_path / "hub.yaml", "tariffs: !include_dir_merge_named parts\n")
    data, problems = load(tmp_path / "hub.yaml")
    assert data["tariffs"]["flat"] == {"price": Decimal("1.0")}
    assert problems == [
        f"parts/b.yaml:{line_of(second, 'flat:')} duplicate key 'flat' "
        f"(also in parts/a.yaml:{line_of(first, 'flat:')})"
    ]


def test_unknown_tag_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", "a: 1\nb: !includ other.yaml\n")
    _data, problems = load(path)
    assert problems == ["hub.yaml:2 unknown tag !includ"]


def test_missing_config_file(tmp_path: Path) -> None:
    data, problems = load(tmp_path / "nothing.yaml")
    assert data is None
    assert len(problems) == 1
    assert "configuration file not found" in problems[0]
    assert "nothing.yaml" in problems[0]


def test_not_utf8_file(tmp_path: Path) -> None:
    (tmp_path / "hub.yaml").write_bytes("site: {name: 阳光}\n".encode("gbk"))
    _data, problems = load(tmp_path / "hub.yaml")
    assert len(problems) == 1
    assert problems[0].startswith("hub.yaml:1 not UTF-8 text")


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_not_utf8_bytes_are_reported_at_their_line(tmp_path: Path, bom: bytes) -> None:
    text = "site: {name: x}\nlinks: []\n# 阳光公寓\nmeters: []\n"
    (tmp_path / "hub.yaml").write_bytes(bom + text.encode("utf-8")[:28]
                                        + "阳光".encode("gbk") + text.encode("utf-8")[28:])
    _data, problems = load(tmp_path / "hub.yaml")
    assert problems == [f"hub.yaml:3 not UTF-8 text: invalid continuation byte at byte "
                        f"{28 + len(bom)} (save the file as UTF-8)"]


def test_problems_from_several_files_are_all_collected(tmp_path: Path) -> None:
    write(tmp_path / "hub.yaml", """
        a: !include a.yaml
        b: !include b.yaml
        c: !include c.yaml
        d: !env_var METERHUB_TEST_NEVER_SET_X
    """)
    write(tmp_path / "a.yaml", "x: 1\nx: 2\n")
    write(tmp_path / "b.yaml", "v: !secret nope\n")
    write(tmp_path / "c.yaml", "[unclosed\n")
    _data, problems = load(tmp_path / "hub.yaml")
    files = sorted(p.split(":", 1)[0] for p in problems)
    assert files == ["a.yaml", "b.yaml", "c.yaml", "hub.yaml"]


def test_positions_are_recorded_for_keys_and_items(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", """
        meters:
          - id: a
          - id: b
            address: "1"
    """)
    data, ctx = load_yaml(path)
    assert isinstance(ctx, LoadContext)
    meters = data["meters"]
    assert isinstance(data, NodeDict)
    assert data.key_pos["meters"].line == line_of(path, "meters:")
    assert meters.item_pos[1].line == line_of(path, "id: b")
    assert meters[1].key_pos["address"].line == line_of(path, "address")


def test_positions_cost_one_object_a_line_and_copies_hold_no_tables(tmp_path: Path) -> None:
    path = tmp_path / "meters.yaml"
    path.write_text("".join(f'- {{id: m{n}, model: ddsy, link: bus1, address: "{n:012d}"}}\n'
                            for n in range(3)), encoding="utf-8")
    items, ctx = load_yaml(path)
    assert not ctx.problems
    for line, item in enumerate(items, 1):
        # 10k meters a line each: 1 Position per line, not one per key and value
        positions = {id(pos) for pos in [*item.key_pos.values(), *item.value_pos.values()]}
        assert len(positions) == 1 and item.key_pos["address"].line == line
    copy = vol.Schema({str: str})(items[0])  # voluptuous copies as data.__class__()
    assert type(copy) is NodeDict and copy == items[0]
    assert copy.key_pos is NodeDict().key_pos  # the shared empty table
    assert copy.key_pos == {} and items[0].key_pos is not copy.key_pos
