"""Every message key the code uses is in the table in zh-CN and en, with the same
{placeholders}; voluptuous' own words and the core validators come out in Chinese."""

from __future__ import annotations

import importlib
import pkgutil
import re
import string
from decimal import Decimal
from pathlib import Path

import voluptuous as vol

import hub
from hub import validation as cv
from hub.i18n import (
    _CATALOG,
    Joined,
    Text,
    add_strings,
    localize,
    localize_all,
    restored,
    stored,
    stored_attributes,
)

HUB = Path(hub.__file__).parent
ROOT = HUB.parent
PLUGINS = [folder for folder in (ROOT / "plugins", ROOT / "integrations") if folder.is_dir()]
KEY_USE = re.compile(r"""\bText\(\s*["']([A-Za-z0-9_.\-]+)["']""")
"""``Text("key"`` in the source: a key the code raises or shows."""


def load_every_module() -> None:
    """Import every hub module and every built-in plugin's, so every table has been added."""
    for info in pkgutil.walk_packages([str(HUB)], "hub."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    for package in sorted(path.parent for folder in PLUGINS
                          for path in folder.glob("*/meterhub_*/__init__.py")):
        for info in pkgutil.walk_packages([str(package)], f"{package.name}."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)


def keys_used() -> dict[str, str]:
    """Each key written as a literal in hub/ and the built-in plugins, with where it is first
    used."""
    found: dict[str, str] = {}
    for path in sorted(path for folder in (HUB, *PLUGINS) for path in folder.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for match in KEY_USE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.setdefault(match.group(1), f"{path.relative_to(ROOT)}:{line}")
    return found


def placeholders(template: str) -> set[str]:
    """The names a template fills in."""
    return {name.split("!")[0].split(".")[0] for _text, name, _spec, _conv
            in string.Formatter().parse(template) if name is not None}


def test_every_key_used_is_in_both_languages_with_the_same_placeholders() -> None:
    load_every_module()
    used = keys_used()
    assert len(used) > 80, sorted(used)  # the scan finds the keys (not an empty pass)
    packages = {key.split(".")[0] for key in used}
    assert {"replace", "devices", "billing", "tariffs", "automation", "metering", "portal",
            "dlt645"} <= packages, sorted(packages)  # hub's packages and the plugins'
    problems = []
    for key, where in sorted(used.items()):
        texts = {lang: _CATALOG.get(lang, {}).get(key) for lang in ("en", "zh-CN")}
        missing = [lang for lang, text in texts.items() if text is None]
        if missing:
            problems.append(f"{where}: {key} has no {', '.join(missing)} text")
    for key in sorted(set(_CATALOG["en"]) | set(_CATALOG["zh-CN"])):
        en, zh = _CATALOG["en"].get(key), _CATALOG["zh-CN"].get(key)
        if en is None or zh is None:
            problems.append(f"{key}: only in {'zh-CN' if en is None else 'en'}")
        elif placeholders(en) != placeholders(zh):
            problems.append(f"{key}: en fills {sorted(placeholders(en))}, zh-CN "
                            f"{sorted(placeholders(zh))}")
    assert problems == []


def test_the_zh_cn_messages_are_written_in_chinese() -> None:
    load_every_module()
    for key in keys_used():
        text = _CATALOG["zh-CN"][key]
        if key.startswith("type.") or not text:  # a type's name; a word left out in Chinese
            continue
        bare = re.sub(r"\{[^}]*\}", "", text)
        if not bare.strip():  # only its values (alarm.value: '{what} {value}'): no words
            continue
        assert re.search(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]", bare), (key, text)


def problems_of(schema: vol.Schema, data: object) -> Joined:
    try:
        schema(data)
    except vol.Invalid as err:
        return Joined(cv.humanize_invalid(err, data))
    raise AssertionError(f"{data!r} was accepted")


def test_voluptuous_words_and_our_validators_in_chinese() -> None:
    schema = cv.Strict({vol.Required("n"): int, vol.Optional("port"): cv.port,
                        vol.Optional("size"): vol.All(int, vol.Range(max=10)),
                        vol.Optional("mode"): cv.one_of("immediate", "never")})
    cases = [({"n": "x"}, "n：应为整数，实际为 'x'", "n: expected int, got 'x'"),
             ({}, "n：缺少必填项", "n: required key is missing"),
             ({"n": 1, "zz": 2}, "zz：未知的键 'zz'", "zz: unknown key 'zz'"),
             ({"n": 1, "size": 11}, "size：值不能大于 10，实际为 11",
              "size: value must be at most 10, got 11"),
             ({"n": 1, "port": 70000}, "port：端口号应在 1 到 65535 之间，实际为 70000",
              "port: expected a port number from 1 to 65535, got 70000"),
             ({"n": 1, "mode": "nevr"},
              "mode：应为 immediate, never 之一，实际为 'nevr'（是否应为 'never'？）",
              "mode: expected one of immediate, never, got 'nevr' (did you mean 'never'?)")]
    for data, chinese, english in cases:
        problems = problems_of(schema, data)
        assert str(problems) == english
        assert localize(problems, "zh-CN") == chinese
        assert localize(problems, "en") == english


def test_a_text_keeps_english_for_logs_and_rebuilds_in_any_language() -> None:
    text = Text("validation.money_form", value="'1e3'")
    assert str(text).startswith("expected yuan as digits") and isinstance(text, str)
    error = vol.Invalid(text)
    assert localize(error.msg, "zh-CN").startswith("金额（元）只能是数字")
    both = Joined([text, "plain English"])
    assert localize(both, "zh-CN").endswith("；plain English")


add_strings({"en": {"test.field": "Invalid value for {field}: {reason}",
                     "test.gone": "Not found."},
              "zh-CN": {"test.field": "{field} 的值无效：{reason}", "test.gone": "未找到。"}})


def test_a_stored_message_is_worded_again_when_read_back() -> None:
    inner = Text("validation.money_form", value="'1e3'")
    text = Text("test.field", field="amount", reason=inner)
    kept = stored(Joined([text, "plain English"]))
    assert isinstance(kept, str) and not isinstance(kept, Text | Joined)
    back = restored(kept)
    assert isinstance(back, Joined) and str(back) == str(Joined([text, "plain English"]))
    assert localize(back, "zh-CN") == \
        "amount 的值无效：" + localize(inner, "zh-CN") + "；plain English"
    # a value that is no message (a Decimal) keeps the text it showed
    assert restored(stored(Text("test.field", field="x", reason=Decimal("1.50")))) \
        == "Invalid value for x: 1.50"
    # strings kept before, or that merely look alike, come back as they are
    for plain in ("timeout after 3 s", '{"$text": oops', '{"$text": 1}', ""):
        assert restored(plain) == plain and not isinstance(restored(plain), Text)
    assert restored(None) is None and stored("plain") == "plain"


def test_an_answer_is_worded_throughout() -> None:
    answer = {"ok": [], "errors": {"m1": Text("test.gone")}, "n": 3,
              "list": [Joined([Text("test.gone"), "x"])]}
    assert localize_all(answer, "zh-CN") == {
        "ok": [], "errors": {"m1": "未找到。"}, "n": 3, "list": ["未找到。；x"]}
    assert localize_all(answer, "en")["errors"]["m1"] == "Not found."


def test_a_states_top_level_message_is_kept_with_its_key() -> None:
    """``stored_attributes``: a message at the top of a state's attributes is kept keyed
    (with the rest walked too); attributes without one are given back as they are."""
    plain = {"online": False, "misses": 2, "tags": {"building": "A"}, "last_error": None}
    assert stored_attributes(plain) is plain
    failed = {**plain, "last_error": Joined([Text("test.gone"), "x"]),
              "status": {"why": Text("test.gone")}}
    kept = stored_attributes(failed)
    assert kept["last_error"] == {"$joined": [{"$text": ["test.gone", {}]}, "x"]}
    assert kept["status"] == {"why": {"$text": ["test.gone", {}]}}
    assert kept["tags"] == {"building": "A"} and kept["misses"] == 2
