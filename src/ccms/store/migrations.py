"""Versioned schema migrations: numbered SQL files, one ``migrations/`` folder per backend.

A migration is ``NNNN_name.sql`` in the ``migrations`` package of its backend
(``ccms.store.sqlite.migrations``, ``ccms.store.postgres.migrations``); each backend applies
them in its own way and reports its schema as a :class:`~ccms.store.base.SchemaStatus`.
"""

from __future__ import annotations

from importlib import resources
from typing import NamedTuple

from ccms.store.base import SchemaStatus


class Migration(NamedTuple):
    version: int
    name: str  # the file name without ``.sql``, e.g. ``0002_change_seq``
    sql: str


def migrations(package: str) -> list[Migration]:
    """Every migration in ``package`` (e.g. ``ccms.store.sqlite.migrations``), in order."""
    found = []
    for entry in resources.files(package).iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append(
                Migration(int(name[:4]), name.removesuffix(".sql"), entry.read_text("utf-8"))
            )
    return sorted(found)


def schema_status(backend: str, package: str, current: int) -> SchemaStatus:
    """The status of a schema at version ``current`` against the migrations of ``package``."""
    found = migrations(package)
    pending = tuple(m.name for m in found if m.version > current)
    return SchemaStatus(backend, current, max(m.version for m in found), pending)
