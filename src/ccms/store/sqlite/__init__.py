"""The SQLite store: one file, one writer thread, reader connections (see :mod:`.store`)."""

from ccms.store.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore"]
