"""The on-disk spool: in order, nothing skipped, bounded, across restarts and crashes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from ccms.domain.agent import AgentKey
from ccms.feeds.asterisk.spool import Spool, SpoolError

pytestmark = pytest.mark.integration


def event(n: int, agent: int = 101, status: int = 1) -> dict[str, Any]:
    at = 1_800_000_000_000 + n
    return {"eventId": f"ami:1:1:{agent}:{at}:0", "ccId": 1, "vdn": 1, "agentId": agent,
            "at": at, "ctiStatus": status, "skills": [11]}  # fmt: skip


def drain(spool: Spool, batch: int = 7) -> list[int]:
    seen = []
    while spool.unread:
        seen += [e["at"] - 1_800_000_000_000 for e in spool.read(batch)]
        spool.commit()
    return seen


def test_events_come_out_in_order_across_segments_and_acknowledged_ones_go(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**7, segment_bytes=400).open()
    for n in range(50):
        assert spool.append([event(n)])
    assert len(list(tmp_path.glob("*.jsonl"))) > 3
    assert drain(spool) == list(range(50))
    assert spool.pending == 0 and spool.pending_bytes == 0
    assert len(list(tmp_path.glob("*.jsonl"))) == 1  # only the segment being written
    spool.close()


def test_what_was_not_acknowledged_survives_a_restart(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**7, segment_bytes=300).open()
    spool.append([event(n) for n in range(20)])
    first = spool.read(5)
    spool.commit()
    spool.read(5)  # handed out, never acknowledged (the adapter stopped mid-delivery)
    spool.close()
    again = Spool(tmp_path, max_bytes=10**7, segment_bytes=300).open()
    assert again.pending == 15
    assert drain(again) == list(range(5, 20))
    assert [e["at"] % 1000 for e in first] == [0, 1, 2, 3, 4]
    assert again.last[AgentKey(1, 1, 101)].at == event(19)["at"]
    again.close()


def test_a_line_cut_by_a_crash_is_dropped_and_writing_goes_on(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**7).open()
    spool.append([event(0), event(1)])
    spool.close()
    segment = next(tmp_path.glob("*.jsonl"))
    with segment.open("ab") as file:
        file.write(b'{"eventId": "ami:1:1:101:18000')  # the crash
    again = Spool(tmp_path, max_bytes=10**7).open()
    again.append([event(2)])
    assert drain(again) == [0, 1, 2]
    again.close()


def test_the_bound_refuses_events_and_room_comes_back_with_acknowledgements(tmp_path: Path) -> None:
    size = len(b'{"eventId":"ami:1:1:101:1800000000000:0"}') * 3
    spool = Spool(tmp_path, max_bytes=2000).open()
    accepted = 0
    while spool.append([event(accepted)]):
        accepted += 1
    assert 0 < accepted < 2000 // size * 2
    assert spool.refused == 1
    assert spool.pending_bytes <= 2000
    drain(spool)
    assert spool.append([event(accepted)])
    spool.close()


def test_one_adapter_a_folder(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1000).open()
    with pytest.raises(SpoolError, match="in use by another adapter"):
        Spool(tmp_path, max_bytes=1000).open()
    spool.close()
    Spool(tmp_path, max_bytes=1000).open().close()


def test_wait_returns_when_an_event_arrives(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**6).open()

    async def go() -> list[dict[str, Any]]:
        waiting = asyncio.create_task(spool.wait())
        await asyncio.sleep(0)
        assert not waiting.done()
        spool.append([event(0)])
        await asyncio.wait_for(waiting, 5)
        return spool.read(10)

    assert [e["at"] for e in asyncio.run(go())] == [event(0)["at"]]
    spool.close()
