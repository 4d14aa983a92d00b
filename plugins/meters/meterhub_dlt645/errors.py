"""The one error type of the DL/T 645 plugin."""

from __future__ import annotations

from hub.metering.model import ProtocolError


class Dlt645Error(ProtocolError):
    """A DL/T 645 frame or value is invalid; the message is a one-line reason."""
