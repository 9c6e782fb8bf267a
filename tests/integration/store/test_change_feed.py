"""The backend-neutral parts of the change feed (``ccms.store.changes``): a commit of a
block of change numbers is delivered as it is when it follows the last number seen, and
how the change log stores a record."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccms.domain.agent import AgentKey, AgentRecord
from ccms.store.changes import ChangeFeed, ChangeSet, decode_record, encode_record

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

KEYS = frozenset({AgentKey(1, 1, 101), AgentKey(1, 1, 102)})


async def _never(feed: ChangeFeed) -> None:
    await asyncio.Event().wait()


async def test_a_block_that_follows_the_last_number_is_delivered_as_it_is() -> None:
    feed = ChangeFeed(_never)
    feed.seq = 4
    sub = feed.subscribe()
    feed.offer(7, KEYS, first=5)  # numbers 5 to 7: right after 4
    assert sub.queue.get_nowait() == ChangeSet(7, KEYS)
    assert not feed.behind.is_set() and feed.seq == 7
    feed.offer(8, KEYS)  # a block of one
    assert sub.queue.get_nowait() == ChangeSet(8, KEYS)
    feed.offer(12, KEYS, first=10)  # 9 is missing: ask the database
    assert sub.queue.empty() and feed.behind.is_set() and feed.seq == 8
    feed.offer(6, KEYS, first=5)  # already covered
    assert sub.queue.empty() and feed.seq == 8


_time = st.one_of(st.none(), st.integers(0, 2**53))
records = st.builds(
    AgentRecord,
    cc_id=st.integers(1, 65535),
    vdn=st.integers(1, 5000),
    work_no=st.integers(101, 999999),
    cti_status=st.integers(0, 10),
    prev_status=st.one_of(st.none(), st.integers(0, 10)),
    reason=st.one_of(st.none(), st.integers(0, 65535)),
    name=st.one_of(st.none(), st.text()),
    phone_number=st.one_of(st.none(), st.text()),
    media_type=st.integers(0, 100),
    skills=st.lists(st.integers(1, 10000), max_size=5).map(tuple),
    calls=st.lists(st.text(max_size=10), max_size=3).map(tuple),
    **{
        name: _time
        for name in AgentRecord._fields
        if name.endswith(("_at", "_ms")) and name != "created_at"
    },
    created_at=st.integers(0, 2**53),
)


@given(record=records)
def test_a_record_round_trips_through_the_log(record: AgentRecord) -> None:
    assert decode_record(encode_record(record)) == record


def test_an_entry_written_before_a_field_was_added_reads_with_its_default() -> None:
    record = AgentRecord(1, 1, 101, 5, skills=(1,), calls=("c",))
    older = orjson.dumps(list(record)[:-1])  # as if calls_at had not existed yet
    assert decode_record(older) == record._replace(calls_at=None)
