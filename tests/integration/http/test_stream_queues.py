"""The stream's queue figures (``queues=1``, ``docs/stream.md``): a ``queue`` event after
the snapshot once the VDN has call data, a new one when the figures change, narrowed to the
stream's skill queues; none without ``queues=1``; a bad value refused before the first byte.
Real HTTP on loopback, on both backends."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from tests.integration.http.stream_support import Block
from tests.integration.http.test_stream_routes import Served, envelope, serve  # noqa: F401

from ccms.domain.queues import window_start

pytestmark = pytest.mark.integration

WITH_QUEUES = [("ccId", "1"), ("vdn", "1"), ("queues", "1")]


def call(event_id: str, call_id: str, at: int, kind: str, **fields: Any) -> dict[str, Any]:
    return {"eventId": event_id, "ccId": 1, "vdn": 1, "callId": call_id, "at": at,
            "callEvent": kind, **fields}  # fmt: skip


def queue_events(blocks: list[Block]) -> list[dict[str, Any]]:
    return [b.json for b in blocks if b.kind == "queue"]


def test_queue_figures_follow_the_snapshot_and_each_change(serve: Callable[..., Served]) -> None:
    served = serve()
    served.ingest([101, 102], skills=[1, 2])
    stream = served.open(WITH_QUEUES)
    stream.snapshot()
    # no call data yet: heartbeats, no queue figures
    served.ingest([103], skills=[2])
    assert queue_events(stream.changes(1)) == []
    now = int(time.time() * 1000)
    caller = call("c1", "1790000000-1", now - 3_000, "queue", skillId=2)
    assert served.api.events([caller])["accepted"] == 1
    first = queue_events(stream.until(lambda b: b.kind == "queue", 10))[0]
    assert first["windowStart"] == window_start(first["serverTime"])
    assert first["serviceLevelS"] == 20
    assert first["queues"] == [
        {"skillId": 1, "waiting": 0, "longestWaitSince": None, "entered": 0, "answered": 0,
         "answeredInServiceLevel": 0, "abandoned": 0, "ended": 0},
        {"skillId": 2, "waiting": 1, "longestWaitSince": now - 3_000,
         "entered": int(now - 3_000 >= first["windowStart"]), "answered": 0,
         "answeredInServiceLevel": 0, "abandoned": 0, "ended": 0},
    ]  # fmt: skip
    # answered: it waits no more; the next event says so (and no block has an id)
    answer = call("c2", "1790000000-1", now, "answer", agentId=101)
    assert served.api.events([answer])["accepted"] == 1
    blocks = stream.until(lambda b: b.kind == "queue", 10)
    second = queue_events(blocks)[0]
    assert second["queues"][1]["waiting"] == 0 and second["queues"][1]["longestWaitSince"] is None
    assert [b.id for b in blocks if b.kind == "queue"] == [None]
    # a new stream gets the figures after its snapshot at once
    again = served.open(WITH_QUEUES)
    kinds = [b.kind for b in again.until(lambda b: b.kind == "queue", 5)]
    assert kinds.index("queue") > kinds.index("snapshot")


def test_queue_figures_are_narrowed_to_the_streams_skill_queues(
    serve: Callable[..., Served],
) -> None:
    served = serve()
    served.ingest([101], skills=[1, 2, 3])
    now = int(time.time() * 1000)
    assert served.api.events([call("c1", "1790000000-1", now, "queue", skillId=3)])["accepted"]
    stream = served.open([*WITH_QUEUES, ("skills", "3,1")])
    figures = queue_events(stream.until(lambda b: b.kind == "queue", 10))[0]
    assert [q["skillId"] for q in figures["queues"]] == [1, 3]
    assert figures["queues"][1]["waiting"] == 1


def test_no_queue_figures_unless_asked_and_a_bad_value_is_refused(
    serve: Callable[..., Served],
) -> None:
    served = serve(stream_heartbeat_s=0.2)
    served.ingest([101], skills=[1])
    now = int(time.time() * 1000)
    assert served.api.events([call("c1", "1790000000-1", now, "queue", skillId=1)])["accepted"]
    asked = served.open(WITH_QUEUES)
    plain = served.open()
    asked.until(lambda b: b.kind == "queue", 10)
    # the stream that asked got its figures; the other, over as many heartbeats, none
    blocks = plain.until(lambda b: b.kind == "heartbeat", 5)
    blocks += plain.until(lambda b: b.kind == "heartbeat", 5)
    assert "queue" not in [b.kind for b in blocks]
    refused = served.open([*WITH_QUEUES[:2], ("queues", "yes")])
    assert "queues must be 1 or 0" in envelope(refused.response, 200, "0100002")
