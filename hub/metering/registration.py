"""Link toolkit: DTU registration packets (注册包) and the bytes a DTU adds to its stream.

A transparent DTU names itself with a registration packet — a fixed ID string, its IMEI
(15 ASCII digits), its SIM's ICCID (20 characters starting ``89``) or a vendor packet
described by a hex pattern or a regular expression — sent once after connecting and/or as a
prefix of every packet. It keeps the session alive with heartbeat packets. Both must be
taken out of the byte stream before the meters' frame parser sees it (they may contain
``68``). Matchers are tried in order; the first that recognises the packet names the DTU.

Public API for DTU links: :class:`Registration` (from ``register:``), :class:`StreamFilter`,
:data:`REGISTER_SCHEMA`, :func:`packet_bytes` and :func:`hex_bytes`.
"""

from __future__ import annotations

import abc
import hmac
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import voluptuous as vol

from .. import validation as cv
from ..i18n import Text
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

__all__ = [
    "ANYWHERE_MIN",
    "MAX_REGISTRATION",
    "NEED_MORE",
    "REGISTER_SCHEMA",
    "Match",
    "MatchOutcome",
    "Matcher",
    "Registration",
    "SecretFormat",
    "StreamFilter",
    "build_matcher",
    "hex_bytes",
    "hex_matcher",
    "matcher_spec",
    "packet_bytes",
]

MAX_REGISTRATION: Final = 256  # bytes of a connection's start searched for a registration
ANYWHERE_MIN: Final = 4  # tokens this long are removed wherever they appear in the stream

NEED_MORE: Final = "need_more"

_IMEI = re.compile(rb"\d{15}")
_ICCID = re.compile(rb"89[0-9A-Fa-f]{18}")
_HEX_RE = re.compile(r"^(?:[0-9A-Fa-f]{2}|\?\?)+$")


@dataclass(frozen=True, slots=True)
class Match:
    """A recognised registration: the DTU's id and the bytes it took."""

    dtu_id: str
    raw: bytes


MatchOutcome = Match | str | None  # a Match, NEED_MORE, or None (not a registration)


def _printable(raw: bytes) -> str:
    """The id a byte string names: its text if printable ASCII, else its hex."""
    if raw and all(0x20 < b < 0x7F for b in raw):
        return raw.decode("ascii")
    return raw.hex().upper()


class Matcher(abc.ABC):
    """Recognises one kind of registration packet at the start of the bytes."""

    kind = ""

    @abc.abstractmethod
    def match(self, data: bytes, known: Collection[str]) -> MatchOutcome:
        """A Match, NEED_MORE (a prefix of one), or None."""


class KnownIds(Matcher):
    """The packet starts with the id of a configured DTU (a fixed ID string)."""

    kind = "known"

    def match(self, data: bytes, known: Collection[str]) -> MatchOutcome:
        more = False
        best: bytes | None = None
        for dtu_id in known:
            raw = dtu_id.encode("utf-8", "replace")
            if data.startswith(raw):
                if best is None or len(raw) > len(best):
                    best = raw
            elif raw.startswith(data):
                more = True
        if best is not None:
            return Match(best.decode("utf-8", "replace"), best)
        return NEED_MORE if more else None


class Literal(Matcher):
    """A fixed string or byte sequence."""

    kind = "string"

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def match(self, data: bytes, known: Collection[str]) -> MatchOutcome:
        if data.startswith(self.raw):
            return Match(_printable(self.raw), self.raw)
        return NEED_MORE if self.raw.startswith(data) else None


class Pattern(Matcher):
    """A fixed-length pattern: IMEI, ICCID, or hex with ``??`` wildcards."""

    def __init__(self, kind: str, regex: re.Pattern[bytes], length: int,
                 partial: re.Pattern[bytes] | None = None) -> None:
        self.kind = kind
        self.regex = regex
        self.length = length
        self.partial = partial

    def match(self, data: bytes, known: Collection[str]) -> MatchOutcome:
        found = self.regex.match(data)
        if found:
            raw = found.group(0)
            return Match(_printable(raw), raw)
        if len(data) < self.length and self.partial is not None and self.partial.fullmatch(
                data):
            return NEED_MORE
        return None


class Regex(Matcher):
    """A user regular expression (on the bytes read as Latin-1); the id is group 1 if any."""

    kind = "regex"

    def __init__(self, pattern: str) -> None:
        self.regex = re.compile(pattern.encode("latin-1"), re.DOTALL)

    def match(self, data: bytes, known: Collection[str]) -> MatchOutcome:
        found = self.regex.match(data)
        if not found:
            return NEED_MORE if len(data) < MAX_REGISTRATION else None
        ident = found.group(1) if self.regex.groups else found.group(0)
        return Match(_printable(ident or found.group(0)), found.group(0))


