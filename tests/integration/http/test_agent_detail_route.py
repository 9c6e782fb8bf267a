"""POST /ccms/v1/agents/detail: one agent, why ccms believes its state, its history.

Events go through the intake, the answer comes from the store, field by field, on every
store backend."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import (
    INGEST_AK,
    INGEST_SK,
    QUERY_AK,
    QUERY_SK,
    SCOPED_AK,
    SCOPED_SK,
    Api,
    EventFactory,
    FrozenClock,
    SyncApp,
    test_keys,
)
from tests.integration.http.test_agent_routes import envelope_error
from tests.integration.store.conftest import make_schema

from ccms.domain.agent import AgentRecord
from ccms.domain.flags import ALERT, Flag
from ccms.domain.status import SIGNED_OUT_LOGIN_DATE, CtiStatus
from ccms.http import create_app
from ccms.http.app import App
from ccms.settings import load_settings
from ccms.store.backends import open_store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

DETAIL = "/ccms/v1/agents/detail"
AMI = "asterisk-ami"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def backend_api(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ccms.db'}"
    else:
        schema = make_schema()
        url = schema.url
    clock = FrozenClock(time.time())  # the store keeps its real clock: stay near it
    settings = load_settings({}, {"store": url})
    app = create_app(settings, open_store(settings), test_keys(), clock)
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Api(http, clock)
    finally:
        await app.shutdown()
        if schema is not None:
            schema.drop()


def _at(api: Api, seconds_ago: float) -> int:
    return int((api.clock() - seconds_ago) * 1000)


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["result"], body["resultCode"]) == ("0", "0100000"), body
    assert body["resultDatas"] == body["resultDesc"]
    return body["resultDesc"]


async def test_intake_to_store_to_route_field_by_field(backend_api: Api) -> None:
    api = backend_api
    signed_in, resting, late = _at(api, 100), _at(api, 40.5), _at(api, 60)
    events = [
        {"eventId": "ami:1:1:101:1", "ccId": 1, "vdn": 1, "agentId": 101, "at": signed_in,
         "ctiStatus": 1, "name": "Ann Lee", "phoneNumber": "+8610555", "mediaType": 5,
         "skills": [12, 11], "calls": [], "source": AMI,
         "rawState": "sales: Status=1 InCall=0 Paused=0"},
        {"eventId": "ami:1:1:101:2", "ccId": 1, "vdn": 1, "agentId": 101, "at": resting,
         "ctiStatus": 8, "reason": 4, "calls": ["c-1"], "source": AMI,
         "rawState": "sales: Status=1 InCall=0 Paused=1 (Lunch)"},
    ]  # fmt: skip
    assert _ok(await api.events(events)) == {"accepted": 2, "duplicates": 0}
    # an older status event, from another feed: history only, and not the cause
    older = {"eventId": "pbx-9", "ccId": 1, "vdn": 1, "agentId": 101, "at": late,
             "ctiStatus": 7, "source": "pbx", "rawState": ""}  # fmt: skip
    assert _ok(await api.events([older])) == {"accepted": 1, "duplicates": 0}

    answer = _ok(await api.post(DETAIL, {"ccId": 1, "vdn": 1, "workNo": 101}))
    assert answer == {
        "agent": {
            "agentId": 101,
            "name": "Ann Lee",
            "ctiStatus": 8,
            "status": 8,  # rest
            "since": resting,
            "secondsInState": 40,  # whole seconds
            "reason": 4,
            "skills": [11, 12],
            "calls": ["c-1"],
            "flags": [],  # no thresholds configured
            "loginDate": signed_in,
            "phoneNumber": "+8610555",
            "mediaType": 5,
            "source": AMI,
            "rawState": "sales: Status=1 InCall=0 Paused=1 (Lunch)",
        },
        "history": [
            {"at": resting, "ctiStatus": 8, "reason": 4, "applied": True,
             "eventId": "ami:1:1:101:2", "source": AMI,
             "rawState": "sales: Status=1 InCall=0 Paused=1 (Lunch)"},
            {"at": late, "ctiStatus": 7, "reason": None, "applied": False, "eventId": "pbx-9",
             "source": "pbx", "rawState": ""},
            {"at": signed_in, "ctiStatus": 1, "reason": None, "applied": True,
             "eventId": "ami:1:1:101:1", "source": AMI,
             "rawState": "sales: Status=1 InCall=0 Paused=0"},
        ],
    }  # fmt: skip
    # historyLimit cuts the history, never the cause; the other body shape, digit strings
    short = _ok(await api.post(DETAIL, {"queryParam": {"ccId": "1", "vdn": 1, "workNo": "101",
                                                       "historyLimit": "1"}}))  # fmt: skip
    assert [h["eventId"] for h in short["history"]] == ["ami:1:1:101:2"]
    none = _ok(await api.post(DETAIL, {"ccId": 1, "vdn": 1, "workNo": 101, "historyLimit": 0}))
    assert none["history"] == [] and none["agent"] == answer["agent"]


async def test_an_agent_without_a_status_event_has_no_cause(backend_api: Api) -> None:
    api = backend_api
    provisioned = _at(api, 10)
    event = {"eventId": "p1", "ccId": 1, "vdn": 1, "agentId": 102, "at": provisioned,
             "name": "Bob", "source": AMI, "rawState": "attributes only"}  # fmt: skip
    _ok(await api.events([event]))
    answer = _ok(await api.post(DETAIL, {"ccId": 1, "vdn": 1, "workNo": 102, "historyLimit": None}))
    agent = answer["agent"]
    assert (agent["ctiStatus"], agent["status"], agent["since"]) == (0, 2, provisioned)
    assert (agent["secondsInState"], agent["reason"], agent["loginDate"]) == (
        10, None, SIGNED_OUT_LOGIN_DATE,
    )  # fmt: skip
    assert (agent["source"], agent["rawState"], answer["history"]) == (None, None, [])


async def test_a_status_event_without_source_clears_the_cause(backend_api: Api) -> None:
    """The cause is the newest applied status event, whatever it carried: a feed that
    sends no source leaves none, rather than the previous feed's words."""
    api = backend_api
    first = {"eventId": "a", "ccId": 1, "vdn": 1, "agentId": 101, "at": _at(api, 20),
             "ctiStatus": 1, "source": AMI, "rawState": "idle"}  # fmt: skip
    second = {"eventId": "b", "ccId": 1, "vdn": 1, "agentId": 101, "at": _at(api, 10),
              "ctiStatus": 5}  # fmt: skip
    _ok(await api.events([first, second]))
    agent = _ok(await api.post(DETAIL, {"ccId": 1, "vdn": 1, "workNo": 101}))["agent"]
    assert (agent["ctiStatus"], agent["status"], agent["source"], agent["rawState"]) == (
        5, 7, None, None,
    )  # fmt: skip


