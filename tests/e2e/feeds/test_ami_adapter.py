"""``ccms adapter ami`` end to end: a fake Asterisk (the recorded fixture, live) -> the
adapter process -> a real ``ccms serve`` on loopback.

The fake Asterisk runs in this process (the process boundary the adapter talks to); the
adapter and ccms are real processes. What ccms ends up holding is compared with the
oracle read from the transcript (``ami_oracle.py``), after faults the fake injects.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from ami_oracle import ALICE, BOB, CAROL, CONFIG, FINAL, SEQUENCE
from fake_ami import FakeAsterisk
from tests.conftest import ADMIN_AK, ADMIN_SK
from tests.e2e.conftest import SRC, Server, free_port, wait_until

from ccms.feeds.asterisk.transcript import read_transcript
from ccms.store.sqlite import SQLiteStore

pytestmark = pytest.mark.e2e

SPEED = 10.0  # the fixture's 42 s in about 4
CCMS_DOWN_S = float(os.environ.get("CCMS_TEST_AMI_CCMS_DOWN_S", "3"))  # "a minute", shortened


class AdapterProcess:
    """One ``ccms adapter ami`` process with its config file and log."""

    def __init__(self, workdir: Path, ami_port: int, url: str, *, resync_s: float = 300.0,
                 ping_s: float = 1.0, spool: str = "spool") -> None:  # fmt: skip
        self.workdir = workdir
        self.listen = free_port()
        self.config = workdir / f"ami-{self.listen}.toml"
        self.config.write_text(
            CONFIG.format(ami_port=ami_port, ping_s=ping_s, resync_s=resync_s, url=url,
                          ak=ADMIN_AK, sk=ADMIN_SK, listen_port=self.listen, spool=spool),
            encoding="utf-8",
        )  # fmt: skip
        self.config.chmod(0o600)
        self.log = workdir / f"adapter-{self.listen}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *extra: str) -> AdapterProcess:
        env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
        command = [sys.executable, "-m", "ccms", "adapter", "ami", "--config", str(self.config),
                   *extra]  # fmt: skip
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                command, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def healthz(self) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.listen}/healthz", timeout=2)

    def metric(self, name: str) -> float:
        text = httpx.get(f"http://127.0.0.1:{self.listen}/metrics", timeout=2).text
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise KeyError(name)

    def wait_healthy(self, timeout: float = 20.0) -> None:
        wait_until(lambda: self.healthz().status_code == 200, timeout=timeout)

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return int(self.proc.returncode)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def rig(tmp_path: Path, server_factory: Any) -> Any:
    adapters: list[AdapterProcess] = []
    with FakeAsterisk() as ami:
        server = server_factory().start()

        def adapter(**kw: Any) -> AdapterProcess:
            made = AdapterProcess(tmp_path, ami.port, server.url, **kw)
            adapters.append(made)
            return made

        yield ami, server, adapter
        for made in adapters:
            if made.proc is not None and made.proc.poll() is None:
                made.proc.kill()
                made.proc.wait(5)


def history(server: Server, agent: int) -> list[tuple[int, int | None, int, str]]:
    """The agent's applied status history in ccms, oldest first: (status, reason, at, id)."""

    async def read() -> list[tuple[int, int | None, int, str]]:
        store = SQLiteStore(str(server.db))
        await store.open()
        try:
            rows = await store.history(1, 1, agent, 1000)
        finally:
            await store.close()
        return [(r.cti_status, r.reason, r.at, r.event_id) for r in reversed(rows) if r.applied]

    return asyncio.run(read())


def matches_oracle(server: Server, ami: FakeAsterisk, agent: int) -> bool:
    got = history(server, agent)
    want = SEQUENCE[agent]
    if [(s, r) for s, r, _, _ in got] != [(s, r) for s, r, _ in want]:
        return False
    return all(
        w is None or at == w + ami.shift * 1000
        for (_, _, at, _), (_, _, w) in zip(got, want, strict=False)
    )


