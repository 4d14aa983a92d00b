"""The generated site's names shared by the benchmarks: meter, account and meter address."""

from __future__ import annotations


def meter_id(n: int) -> str:
    """Meter ``n``'s id."""
    return f"m{n:05d}"


def account_id(n: int) -> str:
    """Account ``n``'s id (it pays for meter ``n``)."""
    return f"a{n:05d}"


def address(n: int) -> str:
    """Meter ``n``'s DL/T 645 address (12 digits)."""
    return f"2024{n:08d}"
