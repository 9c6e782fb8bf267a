"""Use cases: query an agent, take in a batch of events. No HTTP, no SQL here."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from ccms.auth import AccessKey
from ccms.domain.agent import AgentEvent, AgentRecord
from ccms.errors import AgentNotFoundError, PermissionDeniedError
from ccms.store.base import IngestResult, Store


class Services:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    async def agent(self, key: AccessKey, cc_id: int, vdn: int, work_no: int) -> AgentRecord:
        key.check("query", cc_id, vdn)
        record = await self.store.get_agent(cc_id, vdn, work_no)
        if record is None:
            raise AgentNotFoundError(
                f"agent {work_no} is not known in call center {cc_id}, vdn {vdn}"
            )
        return record

    async def ingest(self, key: AccessKey, events: Sequence[AgentEvent]) -> IngestResult:
        if not key.has_role("ingest"):
            raise PermissionDeniedError("access key lacks the role 'ingest'")
        for index, event in enumerate(events):
            if not key.allows(event.cc_id, event.vdn):
                raise PermissionDeniedError(
                    f"events[{index}]: access key is not allowed for ccId {event.cc_id}"
                    f" and vdn {event.vdn}"
                )
        return await self.store.apply_events(events)