def assert_oracle(server: Server, ami: FakeAsterisk, agent: int, timeout: float = 20) -> None:
    """Wait for the agent's history to be the oracle's; else show both."""
    try:
        wait_until(lambda: matches_oracle(server, ami, agent), timeout=timeout)
    except AssertionError:
        got = [(s, r, at - ami.shift * 1000) for s, r, at, _ in history(server, agent)]
        assert got == SEQUENCE[agent], f"agent {agent}: {got}"
        raise


def current(server: Server, agent: int) -> tuple[int, Any] | None:
    answer = server.agent(agent).json()
    if answer["resultCode"] != "0100000":
        return None
    return answer["resultDesc"]["citStatus"], answer["resultDesc"]


def ready(feed: Any, server: Server) -> None:
    """The adapter is healthy and its first QueueStatus snapshot is in ccms: only then is
    the transcript played, so that the snapshot shows the members as they were at its
    t=0.502 (under load it could otherwise be answered after the first live frames)."""
    feed.wait_healthy()
    wait_until(lambda: current(server, ALICE) is not None and current(server, BOB) is not None,
               timeout=20)  # fmt: skip


def test_healthz_says_fully_booted_from_the_moment_it_is_healthy(rig: Any) -> None:
    """Healthy means past FullyBooted, also while the first QueueStatus is still on its way:
    the detail says so (it once said "waiting for FullyBooted" in a 200)."""
    ami, server, adapter = rig
    ami.queue_status_delay = 8.0
    feed = adapter().start()
    feed.wait_healthy()
    wait_until(lambda: ami.queue_status_asked == 1)  # asked right after FullyBooted
    body = feed.healthz().json()
    assert current(server, ALICE) is None  # the resync is still in flight
    assert body["resultCode"] == "0100000" and body["resultDesc"]["ami"] == "fully booted"
    wait_until(lambda: current(server, ALICE) is not None, timeout=20)
    assert feed.healthz().json()["resultDesc"]["ami"] == "fully booted"


def test_the_fixture_live_gives_each_agent_the_cti_sequence_read_from_it(
    rig: Any, tmp_path: Path, server_factory: Any
) -> None:
    ami, server, adapter = rig
    recording = tmp_path / "recorded.txt"
    feed = adapter().start("--record", str(recording))
    feed.wait_healthy()
    body = feed.healthz().json()
    assert body["resultCode"] == "0100000" and body["resultDesc"]["ami"] == "fully booted"
    # the first snapshot: Alice and Bob are static members, Status 0 -> available
    wait_until(lambda: current(server, ALICE) and current(server, BOB))
    snapshot_at = history(server, ALICE)[0][2]
    assert abs(snapshot_at / 1000 - time.time()) < 30
    ami.play(speed=SPEED)  # the whole recording: both orders of AgentComplete/QueueMemberStatus
    for agent in (ALICE, BOB, CAROL):
        assert_oracle(server, ami, agent)
    for agent, (status, _skills) in FINAL.items():
        assert current(server, agent)[0] == status  # type: ignore[index]
    why_each_state_is_believed(server, ami)
    assert feed.metric("ccms_ami_spool_pending_events") == 0
    assert feed.metric("ccms_ami_unmapped_members") == 0
    assert feed.stop() == 0
    # The recording is in the fixture's format, without the secret...
    entries = read_transcript(recording)
    assert entries[0].kind == "banner"
    login = next(e for e in entries if e.kind == "sent")
    assert login.frame is not None and login.frame.get("Secret") == "********"
    assert "ccmspass" not in recording.read_text()
    # ...and replaying it into a fresh ccms gives the very same events, ids included.
    (tmp_path / "fresh").mkdir()
    fresh = server_factory(workdir=tmp_path / "fresh").start()
    try:
        replay = AdapterProcess(tmp_path, ami.port, fresh.url, spool="spool-replay")
        replay.start("--replay", str(recording), "--speed", "max")
        assert replay.proc is not None and replay.proc.wait(60) == 0, replay.output()
        for agent in (ALICE, BOB, CAROL):
            assert history(fresh, agent) == history(server, agent)
    finally:
        fresh.stop()


