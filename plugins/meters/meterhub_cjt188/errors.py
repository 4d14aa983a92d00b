"""The one error type of the CJ/T 188 codec."""

from __future__ import annotations

import logging

from hub.metering.model import ProtocolError

_LOGGER = logging.getLogger(__name__)


class Cjt188Error(ProtocolError):
    """A CJ/T 188 frame or field could not be encoded or decoded; the message says why."""