async def test_the_default_history_limit_is_20(api: Api, event: EventFactory) -> None:
    statuses = [CtiStatus.IDLE, CtiStatus.TALKING] * 13  # 26 status events
    await api.events([event(offset_s=100 - n, ctiStatus=s) for n, s in enumerate(statuses)])
    answer = _ok(await api.post(DETAIL, {"ccId": 1, "vdn": 1, "workNo": 101}))
    assert len(answer["history"]) == 20
    assert answer["history"][0]["eventId"] == "e26"  # newest first
    full = {"ccId": 1, "vdn": 1, "workNo": 101, "historyLimit": 1000}
    assert len(_ok(await api.post(DETAIL, full))["history"]) == 26


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"vdn": 1, "workNo": 101}, "ccId is required"),
        ({"ccId": 1, "workNo": 101}, "vdn is required"),
        ({"ccId": 1, "vdn": 1}, "workNo is required"),
        ({"ccId": 1, "vdn": 1, "agentId": 101}, "workNo is required"),
        ({"ccId": 0, "vdn": 1, "workNo": 101}, "ccId must be an integer from 1 to 65535"),
        ({"ccId": 1, "vdn": 5001, "workNo": 101}, "vdn must be an integer from 1 to 5000"),
        ({"ccId": 1, "vdn": 1, "workNo": 100}, "workNo must be an integer from 101 to 59999"),
        ({"ccId": 1, "vdn": 1, "workNo": 60000}, "workNo must be an integer from 101 to 59999"),
        ({"ccId": 1, "vdn": 1, "workNo": True}, "workNo must be an integer from 101 to 59999"),
        ({"ccId": 1, "vdn": 1, "workNo": 101.0}, "workNo must be an integer from 101 to 59999"),
        ({"ccId": "x", "vdn": 1, "workNo": 101}, "ccId must be an integer from 1 to 65535"),
        ({"ccId": 1, "vdn": 1, "workNo": 101, "historyLimit": -1},
         "historyLimit must be an integer from 0 to 1000"),
        ({"ccId": 1, "vdn": 1, "workNo": 101, "historyLimit": 1001},
         "historyLimit must be an integer from 0 to 1000"),
        ({"ccId": 1, "vdn": 1, "workNo": 101, "historyLimit": "20a"},
         "historyLimit must be an integer from 0 to 1000"),
        ({"ccId": 1, "vdn": 1, "workNo": 101, "historyLimit": 2.5},
         "historyLimit must be an integer from 0 to 1000"),
        ({"ccId": 1, "vdn": 1, "workNo": 101, "historyLimit": False},
         "historyLimit must be an integer from 0 to 1000"),
        ({"ccId": 1, "vdn": 1, "workNo": 101, "historyLimit": [20]},
         "historyLimit must be an integer from 0 to 1000"),
    ],
)  # fmt: skip
async def test_bad_parameters_are_0100002_and_name_the_rule(
    api: Api, event: EventFactory, params: dict[str, Any], message: str
) -> None:
    await api.events([event(ctiStatus=1)])
    assert envelope_error(await api.post(DETAIL, params), 200, "0100002") == message
    text = envelope_error(await api.post(DETAIL, {"queryParam": params}), 200, "0100002")
    assert text == message


