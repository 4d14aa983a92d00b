"""The two DL/T 645 versions as a model sees them: function codes, DI size, requests, errors.

A :class:`Dialect` is what differs between DL/T 645-2007 and DL/T 645-1997 when a model
reads or writes a meter; the models pick one per meter (fixed, or found by auto-detection).
A reply in the *other* version's function code is taken (not skipped) so that it becomes a
clear :class:`WrongVersion` error instead of a silent time-out, and never a value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.i18n import Text, add_strings
from hub.metering.model import MeterRefused

from .codec import (
    Credentials,
    Frame,
    error_reasons,
    follow_up_request,
    read_request,
    write_request,
)
from .const import FUNCTION_MASK, Function
from .dis import DI_DATE, DI_TIME, DataItem, item
from .errors import Dlt645Error
from .v1997 import (
    DI_DATE as DI_DATE_1997,
)
from .v1997 import (
    DI_TIME as DI_TIME_1997,
)
from .v1997 import (
    Function1997,
    error_reasons_1997,
    follow_up_request_1997,
    item_1997,
    read_request_1997,
    write_request_1997,
)

ERR_KEY = "dlt645.err."
"""A refusal's reasons are messages keyed by their English words, from both ERR tables."""
add_strings({language: {f"{ERR_KEY}{en}": words
                        for reasons in (error_reasons, error_reasons_1997) for code in (0, 0xFF)
                        for en, words in zip(reasons(code, "en"), reasons(code, language),
                                             strict=True)}
             for language in ("en", "zh-CN")})

_LOGGER = logging.getLogger(__name__)

V2007 = "2007"
V1997 = "1997"
VERSIONS = (V2007, V1997)
AUTO = "auto"


class WrongVersion(Dlt645Error):
    """A meter answered in the other DL/T 645 version than the request's."""


@dataclass(frozen=True, slots=True)
class Dialect:
    """What a model needs to know of one DL/T 645 version."""

    version: str
    read: int
    follow_up: int
    write: int
    di_size: int
    date_di: int
    time_di: int
    probe_di: int  # what auto-detection reads: forward active energy, total
    lookup: Callable[[int], DataItem]
    reasons: Callable[[int, str], list[str]]

    @property
    def name(self) -> str:
        """``DL/T 645-2007`` or ``DL/T 645-1997``."""
        return f"DL/T 645-{self.version}"

    def item(self, di: int) -> DataItem:
        """The data item of a DI of this version (Dlt645Error if unknown)."""
        return self.lookup(di)

    def di_text(self, di: int) -> str:
        """A DI as printed in this version."""
        return f"{di:0{2 * self.di_size}X}"

    def read_request(self, address: str, di: int) -> bytes:
        """Read one DI."""
        if self.version == V1997:
            return read_request_1997(address, di)
        return read_request(address, di)

    def follow_up_request(self, address: str, di: int, seq: int) -> bytes:
        """Read follow-up frame ``seq`` of ``di`` (1997 frames carry no SEQ)."""
        if self.version == V1997:
            return follow_up_request_1997(address, di)
        return follow_up_request(address, di, seq)

    def value(self, frame: Frame) -> bytes:
        """The value bytes of a read (or follow-up) reply."""
        data = frame.data[self.di_size:]
        if self.version == V2007 and frame.function == self.follow_up:
            return data[:-1]  # SEQ
        return data

    def write_request(self, address: str, di: int, value: bytes,
                      credentials: Credentials) -> bytes:
        """Write one DI with the meter's password (1997: no operator code)."""
        if self.version == V1997:
            return write_request_1997(address, di, value, credentials.level,
                                      credentials.password)
        return write_request(address, di, value, credentials)

    def reply_filter(self, address: str, function: int, di: int | None = None,
                     seq: int | None = None) -> Callable[[Any], bool]:
        """Accept a reply from ``address`` to ``function`` (echoing ``di``), or a reply in
        the other version (to be refused by :meth:`check`)."""
        normal, follow, error = function | 0x80, function | 0xA0, function | 0xC0
        di_raw = di.to_bytes(self.di_size, "little") if di is not None else b""
        min_len = self.di_size + (1 if seq is not None and self.version == V2007 else 0)
        foreign = _FOREIGN[self.version]

        def accept(frame: Any) -> bool:
            if not isinstance(frame, Frame) or frame.address != address:
                return False
            control = frame.control
            if control & 0x80 and (control & FUNCTION_MASK) in foreign:
                return True
            if control == error:
                return len(frame.data) >= 1
            if control != normal and (control != follow or di is None):
                return False
            if di is None:
                return True
            data = frame.data
            if len(data) < min_len or data[:self.di_size] != di_raw:
                return False
            return seq is None or self.version == V1997 or data[-1] == seq & 0xFF

        return accept

    def check(self, frame: Frame, what: str) -> Frame:
        """Raise WrongVersion for a reply in the other version, MeterRefused for an error."""
        if (frame.control & FUNCTION_MASK) in _FOREIGN[self.version]:
            other = V1997 if self.version == V2007 else V2007
            raise WrongVersion(
                f"meter {frame.address} answered a {self.name} request ({what}) with a "
                f"DL/T 645-{other} frame (control {frame.control:02X}), value not taken: set "
                f"the meter's option protocol to {other} or auto")
        if frame.is_error:
            raise self.refusal(frame, what)
        return frame

    def refusal(self, frame: Frame, what: str) -> MeterRefused:
        """A MeterRefused naming the decoded ERR reasons of this version."""
        code = frame.error_code
        reasons = self.reasons(code, "en") if code is not None else []
        word = f"ERR {code:02X}" if code is not None else None
        return MeterRefused(f"meter {frame.address} refused {what}: {'; '.join(reasons)}"
                            + (f" ({word})" if word else ""),
                            [Text(f"{ERR_KEY}{reason}") for reason in reasons], word)


# Reply functions that only the other version uses (08 and 03 are left out: shared/ambiguous).
_FOREIGN: Mapping[str, frozenset[int]] = {
    V2007: frozenset((Function1997.READ, Function1997.READ_FOLLOW_UP, Function1997.WRITE)),
    V1997: frozenset((Function.READ, Function.READ_FOLLOW_UP, Function.WRITE)),
}

DIALECTS: dict[str, Dialect] = {
    V2007: Dialect(V2007, Function.READ, Function.READ_FOLLOW_UP, Function.WRITE, 4, DI_DATE,
                   DI_TIME, 0x00010000, item, error_reasons),
    V1997: Dialect(V1997, Function1997.READ, Function1997.READ_FOLLOW_UP, Function1997.WRITE,
                   2, DI_DATE_1997, DI_TIME_1997, 0x9010, item_1997, error_reasons_1997),
}
