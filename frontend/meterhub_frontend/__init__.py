"""Templates and static files of the MeterHub dashboard and tenant portal (no build step)."""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