def hex_matcher(pattern: str) -> Pattern:
    """A matcher for a hex pattern such as ``7E 01 ?? ??``."""
    compact = pattern.replace(" ", "")
    parts = [compact[i:i + 2] for i in range(0, len(compact), 2)]
    regex = b"".join(b"." if p == "??" else re.escape(bytes.fromhex(p)) for p in parts)
    partial = b"".join(b"(?:" + (b"." if p == "??" else re.escape(bytes.fromhex(p)))
                       for p in parts) + b")?" * len(parts)
    return Pattern("hex", re.compile(regex, re.DOTALL), len(parts),
                   re.compile(partial, re.DOTALL))


def build_matcher(spec: Any) -> Matcher:
    """A matcher from its validated YAML form."""
    if spec == "known":
        return KnownIds()
    if spec == "imei":
        return Pattern("imei", _IMEI, 15, re.compile(rb"\d*"))
    if spec == "iccid":
        return Pattern("iccid", _ICCID, 20, re.compile(rb"(?:8(?:9[0-9A-Fa-f]*)?)?"))
    if "string" in spec:
        return Literal(str(spec["string"]).encode("utf-8"))
    if "hex" in spec:
        return hex_matcher(spec["hex"])
    return Regex(spec["regex"])


class Registration:
    """The registration matchers of one link, tried in order, and its mode."""

    def __init__(self, specs: Sequence[Any], mode: str = "once") -> None:
        self.matchers = [build_matcher(spec) for spec in specs]
        self.mode = mode

    def stream_prefix(self, match: Match) -> bytes:
        """The bytes to remove from the DTU's later packets.

        In ``prefix``/``both`` mode the registration starts every packet; in ``once`` mode
        only a repeated registration packet (long enough not to be mistaken) is removed.
        """
        if self.mode != "once" or len(match.raw) >= ANYWHERE_MIN:
            return match.raw
        return b""

    def match(self, data: bytes, known: Collection[str]) -> MatchOutcome:
        """The first matcher's Match; else NEED_MORE if any could still match; else None."""
        more = False
        for matcher in self.matchers:
            outcome = matcher.match(data, known)
            if isinstance(outcome, Match):
                return outcome
            more = more or outcome == NEED_MORE
        if more and len(data) < MAX_REGISTRATION:
            return NEED_MORE
        return None


