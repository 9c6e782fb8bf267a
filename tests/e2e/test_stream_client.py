"""End to end: the client's live stream against a real ``ccms serve`` on loopback.

What the iterators show when the connection drops (a TCP forwarder in front of the server
cuts it) and when the server is killed and started again: every change once, in ``seq``
order, nothing lost; a stale cursor gets a reset and a fresh snapshot; ``ccms watch``
shows a change posted to the intake, and "reconnecting" while the server is down.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from tests.conftest import ADMIN_AK, ADMIN_SK
from tests.e2e.conftest import SRC, Server, mid_window_ms, wait_until

from ccms.client import (
    AsyncClient,
    Client,
    InvalidParameterError,
    PermissionDeniedError,
    StreamChange,
    StreamQueues,
    StreamReset,
    StreamSnapshot,
    StreamStatus,
    StreamView,
    write_profile,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FAST = ("--stream-heartbeat-s", "0.5")


def changes(tag: str, work_nos: range, status: int, at: int | None = None) -> list[dict[str, Any]]:
    at = at if at is not None else int(time.time() * 1000)
    return [{"eventId": f"{tag}-{n}", "ccId": 1, "vdn": 1, "agentId": n, "at": at + i,
             "ctiStatus": status, "name": f"Agent {n}"}
            for i, n in enumerate(work_nos)]  # fmt: skip


def marks(events: list[dict[str, Any]]) -> set[tuple[int, int]]:
    return {(event["agentId"], event["at"]) for event in events}


def seen(items: list[Any]) -> list[StreamChange]:
    return [item for item in items if isinstance(item, StreamChange)]


def check_once_in_order(items: list[Any], expected: set[tuple[int, int]]) -> None:
    """Every expected change (agent, event time) seen once, the changes in ``seq`` order."""
    got = seen(items)
    seqs = [change.seq for change in got]
    assert seqs == sorted(set(seqs)), "a change twice, or out of order"
    keys = [(change.key.work_no, change.at) for change in got]
    assert len(keys) == len(set(keys)), "the same change under two numbers"
    assert expected <= set(keys), f"changes lost: {sorted(expected - set(keys))[:5]}"


class Cutter:
    """A TCP forwarder on loopback in front of a port; :meth:`cut` resets every connection
    it carries (the network between a subscriber and the server is the process boundary)."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self.listener.accept()
            except OSError:
                return
            far = socket.create_connection(("127.0.0.1", self.target))
            with self.lock:
                self.pairs.append((near, far))
            for a, b in ((near, far), (far, near)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.close()

    def cut(self) -> int:
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for near, far in pairs:
            for sock in (near, far):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        return len(pairs)

    def close(self) -> None:
        self.listener.close()
        self.cut()


@pytest.fixture
def cutter() -> Iterator[Callable[[int], Cutter]]:
    made: list[Cutter] = []

    def make(port: int) -> Cutter:
        made.append(Cutter(port))
        return made[-1]

    yield make
    for one in made:
        one.close()


def test_a_cut_connection_resumes_through_the_blocking_iterator(
    server_factory: Any, cutter: Callable[[int], Cutter]
) -> None:
    server: Server = server_factory(*FAST).start()
    server.events(changes("seed", range(101, 111), 1, at=int(time.time() * 1000) - 60_000))
    proxy = cutter(server.port)
    now = int(time.time() * 1000)
    first, second = (
        changes("a", range(101, 111), 5, now),
        changes("b", range(101, 111), 6, now + 100),
    )
    expected = marks(first) | marks(second)
    items: list[Any] = []
    ready = threading.Event()
    failures: list[BaseException] = []

    def act() -> None:
        try:
            ready.wait(20)
            assert server.events(first).json()["resultDesc"]["accepted"] == 10
            wait_until(lambda: marks(first) <= {(c.key.work_no, c.at) for c in seen(items)})
            assert proxy.cut() >= 1
            assert server.events(second).json()["resultDesc"]["accepted"] == 10
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)

    helper = threading.Thread(target=act, daemon=True)
    helper.start()
    deadline = time.monotonic() + 30
    with Client(proxy.url, ADMIN_AK, ADMIN_SK, jitter=lambda: 0.1) as cms:
        with cms.stream(1, 1, reconnect_deadline=20) as stream:
            for item in stream:
                items.append(item)
                if isinstance(item, StreamSnapshot):
                    ready.set()
                got = {(c.key.work_no, c.at) for c in seen(items)}
                if expected <= got or failures or time.monotonic() > deadline:
                    break
            cursor = stream.cursor
    helper.join(10)
    assert failures == []
    check_once_in_order(items, expected)
    statuses = [item.state for item in items if isinstance(item, StreamStatus)]
    assert statuses == ["live", "reconnecting", "live"]
    assert sum(isinstance(item, StreamSnapshot) for item in items) == 1  # resumed, not restarted
    assert cursor == seen(items)[-1].seq


