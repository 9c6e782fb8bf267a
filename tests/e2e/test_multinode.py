"""Two ``ccms serve`` processes on one PostgreSQL database, as behind a load balancer."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import Server, batch, wait_until
from tests.integration.store.conftest import PgSchema, make_schema

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

UNAVAILABLE = {
    "result": "0100001",
    "resultCode": "0100001",
    "resultDesc": "the store is unavailable, try again later",
}


@pytest.fixture
def pg_schema() -> Iterator[PgSchema]:
    schema = make_schema()
    yield schema
    schema.drop()


@pytest.fixture
def nodes(server_factory: Any, pg_schema: PgSchema) -> tuple[Server, Server]:
    """Two nodes started at the same time: both migrate the empty schema at start."""
    a = server_factory("--store", pg_schema.url)
    b = server_factory("--store", pg_schema.url)
    for server in (a, b):
        server.start(wait=False)
    for server in (a, b):
        wait_until(lambda s=server: httpx.get(s.url + "/healthz", timeout=1).status_code == 200)
    return a, b


def test_what_one_node_takes_in_the_other_answers_at_once(nodes: tuple[Server, Server]) -> None:
    a, b = nodes
    for round_no in range(5):
        writer, reader = (a, b) if round_no % 2 == 0 else (b, a)
        events = batch(f"r{round_no}", 30, status=1 + round_no, first=101 + round_no)
        assert writer.events(events).json()["resultDesc"] == {"accepted": 30, "duplicates": 0}
        for event in (events[0], events[17], events[-1]):  # no waiting: the answer is there
            body = reader.agent(event["agentId"]).json()
            assert body["resultCode"] == "0100000", body
            assert body["resultDesc"]["citStatus"] == event["ctiStatus"]
            assert body["resultDesc"]["name"] == event["name"]


def test_the_same_batch_posted_to_both_is_applied_once(nodes: tuple[Server, Server]) -> None:
    a, b = nodes
    with ThreadPoolExecutor(2) as pool:
        for round_no in range(6):
            events = batch(f"same{round_no}", 400, status=1 + round_no % 8)
            barrier = threading.Barrier(2)

            def post(
                server: Server,
                events: list[dict[str, Any]] = events,
                barrier: threading.Barrier = barrier,
            ) -> Any:
                barrier.wait()  # both requests leave together
                return server.events(events)

            answers = [f.result() for f in [pool.submit(post, a), pool.submit(post, b)]]
            totals = Counter[str]()
            for answer in answers:
                assert answer.status_code == 200, answer.text
                totals.update(answer.json()["resultDesc"])
            assert totals == {"accepted": 400, "duplicates": 400}


def test_terminated_connections_give_503_never_500_and_service_resumes(
    nodes: tuple[Server, Server], pg_schema: PgSchema
) -> None:
    a, b = nodes
    stop = threading.Event()
    statuses: Counter[int] = Counter()
    acknowledged: list[list[dict[str, Any]]] = []

    def writer_loop(server: Server, writer: int) -> None:
        for n in range(100_000):
            if stop.is_set():
                return
            events = batch(f"w{writer}-{n}", 20, status=1 + n % 8, first=101 + writer * 20)
            response = server.events(events)
            statuses[response.status_code] += 1
            if response.status_code == 200:
                assert response.json()["resultDesc"] == {"accepted": 20, "duplicates": 0}
                acknowledged.append(events)
            else:
                assert (response.status_code, response.json()) == (503, UNAVAILABLE)
            query = server.agent(101 + writer * 20)
            statuses[query.status_code] += 1
            if query.status_code != 200:
                assert (query.status_code, query.json()) == (503, UNAVAILABLE)

    with ThreadPoolExecutor(4) as pool:
        jobs = [pool.submit(writer_loop, server, w) for w, server in enumerate((a, b, a, b))]
        killed = 0
        # terminate, then wait for an acknowledged batch: 10 times, and on until a request
        # met a terminated connection (one that was idle is replaced unseen), 40 at most
        for round_no in range(40):
            if round_no >= 10 and statuses[503]:
                break
            acked = len(acknowledged)
            killed += pg_schema.terminate()
            wait_until(lambda acked=acked: len(acknowledged) > acked)
        stop.set()
        for job in jobs:
            job.result()
    assert killed > 0 and statuses[503] > 0 and statuses[200] > 0, (killed, statuses)
    assert set(statuses) == {200, 503}
    # back by themselves; every acknowledged batch is there, on either node
    for server in (a, b):
        after = batch(f"after-{server.port}", 1, first=200)
        wait_until(lambda s=server, e=after: s.events(e).status_code == 200)
        wait_until(lambda s=server: s.agent(200).json()["resultCode"] == "0100000")
    events = [event for events in acknowledged for event in events]
    for start in range(0, len(events), 5000):
        chunk = events[start : start + 5000]
        answer = (a, b)[start % 2].events(chunk).json()["resultDesc"]
        assert answer == {"accepted": 0, "duplicates": len(chunk)}
    assert a.stop() == 0 and b.stop() == 0