def detail(server: Server, agent: int) -> dict[str, Any]:
    """``POST /ccms/v1/agents/detail`` with the whole history."""
    body = {"ccId": 1, "vdn": 1, "workNo": agent, "historyLimit": 1000}
    answer = server.post("/ccms/v1/agents/detail", body).json()
    assert answer["resultCode"] == "0100000", answer
    return dict(answer["resultDesc"])


def why_each_state_is_believed(server: Server, ami: FakeAsterisk) -> None:
    """The agent-detail route shows, for each status, the adapter's source and its raw
    state: the Asterisk fields the status was derived from."""
    shown = {agent: detail(server, agent) for agent in (ALICE, BOB, CAROL)}
    for agent, answer in shown.items():
        applied = [h for h in reversed(answer["history"]) if h["applied"]]
        assert [(h["ctiStatus"], h["reason"]) for h in applied] == [
            (s, r) for s, r, _ in SEQUENCE[agent]
        ]
        assert {h["source"] for h in answer["history"]} == {"asterisk-ami"}
        assert answer["agent"]["source"] == "asterisk-ami"
        # the agent's cause is its newest status event
        assert answer["agent"]["rawState"] == applied[-1]["rawState"]
    alice, bob, carol = (shown[a] for a in (ALICE, BOB, CAROL))
    first_call, second_call = 1796155475 + ami.shift, 1796155490 + ami.shift  # LastCall, s
    lunch = next(h for h in alice["history"] if h["ctiStatus"] == 8)
    assert lunch["rawState"] == f"sales: Status=1 InCall=0 Paused=1 (Lunch) LastCall={first_call}"
    assert lunch["at"] == 1796155480565 + ami.shift * 1000
    phone_gone = next(h for h in bob["history"] if h["ctiStatus"] == 7)
    assert (phone_gone["reason"], phone_gone["rawState"]) == (
        5, f"sales: Status=5 InCall=0 Paused=0 LastCall={second_call}",
    )  # fmt: skip
    assert alice["agent"]["rawState"] == f"sales: Status=1 InCall=0 Paused=0 LastCall={first_call}"
    assert (carol["agent"]["ctiStatus"], carol["agent"]["rawState"]) == (0, "no configured queue")


def test_a_socket_closed_mid_frame_and_a_half_open_one_are_repaired(rig: Any) -> None:
    ami, server, adapter = rig
    feed = adapter(ping_s=0.5).start()
    ready(feed, server)
    ami.play(end=13.0, speed=SPEED)
    # Alice's Lunch pause (t=13.510) reaches Asterisk's table but only half of it the
    # adapter: the socket closes in the middle of the frame.
    pause = ami.events[ami.index_of("QueueMemberPause", 13.510)][1]
    ami.apply(pause)
    ami.close_mid_frame(pause)
    wait_until(lambda: current(server, ALICE)[0] == 8, timeout=20)  # type: ignore[index]
    assert feed.metric("ccms_ami_partial_frames_total") >= 1
    # Now a half-open socket: open, but nothing comes and Pings go unanswered.
    ami.half_open(True)
    wait_until(lambda: feed.metric("ccms_ami_ping_timeouts_total") >= 1, timeout=20)
    ami.half_open(False)
    wait_until(lambda: feed.healthz().status_code == 200, timeout=20)
    ami.play(start=13.6, speed=SPEED)
    for agent, (status, _) in FINAL.items():
        wait_until(lambda a=agent, s=status: current(server, a)[0] == s, timeout=20)  # type: ignore[index]
    assert feed.metric("ccms_ami_reconnects_total") >= 2
    # Alice's history is the oracle's: the resync after each reconnection added nothing.
    assert_oracle(server, ami, ALICE)