@pytest.mark.anyio
async def test_a_subscriber_resumes_after_the_server_is_killed_and_started_again(
    server_factory: Any,
) -> None:
    server: Server = server_factory(*FAST)
    await anyio.to_thread.run_sync(server.start)
    now = int(time.time() * 1000)
    before = changes("before", range(101, 151), 5, now)  # acknowledged, then SIGKILL at once
    after = changes("after", range(101, 151), 1, now + 100)  # while the subscriber reconnects
    items: list[Any] = []

    async def until(check: Callable[[], bool], seconds: float = 30) -> None:
        with anyio.fail_after(seconds):
            while not check():
                await anyio.sleep(0.02)

    def got() -> set[tuple[int, int]]:
        return {(c.key.work_no, c.at) for c in seen(items)}

    async with AsyncClient(server.url, ADMIN_AK, ADMIN_SK, jitter=lambda: 0.1) as cms:

        async def read() -> None:
            async with cms.stream(1, 1) as stream:
                async for item in stream:
                    items.append(item)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(read)
            await until(lambda: any(isinstance(i, StreamSnapshot) for i in items))
            answer = await anyio.to_thread.run_sync(server.events, before)
            assert answer.json()["resultDesc"]["accepted"] == 50
            await anyio.to_thread.run_sync(server.kill)
            await until(lambda: any(isinstance(i, StreamStatus) and not i.live for i in items))
            await anyio.to_thread.run_sync(server.start)
            answer = await anyio.to_thread.run_sync(server.events, after)
            assert answer.json()["resultDesc"]["accepted"] == 50
            await until(lambda: marks(before) | marks(after) <= got())
            tasks.cancel_scope.cancel()
    check_once_in_order(items, marks(before) | marks(after))
    assert sum(isinstance(item, StreamSnapshot) for item in items) == 1
    # what the iterator says now is what the server says
    view = StreamView()
    for item in items:
        view.apply(item)
    assert {n: int(a.cti_status) for n, a in view.agents.items()} == dict.fromkeys(
        range(101, 151), 1
    )


def test_a_cursor_older_than_the_window_gets_a_reset_and_a_fresh_snapshot(
    server_factory: Any,
) -> None:
    server: Server = server_factory(*FAST, "--stream-window-changes", "5").start()
    server.events(changes("old", range(101, 111), 1, at=int(time.time() * 1000) - 60_000))
    with Client(server.url, ADMIN_AK, ADMIN_SK) as cms, cms.stream(1, 1, since=1) as stream:
        items = [next(stream) for _ in range(3)]
    assert isinstance(items[0], StreamStatus) and items[0].live
    assert isinstance(items[1], StreamReset) and items[1].reason == "cursor-expired"
    assert isinstance(items[2], StreamSnapshot)
    assert sorted(agent.work_no for agent in items[2].agents) == list(range(101, 111))
    assert items[2].seq >= items[1].seq


