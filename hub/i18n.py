"""One table for every user-facing string, in zh-CN and en (plugins add their own keys)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, overload

__all__ = [
    "FALLBACK_LANGUAGE", "Joined", "Text", "Translator", "add_strings", "localize",
    "localize_all", "restored", "restored_form", "stored", "stored_attributes", "stored_forms",
    "text_of",
]

_LOGGER = logging.getLogger(__name__)

FALLBACK_LANGUAGE = "en"

CORE_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "dashboard.title": "{site} — MeterHub",
        "dashboard.heading": "Dashboard",
        "dashboard.entities": "Entities",
        "dashboard.plugins": "Plugins",
        "dashboard.no_entities": "No entities yet: meters appear here once they are read.",
        "dashboard.entity": "Entity",
        "dashboard.state": "State",
        "dashboard.updated": "Updated",
        "dashboard.plugin": "Plugin",
        "dashboard.version": "Version",
        "dashboard.source": "Source",
        "dashboard.status": "Status",
        "hub.started": "MeterHub started",
        "hub.stopped": "MeterHub stopped",
        "login.title": "Log in",
        "login.user": "User name",
        "login.password": "Password",
        "login.submit": "Log in",
        "login.logout": "Log out",
        "login.failed": "Wrong user name or password.",
        "login.setup": "First start: create the admin",
        "login.setup_hint": "Enter the one-time set-up code printed in the hub's log.",
        "login.setup_code": "Set-up code",
        "login.setup_submit": "Create admin and log in",
    },
    "zh-CN": {
        "dashboard.title": "{site} — MeterHub 计量管理",
        "dashboard.heading": "总览",
        "dashboard.entities": "实体",
        "dashboard.plugins": "插件",
        "dashboard.no_entities": "暂无实体：抄表后电表和水表会显示在这里。",
        "dashboard.entity": "实体",
        "dashboard.state": "状态",
        "dashboard.updated": "更新时间",
        "dashboard.plugin": "插件",
        "dashboard.version": "版本",
        "dashboard.source": "来源",
        "dashboard.status": "状态",
        "hub.started": "MeterHub 已启动",
        "hub.stopped": "MeterHub 已停止",
        "login.title": "登录",
        "login.user": "用户名",
        "login.password": "密码",
        "login.submit": "登录",
        "login.logout": "退出登录",
        "login.failed": "用户名或密码错误。",
        "login.setup": "首次启动：创建管理员",
        "login.setup_hint": "请输入 MeterHub 日志中显示的一次性设置码。",
        "login.setup_code": "设置码",
        "login.setup_submit": "创建管理员并登录",
    },
}


_CATALOG: dict[str, dict[str, str]] = {}
"""Every message table added with :func:`add_strings` (core, packages, plugins)."""


def add_strings(tables: Mapping[str, Mapping[str, str]]) -> None:
    """Add message tables (``{language: {key: text}}``) that :class:`Text` and every
    :class:`Translator` know; a module calls it at import, before it raises a Text."""
    for language, strings in tables.items():
        _CATALOG.setdefault(language, {}).update(strings)


def _template(key: str, language: str, tables: Mapping[str, Mapping[str, str]]) -> str | None:
    for table in (tables, _CATALOG):
        for lang in (language, FALLBACK_LANGUAGE):
            text = table.get(lang, {}).get(key)
            if text is not None:
                return text
    return None


def _fill(key: str, template: str, values: Mapping[str, Any], language: str) -> str:
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        _LOGGER.warning("Translation %s (%s) needs other values than %s", key, language,
                        sorted(values))
        return template


class Text(str):
    """A message: its English text (``str(text)``, for logs and ``detail``), its key and
    values, so each place that shows it words it in the reader's language."""

    key: str
    values: dict[str, Any]

    def __new__(cls, key: str, /, **values: Any) -> Text:
        template = _template(key, FALLBACK_LANGUAGE, {})
        english = _fill(key, template, _english(values), FALLBACK_LANGUAGE) \
            if template is not None else key
        text = super().__new__(cls, english)
        text.key = key
        text.values = values
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (self.key, self.values)


def _rebuild(key: str, values: dict[str, Any]) -> Text:
    return Text(key, **values)


def _english(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: str(value) if isinstance(value, Text | Joined) else value
            for name, value in values.items()}


SEPARATORS = {"en": "; ", "zh-CN": "；"}
"""How messages of a list are joined, per language."""


class Joined(str):
    """Several messages as one (``"; "`` in English), each worded in the reader's language."""

    items: tuple[str, ...]

    def __new__(cls, items: Iterable[str]) -> Joined:
        parts = tuple(items)
        text = super().__new__(cls, SEPARATORS[FALLBACK_LANGUAGE].join(parts))
        text.items = parts
        return text


