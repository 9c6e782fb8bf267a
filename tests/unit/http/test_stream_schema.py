"""The stream's requests and events on the wire: any query string is a request or a clear
``0100002``; snapshots come in parts; a change is one SSE event of one JSON line."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccms.domain.agent import AgentRecord
from ccms.domain.changes import AgentChange, Snapshot
from ccms.errors import InvalidParameterError
from ccms.http.schemas import stream as schema

pytestmark = pytest.mark.unit

values = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["1", "0", "101", "5000", "5001", "1,2", "7,", ",", " 3", "99999999999999999999",
                     "1e3", "nan", "inf", "-1", "30", "30.5", "0.25", "", "101,102,103"]),
    st.lists(st.integers(-2, 70_000), max_size=5).map(lambda xs: ",".join(map(str, xs))),
)  # fmt: skip
queries = st.dictionaries(
    st.sampled_from(["ccId", "vdn", "skills", "agents", "since", "wait", "token", "x"]),
    values,
    max_size=7,
)


@given(query=queries, last_event_id=st.one_of(st.none(), values), large=st.booleans())
def test_any_query_is_a_request_or_a_clear_refusal(
    query: dict[str, str], last_event_id: str | None, large: bool
) -> None:
    for parse in (
        lambda: schema.stream_query(query, last_event_id, large),
        lambda: schema.changes_query(query, large),
    ):
        try:
            parsed = parse()
        except InvalidParameterError as error:
            refusal = error
        else:
            refusal = None
        if refusal is not None:
            assert refusal.message and refusal.result_code == "0100002"
            continue
        assert 1 <= parsed.cc_id <= 65535 and 1 <= parsed.vdn <= 5000
        assert parsed.since is None or parsed.since >= 0
        assert 0 <= parsed.wait_s <= schema.MAX_WAIT_S


@given(body=st.dictionaries(st.sampled_from(["ccId", "vdn", "ttlS", "queryParam"]),
                            st.one_of(st.none(), st.integers(-5, 100_000), st.text(max_size=5),
                                      st.booleans()), max_size=4))  # fmt: skip
def test_any_token_request_is_one_or_a_clear_refusal(body: dict[str, Any]) -> None:
    try:
        wanted = schema.token_request(body, 43200, 86400)
    except InvalidParameterError as error:
        refusal: InvalidParameterError | None = error
    else:
        refusal = None
    if refusal is not None:
        assert refusal.message
        return
    assert (wanted.cc_id is None) == (wanted.vdn is None)
    assert 1 <= wanted.ttl_s <= 86400


def test_last_event_id_wins_and_blank_is_absent() -> None:
    query = {"ccId": "1", "vdn": "2", "since": "5"}
    assert schema.stream_query(query, "9", False).since == 9
    assert schema.stream_query(query, " ", False).since == 5
    assert schema.stream_query({"ccId": "1", "vdn": "2"}, None, False).since is None


def test_filters_parse_to_sets() -> None:
    query = {"ccId": "1", "vdn": "1", "skills": "3,1,3", "agents": "101, 102"}
    parsed = schema.stream_query(query, None, False)
    assert parsed.filter == schema.Filter(frozenset({1, 3}), frozenset({101, 102}))
    with pytest.raises(InvalidParameterError, match="agents must be a comma-separated list"):
        schema.stream_query({**query, "agents": "70000"}, None, False)
    assert schema.stream_query({**query, "agents": "70000"}, None, True).filter.agents == {70000}


def agent(work_no: int, **fields: Any) -> AgentRecord:
    return AgentRecord(1, 1, work_no, created_at=1_000, **fields)


def test_a_snapshot_in_parts_only_the_last_with_its_id() -> None:
    snapshot = Snapshot(42, [agent(n) for n in range(101, 1102)])
    events = schema.snapshot_events(snapshot, schema.Filter(), 5_000, 900)
    assert len(events) == 3
    assert [e.count(b"\nid: 42\n") for e in events] == [0, 0, 1]
    for event in events:
        head, _, data = event.partition(b"data: ")
        assert head.startswith(b"event: snapshot\n") and data.endswith(b"\n\n")
        assert b"\n" not in data[:-2]  # one line of JSON
    last = orjson.loads(events[-1].partition(b"data: ")[2])
    assert (last["part"], last["parts"], len(last["agents"])) == (3, 3, 1)
    empty = schema.snapshot_events(Snapshot(7, []), schema.Filter(), 5_000, 900)
    assert len(empty) == 1 and b"id: 7\n" in empty[0]


def test_a_change_is_encoded_once_with_prev_and_cur() -> None:
    before = agent(101, cti_status=1, status_at=2_000, skills=(3,))
    after = before._replace(cti_status=5, status_at=3_000, skills=(4,), calls=("c1",))
    encoded = schema.encode_change(AgentChange(8, 3_000, "e8", before, after), 4_500)
    assert encoded.skills == {3, 4}
    assert encoded.sse.startswith(b"event: change\nid: 8\ndata: ")
    data = orjson.loads(encoded.data)
    assert data["seq"] == 8 and data["at"] == 3_000
    assert data["key"] == {"ccId": 1, "vdn": 1, "agentId": 101}
    assert data["prev"]["citStatus"] == 1 and data["prev"]["since"] == 2_000
    cur = data["cur"]
    assert (cur["citStatus"], cur["status"], cur["since"], cur["currentStateTime"]) == (
        5,
        7,
        3_000,
        1,
    )
    assert (cur["skills"], cur["calls"], cur["flags"], cur["reason"]) == ([4], ["c1"], [], None)
    new = schema.encode_change(AgentChange(9, 3_000, "e9", None, agent(102)), 4_500)
    assert orjson.loads(new.data)["prev"] is None