def test_tokens_the_long_poll_and_bad_arguments(server_factory: Any) -> None:
    server: Server = server_factory(*FAST).start()
    server.events(changes("seed", range(101, 104), 1, at=int(time.time() * 1000) - 60_000))
    with Client(server.url, ADMIN_AK, ADMIN_SK) as cms:
        token = cms.create_view_token(cc_id=1, vdn=1, ttl_s=600)
        assert token.expires_at > time.time() * 1000
        with cms.stream(1, 1, token=token.token) as stream:
            items = [next(stream) for _ in range(2)]
        assert isinstance(items[1], StreamSnapshot) and len(items[1].agents) == 3
        with pytest.raises(PermissionDeniedError), cms.stream(1, 2, token=token.token) as other:
            next(other)
        with pytest.raises(InvalidParameterError, match="vdn"), cms.stream(1, 0) as bad:
            next(bad)
        with pytest.raises(InvalidParameterError, match="since"), cms.stream(1, 1, since=-1) as bad:
            next(bad)
        with pytest.raises(TypeError, match="skills must be a list of ints"):
            cms.stream(1, 1, skills="1,2")  # type: ignore[arg-type]

        page = cms.changes(1, 1)  # no cursor: the whole state to start from
        assert page.reset and page.snapshot is not None and len(page.snapshot.agents) == 3
        cursor = page.next_seq
        posted = threading.Timer(0.3, server.events, [changes("poll", range(101, 102), 5)])
        posted.start()
        page = cms.changes(1, 1, since=cursor, wait=10)
        posted.join()
        assert not page.reset and [c.key.work_no for c in page.changes] == [101]
        assert page.changes[0].cur.cti_status == 5 and page.next_seq == page.changes[0].seq
        with pytest.raises(InvalidParameterError, match="wait"):
            cms.changes(1, 1, since=cursor, wait=31)


