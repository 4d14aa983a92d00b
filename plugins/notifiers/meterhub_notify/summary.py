"""The one message that stands for many: what a storm (or a merging rate limit) sends."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from .const import SUMMARY_LINES
from .notifier import Message

Translate = Callable[..., str]  # (key, **values) -> text in the notices' language


def summarize(messages: Sequence[Message], translate: Translate, site: str) -> Message:
    """One message counting ``messages`` by kind, then their first lines, then how many more.

    Its ``values`` are the last message's (a template SMS fills its parameters from them)
    plus ``count`` and ``summary`` (the text).
    """
    kinds = Counter(message.notice or message.title or "-" for message in messages)
    names = []
    for kind, count in kinds.most_common():
        key = f"notify.{kind}.title"
        name = translate(key)
        names.append(translate("notify.summary.kind", name=kind if name == key else name,
                               count=count))
    count = len(messages)
    lines = [translate("notify.summary.message", count=count, kinds="; ".join(names))]
    lines += [f"- {message.message}" for message in messages[:SUMMARY_LINES]]
    if count > SUMMARY_LINES:
        lines.append(translate("notify.summary.more", count=count - SUMMARY_LINES))
    text = "\n".join(lines)
    last = messages[-1]
    accounts = {message.account_id for message in messages}
    notices = {message.notice for message in messages}
    values: dict[str, Any] = {**last.values, "count": count, "summary": text}
    return Message(text, translate("notify.summary.title", site=site, count=count),
                   notice=notices.pop() if len(notices) == 1 else None,
                   account_id=accounts.pop() if len(accounts) == 1 else None,
                   data={"merged": count}, values=values, contacts=last.contacts,
                   merged=count)
