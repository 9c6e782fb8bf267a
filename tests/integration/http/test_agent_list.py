"""POST /ccms/v1/agents/query: every filter and sort, field by field, against agents fed
through the intake, on every store backend; the request rules; the scopes; the cursor."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.conftest import INGEST_AK, INGEST_SK, SCOPED_AK, SCOPED_SK, Api, EventFactory
from tests.integration.http.list_support import (
    LIST,
    STATUS,
    Agent,
    ask,
    counts_of,
    every_page,
    feed,
    fold,
    ids,
)
from tests.integration.http.monitor_support import data
from tests.integration.http.test_agent_routes import envelope_error

from ccms.domain.agent import AgentRecord
from ccms.domain.flags import ALERT, Flag
from ccms.http.app import App

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

FLOOR = [
    Agent(101, 1, 30, "Ana Lee", (1, 2)),
    Agent(102, 5, 200, "ana maria", (2,), calls=("c-1",)),
    Agent(103, 8, 500, "Omar", (1,), reason=3),
    Agent(104, 0, 50, "Zoe", (3,)),
    Agent(105, 1, 5, None, ()),
    Agent(106, 7, 200, "DIANA", (3,), reason=5),  # the same since as 102
    Agent(107, 6, 70, "Émile", (1,)),
    Agent(1010, 10, 30, "Bob", (2,)),  # the same since as 101
    Agent(1100, 3, 12, "Ana", (4,)),
    Agent(101, 1, 1, "Other VDN", (1,), vdn=2),
    Agent(102, 1, 1, "Other center", (1,), cc_id=2),
]
MINE = [a for a in FLOOR if (a.cc_id, a.vdn) == (1, 1)]
SIGNED_IN = [a for a in MINE if a.cti != 0]


def listed(agents: list[Agent], sort: str = "-secondsInState") -> list[int]:
    """The oracle of the order: the sort value, then the work number ascending."""
    descending, key = sort.startswith("-"), sort.lstrip("-")
    value: Callable[[Agent], Any] = {
        "secondsInState": lambda a: a.seconds,  # more seconds: an older since
        "workNo": lambda a: a.work_no,
        "name": lambda a: a.name or "",
        "status": lambda a: STATUS[a.cti],
    }[key]
    ordered = sorted(agents, key=lambda a: a.work_no)
    ordered.sort(key=value, reverse=descending)  # stable: ties keep work-number order
    return [a.work_no for a in ordered]


async def test_every_field_of_a_listed_agent(list_api: Api) -> None:
    await feed(list_api, FLOOR)
    page = await ask(list_api, ctiStatuses=list(range(11)), limit=1000)
    now = list_api.clock()
    assert page["serverTime"] == int(now * 1000)
    assert page["nextCursor"] is None
    by_id = {agent["agentId"]: agent for agent in page["agents"]}
    assert sorted(by_id) == sorted(a.work_no for a in MINE)
    for agent in MINE:
        assert by_id[agent.work_no] == {
            "agentId": agent.work_no, "name": agent.name, "ctiStatus": agent.cti,
            "status": STATUS[agent.cti], "since": agent.since(list_api.clock),
            "secondsInState": int(agent.seconds), "reason": agent.reason,
            "skills": sorted(agent.skills), "calls": list(agent.calls), "flags": [],
        }  # fmt: skip
    assert page["counts"] == counts_of(MINE)


@pytest.mark.parametrize(
    "sort",
    ["-secondsInState", "secondsInState", "workNo", "-workNo", "name", "-name", "status",
     "-status"],
)  # fmt: skip
async def test_every_sort(list_api: Api, sort: str) -> None:
    await feed(list_api, FLOOR)
    page = await ask(list_api, sort=sort)
    assert ids(page) == listed(SIGNED_IN, sort)
    assert page["counts"] == counts_of(SIGNED_IN)


def _skills(wanted: set[int]) -> Callable[[Agent], bool]:
    return lambda a: bool(wanted & set(a.skills))


FILTERS: list[tuple[dict[str, Any], Callable[[Agent], bool]]] = [
    ({}, lambda a: a.cti != 0),
    ({"ctiStatuses": [0]}, lambda a: a.cti == 0),
    ({"statuses": [2]}, lambda a: a.cti == 0),
    ({"ctiStatuses": list(range(11))}, lambda a: True),
    ({"statuses": [7]}, lambda a: a.cti in (2, 3, 4, 5)),
    ({"statuses": [5, 8]}, lambda a: a.cti in (6, 10, 8)),
    ({"statuses": [1, 6]}, lambda a: False),  # never produced
    ({"ctiStatuses": [1, "7"]}, lambda a: a.cti in (1, 7)),
    ({"statuses": [7], "ctiStatuses": [3, 1]}, lambda a: a.cti == 3),
    ({"statuses": [], "ctiStatuses": None}, lambda a: a.cti != 0),
    ({"skills": [2]}, lambda a: a.cti != 0 and 2 in a.skills),
    ({"skills": [3, 4]}, lambda a: a.cti != 0 and bool({3, 4} & set(a.skills))),
    ({"skills": [3], "ctiStatuses": [0]}, lambda a: a.cti == 0 and 3 in a.skills),
    ({"minSecondsInState": 70}, lambda a: a.cti != 0 and a.seconds >= 70),
    ({"minSecondsInState": "200"}, lambda a: a.cti != 0 and a.seconds >= 200),
    ({"minSecondsInState": 0}, lambda a: a.cti != 0),
    ({"search": "ana"}, lambda a: a.cti != 0 and "ana" in fold(a.name or "")),
    ({"search": "  LEE "}, lambda a: a.cti != 0 and "lee" in fold(a.name or "")),
    ({"search": "Émile"}, lambda a: a.name == "Émile"),
    ({"search": "MILE"}, lambda a: a.name == "Émile"),
    ({"search": "émile"}, lambda a: False),  # only ASCII letters are compared without case
    ({"search": "10"}, lambda a: a.cti != 0 and str(a.work_no).startswith("10")),
    ({"search": "1100"}, lambda a: a.work_no == 1100),
    ({"search": "   "}, lambda a: a.cti != 0),
    ({"search": "nobody"}, lambda a: False),
    ({"search": "a", "skills": [1], "minSecondsInState": 100},
     lambda a: a.cti != 0 and "a" in fold(a.name or "") and 1 in a.skills and a.seconds >= 100),
    ({"flagged": False}, lambda a: a.cti != 0),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "keep"), FILTERS, ids=[str(f) for f, _ in FILTERS])
async def test_every_filter(list_api: Api, fields: dict[str, Any], keep: Any) -> None:
    await feed(list_api, FLOOR)
    expected = [a for a in MINE if keep(a)]
    for sort in ("-secondsInState", "name"):
        page = await ask(list_api, **fields, sort=sort)
        assert ids(page) == listed(expected, sort)
        assert page["counts"] == counts_of(expected)


async def test_paging_lists_each_agent_once_and_counts_every_page(list_api: Api) -> None:
    await feed(list_api, FLOOR)
    everyone = {"ctiStatuses": list(range(11))}
    for sort in ("-secondsInState", "secondsInState", "-workNo", "name", "-status"):
        pages = await every_page(list_api, **everyone, sort=sort, limit=2)
        assert [len(p["agents"]) for p in pages] == [2, 2, 2, 2, 1]
        assert [i for p in pages for i in ids(p)] == listed(MINE, sort)
        assert all(p["counts"] == counts_of(MINE) for p in pages)


async def test_a_page_after_a_change_goes_on_from_its_cursor(list_api: Api) -> None:
    await feed(list_api, FLOOR)
    first = await ask(list_api, limit=3)
    assert ids(first) == listed(SIGNED_IN)[:3]  # 103, 102, 106
    # 102 (listed) goes idle: it moves to the end; 107 (not listed yet) signs out
    moved = [Agent(102, 1, 0, "ana maria", (2,)), Agent(107, 0, 0, "Émile", (1,))]
    await feed(list_api, moved, tag="m")
    rest = await every_page(list_api, limit=3, cursor=first["nextCursor"])
    seen = ids(first) + [i for p in rest for i in ids(p)]
    assert seen == [103, 102, 106, 101, 1010, 1100, 105, 102]
    assert rest[0]["counts"]["5"] == 1  # 1010 alone in wrap-up now


async def test_min_seconds_in_state_is_judged_at_the_first_page(list_api: Api) -> None:
    await feed(list_api, FLOOR)
    first = await ask(list_api, minSecondsInState=60, limit=1)
    assert ids(first) == [103]
    list_api.clock.now += 600  # every agent is past 60 s now
    rest = await every_page(list_api, minSecondsInState=60, limit=1, cursor=first["nextCursor"])
    assert [i for p in rest for i in ids(p)] == [102, 106, 107]
    assert rest[0]["agents"][0]["secondsInState"] == 800  # shown as of its own answer


async def test_a_cursor_of_another_request_is_refused(list_api: Api) -> None:
    await feed(list_api, FLOOR)
    first = await ask(list_api, limit=2, skills=[1, 2])
    cursor = first["nextCursor"]
    assert isinstance(cursor, str)
    assert ids(await ask(list_api, limit=5, skills=[2, 1], cursor=cursor))  # limit may change
    raw = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    forged = [*raw[:3], "x", raw[4]]
    for body, bad in [
        ({"skills": [1]}, cursor),
        ({"skills": [1, 2], "sort": "name"}, cursor),
        ({"skills": [1, 2], "vdn": 2}, cursor),
        ({"skills": [1, 2]}, cursor[:-2]),
        ({"skills": [1, 2]}, "not a cursor!"),
        ({"skills": [1, 2]}, base64.urlsafe_b64encode(orjson.dumps(forged)).decode()),
        ({"skills": [1, 2]}, base64.urlsafe_b64encode(orjson.dumps([2, *raw[1:]])).decode()),
        *(
            ({"skills": [1, 2]}, base64.urlsafe_b64encode(orjson.dumps(fields)).decode())
            for fields in (
                [*raw[:2], 2**63 + 5, *raw[3:]],
                [*raw[:3], 2**63 + 5, raw[4]],
                [*raw[:3], -(2**63), raw[4]],
                [*raw[:4], 2**64 - 1],
                [*raw[:2], -1, *raw[3:]],
                [*raw[:4], True],
                raw[:4],
            )
        ),
        ({"skills": [1, 2]}, base64.urlsafe_b64encode(b"[1, 2").decode()),
    ]:
        answer = await list_api.post(LIST, {"ccId": 1, "vdn": 1, "limit": 2, **body,
                                            "cursor": bad})  # fmt: skip
        message = envelope_error(answer, 200, "0100002")
        assert message.startswith("cursor is not a nextCursor of this request")


RULES = [
    ({"ccId": None}, "ccId is required"),
    ({"vdn": 0}, "vdn must be an integer from 1 to 5000"),
    ({"limit": 1001}, "limit must be an integer from 1 to 1000"),
    ({"limit": 0}, "limit must be an integer from 1 to 1000"),
    ({"limit": 1.5}, "limit must be an integer from 1 to 1000"),
    ({"skills": [0]}, "skills must be a list of at most 1000 integers from 1 to 10000"),
    ({"skills": 3}, "skills must be a list of at most 1000 integers from 1 to 10000"),
    ({"skills": list(range(1, 1002))},
     "skills must be a list of at most 1000 integers from 1 to 10000"),
    ({"statuses": [9]}, "statuses must be a list of at most 100 integers from 0 to 8"),
    ({"statuses": [True]}, "statuses must be a list of at most 100 integers from 0 to 8"),
    ({"ctiStatuses": [11]}, "ctiStatuses must be a list of at most 100 integers from 0 to 10"),
    ({"ctiStatuses": "1"}, "ctiStatuses must be a list of at most 100 integers from 0 to 10"),
    ({"minSecondsInState": -1}, "minSecondsInState must be an integer from 0 to 2147483647"),
    ({"minSecondsInState": 2**31},
     "minSecondsInState must be an integer from 0 to 2147483647"),
    ({"flagged": "yes"}, "flagged must be true or false"),
    ({"flagged": 1}, "flagged must be true or false"),
    ({"search": 5}, "search must be a string of at most 64 characters, without control"
                    " characters"),
    ({"search": "a" * 65}, "search must be a string of at most 64 characters, without"
                           " control characters"),
    ({"search": "a\nb"}, "search must be a string of at most 64 characters, without"
                         " control characters"),
    ({"sort": "time"}, "sort must be one of secondsInState, -secondsInState, workNo, -workNo,"
                       " name, -name, status, -status"),
    ({"sort": ["name"]}, "sort must be one of secondsInState, -secondsInState, workNo,"
                         " -workNo, name, -name, status, -status"),
    ({"cursor": 5}, "cursor must be the nextCursor of the page before (a string), or null"),
    ({"cursor": ""}, "cursor must be the nextCursor of the page before (a string), or null"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), RULES, ids=[str(c)[:40] for c, _ in RULES])
async def test_request_rules(list_api: Api, change: dict[str, Any], message: str) -> None:
    await feed(list_api, FLOOR[:2])
    body = {key: value for key, value in {"ccId": 1, "vdn": 1, **change}.items()
            if value is not None}  # fmt: skip
    for shape in (body, {"queryParam": body}):
        assert envelope_error(await list_api.post(LIST, shape), 200, "0100002") == message


async def test_nulls_are_the_defaults(list_api: Api) -> None:
    await feed(list_api, FLOOR)
    nulls = dict.fromkeys(("skills", "statuses", "ctiStatuses", "minSecondsInState",
                           "flagged", "search", "sort", "limit", "cursor"))  # fmt: skip
    assert await ask(list_api, **nulls) == await ask(list_api)
    assert ids(await ask(list_api)) == listed(SIGNED_IN)
    many = [Agent(2000 + n, 1, n, f"A{n}") for n in range(120)]
    await feed(list_api, many, tag="many")
    assert len((await ask(list_api))["agents"]) == 100  # the default limit


async def test_scopes_and_roles(list_api: Api) -> None:
    await feed(list_api, FLOOR)
    mine = await list_api.post(LIST, {"ccId": 1, "vdn": 1}, ak=SCOPED_AK, sk=SCOPED_SK)
    assert ids(data(mine)) == listed(SIGNED_IN)
    other = await list_api.post(LIST, {"ccId": 1, "vdn": 2}, ak=SCOPED_AK, sk=SCOPED_SK)
    assert "not allowed" in envelope_error(other, 200, "0101003")
    ingest = await list_api.post(LIST, {"ccId": 1, "vdn": 1, "limit": 5000}, ak=INGEST_AK,
                                 sk=INGEST_SK)  # fmt: skip
    assert envelope_error(ingest, 200, "0101003") == "access key lacks the role 'query'"


def _rest_over_400(record: AgentRecord, now_ms: int) -> tuple[Flag, ...]:
    """A stand-in for configured thresholds: rest over 400 s is an alert."""
    since = record.state_start + 400_000
    if record.cti_status == 8 and now_ms >= since:
        return (Flag("rest-long", ALERT, since),)
    return ()


def _any_state_over_100(record: AgentRecord, now_ms: int) -> tuple[Flag, ...]:
    since = record.state_start + 100_000
    return (Flag("long", ALERT, since),) if now_ms >= since and record.cti_status else ()


async def test_flagged_lists_and_counts_the_flagged_agents(backend: App, list_api: Api) -> None:
    backend.context = dataclasses.replace(backend.context, flags=_rest_over_400)
    await feed(list_api, FLOOR)
    page = await ask(list_api, flagged=True)
    assert ids(page) == [103]
    since = FLOOR[2].since(list_api.clock) + 400_000
    assert page["agents"][0]["flags"] == [{"name": "rest-long", "level": "alert",
                                           "since": since}]  # fmt: skip
    assert page["counts"] == counts_of([FLOOR[2]])
    everyone = await ask(list_api)
    assert [a["flags"] != [] for a in everyone["agents"]] == [True] + [False] * 7

    backend.context = dataclasses.replace(backend.context, flags=_any_state_over_100)
    over = [a for a in SIGNED_IN if a.seconds >= 100]
    pages = await every_page(list_api, flagged=True, limit=1, sort="workNo")
    assert [i for p in pages for i in ids(p)] == listed(over, "workNo")
    assert all(p["counts"] == counts_of(over) for p in pages)
    # judged at the first page: agents that pass 100 s while paging do not join
    first = await ask(list_api, flagged=True, limit=1)
    list_api.clock.now += 1000
    rest = await every_page(list_api, flagged=True, limit=1, cursor=first["nextCursor"])
    assert ids(first) + [i for p in rest for i in ids(p)] == listed(over)


async def test_the_list_of_another_vdn_is_empty(list_api: Api) -> None:
    await feed(list_api, FLOOR)
    page = data(await list_api.post(LIST, {"ccId": 1, "vdn": 3}))
    assert page == {"agents": [], "counts": dict.fromkeys(page["counts"], 0),
                    "nextCursor": None, "serverTime": int(list_api.clock() * 1000)}  # fmt: skip
    assert sorted(page["counts"]) == ["0", "2", "3", "4", "5", "7", "8"]


async def test_list_example_of_the_docs(api: Api, event: EventFactory) -> None:
    """The example of docs/api.md, "The agent list", field by field."""
    await api.events([
        event(offset_s=30, agentId=101, ctiStatus=1, name="Li", skills=[1]),
        event(offset_s=200, agentId=102, ctiStatus=5, name="Ana", skills=[2], calls=["c-1"]),
        event(offset_s=500, agentId=103, ctiStatus=8, reason=3, name="Omar", skills=[1]),
        event(offset_s=50, agentId=104, ctiStatus=0, name="Zoe"),
        event(offset_s=5, agentId=105, ctiStatus=1, name="Kim"),
    ])  # fmt: skip
    page = data(await api.post(LIST, {"ccId": 1, "vdn": 1, "sort": "-secondsInState",
                                      "limit": 2}))  # fmt: skip
    cursor = page.pop("nextCursor")
    assert isinstance(cursor, str)
    assert page == {
        "agents": [
            {"agentId": 103, "name": "Omar", "ctiStatus": 8, "status": 8,
             "since": 1789999500000, "secondsInState": 500, "reason": 3, "skills": [1],
             "calls": [], "flags": []},
            {"agentId": 102, "name": "Ana", "ctiStatus": 5, "status": 7,
             "since": 1789999800000, "secondsInState": 200, "reason": None, "skills": [2],
             "calls": ["c-1"], "flags": []},
        ],
        "counts": {"0": 0, "2": 0, "3": 0, "4": 2, "5": 0, "7": 1, "8": 1},
        "serverTime": 1790000000000,
    }  # fmt: skip
    docs = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text(encoding="utf-8")
    section = docs.split("## The agent list", 1)[1].split("### Paging", 1)[0]
    for fragment in ('"agentId": 103, "name": "Omar", "ctiStatus": 8, "status": 8',
                     '"since": 1789999500000', '"secondsInState": 200, "reason": null',
                     '"counts": {"0": 0, "2": 0, "3": 0, "4": 2, "5": 0, "7": 1, "8": 1}',
                     '"serverTime": 1790000000000'):  # fmt: skip
        assert fragment in section
    assert ids(await ask(api, limit=2, cursor=cursor)) == [101, 105]
