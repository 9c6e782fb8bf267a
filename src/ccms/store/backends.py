"""The store URL that chooses a backend: ``sqlite:///path`` or ``postgresql://...``.

The PostgreSQL backend is imported only when a PostgreSQL URL is given: its driver is the
optional ``postgres`` extra.
"""

from __future__ import annotations

from ccms.settings import Settings, SettingsError
from ccms.store.base import Store


def open_store(settings: Settings) -> Store:
    """The backend named by ``settings.store`` (not yet opened)."""
    url = settings.store
    if url.startswith("sqlite:///"):
        from ccms.store.sqlite import SQLiteStore

        return SQLiteStore(
            url.removeprefix("sqlite:///"),
            synchronous=settings.sqlite_synchronous,
            readers=settings.sqlite_readers,
            mmap_bytes=settings.sqlite_mmap_mb * 1024 * 1024,
            event_id_retention_days=settings.event_id_retention_days,
            call_record_days=settings.call_record_days,
            stream_window_s=settings.stream_window_s,
            stream_window_changes=settings.stream_window_changes,
        )
    if url.startswith(("postgresql://", "postgres://")):
        from ccms.store.postgres import PostgresStore

        return PostgresStore(
            url,
            pool_size=settings.pg_pool_size,
            command_timeout=settings.pg_command_timeout,
            event_id_retention_days=settings.event_id_retention_days,
            call_record_days=settings.call_record_days,
            stream_window_s=settings.stream_window_s,
            stream_window_changes=settings.stream_window_changes,
        )
    raise SettingsError(f"store URL must start with sqlite:/// or postgresql://, got {url!r}")
