"""``ccms db status|migrate``: the store's schema version, for operators.

``ccms serve`` migrates at start by itself; these commands let an operator see what a
start would do (``status``) and migrate ahead of a rolling upgrade (``migrate``). Both take
the store URL from ``--store`` or ``CCMS_STORE`` and work for SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ccms.server import open_store
from ccms.settings import SettingsError, load_settings
from ccms.store.base import Store


@dataclass(frozen=True)
class SchemaStatus:
    backend: str
    current: int
    latest: int
    pending: tuple[str, ...]  # migration names, e.g. "0002_change_seq"


def add_commands(subparsers: Any) -> None:
    """Add ``db`` and its actions to the ``ccms`` command's subparsers."""
    db = subparsers.add_parser("db", help="The store's schema: status, migrate.")
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    for name, text in (
        ("status", "Print the current and latest schema version and the pending migrations."),
        ("migrate", "Apply the pending migrations (ccms serve also does at start)."),
    ):
        action = actions.add_parser(name, help=text, description=text)
        action.add_argument(
            "--store", metavar="URL", help="store URL (env CCMS_STORE, default sqlite:///ccms.db)"
        )
    db.set_defaults(handler=run)


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run a ``db`` command.

    Errors are :class:`~ccms.errors.CCMSError` (``ccms.cli.main`` prints them).
    """
    settings = load_settings(environ, {"store": args.store})
    store = open_store(settings)
    backend = "sqlite" if settings.store.startswith("sqlite:") else "postgres"
    shown = settings.store
    if backend == "postgres":
        from ccms.store.postgres import redact

        shown = redact(shown)
    print(f"store: {shown}")
    if args.db_command == "status":
        status = asyncio.run(schema_status(store, backend))
        print(f"current version: {status.current}")
        print(f"latest version: {status.latest}")
        print(f"pending: {', '.join(status.pending) or 'none'}")
        return 0
    if args.db_command == "migrate":
        before, after = asyncio.run(_migrate(store))
        if before == after:
            print(f"already at version {after}: nothing to do")
        else:
            print(f"migrated from version {before} to {after}")
        return 0
    raise SettingsError(f"unknown db command {args.db_command}")


async def schema_status(store: Store, backend: str) -> SchemaStatus:
    current = await _schema_version(store)
    names = migration_names(backend)
    pending = tuple(name for number, name in sorted(names.items()) if number > current)
    return SchemaStatus(backend, current, max(names), pending)


async def _migrate(store: Store) -> tuple[int, int]:
    before = await _schema_version(store)
    migrate = getattr(store, "migrate", None)
    if migrate is not None:
        await migrate()
    else:  # opening a store migrates it
        await store.open()
        await store.close()
    return before, await _schema_version(store)


async def _schema_version(store: Store) -> int:
    method = getattr(store, "schema_version", None)
    if method is not None:
        return int(await method())
    from ccms.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        # until SQLiteStore.schema_version() exists: read PRAGMA user_version, never create
        try:
            conn = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
        except sqlite3.OperationalError:
            return 0  # no file yet
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    raise SettingsError(f"{type(store).__name__} cannot report its schema version")


def migration_names(backend: str) -> dict[int, str]:
    """``{version: "0001_initial"}`` for the migrations of ``backend``."""
    folder = resources.files("ccms.store.migrations").joinpath(backend)
    return {
        int(entry.name[:4]): entry.name.removesuffix(".sql")
        for entry in folder.iterdir()
        if entry.name.endswith(".sql") and entry.name[:4].isdigit()
    }