def test_an_asterisk_restart_is_seen_by_its_uptime_and_resynchronised(rig: Any) -> None:
    ami, server, adapter = rig
    feed = adapter(ping_s=0.5).start()
    ready(feed, server)
    ami.play(end=19.0, speed=SPEED)  # Bob is on a call (AgentConnect t=18.516)
    wait_until(lambda: current(server, BOB)[0] == 5)  # type: ignore[index]
    # Asterisk restarts: Shutdown, the socket closes; it comes back with Uptime 2 (it was
    # 23 + the test's seconds) and without Bob (a member added at runtime, say).
    ami.table.pop(("sales", "Local/1002@agents/n"))
    row = ami.table[("sales", "Local/1001@agents/n")]
    row.update(Paused="0", PausedReason="", Status="1", InCall="0")
    ami.restart(uptime=2.0)
    wait_until(lambda: feed.metric("ccms_ami_asterisk_restarts_total") == 1, timeout=20)
    wait_until(lambda: current(server, BOB)[0] == 0, timeout=20)  # type: ignore[index]
    wait_until(lambda: current(server, ALICE)[0] == 1, timeout=20)  # type: ignore[index]
    feed.wait_healthy()
    assert feed.metric("ccms_ami_asterisk_uptime_seconds") < 10


def test_dropped_and_duplicated_frames_are_repaired_by_the_reconciliation(rig: Any) -> None:
    ami, server, adapter = rig
    feed = adapter(resync_s=1.0).start()
    ready(feed, server)
    # Lost: Bob's return to Status 1 (t=38.023) and Carol's removal (t=40.026); sent twice:
    # every QueueMemberStatus.
    lost = {ami.index_of("QueueMemberStatus", 38.023, MemberName="Bob"),
            ami.index_of("QueueMemberRemoved", 40.026)}  # fmt: skip
    twice = {i for i, (_, f) in enumerate(ami.events) if f.event == "QueueMemberStatus"}
    ami.play(speed=SPEED, drop=lost, duplicate=twice - lost)
    for agent, (status, _) in FINAL.items():
        wait_until(lambda a=agent, s=status: current(server, a)[0] == s, timeout=20)  # type: ignore[index]
    # The duplicates changed nothing: Alice's history is exactly the oracle's.
    assert_oracle(server, ami, ALICE)
    ids = [row[3] for agent in (ALICE, BOB, CAROL) for row in history(server, agent)]
    assert len(ids) == len(set(ids))


def test_ccms_down_spools_then_delivers_everything_in_order_once(rig: Any) -> None:
    ami, server, adapter = rig
    feed = adapter().start()
    ready(feed, server)
    ami.play(end=14.0, speed=SPEED)
    wait_until(lambda: current(server, ALICE)[0] == 8)  # type: ignore[index]
    server.kill()
    ami.play(start=14.0, end=30.0, speed=SPEED)  # Bob's call, wrap-up, phone gone; Alice back
    wait_until(lambda: feed.metric("ccms_ami_spool_pending_events") > 0, timeout=20)
    wait_until(lambda: feed.healthz().status_code == 503, timeout=20)
    assert "ccms" in feed.healthz().json()["resultDesc"]
    time.sleep(CCMS_DOWN_S)  # ccms stays down this long (a minute in the words)
    assert feed.metric("ccms_ami_spool_pending_events") > 0
    server.start()
    wait_until(lambda: feed.metric("ccms_ami_spool_pending_events") == 0, timeout=30)
    ready(feed, server)
    ami.play(start=30.0, speed=SPEED)
    for agent in (ALICE, BOB, CAROL):
        assert_oracle(server, ami, agent)
    assert feed.metric("ccms_ami_delivery_retries_total") >= 1
