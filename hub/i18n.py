"""One table for every user-facing string, in zh-CN and en (plugins add their own keys)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

__all__ = [
    "FALLBACK_LANGUAGE", "Translator",
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


class Translator:
    """Looks strings up by key and language, falling back to English, then to the key."""

    def __init__(self, language: str = FALLBACK_LANGUAGE) -> None:
        self.language = language
        self._tables: dict[str, dict[str, str]] = {
            lang: dict(table) for lang, table in CORE_STRINGS.items()
        }

    def add(self, tables: Mapping[str, Mapping[str, str]]) -> None:
        """Merge more strings (from a plugin) into the table."""
        for language, strings in tables.items():
            self._tables.setdefault(language, {}).update(strings)

    def languages(self) -> list[str]:
        """Return the languages with at least one string."""
        return sorted(self._tables)

    def __call__(self, key: str, language: str | None = None, **values: Any) -> str:
        """Return the text for ``key`` with ``{placeholders}`` filled in."""
        lang = language or self.language
        text = self._tables.get(lang, {}).get(key)
        if text is None:
            text = self._tables[FALLBACK_LANGUAGE].get(key)
        if text is None:
            _LOGGER.debug("No translation for %s", key)
            return key
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            _LOGGER.warning("Translation %s (%s) needs other values than %s", key, lang,
                            sorted(values))
            return text