@dataclass
class StreamFilter:
    """Removes a DTU's heartbeats and registration prefixes from its byte stream.

    Tokens of at least four bytes are removed wherever they appear (a token split between
    two reads is held back until the next read, or until :meth:`flush`). A shorter
    heartbeat is removed only when a read holds nothing else, a shorter registration
    prefix only at the start of a read — a one-byte ``FE`` heartbeat must not eat an ``FE``
    inside a frame.
    """

    heartbeat: bytes = b""
    prefix: bytes = b""
    heartbeats: int = 0
    prefixes: int = 0
    _tail: bytes = b""
    _long: list[tuple[bytes, bool]] = field(default_factory=list)
    _last_bytes: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        self._long = [(token, beat) for token, beat in ((self.heartbeat, True),
                                                        (self.prefix, False))
                      if len(token) >= ANYWHERE_MIN]
        self._last_bytes = frozenset(b for token, _ in self._long for b in token[:-1])

    def feed(self, data: bytes) -> bytes:
        """Return ``data`` without heartbeats and prefixes (maybe holding a partial token)."""
        if self._tail:
            data = self._tail + data
            self._tail = b""
        heartbeat, prefix = self.heartbeat, self.prefix
        if heartbeat and len(heartbeat) < ANYWHERE_MIN and data == heartbeat * (
                len(data) // len(heartbeat)):
            self.heartbeats += len(data) // len(heartbeat)
            return b""
        if prefix and len(prefix) < ANYWHERE_MIN:
            while data.startswith(prefix):
                data = data[len(prefix):]
                self.prefixes += 1
        for token, beat in self._long:
            if token in data:
                count = data.count(token)
                data = data.replace(token, b"")
                if beat:
                    self.heartbeats += count
                else:
                    self.prefixes += count
        if data and data[-1] in self._last_bytes:
            hold = self._partial_tail(data)
            if hold:
                self._tail = data[-hold:]
                data = data[:-hold]
        return data

    def _partial_tail(self, data: bytes) -> int:
        best = 0
        for token, _beat in self._long:
            for size in range(min(len(token) - 1, len(data)), best, -1):
                if data.endswith(token[:size]):
                    best = size
                    break
        return best

    @property
    def holding(self) -> bool:
        """Whether bytes are held back as a possible start of a token."""
        return bool(self._tail)

    def flush(self) -> bytes:
        """Give back held bytes (they were not a token after all)."""
        tail, self._tail = self._tail, b""
        return tail


class SecretFormat:
    """Where a DTU's registration secret sits in its registration packet: ``{id},{secret}``.

    The packet must start with the id (what the matchers recognise); the format's text
    between ``{id}`` and ``{secret}``, and after ``{secret}``, is literal.
    """

    def __init__(self, template: str) -> None:
        self.template = template
        self.between, _, self.after = template[len("{id}"):].partition("{secret}")

    def tail(self, secret: str) -> bytes:
        """The bytes that must follow the id: separator, secret, end."""
        return f"{self.between}{secret}{self.after}".encode()

    def check(self, data: bytes, match: Match, secret: str) -> MatchOutcome:
        """The match extended by the secret; NEED_MORE while too few bytes; None if wrong.

        Whether bytes are missing is judged by their number only, never by their content,
        so how the hub waits tells nothing about the secret.
        """
        tail = self.tail(secret)
        rest = data[len(match.raw):len(match.raw) + len(tail)]
        if len(rest) < len(tail):
            return NEED_MORE
        if hmac.compare_digest(rest, tail):
            return Match(match.dtu_id, match.raw + tail)
        return None


def secret_format(value: Any) -> str:
    """A registration packet template with one ``{id}`` at its start and one ``{secret}``."""
    text = cv.string(value)
    if not text.startswith("{id}") or text.count("{id}") != 1 or text.count("{secret}") != 1:
        raise vol.Invalid(Text("metering.template", value=cv.show_value(value)))
    return text


# --- YAML --------------------------------------------------------------------------------

def matcher_spec(value: Any) -> Any:
    """One registration matcher: known, imei, iccid, {string:}, {hex:} or {regex:}."""
    if isinstance(value, str):
        if value in ("known", "imei", "iccid"):
            return value
        raise vol.Invalid(Text("metering.matcher", value=cv.show_value(value)))
    if not isinstance(value, dict) or len(value) != 1:
        raise vol.Invalid(Text("metering.matcher_one"))
    key, text = next(iter(value.items()))
    text = cv.string(text)
    if key == "string":
        if not text:
            raise vol.Invalid(Text("metering.string_empty"), path=[key])
        return {key: text}
    if key == "hex":
        if not _HEX_RE.match(text.replace(" ", "")):
            raise vol.Invalid(Text("metering.hex_wildcards", value=cv.show_value(text)),
                              path=[key])
        return {key: text}
    if key == "regex":
        try:
            compiled = re.compile(text.encode("latin-1"))
        except (re.error, UnicodeEncodeError) as err:
            raise vol.Invalid(Text("metering.regex", reason=str(err)), path=[key]) from None
        if compiled.match(b""):
            raise vol.Invalid(Text("metering.regex_empty"), path=[key])
        return {key: text}
    raise vol.Invalid(Text("metering.matcher_unknown", key=key), path=[key])


def packet_bytes(value: Any) -> bytes:
    """A packet given as ``{data: text}`` or ``{hex: "FE 01"}`` (validated mapping)."""
    if value.get("hex"):
        return bytes.fromhex(str(value["hex"]).replace(" ", ""))
    return str(value.get("data") or "").encode("utf-8")


def hex_bytes(value: Any) -> str:
    """Hex bytes like ``FE`` or ``7B 00 01``."""
    text = cv.string(value)
    try:
        bytes.fromhex(text.replace(" ", ""))
    except ValueError:
        raise vol.Invalid(Text("metering.hex", value=cv.show_value(value))) from None
    return text


REGISTER_SCHEMA = cv.Strict({
    vol.Optional("match", default=["known", "imei", "iccid"]): vol.All(
        cv.ListOf(matcher_spec, allow_single=True), vol.Length(min=1)),
    vol.Optional("mode", default="once"): cv.one_of("once", "prefix", "both"),
    vol.Optional("timeout", default=10): cv.duration,
    vol.Optional("secret"): cv.string,
    vol.Optional("secret_format", default="{id},{secret}"): secret_format,
})
