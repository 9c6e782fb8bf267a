"""``GET /ccms/v1/stream``, ``GET /ccms/v1/changes`` and ``POST /ccms/v1/tokens`` over real
HTTP: the app served by uvicorn on loopback (an in-process ASGI transport cannot stream)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from tests.conftest import (
    ADMIN_AK,
    ADMIN_SK,
    INGEST_AK,
    INGEST_SK,
    QUERY_AK,
    QUERY_SK,
    SCOPED_AK,
    SCOPED_SK,
    test_keys,
)
from tests.integration.client.client_support import serve_in_thread
from tests.integration.http.stream_support import (
    Block,
    Signer,
    SseReader,
    agent_events,
    stalled_stream,
)
from tests.integration.store.conftest import PgSchema, make_schema

from ccms.credentials import CredentialsFile
from ccms.domain.queues import window_start
from ccms.http import create_app
from ccms.http.app import App
from ccms.settings import load_settings
from ccms.store.backends import open_store

pytestmark = pytest.mark.integration

STREAM = "/ccms/v1/stream"
CHANGES = "/ccms/v1/changes"
TENANT = [("ccId", "1"), ("vdn", "1")]


class Served:
    def __init__(self, app: App, url: str, store: str, schema: PgSchema | None) -> None:
        self.app = app
        self.url = url
        self.store = store  # its URL
        self.schema = schema
        self.api = Signer(url)
        self.readers: list[SseReader] = []
        self.n = 0

    def open(self, params: list[tuple[str, str]] = TENANT, ak: str = ADMIN_AK,
             sk: str = ADMIN_SK, headers: dict[str, str] | None = None,
             signed: bool = True) -> SseReader:  # fmt: skip
        sent = dict(headers or {})
        if signed:
            sent.update(self.api.get_headers(STREAM, params, ak, sk))
        reader = SseReader(self.url, STREAM, params, sent)
        self.readers.append(reader)
        return reader

    def ingest(self, work_nos: list[int], status: int = 1, vdn: int = 1, **fields: Any) -> None:
        self.n += 1
        at = int(time.time() * 1000) + self.n  # later each time: every event applies
        events = agent_events(f"b{self.n}", work_nos, at, status, vdn, **fields)
        assert self.api.events(events)["accepted"] == len(work_nos)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def serve(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """``serve(**settings)``: the app on a store of the parametrized backend, served by
    uvicorn on loopback (its lifespan opens the store in the server's event loop)."""
    stack: list[Any] = []
    schema = make_schema() if request.param == "postgres" else None

    def make(credentials: CredentialsFile | None = None, **overrides: Any) -> Served:
        store = f"sqlite:///{tmp_path / f'ccms{len(stack)}.db'}" if schema is None else schema.url
        settings = load_settings({}, {"store": store, **overrides})
        keys = test_keys() if credentials is None else credentials.load()
        app = create_app(settings, open_store(settings), keys, credentials=credentials)
        context = serve_in_thread(app, http="httptools")
        url = context.__enter__()
        stack.append(context)
        served = Served(app, url, store, schema)
        stack.append(served)
        return served

    yield make
    for item in reversed(stack):
        if isinstance(item, Served):
            for reader in item.readers:
                reader.close()
        else:
            item.__exit__(None, None, None)
    if schema is not None:
        schema.drop()


def stored_tokens(served: Served) -> list[tuple[Any, ...]]:
    """The rows of the store's view tokens, read beside the server."""
    if served.schema is not None:
        return served.schema.admin(f"SELECT * FROM {served.schema.name}.view_token")
    with contextlib.closing(sqlite3.connect(served.store.removeprefix("sqlite:///"))) as db:
        return db.execute("SELECT * FROM view_token").fetchall()


def seqs(blocks: list[Block]) -> list[int]:
    return [int(b.json["seq"]) for b in blocks]


def envelope(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert (body["result"], body["resultCode"]) == (code, code), body
    return str(body["resultDesc"])


# -- the stream ------------------------------------------------------------------------


def test_a_snapshot_then_every_change_in_order(serve: Callable[..., Served]) -> None:
    served = serve()
    served.ingest([101, 102])
    stream = served.open()
    assert stream.status == 200
    assert stream.response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert stream.response.headers["cache-control"] == "no-store"
    assert stream.response.headers["x-accel-buffering"] == "no"
    assert stream.next().retry == "2000"
    seq, agents = stream.snapshot()
    assert seq == 2 and [a["workNo"] for a in agents] == [101, 102]
    assert set(agents[0]) == {
        "workNo", "vdnId", "citStatus", "name", "phoneNumber", "loginDate", "currentStateTime",
        "mediaType", "status", "ccId", "since", "reason", "skills", "calls", "flags",
    }  # fmt: skip
    for round_no in range(5):
        served.ingest([101, 102, 103], status=1 + round_no % 3 + 1)
    changes = stream.changes(15)
    assert seqs(changes) == list(range(3, 18))
    assert [int(c.id or 0) for c in changes] == list(range(3, 18))
    first = changes[0].json
    assert first["key"] == {"ccId": 1, "vdn": 1, "agentId": 101}
    assert first["prev"]["citStatus"] == 1 and first["cur"]["citStatus"] == 2
    assert changes[2].json["prev"] is None  # agent 103 was not known before


def test_a_snapshot_comes_in_parts_of_500_with_one_id(serve: Callable[..., Served]) -> None:
    served = serve()
    served.ingest(list(range(101, 1301)))
    stream = served.open()
    stream.next()  # retry
    parts = stream.until(lambda b: b.kind == "snapshot" and b.id is not None)
    assert [(b.json["part"], b.json["parts"], len(b.json["agents"])) for b in parts] == [
        (1, 3, 500), (2, 3, 500), (3, 3, 200),
    ]  # fmt: skip
    assert [b.id for b in parts] == [None, None, "1200"]
    assert all(b.json["seq"] == 1200 and b.json["replayWindowS"] == 900 for b in parts)
    assert abs(parts[0].json["serverTime"] - time.time() * 1000) < 60_000


def test_a_snapshot_carries_the_vdns_reason_names(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    """The names of the configuration file (``cc_config_file``) for the stream's VDN, on
    every part; a reload (SIGHUP) gives the next stream the new names at once."""
    path = tmp_path / "cc.toml"
    path.write_text(
        'rest_reasons = { 2 = "Lunch" }\n[[vdn]]\ncc_id = 1\nvdn = 2\n'
        'busy_reasons = { 11 = "Coaching" }\n',
        encoding="utf-8",
    )
    served = serve(cc_config_file=str(path))
    served.ingest(list(range(101, 701)))
    served.ingest([801], vdn=2)
    stream = served.open()
    stream.next()  # retry
    parts = stream.until(lambda b: b.kind == "snapshot" and b.id is not None)
    assert len(parts) == 2
    every = {"busy": {"5": "Phone unavailable"}, "rest": {"2": "Lunch"}}
    assert all(b.json["reasonNames"] == every for b in parts)
    two = served.open([("ccId", "1"), ("vdn", "2")])
    two.next()  # retry
    [part] = two.until(lambda b: b.kind == "snapshot")
    assert part.json["reasonNames"] == {
        "busy": {"5": "Phone unavailable", "11": "Coaching"}, "rest": {"2": "Lunch"},
    }  # fmt: skip
    path.write_text('rest_reasons = { 2 = "Lunch break" }\n', encoding="utf-8")
    assert served.app.cc_config.reload() is True  # what SIGHUP does
    again = served.open()  # within the second a snapshot is shared: not the old names
    again.next()  # retry
    parts = again.until(lambda b: b.kind == "snapshot" and b.id is not None)
    assert parts[0].json["reasonNames"]["rest"] == {"2": "Lunch break"}


def test_last_event_id_resumes_and_wins_over_since(serve: Callable[..., Served]) -> None:
    served = serve()
    served.ingest([101, 102, 103, 104])
    stream = served.open([*TENANT, ("since", "1")], headers={"Last-Event-ID": "2"})
    blocks = stream.until(lambda b: b.kind == "change" and b.id == "4")
    assert [b.kind for b in blocks] == ["retry", "change", "change"]  # no snapshot
    assert seqs(blocks[1:]) == [3, 4]
    served.ingest([105])
    assert seqs(stream.changes(1)) == [5]
    since = served.open([*TENANT, ("since", "3")])
    assert seqs(since.changes(2)) == [4, 5]


def test_a_cursor_older_than_the_log_gets_a_reset_then_a_snapshot(
    serve: Callable[..., Served],
) -> None:
    served = serve(stream_window_changes=2)
    served.ingest([101, 102, 103])  # the log keeps 2 and 3
    stream = served.open([*TENANT, ("since", "0")])
    blocks = stream.until(lambda b: b.kind == "snapshot" and b.id is not None)
    assert [b.kind for b in blocks] == ["retry", "reset", "snapshot"]
    assert blocks[1].json == {"reason": "cursor-expired", "seq": 3}
    assert blocks[2].id == "3" and len(blocks[2].json["agents"]) == 3
    served.ingest([101], status=2)
    assert seqs(stream.changes(1)) == [4]
    ahead = served.open([*TENANT, ("since", "99")])  # a cursor of another store: too new is unknown
    assert [b.kind for b in ahead.until(lambda b: b.kind == "snapshot")] == [
        "retry", "reset", "snapshot",
    ]  # fmt: skip


def test_an_idle_stream_gets_heartbeats(serve: Callable[..., Served]) -> None:
    served = serve(stream_heartbeat_s=0.2)
    stream = served.open()
    stream.snapshot()
    beats = stream.until(lambda b: b.kind == "heartbeat", timeout=5)
    assert beats[-1].comments == ["hb"]
    assert len(stream.until(lambda b: b.kind == "heartbeat", timeout=5)) == 1


def test_filters_deliver_exactly_the_matching_changes_and_bookmarks_move_the_cursor(
    serve: Callable[..., Served],
) -> None:
    served = serve(stream_heartbeat_s=0.3)
    served.ingest([101, 102], skills=[7])
    served.ingest([103])
    by_skill = served.open([*TENANT, ("skills", "7,9")])
    by_agent = served.open([*TENANT, ("agents", "103,104")])
    both = served.open([*TENANT, ("skills", "7"), ("agents", "102")])
    assert [a["workNo"] for a in by_skill.snapshot()[1]] == [101, 102]
    assert [a["workNo"] for a in by_agent.snapshot()[1]] == [103]
    assert [a["workNo"] for a in both.snapshot()[1]] == [102]
    served.ingest([101, 103], status=2)  # seq 4, 5
    served.ingest([102], status=2, skills=[8])  # seq 6: leaves queue 7
    served.ingest([104], status=3)  # seq 7
    assert [(c.json["seq"], c.json["key"]["agentId"]) for c in by_skill.changes(2)] == [
        (4, 101), (6, 102),
    ]  # fmt: skip
    assert [(c.json["seq"], c.json["key"]["agentId"]) for c in by_agent.changes(2)] == [
        (5, 103), (7, 104),
    ]  # fmt: skip
    assert seqs(both.changes(1)) == [6]
    # nothing more for it, but the sequence moved on: an id-only block keeps its cursor
    marks = both.until(lambda b: b.kind == "bookmark", timeout=5)
    assert marks[-1].id == "7" and all(b.kind != "change" for b in marks)
    served.ingest([150], vdn=2)  # another VDN moves the sequence too
    assert by_agent.until(lambda b: b.kind == "bookmark", timeout=5)[-1].id == "8"
    # resuming from a bookmark: no change missed, none again
    resumed = served.open([*TENANT, ("agents", "103,104")], headers={"Last-Event-ID": "8"})
    served.ingest([104], status=4)
    assert seqs(resumed.changes(1)) == [9]


def test_streams_opened_together_share_one_snapshot_and_get_every_change(
    serve: Callable[..., Served],
) -> None:
    served = serve()
    served.ingest(list(range(101, 701)))  # a snapshot of two parts
    snapshots = served.app.hub.snapshots
    snapshots.share_s = 60.0  # every stream of the test asks "together", however slow the test
    streams = [served.open() for _ in range(20)]
    firsts = [stream.snapshot() for stream in streams]
    assert firsts[0][0] == 600 and len(firsts[0][1]) == 600
    assert all(first == firsts[0] for first in firsts)
    assert snapshots.encoded == 1  # one store read and one encoding for the 20 streams
    served.ingest([101, 102], status=5)
    for stream in streams:
        assert seqs(stream.changes(2)) == [601, 602]
    # the hub handed out changes after it: the next stream gets a snapshot of its own
    seq, agents = served.open().snapshot()
    assert seq == 602 and [a["citStatus"] for a in agents[:3]] == [5, 5, 1]
    assert snapshots.encoded == 2


def test_a_closed_stream_leaves_nothing_behind_in_the_hub(serve: Callable[..., Served]) -> None:
    served = serve()
    served.ingest([101, 102])
    hub = served.app.hub
    streams = [served.open() for _ in range(5)]
    for stream in streams:
        stream.snapshot()
    served.ingest([101], status=5)
    for stream in streams:
        stream.changes(1)  # live: each is in the hub's table of its tenant
    assert hub.subscribers == 5
    for stream in streams:
        stream.close()
    deadline = time.monotonic() + 10
    while hub.subscribers or hub._by_tenant or hub._by_key or len(hub.snapshots):
        assert time.monotonic() < deadline, "a closed stream left state in the hub"
        time.sleep(0.01)
    assert _sample(served, "ccms_streams_open") == 0


@pytest.mark.parametrize(
    ("params", "headers", "message"),
    [
        ([("ccId", "1")], {}, "vdn is required"),
        ([*TENANT, ("skills", "x")], {}, "skills must be a comma-separated list"),
        ([*TENANT, ("agents", "5")], {}, "agents must be a comma-separated list"),
        ([*TENANT, ("since", "-1")], {}, "since must be a sequence number"),
        (TENANT, {"Last-Event-ID": "abc"}, "Last-Event-ID must be a sequence number"),
    ],
)
def test_bad_parameters_are_refused_before_the_first_byte(
    serve: Callable[..., Served], params: list[tuple[str, str]], headers: dict[str, str],
    message: str,
) -> None:  # fmt: skip
    served = serve()
    stream = served.open(params, headers=headers)
    assert message in envelope(stream.response, 200, "0100002")


def test_scope_and_role_are_checked_before_the_first_byte(serve: Callable[..., Served]) -> None:
    served = serve()
    outside = served.open([("ccId", "1"), ("vdn", "2")], SCOPED_AK, SCOPED_SK)
    assert "not allowed for ccId 1 and vdn 2" in envelope(outside.response, 200, "0101003")
    ingest_only = served.open(TENANT, INGEST_AK, INGEST_SK)
    assert envelope(ingest_only.response, 200, "0101003") == "access key lacks the role 'query'"
    unsigned = served.open(TENANT, signed=False)
    envelope(unsigned.response, 401, "0100001")
    inside = served.open(TENANT, SCOPED_AK, SCOPED_SK)
    assert inside.status == 200


def test_streams_per_key_are_capped_with_429(serve: Callable[..., Served]) -> None:
    served = serve(stream_max_per_key=2)
    first, second = served.open(), served.open()
    assert first.status == second.status == 200
    third = served.open()
    envelope(third.response, 429, "0100001")
    assert third.response.headers["retry-after"] == "5"
    assert served.open(TENANT, QUERY_AK, QUERY_SK).status == 200  # another key
    first.close()
    second.snapshot()
    fourth = None
    deadline = time.monotonic() + 10
    while fourth is None or fourth.status != 200:  # the server sees the close soon
        assert time.monotonic() < deadline
        fourth = served.open()
    assert fourth.status == 200


def test_a_slow_consumer_is_reset_while_a_fast_one_keeps_receiving(
    serve: Callable[..., Served],
) -> None:
    served = serve(stream_queue=500)  # more than a batch: a subscriber that keeps up fits
    fast = served.open()
    fast.snapshot()
    stalled = stalled_stream(
        served.url, f"{STREAM}?ccId=1&vdn=1", served.api.get_headers(STREAM, TENANT)
    )
    try:
        calls = [f"{n:032d}" for n in range(100)]  # large changes fill the buffers sooner
        total = 0
        resets = 0.0
        while resets == 0:
            served.ingest(list(range(101, 301)), status=2 + total // 200 % 2, calls=calls)
            total += 200
            got = fast.changes(200, timeout=30)
            assert seqs(got) == list(range(total - 199, total + 1))
            resets = _sample(served, 'ccms_stream_resets_total{reason="slow-consumer"}')
            assert total < 60_000, "the stalled stream was never reset"
        served.ingest([101], status=5)
        assert seqs(fast.changes(1)) == [total + 1]
        # the stalled client reads at last: what was written, the reset, the end
        stalled.settimeout(30)
        received = b""
        while not received.endswith(b"\r\n0\r\n\r\n"):  # the chunked body's end
            chunk = stalled.recv(1 << 20)
            assert chunk, "the connection closed before the body ended"
            received += chunk
        assert b'event: reset\ndata: {"reason":"slow-consumer"' in received
    finally:
        stalled.close()


def _sample(served: Served, name: str) -> float:
    import httpx

    for line in httpx.get(served.url + "/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def test_head_answers_the_stream_headers_only(serve: Callable[..., Served]) -> None:
    import httpx

    served = serve()
    headers = served.api.get_headers(STREAM, TENANT, method="HEAD")
    response = httpx.head(f"{served.url}{STREAM}?ccId=1&vdn=1", headers=headers, timeout=10)
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    deadline = time.monotonic() + 10
    while served.app.hub.subscribers:  # released, though the stream never ran
        assert time.monotonic() < deadline
        time.sleep(0.01)


# -- view tokens -----------------------------------------------------------------------


def test_a_token_opens_the_stream_and_the_long_poll_and_nothing_else(
    serve: Callable[..., Served], caplog: pytest.LogCaptureFixture
) -> None:
    import httpx

    served = serve()
    served.ingest([101])
    with caplog.at_level(logging.DEBUG):
        answer = served.api.token(QUERY_AK, QUERY_SK, ccId=1, vdn=1)
        token = answer["token"]
        assert len(token) >= 43 and answer["expiresAt"] > time.time() * 1000 + 43_000_000
        stream = served.open([*TENANT, ("token", token)], signed=False)
        assert stream.status == 200
        assert stream.snapshot()[0] == 1
        poll = served.api.get(CHANGES, [*TENANT, ("since", "0"), ("token", token)], signed=False)
        assert poll.json()["resultDesc"]["nextSeq"] == 1
        elsewhere = httpx.post(
            f"{served.url}/rest/cmsapp/v1/openapi/agent/agentbyworkno?token={token}",
            json={"ccId": 1, "vdn": 1, "agentId": 101}, timeout=10,
        )  # fmt: skip
        envelope(elsewhere, 401, "0100001")
        token_route = httpx.post(f"{served.url}/ccms/v1/tokens?token={token}", json={},
                                 timeout=10)  # fmt: skip
        envelope(token_route, 401, "0100001")
    server_lines = [r.getMessage() for r in caplog.records
                    if not r.name.startswith(("httpx", "httpcore"))]  # fmt: skip
    assert not [line for line in server_lines if token in line]
    rows = stored_tokens(served)  # the store keeps its hash alone
    assert [row[0] for row in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in str(rows)


def test_a_token_is_narrowed_to_its_vdn(serve: Callable[..., Served]) -> None:
    served = serve()
    token = served.api.token(ccId=1, vdn=1)["token"]
    other = served.open([("ccId", "1"), ("vdn", "2"), ("token", token)], signed=False)
    assert envelope(other.response, 200, "0101003") == "the view token is for ccId 1 and vdn 1 only"
    wide = served.api.token()["token"]  # no narrowing: the key's scopes
    assert served.open([("ccId", "1"), ("vdn", "2"), ("token", wide)], signed=False).status == 200


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"ccId": 1, "vdn": 2}, "0101003", "not allowed for ccId 1 and vdn 2"),
        ({"ccId": 1}, "0100002", "ccId and vdn go together"),
        (
            {"ccId": 1, "vdn": 1, "ttlS": 86401},
            "0100002",
            "ttlS must be an integer from 1 to 86400",
        ),
        ({"ttlS": 0}, "0100002", "ttlS must be an integer from 1 to 86400"),
        ({"ttlS": "x"}, "0100002", "ttlS must be an integer"),
    ],
)
def test_token_requests_outside_the_rules_are_refused(
    serve: Callable[..., Served], fields: dict[str, Any], code: str, message: str
) -> None:
    served = serve()
    answer = served.api.post("/ccms/v1/tokens", fields, SCOPED_AK, SCOPED_SK)
    assert message in envelope(answer, 200, code)
    assert stored_tokens(served) == []


def test_a_token_needs_the_query_role(serve: Callable[..., Served]) -> None:
    served = serve()
    answer = served.api.post("/ccms/v1/tokens", {}, INGEST_AK, INGEST_SK)
    assert envelope(answer, 200, "0101003") == "access key lacks the role 'query'"


def test_an_expired_token_ends_the_stream_in_band_then_is_refused(
    serve: Callable[..., Served],
) -> None:
    served = serve(stream_heartbeat_s=0.2)
    token = served.api.token(ttlS=1)["token"]
    stream = served.open([*TENANT, ("token", token)], signed=False)
    assert stream.status == 200
    blocks = stream.rest(timeout=10)
    assert blocks[-1].kind == "error"
    assert blocks[-1].json == {"resultCode": "0100001", "resultDesc": "the view token expired"}
    again = served.open([*TENANT, ("token", token)], signed=False)
    assert envelope(again.response, 401, "0100001") == "unknown or expired view token"
    unknown = served.open([*TENANT, ("token", "nope")], signed=False)
    assert envelope(unknown.response, 401, "0100001") == "unknown or expired view token"


def test_a_long_poll_ends_when_its_token_does(serve: Callable[..., Served]) -> None:
    served = serve()
    served.ingest([101])
    token = served.api.token(ttlS=1)["token"]
    params = urlencode([*TENANT, ("since", "1"), ("wait", "30"), ("token", token)])
    # it does not wait out its 30 s with a token that ended after 1 s
    answer = httpx.get(f"{served.url}{CHANGES}?{params}", timeout=15)
    assert envelope(answer, 401, "0100001") == "the view token expired"


# -- credentials that change -----------------------------------------------------------


def test_a_key_removed_from_the_credentials_ends_its_streams_and_tokens(
    serve: Callable[..., Served], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "credentials.toml"
    write_credentials(path, [ADMIN_AK, QUERY_AK, SCOPED_AK])
    served = serve(CredentialsFile(str(path)), credentials_reload_s=0.05)
    mine = served.open(TENANT, QUERY_AK, QUERY_SK)
    token = served.api.token(QUERY_AK, QUERY_SK)["token"]
    by_token = served.open([*TENANT, ("token", token)], signed=False)
    scoped = served.open(TENANT, SCOPED_AK, SCOPED_SK)
    theirs = served.open()
    for stream in (mine, by_token, scoped, theirs):
        stream.snapshot()
    with caplog.at_level(logging.WARNING, logger="ccms"):
        path.write_text("not toml [", encoding="utf-8")  # refused: the keys in use stay
        path.chmod(0o600)
        deadline = time.monotonic() + 10
        while not (refused := [r for r in caplog.records if "not reloaded" in r.message]):
            assert time.monotonic() < deadline
            time.sleep(0.01)
    assert len(refused) == 1 and refused[0].levelno == logging.ERROR
    assert (
        refused[0]
        .getMessage()
        .startswith(f"credentials file not reloaded, the keys in use stay: {path}: not valid TOML")
    )
    served.ingest([101])
    for stream in (mine, by_token, scoped, theirs):
        assert seqs(stream.changes(1)) == [1]
    write_credentials(path, [ADMIN_AK], scoped_to={SCOPED_AK: "1/2"})
    for stream in (mine, by_token):
        last = stream.rest(timeout=10)[-1]
        assert last.json == {
            "resultCode": "0100001",
            "resultDesc": "the access key was removed from the credentials",
        }
    assert scoped.rest(timeout=10)[-1].json == {
        "resultCode": "0101003",
        "resultDesc": "access key is not allowed for ccId 1 and vdn 1",
    }
    served.ingest([102])
    assert seqs(theirs.changes(1)) == [2]
    refused = served.open([*TENANT, ("token", token)], signed=False)
    envelope(refused.response, 401, "0100001")
    assert served.open(TENANT, QUERY_AK, QUERY_SK).status == 401


def write_credentials(path: Path, aks: list[str], scoped_to: dict[str, str] | None = None) -> None:
    keys = test_keys()
    entries = []
    for ak in aks:
        key = keys[ak]
        entries.append(
            f'[[access_key]]\nak = "{ak}"\nsk = "{key.sk}"\nroles = {sorted(key.roles)!r}\n'
        )
    for ak, scope in (scoped_to or {}).items():
        entries.append(
            f'[[access_key]]\nak = "{ak}"\nsk = "{keys[ak].sk}"\nroles = ["query"]\n'
            f'scopes = ["{scope}"]\n'
        )
    path.write_text("\n".join(entries).replace("'", '"'), encoding="utf-8")
    path.chmod(0o600)


# -- the long-poll ---------------------------------------------------------------------


def test_the_long_poll_answers_changes_at_once_or_when_they_come(
    serve: Callable[..., Served],
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    served = serve()
    served.ingest([101, 102, 103])
    first = served.api.get(CHANGES, [*TENANT, ("since", "1")]).json()
    assert first["resultCode"] == "0100000"
    desc = first["resultDesc"]
    assert (desc["reset"], desc["nextSeq"], seqs_of(desc)) == (False, 3, [2, 3])
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(served.api.get, CHANGES, [*TENANT, ("since", "3"), ("wait", "20")])
        deadline = time.monotonic() + 10
        while served.app.hub.subscribers == 0:  # the long-poll waits in the hub
            assert time.monotonic() < deadline
            time.sleep(0.01)
        served.ingest([104])
        desc = waiting.result(timeout=15).json()["resultDesc"]
    assert (desc["reset"], desc["nextSeq"], seqs_of(desc)) == (False, 4, [4])
    assert desc["changes"][0]["cur"]["workNo"] == 104


def seqs_of(desc: dict[str, Any]) -> list[int]:
    return [change["seq"] for change in desc["changes"]]


def test_the_long_poll_times_out_with_the_cursor_moved(serve: Callable[..., Served]) -> None:
    served = serve()
    served.ingest([101])
    served.ingest([150], vdn=2)
    params = [*TENANT, ("agents", "101"), ("since", "1"), ("wait", "0.3")]
    started = time.monotonic()
    desc = served.api.get(CHANGES, params).json()["resultDesc"]
    assert time.monotonic() - started >= 0.3
    assert desc == {"changes": [], "nextSeq": 2, "reset": False}


def test_the_long_poll_resets_without_or_with_a_too_old_cursor(
    serve: Callable[..., Served],
) -> None:
    served = serve(stream_window_changes=1)
    served.ingest([101, 102])  # the log keeps 2
    first = served.api.get(CHANGES, TENANT).json()["resultDesc"]
    assert first["reset"] is True and first["nextSeq"] == 2 and first["changes"] == []
    assert first["snapshot"]["seq"] == 2
    assert [a["workNo"] for a in first["snapshot"]["agents"]] == [101, 102]
    old = served.api.get(CHANGES, [*TENANT, ("since", "0")]).json()["resultDesc"]
    assert old["reset"] is True and old["snapshot"]["seq"] == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([*TENANT, ("wait", "31")], "wait must be a number of seconds from 0 to 30"),
        ([*TENANT, ("wait", "nan")], "wait must be a number of seconds from 0 to 30"),
        ([("vdn", "1")], "ccId is required"),
        ([*TENANT, ("since", "1.5")], "since must be a sequence number"),
    ],
)
def test_long_poll_parameters_are_checked(
    serve: Callable[..., Served], params: list[tuple[str, str]], message: str
) -> None:
    served = serve()
    assert message in envelope(served.api.get(CHANGES, params), 200, "0100002")


# -- metrics ---------------------------------------------------------------------------


def test_stream_metrics(serve: Callable[..., Served]) -> None:
    served = serve()
    stream = served.open()
    stream.snapshot()
    served.ingest([101, 102])
    stream.changes(2)
    assert _sample(served, "ccms_streams_open") == 1
    assert _sample(served, "ccms_stream_changes_delivered_total") == 2
    assert _sample(served, "ccms_stream_delivery_lag_seconds_count") >= 1
    stream.close()
    deadline = time.monotonic() + 10
    while _sample(served, "ccms_streams_open") != 0:
        assert time.monotonic() < deadline
        time.sleep(0.01)


# -- the queue figures (queues=1) ----------------------------------------------------------

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
