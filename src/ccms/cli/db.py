"""``ccms db status|migrate``: the store's schema version, for operators.

``ccms serve`` migrates at start by itself; these commands let an operator see what a
start would do (``status``) and migrate ahead of a rolling upgrade (``migrate``). Both take
the store URL from ``--store`` or ``CCMS_STORE`` and work for SQLite and PostgreSQL,
through the store's own ``schema_status()`` and ``migrate()``. A store that cannot be
used (a SQLite file that does not exist, for ``status``; its directory missing; a server
that does not answer) is one line on stderr and exit code 2, as every store error.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping
from typing import Any

from ccms.errors import StoreUnavailableError
from ccms.server import open_store
from ccms.settings import SettingsError, load_settings
from ccms.store.base import Store


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
    store = open_store(load_settings(environ, {"store": args.store}))
    if args.db_command == "status":
        status = asyncio.run(store.schema_status())
        print(f"store: {store.location}")
        print(f"current version: {status.current}")
        print(f"latest version: {status.latest}")
        print(f"pending: {', '.join(status.pending) or 'none'}")
        return 0
    if args.db_command == "migrate":
        before, after = asyncio.run(_migrate(store))
        print(f"store: {store.location}")
        if before == after:
            print(f"already at version {after}: nothing to do")
        else:
            print(f"migrated from version {before} to {after}")
        return 0
    raise SettingsError(f"unknown db command {args.db_command}")


async def _migrate(store: Store) -> tuple[int, int]:
    try:
        before = (await store.schema_status()).current
    except StoreUnavailableError:  # no store yet: migrate creates it, or says why it cannot
        before = 0
    await store.migrate()
    return before, (await store.schema_status()).current
