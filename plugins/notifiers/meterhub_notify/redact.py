"""Keeping notifier URLs out of logs: a registry of secret texts and a redacting log filter.

Apprise URLs carry tokens (``wxpusher://AT_xxx/UID_xxx``). Our own log lines name only the
notifier and the URL's scheme; apprise and urllib3 log URLs themselves (an unparseable URL,
a debug line with the POST address), so their loggers get a filter that replaces every
registered URL, and every token-like part of one, with ``<secret>``.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import parse_qsl, unquote, urlsplit

from hub.i18n import Joined, Text

_LOGGER = logging.getLogger(__name__)

MASK = "<secret>"
# Loggers of the libraries that send: their records are redacted before any handler sees them.
LIBRARY_LOGGERS = ("apprise", "urllib3.connectionpool", "urllib3.connection",
                   "urllib3.util.retry", "requests")
_MIN_PART = 8  # shorter path words ("hook", "api") are not tokens worth hiding
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None
_installed = False


def scheme_of(url: str) -> str:
    """The URL's scheme as ``'wxpusher://'`` (safe to log), or ``'?'``."""
    match = _SCHEME_RE.match(url.strip())
    return f"{match[1].lower()}://" if match else "?"


def secret_parts(url: str) -> set[str]:
    """The texts of a URL that could be tokens: itself, user, password, path, query values."""
    text = url.strip()
    parts = {text}
    try:
        split = urlsplit(text)
    except ValueError:
        return parts
    pieces = [split.username or "", split.password or "", split.hostname or ""]
    pieces += split.path.split("/")
    pieces += [value for _key, value in parse_qsl(split.query, keep_blank_values=False)]
    pieces.append(split.netloc.rpartition("@")[0])
    for piece in pieces:
        for variant in (piece, unquote(piece)):
            if len(variant) >= _MIN_PART:
                parts.add(variant)
    return parts


def add_secret(url: str) -> None:
    """Remember a URL (and its token-like parts) so that no log line shows it."""
    global _pattern
    parts = secret_parts(url)
    with _lock:
        if parts <= _secrets:
            return
        _secrets.update(parts)
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(part) for part in ordered))


def redact(text: str) -> str:
    """Return ``text`` with every registered secret replaced by ``<secret>``."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


def redact_message(text: str) -> str:
    """:func:`redact` for a message kept with its key: its values (and each part of a
    Joined) are redacted, so no secret reaches the stored row in any language."""
    if isinstance(text, Text):
        return Text(text.key, **{name: redact_message(value) if isinstance(value, str)
                                 else value for name, value in text.values.items()})
    if isinstance(text, Joined):
        return Joined(redact_message(item) for item in text.items)
    return redact(text)


class RedactFilter(logging.Filter):
    """Rewrites a library's log record so that no registered secret reaches a handler."""

    def __init__(self) -> None:
        super().__init__("meterhub_notify.redact")
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's message (and its exception text) in place; keep it."""
        try:
            message = record.getMessage()
        except Exception:  # a library's bad format string: show the raw text, redacted
            message = str(record.msg)
        if _pattern is not None:
            message = redact(message)
            record.msg, record.args = message, None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
        if record.levelno >= logging.WARNING:
            self.local.problem = message  # the sender reads why apprise refused (this thread)
        return True

    def take_problem(self) -> str | None:
        """The last warning apprise logged in this thread (redacted), cleared on reading."""
        problem: str | None = getattr(self.local, "problem", None)
        self.local.problem = None
        return problem


FILTER = RedactFilter()


def install() -> None:
    """Put the redacting filter on the sending libraries' loggers (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).addFilter(FILTER)
    _LOGGER.debug("Notifier URLs are redacted from the logs of %s", ", ".join(LIBRARY_LOGGERS))