async def test_query_param_must_be_an_object_and_the_body_json(api: Api) -> None:
    assert "queryParam" in envelope_error(await api.post(DETAIL, {"queryParam": 1}), 200, "0100002")
    envelope_error(await api.post(DETAIL, b"[1]"), 400, "0100002")
    envelope_error(await api.post(DETAIL, b"{"), 400, "0100002")


@pytest.mark.parametrize("settings_overrides", [{"large_work_numbers": True}])
async def test_large_work_numbers(api: Api, event: EventFactory) -> None:
    await api.events([event(agentId=999999, ctiStatus=1)])
    answer = _ok(await api.post(DETAIL, {"ccId": 1, "vdn": 1, "workNo": 999999}))
    assert answer["agent"]["agentId"] == 999999
    text = envelope_error(await api.post(DETAIL, {"ccId": 1, "vdn": 1, "workNo": 69999}), 200,
                          "0100002")  # fmt: skip
    assert text == "workNo must be an integer from 101 to 59999 or from 70000 to 999999"


async def test_unknown_agent_is_0100001_as_on_the_compatible_routes(
    api: Api, event: EventFactory
) -> None:
    await api.events([event(agentId=102, ctiStatus=1)])
    text = envelope_error(await api.post(DETAIL, {"ccId": 1, "vdn": 1, "workNo": 101}), 200,
                          "0100001")  # fmt: skip
    assert text == "agent 101 is not known in call center 1, vdn 1"
    compat = await api.agent(agent_id=101)
    assert envelope_error(compat, 200, "0100001") == text  # the same code and words
    # known in VDN 1, not in VDN 2
    envelope_error(await api.post(DETAIL, {"ccId": 1, "vdn": 2, "workNo": 102}), 200, "0100001")


async def test_role_and_scope(api: Api, event: EventFactory) -> None:
    await api.events([event(vdn=1, ctiStatus=1), event(vdn=2, ctiStatus=1)])
    inside, outside = {"ccId": 1, "vdn": 1, "workNo": 101}, {"ccId": 1, "vdn": 2, "workNo": 101}
    assert _ok(await api.post(DETAIL, inside, QUERY_AK, QUERY_SK))["agent"]["agentId"] == 101
    assert _ok(await api.post(DETAIL, inside, SCOPED_AK, SCOPED_SK))["agent"]["ctiStatus"] == 1
    text = envelope_error(await api.post(DETAIL, outside, SCOPED_AK, SCOPED_SK), 200, "0101003")
    assert "not allowed for ccId 1 and vdn 2" in text
    # an ingest-only key learns nothing, not even whether its body was valid
    for body in (inside, {"ccId": 0}):
        text = envelope_error(await api.post(DETAIL, body, INGEST_AK, INGEST_SK), 200, "0101003")
        assert text == "access key lacks the role 'query'"


