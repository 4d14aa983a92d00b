"""Events of the ``notify`` plugin: what became of each message."""

# No ``from __future__ import annotations``: see hub.events (NotRequired on Python 3.11).

from typing import Final, NotRequired, TypedDict

from hub.events import EventType

__all__ = ["EVENT_NOTIFY_FAILED", "EVENT_NOTIFY_SENT", "EVENT_NOTIFY_SKIPPED", "EVENT_TYPES"]

EVENT_NOTIFY_SENT: Final = "notify_sent"
EVENT_NOTIFY_FAILED: Final = "notify_failed"
EVENT_NOTIFY_SKIPPED: Final = "notify_skipped"


class NotifySentData(TypedDict):
    """``notify_sent``."""

    notifier: str
    notice: str | None  # the built-in notice (balance_low...); None: a plain message
    account_id: str | None
    target: str  # the target's scheme (wxpusher://...), never its URL
    attempts: int
    message_id: NotRequired[str]  # the message in the outbox (one per call or notice)
    merged: NotRequired[int]  # a summary: how many held messages it carries


class NotifyFailedData(NotifySentData):
    """``notify_failed``."""

    error: str  # never a URL
    reason: str  # failed | expired | target_gone | stopping | queue_full


class NotifySkippedData(TypedDict):
    """``notify_skipped``."""

    notice: str | None
    account_id: str | None
    reason: str  # no_contacts | duplicate | unknown_account | merged
    notifier: NotRequired[str]  # merged: the notifier whose summary carries it
    merged_into: NotRequired[str]  # merged: the summary's message id


NOTIFY_SENT = EventType(EVENT_NOTIFY_SENT, NotifySentData, "A message was delivered to one "
                        "target", "plugin notify")
NOTIFY_FAILED = EventType(EVENT_NOTIFY_FAILED, NotifyFailedData, "A message could not be "
                          "delivered to a target (after its retries, or never queued)",
                          "plugin notify")
NOTIFY_SKIPPED = EventType(EVENT_NOTIFY_SKIPPED, NotifySkippedData, "A message was not sent: "
                           "nobody to send it to, the same one went out just before, or it "
                           "was merged into a summary (storm guard, rate limit)",
                           "plugin notify")

EVENT_TYPES: Final[tuple[EventType, ...]] = (NOTIFY_SENT, NOTIFY_FAILED, NOTIFY_SKIPPED)
