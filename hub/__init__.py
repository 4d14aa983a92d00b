"""MeterHub: a self-hosted hub for prepaid smart water and electricity meters."""

from __future__ import annotations

__version__ = "0.1.0"
