"""Password hashing with argon2id, off the event loop (a hash costs tens of milliseconds)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..i18n import Text
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

MIN_PASSWORD = 8
_HASHER = PasswordHasher()  # argon2id, the library's (RFC 9106 low-memory) parameters
_DUMMY: list[str] = []  # a hash to verify against when the user is unknown (made once)


def check_password_rules(password: str) -> str | None:
    """Why a new password is refused (None: it is acceptable)."""
    if len(password) < MIN_PASSWORD:
        return Text("auth.password_short", count=MIN_PASSWORD)
    if password.strip() != password:
        return Text("auth.password_spaces")
    return None


async def hash_password(password: str) -> str:
    """The argon2id hash of ``password``."""
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (a missing hash costs the same time)."""
    def check() -> bool:
        if not _DUMMY:
            _DUMMY.append(_HASHER.hash(secrets.token_hex(16)))
        try:
            return _HASHER.verify(stored or _DUMMY[0], password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False
    return await asyncio.to_thread(check)


def new_secret(prefix: str = "") -> str:
    """A random 256-bit secret (URL-safe text) for a cookie or a token."""
    return prefix + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """How a random secret is stored: its SHA-256 (a secret nobody chose needs no argon2)."""
    return hashlib.sha256(secret.encode()).hexdigest()
