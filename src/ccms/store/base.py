"""The store protocol every backend implements, and the URL that chooses one.

Every method takes the tenant (``cc_id``, ``vdn``) explicitly. A backend raises
:class:`~ccms.errors.StoreUnavailableError` when it cannot read or write, and recovers by
itself when its storage is back; it adds no behaviour the contract suite does not test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ccms.domain.agent import AgentEvent, AgentRecord, StatusChange
from ccms.settings import Settings, SettingsError


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int


class Store(Protocol):
    async def open(self) -> None:
        """Connect, apply pending migrations; raise StoreUnavailableError if impossible."""

    async def close(self) -> None: ...

    async def get_agent(self, cc_id: int, vdn: int, work_no: int) -> AgentRecord | None:
        """One agent, or ``None`` when it is not known in that call center and VDN."""

    async def get_agents(self, cc_id: int, vdn: int, work_nos: Sequence[int]) -> list[AgentRecord]:
        """The known agents among ``work_nos``, in one query, ordered by work number."""

    async def apply_events(self, events: Sequence[AgentEvent]) -> IngestResult:
        """Apply a validated batch atomically; return only once it is durably committed.

        Events whose ``event_id`` was applied before (or earlier in the batch) are counted
        as duplicates and change nothing.
        """

    async def history(self, cc_id: int, vdn: int, work_no: int, limit: int) -> list[StatusChange]:
        """The newest ``limit`` status events of an agent, newest first."""

    async def ping(self) -> None:
        """Raise StoreUnavailableError when the store cannot answer."""


def open_store(settings: Settings) -> Store:
    """The backend named by ``settings.store`` (not yet opened)."""
    url = settings.store
    if url.startswith("sqlite:///"):
        from ccms.store.sqlite import SQLiteStore

        return SQLiteStore(
            url.removeprefix("sqlite:///"),
            synchronous=settings.sqlite_synchronous,
            readers=settings.sqlite_readers,
            event_id_retention_days=settings.event_id_retention_days,
        )
    if url.startswith(("postgresql://", "postgres://")):
        raise SettingsError("the PostgreSQL store is not available in this version")
    raise SettingsError(f"store URL must start with sqlite:/// or postgresql://, got {url!r}")