def _doc_example(name: str) -> str:
    text = (ROOT / "docs" / "stream.md").read_text(encoding="utf-8")
    after = text.split(f"<!-- example: {name} -->", 1)[1]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_docs_token_example_gives_a_token_that_opens_the_stream(
    server_factory: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server: Server = server_factory(*FAST).start()
    server.events(changes("seed", range(101, 103), 1))
    profile = tmp_path / "client.toml"
    write_profile("demo", server.url, ADMIN_AK, ADMIN_SK, profile)
    monkeypatch.setenv("CCMS_CLIENT_CONFIG", str(profile))
    exec(compile(_doc_example("stream-token"), "docs/stream.md", "exec"), {})
    token, expires_at = capsys.readouterr().out.split()
    assert int(expires_at) > time.time() * 1000
    # what the curl line does next: the stream of that VDN with the token, unsigned
    query = {"ccId": "1", "vdn": "1", "token": token}
    with httpx.stream("GET", server.url + "/ccms/v1/stream", params=query, timeout=10) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/event-stream; charset=utf-8"
        text = ""
        for chunk in answer.iter_text():
            text += chunk
            if "event: snapshot" in text and text.endswith("\n\n"):
                break
    assert text.startswith("retry: 2000\n\nevent: snapshot\n")
    other = httpx.get(server.url + "/ccms/v1/stream", params={**query, "vdn": "2"}, timeout=10)
    assert other.json()["resultCode"] == "0101003"  # the token is for VDN 1 only


def test_the_docs_python_example_runs(
    server_factory: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server: Server = server_factory(*FAST).start()
    server.events(changes("seed", range(101, 104), 1, at=int(time.time() * 1000) - 60_000))
    profile = tmp_path / "client.toml"
    write_profile("demo", server.url, ADMIN_AK, ADMIN_SK, profile)
    monkeypatch.setenv("CCMS_CLIENT_CONFIG", str(profile))
    done = threading.Event()

    def post() -> None:  # agent 4711 changes until the example has seen it
        for n in range(100):
            if done.wait(0.2):
                return
            server.events(changes(f"doc{n}", range(4711, 4712), 5 if n % 2 else 1))

    helper = threading.Thread(target=post, daemon=True)
    helper.start()
    try:
        exec(compile(_doc_example("stream-python"), "docs/stream.md", "exec"), {})
    finally:
        done.set()
        helper.join(5)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("agents as of " + lines[0].rsplit(" ", 1)[-1])
    assert any(": agent 4711 " in line for line in lines[1:-1])
    assert lines[-1].startswith("resume later with since = ")


def test_ccms_watch_shows_a_change_at_once_and_says_when_it_reconnects(
    server_factory: Any, tmp_path: Path
) -> None:
    server: Server = server_factory(*FAST).start()
    server.events(changes("seed", range(101, 104), 1, at=int(time.time() * 1000) - 60_000))
    env = {**os.environ, "PYTHONPATH": SRC, "CCMS_URL": server.url, "CCMS_AK": ADMIN_AK,
           "CCMS_SK": ADMIN_SK, "CCMS_CLIENT_CONFIG": str(tmp_path / "none.toml")}  # fmt: skip
    errors = (tmp_path / "watch.err").open("w")
    watch = subprocess.Popen(
        [sys.executable, "-m", "ccms", "watch", "1", "1", "--interval", "30"],
        env=env, stdout=subprocess.PIPE, stderr=errors, text=True,
    )  # fmt: skip
    lines: list[str] = []

    def read() -> None:
        assert watch.stdout is not None
        for line in watch.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_until(lambda: any(line.startswith("call center 1, VDN 1: 3 agents") for line in lines))
        assert any("(live, Ctrl-C to stop)" in line for line in lines)
        server.events(changes("watch", range(102, 103), 5))
        # a frame at once, long before the 30 s interval
        wait_until(lambda: any(line.split()[:3] == ["102", "Agent", "102"] and "talking" in line
                               for line in lines), timeout=10)  # fmt: skip
        server.kill()
        wait_until(lambda: any(line.startswith("ccms: reconnecting in") for line in lines))
        server.start()
        server.events(changes("back", range(103, 104), 8))
        wait_until(lambda: any(line.split()[:3] == ["103", "Agent", "103"] and "rest" in line
                               for line in lines), timeout=20)  # fmt: skip
    finally:
        watch.send_signal(signal.SIGINT)
        code = watch.wait(15)
        reader.join(5)
        assert watch.stdout is not None
        watch.stdout.close()
        errors.close()
    assert code == 0, (tmp_path / "watch.err").read_text()
    at = next(n for n, line in enumerate(lines) if line.startswith("ccms: reconnecting in"))
    reconnecting = lines[at]
    # the frame above that footer does not call itself live
    header = next(line for line in reversed(lines[:at]) if line.startswith("call center 1"))
    assert "(reconnecting, Ctrl-C to stop)" in header, header
    assert re.search(
        r"attempt \d+\): (the stream broke off|the server closed the stream|connection refused)",
        reconnecting,
    )


def test_the_stream_with_queues_yields_the_queue_figures(server_factory: Any) -> None:
    """``queues=True``: a StreamQueues item after the snapshot, and another when a call
    changes the figures; StreamView keeps the newest. Without it, none."""
    server: Server = server_factory(*FAST).start()
    now = mid_window_ms()  # the answer in the figures' current 5 minutes
    server.events([{**changes("seed", range(101, 102), 1)[0], "skills": [4]}])
    queued = {"eventId": "q1", "ccId": 1, "vdn": 1, "callId": "1790000000-1",
              "at": now - 2_000, "callEvent": "queue", "skillId": 4}  # fmt: skip
    assert server.events([queued]).json()["resultDesc"]["accepted"] == 1
    view = StreamView()
    kinds: list[str] = []
    with Client(server.url, ADMIN_AK, ADMIN_SK) as cms:
        with cms.stream(1, 1, queues=True) as stream:
            for item in stream:
                view.apply(item)
                kinds.append(type(item).__name__)
                if isinstance(item, StreamQueues) and item.queues[0].waiting == 1:
                    answer = {**queued, "eventId": "q2", "at": now, "callEvent": "answer",
                              "agentId": 101}  # fmt: skip
                    del answer["skillId"]
                    desc = server.events([answer]).json()["resultDesc"]
                    assert desc["accepted"] == 1, desc
                elif isinstance(item, StreamQueues):
                    break
        plain_kinds = []
        with cms.stream(1, 1) as plain:
            for item in plain:
                plain_kinds.append(type(item).__name__)
                if isinstance(item, StreamSnapshot):
                    time.sleep(1.5)  # a stream with queues=1 would have its figures by now
                    server.events(changes("later", range(101, 102), 7))
                if isinstance(item, StreamChange):
                    break
    assert kinds.index("StreamQueues") > kinds.index("StreamSnapshot")
    assert view.queues is not None
    (queue,) = view.queues.queues
    assert (queue.skill_id, queue.waiting, queue.longest_wait_since) == (4, 0, None)
    assert queue.answered == 1 and queue.service_level == 1.0
    assert view.queues.window_start == view.queues.server_time // 300_000 * 300_000
    assert "StreamQueues" not in plain_kinds