async def test_signed_post_only(api: Api) -> None:
    body = b'{"ccId":1,"vdn":1,"workNo":101}'
    response = await api.http.post(
        DETAIL, content=body, headers={"content-type": "application/json"}
    )
    envelope_error(response, 401, "0100001")
    response = await api.http.get(DETAIL)
    envelope_error(response, 405, "0100002")
    assert response.headers["allow"] == "POST"


def _ringing_too_long(record: AgentRecord, now_ms: int) -> tuple[Flag, ...]:
    if record.cti_status != CtiStatus.ANSWERING:
        return ()
    return (Flag("ringing-long", ALERT, record.state_start + 20_000),)


async def test_flags_are_those_of_the_context(app: App, api: Api, event: EventFactory) -> None:
    app.context = dataclasses.replace(app.context, flags=_ringing_too_long)
    await api.events([event(offset_s=30, ctiStatus=CtiStatus.ANSWERING, agentId=101),
                      event(offset_s=30, ctiStatus=CtiStatus.IDLE, agentId=102)])  # fmt: skip
    ringing = _ok(await api.post(DETAIL, {"ccId": 1, "vdn": 1, "workNo": 101}))["agent"]
    assert ringing["flags"] == [
        {"name": "ringing-long", "level": "alert", "since": ringing["since"] + 20_000}
    ]
    idle = _ok(await api.post(DETAIL, {"ccId": 1, "vdn": 1, "workNo": 102}))["agent"]
    assert idle["flags"] == []


limits = st.one_of(st.integers(-3, 1003), st.sampled_from(["0", "20", "1000", "1001", ""]),
                   st.none(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False),
                   st.text(max_size=4))  # fmt: skip


@pytest.fixture
def floor(tmp_path: Path) -> Iterator[SyncApp]:
    """Agent 101 of 1/1 with 30 status events (some out of order), for a whole Hypothesis run."""
    app = SyncApp(tmp_path / "detail.db")
    now_ms = int(app.clock() * 1000)
    events = [{"eventId": f"h{n}", "ccId": 1, "vdn": 1, "agentId": 101,
               "at": now_ms - (1000 - n * 10 if n % 7 else 2000 + n), "ctiStatus": n % 11,
               "source": AMI, "rawState": f"raw {n}"} for n in range(30)]  # fmt: skip
    assert app.run(app.api.events(events)).json()["resultDesc"]["accepted"] == 30
    yield app
    app.close()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(limit=limits, shape=st.sampled_from(["flat", "wrapped"]), omit=st.booleans())
def test_any_history_limit_is_an_answer_or_0100002(
    floor: SyncApp, limit: Any, shape: str, omit: bool
) -> None:
    fields: dict[str, Any] = {"ccId": 1, "vdn": 1, "workNo": 101}
    if not omit:
        fields["historyLimit"] = limit
    body = fields if shape == "flat" else {"queryParam": fields}
    answer = floor.run(floor.api.post(DETAIL, body)).json()
    valid = (
        omit
        or limit is None
        or (
            (type(limit) is int or (type(limit) is str and limit.isascii() and limit.isdigit()))
            and 0 <= int(limit) <= 1000
        )
    )
    if not valid:
        assert answer["resultCode"] == "0100002"
        assert answer["resultDesc"] == "historyLimit must be an integer from 0 to 1000"
        return
    assert answer["resultCode"] == "0100000"
    wanted = 20 if omit or limit is None else int(limit)
    history = answer["resultDesc"]["history"]
    assert len(history) == min(wanted, 30)
    assert history == sorted(history, key=lambda h: h["at"], reverse=True)
    assert answer["resultDesc"]["agent"]["rawState"] == next(
        (h["rawState"] for h in history if h["applied"]), answer["resultDesc"]["agent"]["rawState"]
    )
