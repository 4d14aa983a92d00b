"""The "which wins" rule between hub.yaml and changes made at runtime, for any kind of item.

Accounts and meters follow it alike (see README, "which wins"), per item and top-level field:

* a runtime change of a field is stored with the YAML value it replaced (``base``); while the
  YAML still says that, the runtime value wins, across restarts;
* when the YAML value of that field is later edited by hand, the YAML wins: the runtime value
  is dropped (kept in the override history, with a warning in the log);
* an item created at runtime (field ``*``) lives in storage; if hub.yaml later defines the
  same id, hub.yaml wins for the whole item.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

_LOGGER = logging.getLogger(__name__)

WHOLE = "*"  # the field name of an item created at runtime

Dropped = tuple[str, str, None, str | None, str]
"""An override to drop: (item, field, None, base, why) for ``Storage.set_overrides``."""


def canonical(value: Any) -> str:
    """A stable JSON text of a (validated) value, to tell whether YAML changed."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"cannot store {type(value).__name__}")


@dataclass
class Resolved:
    """Stored overrides sorted by the rule: what applies, and what hub.yaml overruled."""

    runtime: dict[str, dict[str, Any]] = field(default_factory=dict)  # item -> field -> value
    created: dict[str, dict[str, Any]] = field(default_factory=dict)  # item -> raw entry
    dropped: list[Dropped] = field(default_factory=list)


def resolve(rows: Iterable[tuple[str, str, str, str | None, int, str | None]],
            yaml: Mapping[str, Mapping[str, Any]], what: str) -> Resolved:
    """Apply the rule to a scope's stored overrides (``Storage.overrides`` rows)."""
    found = Resolved()
    deferred: list[tuple[str, str, Any, str | None, str | None]] = []
    for item, name, value_text, base, _ts, user in rows:
        value = json.loads(value_text)
        if name != WHOLE:
            deferred.append((item, name, value, base, user))
        elif item in yaml:
            _LOGGER.warning("%s %s is now in hub.yaml: hub.yaml wins over the one created at "
                            "runtime", what, item)
            found.dropped.append((item, name, None, base, "yaml_won"))
        else:
            found.created[item] = value
    for item, name, value, base, user in deferred:
        if item in yaml and canonical(yaml[item].get(name)) != base:
            _LOGGER.warning("%s %s: %s was changed in hub.yaml after a runtime change by %s: "
                            "hub.yaml wins", what, item, name, user or "someone")
            found.dropped.append((item, name, None, base, "yaml_won"))
        elif item not in yaml and item not in found.created:
            found.dropped.append((item, name, None, base, "orphan"))
        else:
            found.runtime.setdefault(item, {})[name] = value
    return found
