"""The live stream against real ``ccms serve`` processes: every change of a run, in order,
without a gap; resumed after SIGKILL, across workers and across PostgreSQL nodes without
loss or duplicate; credentials that change under open streams; a stop with streams open."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import ADMIN_AK, ADMIN_SK, QUERY_AK, QUERY_SK
from tests.e2e.conftest import SRC, Server, batch
from tests.integration.http.stream_support import Block, Signer, SseReader

pytestmark = pytest.mark.e2e

STREAM = "/ccms/v1/stream"
CHANGES = "/ccms/v1/changes"
TENANT = [("ccId", "1"), ("vdn", "1")]
# Fields that tell the time of reading, not the state of the agent.
MOVING = ("currentStateTime",)


class Floor:
    """The agents as one subscriber holds them: a snapshot, then every change after it,
    each checked to follow the last one it saw (one VDN takes every number: no gap)."""

    def __init__(self) -> None:
        self.agents: dict[int, dict[str, Any]] = {}
        self.seq: int | None = None
        self.changes = 0

    def take(self, block: Block) -> None:
        if block.kind == "snapshot":
            data = block.json
            if data["part"] == 1:
                self.agents = {}
            self.agents.update({a["workNo"]: a for a in data["agents"]})
            if block.id is not None:
                self.seq = int(block.id)
        elif block.kind == "change":
            change = block.json
            assert self.seq is not None
            assert change["seq"] == self.seq + 1, (change["seq"], self.seq)  # no gap, no repeat
            assert block.id == str(change["seq"])
            prev = self.agents.get(change["key"]["agentId"])
            assert without_time(prev) == without_time(change["prev"])  # prev is what we held
            self.agents[change["key"]["agentId"]] = change["cur"]
            self.seq = change["seq"]
            self.changes += 1
        elif block.kind in ("reset", "error"):
            raise AssertionError(f"unexpected {block.kind}: {block.data}")

    def follow(self, reader: SseReader, upto: int, timeout: float = 60.0) -> None:
        """Read ``reader`` until this floor holds every change up to ``upto``."""
        deadline = time.monotonic() + timeout
        while self.seq is None or self.seq < upto:
            block = reader.next(max(0.0, deadline - time.monotonic()))
            assert block is not None, "the stream ended"
            self.take(block)

    def state(self) -> dict[int, dict[str, Any] | None]:
        return {work_no: without_time(agent) for work_no, agent in self.agents.items()}


def without_time(agent: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if agent is None else {k: v for k, v in agent.items() if k not in MOVING}


def open_stream(server: Server, params: list[tuple[str, str]] = TENANT,
                headers: dict[str, str] | None = None, ak: str = ADMIN_AK,
                sk: str = ADMIN_SK) -> SseReader:  # fmt: skip
    signer = Signer(server.url)
    sent = {**signer.get_headers(STREAM, params, ak, sk), **(headers or {})}
    reader = SseReader(server.url, STREAM, params, sent)
    assert reader.status == 200, reader.response.text
    return reader


def newest(server: Server) -> int:
    """The store's newest change number, through the long poll: page after page (an answer
    holds at most 1,000 changes) until one holds none."""
    since = 0
    while True:
        answer = Signer(server.url).get(CHANGES, [*TENANT, ("since", str(since))]).json()
        assert answer["resultCode"] == "0100000", answer
        desc = answer["resultDesc"]
        if desc["reset"]:
            return int(desc["snapshot"]["seq"])
        if not desc["changes"]:
            return int(desc["nextSeq"])
        since = int(desc["nextSeq"])


def fresh_state(server: Server) -> dict[int, dict[str, Any] | None]:
    """The VDN as a new subscriber sees it now."""
    floor = Floor()
    reader = open_stream(server)
    try:
        reader.next()  # retry
        while floor.seq is None:
            block = reader.next()
            assert block is not None
            floor.take(block)
    finally:
        reader.close()
    return floor.state()


def ingest_rounds(server: Server, tag: str, rounds: int, agents: int = 40) -> None:
    for n in range(rounds):
        events = batch(f"{tag}{n}", agents, status=1 + n % 8)
        for event in events:
            event["at"] += n  # later each round: every event changes its agent
        answer = server.events(events).json()
        assert answer["resultDesc"] == {"accepted": agents, "duplicates": 0}, answer


@pytest.fixture
def readers() -> Iterator[list[SseReader]]:
    opened: list[SseReader] = []
    yield opened
    for reader in opened:
        reader.close()


def test_a_subscriber_sees_every_change_of_a_simulated_run_in_order(
    server_factory: Any, tmp_path: Path, readers: list[SseReader]
) -> None:
    server = server_factory().start()
    reader = open_stream(server)
    readers.append(reader)
    floor = Floor()
    floor.follow(reader, 0)
    state_file = tmp_path / "state.json"
    run = subprocess.run(
        [sys.executable, "-m", "ccms", "simulate", "--url", server.url, "--ak", ADMIN_AK,
         "--sk", ADMIN_SK, "--speed", "max", "--agents", "60", "--vdns", "1", "--seed", "5",
         "--duration", "3600", "--batch", "50", "--state-out", str(state_file)],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": SRC}, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    last = newest(server)
    floor.follow(reader, last)
    assert floor.changes == last > 500
    expected = json.loads(state_file.read_text())
    for key, agent in expected.items():
        work_no = int(key.split("/")[2])
        held = floor.agents[work_no]
        for field in ("citStatus", "name", "phoneNumber", "mediaType", "loginDate"):
            assert held[field] == agent[field], (key, field)
    assert floor.state() == fresh_state(server)
    assert server.stop() == 0


def test_resume_after_sigkill_and_restart_loses_nothing_and_repeats_nothing(
    server_factory: Any, readers: list[SseReader]
) -> None:
    server = server_factory().start()
    reader = open_stream(server)
    readers.append(reader)
    floor = Floor()
    ingest_rounds(server, "a", 5)
    floor.follow(reader, 120)  # partway: the rest is still on the way when the server dies
    server.kill()
    for block in reader.rest(timeout=10):  # what was on its way; the stream ends
        floor.take(block)
    server.start()
    ingest_rounds(server, "b", 3)  # while nobody listens
    resumed = open_stream(server, headers={"Last-Event-ID": str(floor.seq)})
    readers.append(resumed)
    assert resumed.next().retry == "2000"
    floor.follow(resumed, 320)
    assert floor.changes == 320
    assert all(block.kind != "snapshot" for block in resumed.seen)
    assert floor.state() == fresh_state(server)
    assert server.stop() == 0


def worker_of(server: Server, reader: SseReader) -> int:
    """The pid of the worker process that holds ``reader``'s connection (Linux /proc)."""
    port = reader.response.extensions["network_stream"].get_extra_info("socket").getsockname()[1]
    assert server.proc is not None
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server.port and int(remote.split(":")[1], 16) == port:
            inode = fields[9]
    assert inode is not None
    for task in Path(f"/proc/{server.proc.pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(OSError):
                links = {os.readlink(fd) for fd in Path(f"/proc/{child}/fd").iterdir()}
                if f"socket:[{inode}]" in links:
                    return int(child)
    raise AssertionError("no worker holds the connection")


def test_workers_each_see_every_workers_changes(
    server_factory: Any, readers: list[SseReader]
) -> None:
    server = server_factory("--workers", "2").start()
    floors = []
    workers: set[int] = set()
    while len(floors) < 4 or len(workers) < 2:  # streams on both workers
        assert len(floors) < 40, "every stream landed on one worker"
        reader = open_stream(server)
        readers.append(reader)
        floor = Floor()
        floor.follow(reader, 0)
        floors.append((reader, floor))
        workers.add(worker_of(server, reader))
    ingest_rounds(server, "w", 10)  # each request on whichever worker accepts it
    for reader, floor in floors:
        floor.follow(reader, 400)
        assert floor.changes == 400
    assert floors[0][1].state() == fresh_state(server)
    assert server.stop() == 0


def write_credentials(server: Server, *keys: tuple[str, str]) -> None:
    text = "".join(
        f'[[access_key]]\nak = "{ak}"\nsk = "{sk}"\nroles = ["admin"]\n\n' for ak, sk in keys
    )
    server.credentials.write_text(text, encoding="utf-8")
    server.credentials.chmod(0o600)


def test_a_key_removed_from_the_credentials_ends_its_streams(
    server_factory: Any, readers: list[SseReader]
) -> None:
    server = server_factory()
    write_credentials(server, (ADMIN_AK, ADMIN_SK), (QUERY_AK, QUERY_SK))
    server.start()
    mine = open_stream(server, ak=QUERY_AK, sk=QUERY_SK)
    theirs = open_stream(server)
    readers += [mine, theirs]
    for reader in (mine, theirs):
        Floor().follow(reader, 0)
    write_credentials(server, (ADMIN_AK, ADMIN_SK))
    last = mine.rest(timeout=15)[-1]
    assert last.kind == "error"
    assert last.json == {
        "resultCode": "0100001",
        "resultDesc": "the access key was removed from the credentials",
    }
    ingest_rounds(server, "k", 1)
    floor = Floor()
    floor.seq = 0
    floor.follow(theirs, 40)
    again = Signer(server.url).get(STREAM, TENANT, QUERY_AK, QUERY_SK)
    assert again.status_code == 401
    assert server.stop() == 0


def test_a_stop_ends_open_streams_at_once(server_factory: Any, readers: list[SseReader]) -> None:
    server = server_factory().start()
    reader = open_stream(server)
    readers.append(reader)
    Floor().follow(reader, 0)
    started = time.monotonic()
    assert server.stop() == 0
    assert time.monotonic() - started < 5  # not uvicorn's 10 s graceful timeout
    assert reader.rest(timeout=5) == []


@pytest.mark.postgres
def test_subscribe_on_one_node_ingest_on_the_other_then_resume_there(
    server_factory: Any, readers: list[SseReader]
) -> None:
    from tests.integration.store.conftest import make_schema

    schema = make_schema()
    try:
        a = server_factory("--store", schema.url).start()
        b = server_factory("--store", schema.url).start()
        reader = open_stream(a)
        readers.append(reader)
        floor = Floor()
        floor.follow(reader, 0)
        ingest_rounds(b, "n", 4)  # ingested on B, pushed by A
        floor.follow(reader, 160)
        a.kill()
        ingest_rounds(b, "m", 2)
        resumed = open_stream(b, headers={"Last-Event-ID": str(floor.seq)})
        readers.append(resumed)
        floor.follow(resumed, 240)
        assert floor.changes == 240
        assert all(block.kind != "snapshot" for block in resumed.seen)
        assert floor.state() == fresh_state(b)
        assert b.stop() == 0
    finally:
        schema.drop()


def test_a_view_token_opens_the_stream_of_a_real_server(
    server_factory: Any, readers: list[SseReader]
) -> None:
    server = server_factory().start()
    signer = Signer(server.url)
    token = signer.token(ccId=1, vdn=1, ttlS=60)["token"]
    reader = SseReader(server.url, STREAM, [*TENANT, ("token", token)])
    readers.append(reader)
    assert reader.status == 200
    floor = Floor()
    floor.follow(reader, 0)
    ingest_rounds(server, "t", 1)
    floor.follow(reader, 40)
    outside = httpx.get(f"{server.url}{STREAM}?ccId=1&vdn=2&token={token}", timeout=10)
    assert outside.json()["resultCode"] == "0101003"
    assert server.stop() == 0


def test_a_cursor_older_than_the_window_gets_a_reset_and_a_fresh_snapshot(
    server_factory: Any, readers: list[SseReader]
) -> None:
    server = server_factory("--stream-window-changes", "10").start()
    ingest_rounds(server, "o", 2)  # 80 changes: the log keeps the newest 10
    reader = open_stream(server, [*TENANT, ("since", "5")])
    readers.append(reader)
    blocks = reader.until(lambda b: b.kind == "snapshot" and b.id is not None)
    assert [b.kind for b in blocks] == ["retry", "reset", "snapshot"]
    assert blocks[1].json == {"reason": "cursor-expired", "seq": 80}
    floor = Floor()
    floor.take(blocks[-1])
    assert floor.seq == 80 and len(floor.agents) == 40
    ingest_rounds(server, "p", 1)
    floor.follow(reader, 120)  # the same stream goes on after its snapshot
    assert floor.state() == fresh_state(server)
    assert server.stop() == 0
