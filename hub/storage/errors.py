"""What storage raises: every error a caller can meet is a :class:`StorageError`."""

from __future__ import annotations


class StorageError(Exception):
    """Storage could not do what was asked; the message says why."""


class StorageUnavailable(StorageError):
    """The database is not open (locked, failed migration...): nothing was stored."""


class StorageFull(StorageError):
    """The disk (or the database's size limit) is full: nothing was stored."""


class DatabaseLocked(StorageUnavailable):
    """Another process holds the database."""
