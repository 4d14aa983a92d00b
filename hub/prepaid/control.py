"""Control side of prepaid: trip policy, holds, confirmed relay and valve commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core import Hub


def setup_control(hub: Hub) -> None:
    """Create the command queue and the trip policy (filled in by issue 7)."""
