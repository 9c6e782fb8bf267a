"""How a subscription reads and resumes: against a scripted event-stream server (the
network is the process boundary; the real server's tests are in tests/e2e)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from stream_support import DROP, HANG, Script, agent, block, change, envelope, snapshot

from ccms.auth import AccessKey, Verifier
from ccms.client import (
    ApiError,
    AsyncClient,
    AuthenticationError,
    Client,
    InvalidParameterError,
    PermissionDeniedError,
    ServerError,
    StreamChange,
    StreamFlagChange,
    StreamReset,
    StreamSnapshot,
    StreamStatus,
    TransportError,
    UnexpectedAnswerError,
)

pytestmark = pytest.mark.unit

URL = "http://cms.test:28080"
PROXY_PAGE = httpx.Response(200, text="<html>proxy</html>", headers={"content-type": "text/html"})
SK = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr"


def client(script: Script, waits: list[float], **options: Any) -> Client:
    return Client(URL, "ak", SK, transport=script.transport(), sleep=waits.append,
                  jitter=lambda: 1.0, **options)  # fmt: skip


def take(items: Any, count: int) -> list[Any]:
    return list(itertools.islice(items, count))


def kinds(items: list[Any]) -> list[str]:
    names = []
    for item in items:
        if isinstance(item, StreamStatus):
            names.append(item.state)
        elif isinstance(item, StreamSnapshot):
            names.append(f"snapshot@{item.seq}")
        elif isinstance(item, StreamChange):
            names.append(f"change@{item.seq}")
        else:
            names.append(f"reset:{item.reason}")
    return names


def test_a_stream_is_a_signed_get_with_its_query_and_reads_typed_items() -> None:
    agents = [agent(101 + n) for n in range(5)]
    script = Script(([b"retry: 2000\n\n", snapshot(7, agents, parts=3), change(8, 102, 5)], None))
    with client(script, []) as cms, cms.stream(1, 1, skills=[3, 4], agents=[101, 102]) as items:
        got = take(items, 3)
    assert kinds(got) == ["live", "snapshot@7", "change@8"]
    request = script.requests[0]
    assert request.method == "GET"
    assert request.url.path == "/ccms/v1/stream"
    assert request.url.params.multi_items() == [
        ("ccId", "1"), ("vdn", "1"), ("skills", "3,4"), ("agents", "101,102"),
    ]  # fmt: skip
    assert request.headers["accept"] == "text/event-stream"
    assert "last-event-id" not in request.headers
    # the C2 signature covers the query string: the server's verifier accepts it as sent
    verifier = Verifier({"ak": AccessKey("ak", SK, frozenset({"query"}))}, clock_skew_s=900)
    pending = verifier.precheck(
        request.headers["authorization"], "GET", request.url.path, request.url.query.decode(),
        {k.lower(): v for k, v in request.headers.items()}, now=time.time(),
    )  # fmt: skip
    assert pending.verify(b"").ak == "ak"
    tampered = request.url.query.decode().replace("skills=3%2C4", "skills=3")
    forged = verifier.precheck(
        request.headers["authorization"], "GET", request.url.path, tampered,
        {k.lower(): v for k, v in request.headers.items()}, now=time.time(),
    )  # fmt: skip
    with pytest.raises(Exception, match="signature does not match"):
        forged.verify(b"")
    snap, moved = got[1], got[2]
    assert [a.work_no for a in snap.agents] == [101, 102, 103, 104, 105]
    assert snap.server_time == 1_790_000_100_000 and snap.replay_window_s == 900
    assert moved.key == (1, 1, 102) and moved.prev.cti_status == 1 and moved.cur.cti_status == 5
    assert moved.cur.since == 1_790_000_000_008 and moved.cur.skills == (1,)


def test_a_dropped_connection_resumes_from_the_last_seq_without_a_duplicate() -> None:
    script = Script(
        ([snapshot(7, [agent(101)]), change(8, 101, 5), change(9, 101, 6)], DROP),
        # the server replays from its own idea of the cursor: 9 again, then 10
        ([change(9, 101, 6), change(10, 101, 1)], None),
    )
    waits: list[float] = []
    with client(script, waits) as cms:
        items = cms.stream(1, 1)
        got = take(items, 8)
        assert items.cursor == 10
    assert kinds(got) == ["live", "snapshot@7", "change@8", "change@9", "reconnecting",
                          "live", "change@10", "reconnecting"]  # fmt: skip
    assert script.header("last-event-id") == [None, "9"]
    dropped = got[4]
    assert isinstance(dropped.error, TransportError) and dropped.attempt == 1
    assert "connection reset" in str(dropped.error)
    assert waits == [2.0]  # retry (2 s) x jitter (1.0); the last wait is not taken yet


def test_the_cursor_is_the_last_item_handed_out_when_one_chunk_holds_several() -> None:
    # the server writes what it has in one chunk: a reader that stops after the first
    # change must resume from that change, not from the last one of the chunk
    one_chunk = snapshot(7, [agent(101)]) + change(8, 101, 5) + change(9, 101, 6)
    script = Script(([one_chunk + change(10, 101, 1)], None))
    with client(script, []) as cms, cms.stream(1, 1) as items:
        assert kinds(take(items, 2)) == ["live", "snapshot@7"]
        assert items.cursor == 7
        assert kinds(take(items, 1)) == ["change@8"]
        assert items.cursor == 8


@pytest.mark.anyio
async def test_the_async_cursor_is_the_last_item_handed_out() -> None:
    one_chunk = snapshot(7, [agent(101)]) + change(8, 101, 5) + change(9, 101, 6)
    script = Script(([one_chunk], None))
    async with AsyncClient(URL, "ak", SK, transport=script.async_transport()) as cms:
        async with cms.stream(1, 1) as items:
            got = [await items.__anext__() for _ in range(3)]
            assert kinds(got) == ["live", "snapshot@7", "change@8"]
            assert items.cursor == 8
    await anyio.sleep(0)


def test_the_first_attempt_sends_since_and_the_next_ones_last_event_id() -> None:
    script = Script(([change(41, 101, 5)], DROP), ([change(42, 101, 1)], None), ([], None))
    with client(script, []) as cms:
        got = take(cms.stream(1, 1, since=40), 7)
    assert kinds(got) == ["live", "change@41", "reconnecting", "live", "change@42", "reconnecting",
                          "live"]  # fmt: skip
    assert [r.url.params.get("since") for r in script.requests] == ["40", None, None]
    assert script.header("last-event-id") == [None, "41", "42"]


def test_a_drop_inside_a_snapshot_starts_again_without_a_cursor() -> None:
    agents = [agent(101 + n) for n in range(4)]
    whole = snapshot(7, agents, parts=2)
    first_part = whole[: whole.index(b"event: snapshot", 10)]
    script = Script(([first_part], DROP), ([snapshot(8, agents, parts=2)], None))
    with client(script, []) as cms:
        got = take(cms.stream(1, 1), 4)
    assert kinds(got) == ["live", "reconnecting", "live", "snapshot@8"]
    assert len(got[3].agents) == 4
    assert script.header("last-event-id") == [None, None]


def test_a_bookmark_moves_the_cursor_of_a_filtered_stream() -> None:
    script = Script(([snapshot(7, []), b": hb\n\n", block(None, id=30)], DROP), ([], None))
    with client(script, []) as cms:
        items = cms.stream(1, 1, agents=[101])
        got = take(items, 4)
        assert items.cursor == 30
    assert kinds(got) == ["live", "snapshot@7", "reconnecting", "live"]
    assert script.header("last-event-id") == [None, "30"]


def test_a_cursor_expired_reset_is_followed_by_a_fresh_snapshot_on_the_same_stream() -> None:
    reset = block("reset", {"reason": "cursor-expired", "seq": 500})
    script = Script(
        ([reset, snapshot(500, [agent(101)]), change(501, 101, 5)], None),
        ([reset], DROP),  # reset again, dropped before the snapshot: no cursor to resume
        ([], None),
    )
    with client(script, []) as cms:
        got = take(cms.stream(1, 1, since=3), 9)
    assert kinds(got) == ["live", "reset:cursor-expired", "snapshot@500", "change@501",
                          "reconnecting", "live", "reset:cursor-expired", "reconnecting", "live"]  # fmt: skip
    assert got[1] == StreamReset("cursor-expired", 500)
    assert script.header("last-event-id") == [None, "501", None]


def test_a_slow_consumer_reset_reconnects_without_a_cursor() -> None:
    reset = block("reset", {"reason": "slow-consumer", "seq": 90})
    script = Script(
        ([snapshot(7, [agent(101)]), change(8, 101, 5), reset], None),
        ([snapshot(95, [agent(101, 5)])], None),
    )
    with client(script, []) as cms:
        got = take(cms.stream(1, 1), 8)
    assert kinds(got) == ["live", "snapshot@7", "change@8", "reset:slow-consumer",
                          "reconnecting", "live", "snapshot@95", "reconnecting"]  # fmt: skip
    assert script.header("last-event-id") == [None, None]
    assert "closed the stream" in str(got[4].error)


@pytest.mark.parametrize(
    ("code", "kind"),
    [("0100001", AuthenticationError), ("0101003", PermissionDeniedError),
     ("0100002", InvalidParameterError), ("0100999", ApiError)],
)  # fmt: skip
def test_an_in_band_error_ends_the_stream_with_its_exception(code: str, kind: type) -> None:
    error = block("error", {"resultCode": code, "resultDesc": "the token expired"})
    script = Script(([snapshot(7, []), error], None))
    with client(script, []) as cms:
        items = cms.stream(1, 1)
        assert kinds(take(items, 2)) == ["live", "snapshot@7"]
        with pytest.raises(kind, match="the token expired") as raised:
            next(items)
    assert type(raised.value) is kind and raised.value.result_code == code
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (envelope(401, "0100001", "signature does not match"), AuthenticationError),
        (envelope(200, "0100002", "vdn must be 1..5000"), InvalidParameterError),
        (envelope(400, "0100002", "since must be an integer"), InvalidParameterError),
        (envelope(403, "0101003", "not allowed for ccId 1, VDN 9"), PermissionDeniedError),
        (envelope(404, "0100002", "no such route"), InvalidParameterError),
        (envelope(200, "0100000", "a success is not a stream"), UnexpectedAnswerError),
        (PROXY_PAGE, UnexpectedAnswerError),
    ],
)
def test_an_answer_a_wait_cannot_cure_is_raised_at_once(answer: httpx.Response, kind: type) -> None:
    script = Script(answer)
    with client(script, []) as cms, pytest.raises(kind):
        next(cms.stream(1, 1))
    assert len(script.requests) == 1


def test_busy_or_unavailable_servers_and_refused_connections_are_retried_with_backoff() -> None:
    refused = httpx.ConnectError("connection refused")
    script = Script(
        envelope(503, "0100001", "store unavailable", **{"retry-after": "1"}),
        refused, refused, envelope(502, "0100999", "bad gateway"),
        ([b"retry: 500\n\n", snapshot(7, [])], DROP),
        refused, ([], None),
    )  # fmt: skip
    waits: list[float] = []
    with client(script, waits) as cms:
        got = take(cms.stream(1, 1), 10)
    assert kinds(got) == ["reconnecting"] * 4 + ["live", "snapshot@7"] + ["reconnecting"] * 2 + [
        "live", "reconnecting"]  # fmt: skip
    assert isinstance(got[0].error, ServerError) and got[0].error.http_status == 503
    assert [status.attempt for status in got[:4]] == [1, 2, 3, 4]
    # Retry-After, then retry x 2**n with the full jitter at 1.0, from the default 2 s; after
    # the server said "retry: 500" and the stream delivered, the count starts again.
    assert waits == [1.0, 4.0, 8.0, 16.0, 0.5, 1.0]
    assert "connection refused" in str(got[1].error)


def test_a_reconnect_deadline_gives_up_with_the_last_error() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    refused = httpx.ConnectError("connection refused")
    script = Script(([snapshot(7, [])], DROP), refused, refused, refused, refused, refused)
    cms = Client(URL, "ak", SK, transport=script.transport(), sleep=sleep, clock=lambda: now[0],
                 jitter=lambda: 1.0)  # fmt: skip
    with cms, pytest.raises(TransportError, match="connection refused"):
        list(cms.stream(1, 1, reconnect_deadline=7.0))
    assert now[0] == 2.0 + 4.0  # waits of 2 and 4 s; the next (8 s) would end past 7 s
    assert len(script.requests) == 3


def test_a_silent_connection_counts_as_dropped_after_the_idle_timeout() -> None:
    script = Script(([snapshot(7, [])], HANG), ([], None))
    with client(script, []) as cms:
        items = cms.stream(1, 1, idle_timeout=3)
        got = take(items, 5)
    assert kinds(got) == ["live", "snapshot@7", "reconnecting", "live", "reconnecting"]
    assert "no answer" in str(got[2].error) and "3s" in str(got[2].error)
    timeout = script.requests[0].extensions["timeout"]
    assert timeout["read"] == 3 and timeout["connect"] == 10.0


def test_closing_the_stream_closes_its_connection() -> None:
    closed = []

    class Body(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield snapshot(7, [])
            yield change(8, 101, 5)

        def close(self) -> None:
            closed.append(True)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=Body())

    with Client(URL, "ak", SK, transport=httpx.MockTransport(handler)) as cms:
        items = cms.stream(1, 1)
        assert kinds(take(items, 2)) == ["live", "snapshot@7"]
        assert closed == []
        items.close()
        assert closed == [True]
        with pytest.raises(StopIteration):
            next(items)


@pytest.mark.parametrize(
    ("arguments", "kind", "message"),
    [
        ({"cc_id": "1"}, TypeError, "cc_id must be an int, got '1'"),
        ({"vdn": 1.0}, TypeError, "vdn must be an int"),
        ({"skills": "1,2"}, TypeError, "skills must be a list of ints like"),
        ({"skills": 3}, TypeError, "skills must be a list of ints"),
        ({"agents": []}, ValueError, "agents must not be empty"),
        ({"agents": [101, "102"]}, TypeError, "each of agents must be an int, got '102'"),
        ({"since": True}, TypeError, "since must be an int, got True"),
        ({"token": ""}, TypeError, "token must be a non-empty string"),
        ({"idle_timeout": 0}, ValueError, "idle_timeout must be more than 0"),
        ({"reconnect_deadline": -1}, ValueError, "reconnect_deadline must be 0 or more"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(
    arguments: dict[str, Any], kind: type, message: str
) -> None:
    script = Script()
    place = {"cc_id": arguments.pop("cc_id", 1), "vdn": arguments.pop("vdn", 1)}
    with client(script, []) as cms, pytest.raises(kind, match=message):
        cms.stream(place["cc_id"], place["vdn"], **arguments)
    assert script.requests == []


def test_a_view_token_goes_in_the_query_instead_of_a_signature() -> None:
    script = Script(([snapshot(7, [])], None))
    with client(script, []) as cms:
        take(cms.stream(1, 1, token="tok-123"), 2)
    request = script.requests[0]
    assert request.url.params["token"] == "tok-123"
    assert "authorization" not in request.headers


@pytest.mark.anyio
async def test_the_async_stream_resumes_alike() -> None:
    script = Script(
        ([snapshot(7, [agent(101)]), change(8, 101, 5)], DROP),
        ([change(8, 101, 5), change(9, 101, 1)], None),
    )
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with AsyncClient(URL, "ak", SK, transport=script.async_transport(), sleep=sleep,
                           jitter=lambda: 0.5) as cms:  # fmt: skip
        got = []
        async with cms.stream(1, 1) as items:
            async for item in items:
                got.append(item)
                if len(got) == 6:
                    break
            assert items.cursor == 9
    assert kinds(got) == ["live", "snapshot@7", "change@8", "reconnecting", "live", "change@9"]
    assert script.header("last-event-id") == [None, "8"]
    assert waits == [1.0]
    await anyio.sleep(0)


def test_a_flag_event_is_an_item_and_moves_the_cursor() -> None:
    flag = {"seq": 9, "at": 30_000, "key": {"ccId": 1, "vdn": 1, "agentId": 101}, "kind": "flag",
            "flag": {"name": "rest-long", "level": "warning", "since": 30_000}, "raised": True}  # fmt: skip
    script = Script(([snapshot(7, [agent(101)]), change(8, 101, 8), block("flag", flag, 9)], None))
    with client(script, []) as cms, cms.stream(1, 1) as items:
        got = take(items, 4)
        assert isinstance(got[3], StreamFlagChange)
        assert (got[3].seq, got[3].flag.name, got[3].key.work_no) == (9, "rest-long", 101)
        assert items.cursor == 9
