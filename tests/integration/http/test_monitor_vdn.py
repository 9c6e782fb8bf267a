"""The VDN-dimension monitoring routes: agents by status, pages of a VDN, the whole VDN."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import SCOPED_AK, SCOPED_SK, Api, EventFactory, FrozenClock
from tests.integration.http.monitor_support import PAGED_ROUTES, data, monitor, path
from tests.integration.http.test_agent_routes import envelope_error

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

BY_STATUS = "vdn/queryAgentByStatus"
ABSTRACT = "vdn/totalagentabstractex3"
DYNAMIC = "vdn/totalagentdynamicinfo"
ALL_STATES = "vdn/totalagentstate"

# work number -> (CTI status, seconds in it)
FLOOR = {101: (1, 30), 102: (5, 20), 103: (0, 10), 104: (1, 5), 105: (7, 1)}


async def feed_floor(api: Api, event: EventFactory) -> None:
    await api.events(
        [event(offset_s=s, agentId=w, ctiStatus=c) for w, (c, s) in FLOOR.items()]
        + [event(agentId=106, vdn=2, ctiStatus=1), event(agentId=107, ccId=2, ctiStatus=1)]
    )


def abstract(work_no: int) -> dict[str, int]:
    status, seconds = FLOOR[work_no]
    return {"agentId": work_no, "currentState": status, "currentStateTime": seconds,
            "locationId": 65535}  # fmt: skip


def body(**fields: Any) -> dict[str, Any]:
    return {"ccId": 1, "vdn": 1, **fields}


def with_change(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in change.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


# -- paging rules ------------------------------------------------------------------------


PAGING_CASES = [
    ({"offset": None}, "offset is required"),
    ({"limit": None}, "limit is required"),
    ({"offset": -1}, "offset must be an integer from 0 to 2147483647"),
    ({"offset": 1.0}, "offset must be an integer from 0 to 2147483647"),
    ({"offset": 2**31}, "offset must be an integer from 0 to 2147483647"),
    ({"limit": 0}, "limit must be an integer from 1 to {max}"),
    ({"limit": "many"}, "limit must be an integer from 1 to {max}"),
    ({"limit": "over"}, "limit must be an integer from 1 to {max}"),
]


@pytest.mark.parametrize("name", [ABSTRACT, DYNAMIC])
@pytest.mark.parametrize(("change", "message"), PAGING_CASES)
async def test_paging_rules(api: Api, name: str, change: dict[str, Any], message: str) -> None:
    top = PAGED_ROUTES[name]
    if change.get("limit") == "over":
        change = {"limit": top + 1}
    request = with_change(body(offset=0, limit=top), change)
    text = envelope_error(await monitor(api, name, request), 200, "0100002")
    assert text == message.format(max=top)


@pytest.mark.parametrize(
    ("change", "message"),
    [({"offset": None}, "offset is required"),
     ({"offset": -1}, "offset must be an integer from 0 to 2147483647"),
     ({"limit": 0}, "limit must be an integer from 1 to 1000"),
     ({"limit": 1001}, "limit must be an integer from 1 to 1000"),
     ({"limit": True}, "limit must be an integer from 1 to 1000"),
     ({"status": 11}, "status must be an integer from 0 to 10"),
     ({"status": "idle"}, "status must be an integer from 0 to 10"),
     ({"status": -1}, "status must be an integer from 0 to 10")],
)  # fmt: skip
async def test_query_agent_by_status_rules_in_both_envelopes(
    api: Api, change: dict[str, Any], message: str
) -> None:
    response = await monitor(api, BY_STATUS, with_change(body(offset=0, limit=10), change))
    assert envelope_error(response, 200, "0100002") == message
    answer = response.json()
    assert answer["returnCode"] == "0100002"
    assert answer["description"] == message


# -- vdn/queryAgentByStatus ----------------------------------------------------------------


async def test_query_agent_by_status_answers_both_envelopes(api: Api, event: EventFactory) -> None:
    await feed_floor(api, event)
    response = await monitor(api, BY_STATUS, body(status=1, offset=0, limit=10))
    items = [abstract(101), abstract(104)]
    assert response.json() == {
        "returnCode": "0", "description": "success", "data": items,
        "result": "0", "resultCode": "0100000", "resultDatas": items, "resultDesc": items,
    }  # fmt: skip


async def test_query_agent_by_status_filter_and_paging(api: Api, event: EventFactory) -> None:
    await feed_floor(api, event)

    async def ids(**fields: Any) -> list[int]:
        answer = data(await monitor(api, BY_STATUS, body(**fields)))
        return [item["agentId"] for item in answer]

    assert await ids(offset=0) == [101, 102, 103, 104, 105]  # limit defaults to 1000
    assert await ids(offset=0, status="") == [101, 102, 103, 104, 105]
    assert await ids(offset=0, status=None, limit=None) == [101, 102, 103, 104, 105]
    assert await ids(offset=1, limit=1, status="1") == [104]
    assert await ids(offset=0, status=0) == [103]
    assert await ids(offset=0, status=9) == []
    assert await ids(offset=2, limit=2) == [103, 104]
    assert await ids(offset=5) == []


async def test_query_agent_by_status_pipeline_failures_carry_both_envelopes(api: Api) -> None:
    unsigned = await api.http.post(
        path(BY_STATUS), content=b"{}", headers={"content-type": "application/json"}
    )
    envelope_error(unsigned, 401, "0100001")
    assert unsigned.json()["returnCode"] == "0100001"
    scoped = await monitor(api, BY_STATUS, body(vdn=2, offset=0), ak=SCOPED_AK, sk=SCOPED_SK)
    envelope_error(scoped, 200, "0101003")
    assert scoped.json()["returnCode"] == "0101003"


# -- vdn/totalagentabstractex3 and vdn/totalagentdynamicinfo -------------------------------


async def test_total_agent_abstract_pages_with_count(
    api: Api, event: EventFactory, clock: FrozenClock
) -> None:
    await feed_floor(api, event)
    response = await monitor(api, ABSTRACT, body(offset=1, limit=2))
    items = [abstract(102), abstract(103)]
    assert response.json() == {
        "result": "0", "resultCode": "0100000", "resultDatas": items, "resultDesc": items,
        "count": 5,
    }  # fmt: skip
    beyond = (await monitor(api, ABSTRACT, body(offset=7, limit=1000))).json()
    assert (beyond["resultDesc"], beyond["count"]) == ([], 5)
    whole = (await monitor(api, ABSTRACT, body(offset=0, limit=1000))).json()
    assert whole["resultDesc"] == [abstract(w) for w in sorted(FLOOR)]


async def test_total_agent_dynamic_info_pages_with_count(api: Api, event: EventFactory) -> None:
    await feed_floor(api, event)
    response = await monitor(api, DYNAMIC, body(offset=3, limit=1000))
    items = [{"agentId": 104, "state": 1}, {"agentId": 105, "state": 7}]
    assert response.json() == {
        "result": "0", "resultCode": "0100000", "resultDatas": items, "resultDesc": items,
        "count": 5,
    }  # fmt: skip
    empty = (await monitor(api, DYNAMIC, body(vdn=3, offset=0, limit=1))).json()
    assert (empty["resultDesc"], empty["count"]) == ([], 0)


async def test_pages_follow_status_changes(api: Api, event: EventFactory) -> None:
    await feed_floor(api, event)
    await api.events([event(agentId=103, ctiStatus=1)])
    page = data(await monitor(api, DYNAMIC, body(offset=2, limit=1)))
    assert page == [{"agentId": 103, "state": 1}]
    by_status = data(await monitor(api, BY_STATUS, body(offset=0, status=1)))
    assert [item["agentId"] for item in by_status] == [101, 103, 104]


# -- vdn/totalagentstate -------------------------------------------------------------------


async def test_total_agent_state_lists_the_whole_vdn(api: Api, event: EventFactory) -> None:
    await feed_floor(api, event)
    answer = data(await monitor(api, ALL_STATES, body(offset=3, limit=1)))  # no paging here
    assert answer == [{"agentId": w, "state": c} for w, (c, _) in sorted(FLOOR.items())]
    assert data(await monitor(api, ALL_STATES, body(vdn=2))) == [{"agentId": 106, "state": 1}]
    assert data(await monitor(api, ALL_STATES, body(vdn=3))) == []