def localize(text: str, language: str,
             tables: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """``text`` in ``language``: a :class:`Text` or :class:`Joined` is worded from the
    tables (and their values with it); any other string is returned as it is."""
    if isinstance(text, Joined):
        return SEPARATORS.get(language, "; ").join(
            localize(item, language, tables) for item in text.items)
    if not isinstance(text, Text):
        return str(text)
    template = _template(text.key, language, tables or {})
    if template is None:
        return str(text)
    values = {name: localize(value, language, tables) if isinstance(value, str) else value
              for name, value in text.values.items()}
    return _fill(text.key, template, values, language)


def _each_text(value: Any, change: Callable[[str], Any]) -> Any:
    """``value`` (mappings and lists) with ``change`` applied to each :class:`Text` or
    :class:`Joined` in it; everything else as it is."""
    if isinstance(value, Text | Joined):
        return change(value)
    if isinstance(value, Mapping):
        return {key: _each_text(item, change) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_each_text(item, change) for item in value]
    return value


def localize_all(value: Any, language: str,
                 tables: Mapping[str, Mapping[str, str]] | None = None) -> Any:
    """``value`` (an answer: mappings and lists) with each :class:`Text` or :class:`Joined`
    in it worded in ``language``; everything else as it is."""
    return _each_text(value, lambda text: localize(text, language, tables))


# --- messages kept as strings (a database column, a file) and worded when shown ----------------

_STORED = ('{"$text":', '{"$joined":')


def _stored_value(value: Any) -> Any:
    if isinstance(value, Text):
        return {"$text": [value.key, {name: _stored_value(item)
                                      for name, item in value.values.items()}]}
    if isinstance(value, Joined):
        return {"$joined": [_stored_value(item) for item in value.items]}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # a Decimal, a path, a time: as the English text showed it


def stored(text: str) -> str:
    """``text`` as a string to keep: a :class:`Text` or :class:`Joined` with its key and
    values (read back with :func:`restored`), any other string as it is."""
    if isinstance(text, Text | Joined):
        return json.dumps(_stored_value(text), ensure_ascii=False, separators=(",", ":"))
    return str(text)


def restored_form(value: Any) -> Any:
    """A JSON object read back: a message :func:`stored_forms` kept becomes its
    :class:`Text` or :class:`Joined` again; any other object is returned as it is."""
    if isinstance(value, dict) and len(value) == 1:
        if isinstance(found := value.get("$text"), list) and len(found) == 2 \
                and isinstance(found[0], str) and isinstance(found[1], dict):
            return Text(found[0], **{str(name): restored_form(item)
                                     for name, item in found[1].items()})
        if isinstance(found := value.get("$joined"), list):
            return Joined(item if isinstance(item, str) else str(item)
                          for item in map(restored_form, found))
    return value


def _holds_text(value: Any) -> bool:
    if isinstance(value, Text | Joined):
        return True
    if isinstance(value, Mapping):
        return any(map(_holds_text, value.values()))
    if isinstance(value, list | tuple):
        return any(map(_holds_text, value))
    return False


def stored_forms(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """``data`` (an event's, for a JSON column) with each message in it as the one-key object
    :func:`stored` writes (``{"$text": [key, values]}``); ``data`` itself when it holds none.
    A JSON reader gives them back with :func:`restored_form` as its object hook."""
    return _each_text(data, _stored_value) if _holds_text(data) else data


_MESSAGE_TYPES = frozenset({Text, Joined})


def stored_attributes(attributes: Mapping[str, Any]) -> Mapping[str, Any]:
    """An entity's attributes to keep: as :func:`stored_forms` when a message sits at their
    top level (a meter's ``last_error``, a DTU's reason), else as they are. Only the top is
    looked at (a state is written on every reading: one pass in C, no walk); a message nested
    deeper in a state keeps its English text."""
    if _MESSAGE_TYPES.isdisjoint(map(type, attributes.values())):
        return attributes
    return stored_forms(attributes)


@overload
def restored(value: str) -> str: ...
@overload
def restored(value: None) -> None: ...
def restored(value: str | None) -> str | None:
    """What :func:`stored` kept: a :class:`Text` or :class:`Joined` again (worded in each
    reader's language); any other string (one kept before, or not a message) as it is."""
    if value is None or not value.startswith(_STORED):
        return value
    try:
        found = restored_form(json.loads(value))
    except ValueError:
        return value
    return found if isinstance(found, Text | Joined) else value


def text_of(err: BaseException) -> str:
    """The message an error was raised with: its :class:`Text` (key and values kept, to
    pass on), else its English text."""
    if err.args and isinstance(err.args[0], Text | Joined) and not getattr(err, "path", None):
        return err.args[0]
    return str(err)


class Translator:
    """Looks strings up by key and language, falling back to English, then to the key."""

    def __init__(self, language: str = FALLBACK_LANGUAGE) -> None:
        self.language = language
        self._tables: dict[str, dict[str, str]] = {
            lang: dict(table) for lang, table in CORE_STRINGS.items()
        }

    def add(self, tables: Mapping[str, Mapping[str, str]]) -> None:
        """Merge more strings (from a plugin) into the table (and the catalog a
        :class:`Text` takes its English from)."""
        add_strings(tables)
        for language, strings in tables.items():
            self._tables.setdefault(language, {}).update(strings)

    def languages(self) -> list[str]:
        """Return the languages with at least one string."""
        return sorted(self._tables)

    def __call__(self, key: str, language: str | None = None, **values: Any) -> str:
        """Return the text for ``key`` with ``{placeholders}`` filled in."""
        lang = language or self.language
        text = _template(key, lang, self._tables)
        if text is None:
            _LOGGER.debug("No translation for %s", key)
            return key
        return _fill(key, text, values, lang)

    def text(self, text: str, language: str | None = None) -> str:
        """A message (a :class:`Text`, :class:`Joined` or plain string) in ``language``."""
        return localize(text, language or self.language, self._tables)

    def answer(self, value: Any, language: str | None = None) -> Any:
        """``value`` (mappings and lists) with every message in it in ``language``."""
        return localize_all(value, language or self.language, self._tables)

    def error(self, err: BaseException, language: str | None = None) -> str:
        """An error's message in ``language``: a ServiceValidationError's problems, or the
        :class:`Text` it was raised with (else its English text)."""
        problems = getattr(err, "errors", None)
        if isinstance(problems, list) and problems:
            return self.text(Joined(problems), language)
        return self.text(text_of(err), language)
