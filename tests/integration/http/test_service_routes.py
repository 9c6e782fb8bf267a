"""The service routes (``skill/servicequality``, ``skill/skillcfginfo``,
``vdn/queryaccesscodecallinfo``), fed through the intake, on every backend: answers field by
field, request rules, scopes, the rate limit of servicequality (on the app's clock) and the
configuration file."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from tests.conftest import (
    INGEST_AK,
    INGEST_SK,
    QUERY_AK,
    QUERY_SK,
    SCOPED_AK,
    SCOPED_SK,
    Api,
    FrozenClock,
    test_keys,
)
from tests.integration.http.test_agent_routes import envelope_error

from ccms.http import create_app
from ccms.http.app import App
from ccms.settings import load_settings
from ccms.store.sqlite import SQLiteStore

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

QUALITY = "/rest/cmsapp/v1/openapi/skill/servicequality"
CONFIG = "/rest/cmsapp/v1/openapi/skill/skillcfginfo"
ACCESS = "/rest/cmsapp/v1/openapi/vdn/queryaccesscodecallinfo"
WINDOW = 300_000


def e(n: str, call: str, kind: str, at: int, **fields: Any) -> dict[str, Any]:
    return {"eventId": n, "ccId": 1, "vdn": 1, "callId": call, "at": at, "callEvent": kind,
            **fields}  # fmt: skip


def last_window(now: int) -> int:
    return (now - WINDOW) // WINDOW * WINDOW


async def test_servicequality_counts_the_last_complete_5_minutes(list_api: Api) -> None:
    now = int(list_api.clock() * 1000)
    start = last_window(now)
    assert start + WINDOW <= now < start + 2 * WINDOW
    events = [
        # queue 1: answered 12 s after queueing (within 15 s and 20 s)
        e("a1", "1789999000-1", "arrive", start + 1_000, accessCode="650550"),
        e("a2", "1789999000-1", "queue", start + 2_000, skillId=1),
        e("a3", "1789999000-1", "answer", start + 14_000, agentId=101),
        # queue 1: answered 18 s after (within 20 s only)
        e("b1", "1789999000-2", "queue", start + 3_000, skillId=1),
        e("b2", "1789999000-2", "offer", start + 20_000, agentId=102),
        e("b3", "1789999000-2", "answer", start + 21_000),
        # queue 1: abandoned after 10 s in queue; another after 30 s
        e("c1", "1789999000-3", "queue", start + 4_000, skillId=1),
        e("c2", "1789999000-3", "abandon", start + 14_000),
        e("d1", "1789999000-4", "queue", start + 5_000, skillId=1),
        e("d2", "1789999000-4", "abandon", start + 35_000),
        # queue 2: queued in the window, still waiting; one queued in the current window
        e("f1", "1789999000-5", "queue", start + WINDOW - 1, skillId=2),
        e("g1", "1789999000-6", "queue", start + WINDOW, skillId=2),
        # queue 1: over before the window
        e("h1", "1789999000-7", "queue", start - 60_000, skillId=1),
        e("h2", "1789999000-7", "abandon", start - 1),
    ]
    assert (await list_api.events(events)).json()["resultDesc"]["accepted"] == len(events)
    answer = await list_api.post(
        QUALITY, {"queryParam": {"ccId": 1, "vdn": 1, "skillIds": [2, "1", 3, 2]}}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"resultCode", "resultDesc"}  # the vendor's E2 envelope
    assert body["resultCode"] == "0100000"
    assert body["resultDesc"] == [
        {"skillId": 2, "statStartTime": start, "inCallNum": 1, "connectedNum": 0,
         "callLostNum": 0, "in15sCallNum": 0, "wait15sLostNum": 0, "in20sCallNum": 0,
         "wait20sLostNum": 0},
        {"skillId": 1, "statStartTime": start, "inCallNum": 4, "connectedNum": 2,
         "callLostNum": 2, "in15sCallNum": 1, "wait15sLostNum": 1, "in20sCallNum": 2,
         "wait20sLostNum": 1},
        {"skillId": 3, "statStartTime": start, "inCallNum": 0, "connectedNum": 0,
         "callLostNum": 0, "in15sCallNum": 0, "wait15sLostNum": 0, "in20sCallNum": 0,
         "wait20sLostNum": 0},
    ]  # fmt: skip
    list_api.clock.now += 1  # the next call, a second later: another VDN has nothing
    other = (await list_api.post(QUALITY, {"ccId": 1, "vdn": 2, "skillIds": [1]})).json()
    assert other["resultDesc"][0]["inCallNum"] == 0


async def test_servicequality_answers_a_key_once_per_second(list_api: Api) -> None:
    body = {"ccId": 1, "vdn": 1, "skillIds": [1]}
    t0 = list_api.clock.now
    assert (await list_api.post(QUALITY, body)).json()["resultCode"] == "0100000"
    list_api.clock.now = t0 + 0.999
    refused = await list_api.post(QUALITY, body)
    text = envelope_error(refused, 429, "0100001")
    assert text == "skill/servicequality answers an access key once every 1 s"
    assert refused.headers["retry-after"] == "1"
    # another key is answered in the same instant; the refusal was not counted
    assert (await list_api.post(QUALITY, body, ak=QUERY_AK, sk=QUERY_SK)).status_code == 200
    list_api.clock.now = t0 + 1  # a second after the call answered
    assert (await list_api.post(QUALITY, body)).json()["resultCode"] == "0100000"
    # a request refused for its parameters is not counted either
    list_api.clock.now = t0 + 2
    bad = await list_api.post(QUALITY, {"ccId": 1, "vdn": 1, "skillIds": []})
    envelope_error(bad, 200, "0100002")
    assert (await list_api.post(QUALITY, body)).status_code == 200


@pytest.fixture
async def unlimited(tmp_path: Path) -> AsyncIterator[Api]:
    clock = FrozenClock()
    settings = load_settings({"CCMS_SERVICE_QUALITY_INTERVAL_S": "0"})
    app = create_app(settings, SQLiteStore(str(tmp_path / "ccms.db"), clock=clock),
                     test_keys(), clock)  # fmt: skip
    await app.startup()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield Api(http, clock)
    await app.shutdown()


async def test_servicequality_limit_switched_off(unlimited: Api) -> None:
    body = {"ccId": 1, "vdn": 1, "skillIds": [1]}
    for _ in range(3):  # one instant, three answers
        assert (await unlimited.post(QUALITY, body)).json()["resultCode"] == "0100000"


@pytest.mark.parametrize("path", [QUALITY, CONFIG])
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"ccId": 1, "vdn": 1}, "skillIds is required"),
        ({"ccId": 1, "vdn": 1, "skillIds": []}, "skillIds must be a list of 1 to 1000 integers"),
        ({"ccId": 1, "vdn": 1, "skillIds": [0]}, "skillIds must be a list of 1 to 1000 integers"),
        ({"ccId": 1, "vdn": 1, "skillIds": [10001]}, "skillIds must be a list of 1 to 1000"),
        ({"ccId": 1, "vdn": 1, "skillIds": ["x"]}, "skillIds must be a list of 1 to 1000"),
        ({"ccId": 1, "vdn": 1, "skillIds": 1}, "skillIds must be a list of 1 to 1000"),
        ({"ccId": 1, "vdn": 1, "skillIds": list(range(1, 1002))}, "skillIds must be a list of"),
        ({"vdn": 1, "skillIds": [1]}, "ccId is required"),
        ({"ccId": 1, "skillIds": [1]}, "vdn is required"),
        ({"ccId": 0, "vdn": 1, "skillIds": [1]}, "ccId must be an integer from 1 to 65535"),
        ({"ccId": 1, "vdn": 5001, "skillIds": [1]}, "vdn must be an integer from 1 to 5000"),
        ({"ccId": 1, "vdn": "one", "skillIds": [1]}, "vdn must be an integer from 1 to 5000"),
    ],
)
async def test_skill_request_rules(
    list_api: Api, path: str, body: dict[str, Any], message: str
) -> None:
    text = envelope_error(await list_api.post(path, body), 200, "0100002")
    assert text.startswith(message), text
    if "skillIds" in body and body["skillIds"] == list(range(1, 1002)):
        ok = await list_api.post(path, {**body, "skillIds": list(range(1, 1001))})
        assert len(ok.json()["resultDesc"]) == 1000  # the limit itself is taken


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"ccId": 1, "vdn": 1}, "innoIds is required"),
        ({"ccId": 1, "vdn": 1, "innoIds": []}, "innoIds must be a list of 1 to 500 integers"),
        ({"ccId": 1, "vdn": 1, "innoIds": [0]}, "innoIds must be a list of 1 to 500 integers"),
        ({"ccId": 1, "vdn": 1, "innoIds": [65536]}, "innoIds must be a list of 1 to 500"),
        ({"ccId": 1, "vdn": 1, "innoIds": [1.5]}, "innoIds must be a list of 1 to 500"),
        ({"ccId": 1, "vdn": 1, "innoIds": "1"}, "innoIds must be a list of 1 to 500"),
        ({"ccId": 1, "vdn": 1, "innoIds": list(range(1, 502))}, "innoIds must be a list of"),
        ({"vdn": 1, "innoIds": [1]}, "ccId is required"),
        ({"ccId": 1, "vdn": 0, "innoIds": [1]}, "vdn must be an integer from 1 to 5000"),
    ],
)
async def test_queryaccesscodecallinfo_request_rules(
    list_api: Api, body: dict[str, Any], message: str
) -> None:
    text = envelope_error(await list_api.post(ACCESS, body), 200, "0100002")
    assert text.startswith(message), text
    if "innoIds" in body and body["innoIds"] == list(range(1, 502)):
        ok = await list_api.post(ACCESS, {**body, "innoIds": list(range(1, 501))})
        assert len(ok.json()["resultDesc"]) == 500  # the limit itself is taken


@pytest.mark.parametrize("path", [QUALITY, CONFIG, ACCESS])
async def test_scopes_and_roles(list_api: Api, path: str) -> None:
    body: dict[str, Any] = {"ccId": 1, "vdn": 2, "skillIds": [1]}
    if path == ACCESS:
        body = {"ccId": 1, "vdn": 2, "innoIds": [1]}
    denied = await list_api.post(path, body, ak=SCOPED_AK, sk=SCOPED_SK)
    envelope_error(denied, 200, "0101003")
    # a refusal is not counted by servicequality's limit: answered in the same instant
    allowed = await list_api.post(path, {**body, "vdn": 1}, ak=SCOPED_AK, sk=SCOPED_SK)
    assert allowed.json()["resultCode"] == "0100000"
    no_role = await list_api.post(path, {**body, "vdn": 1}, ak=INGEST_AK, sk=INGEST_SK)
    envelope_error(no_role, 200, "0101003")


DEFAULTS = {"maxCallNum": 100, "maxHoldCallNum": 5, "maxWaitTime": 60, "maxAnswerWaitTime": 30,
            "maxTalkTime": 86400, "maxRestAgentNum": 2, "maxAgentWrapupTime": 5}  # fmt: skip


async def test_skillcfginfo_without_a_file_answers_the_defaults(list_api: Api) -> None:
    body = (await list_api.post(CONFIG, {"ccId": 1, "vdn": 1, "skillIds": [7, 1, 7]})).json()
    assert body["result"] == "0" and body["resultDatas"] == body["resultDesc"]
    assert body["resultDesc"] == [{"skillId": 7, **DEFAULTS}, {"skillId": 1, **DEFAULTS}]


CC_FILE = """
max_wait_time = 90
max_call_num = 50

[[skill]]
cc_id = 1
vdn = 1
skill = 7
max_wait_time = 120
max_agent_wrapup_time = 300

[[access_code]]
cc_id = 1
vdn = 1
id = 3
code = "650550"
"""


@pytest.fixture
async def configured(tmp_path: Path) -> AsyncIterator[tuple[Api, App, Path]]:
    """The app with a configuration file (``cc_config_file``)."""
    clock = FrozenClock()
    path = tmp_path / "cc.toml"
    path.write_text(CC_FILE, encoding="utf-8")
    settings = load_settings({"CCMS_CC_CONFIG_FILE": str(path)})
    app = create_app(settings, SQLiteStore(str(tmp_path / "ccms.db"), clock=clock),
                     test_keys(), clock)  # fmt: skip
    await app.startup()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield Api(http, clock), app, path
    await app.shutdown()


async def test_skillcfginfo_from_the_file_and_reloaded(
    configured: tuple[Api, App, Path], caplog: pytest.LogCaptureFixture
) -> None:
    api, app, path = configured
    ask = {"ccId": 1, "vdn": 1, "skillIds": [7, 1]}
    top = {**DEFAULTS, "maxWaitTime": 90, "maxCallNum": 50}
    assert (await api.post(CONFIG, ask)).json()["resultDesc"] == [
        {"skillId": 7, **top, "maxWaitTime": 120, "maxAgentWrapupTime": 300},
        {"skillId": 1, **top},
    ]
    other_vdn = (await api.post(CONFIG, {**ask, "vdn": 2})).json()["resultDesc"]
    assert other_vdn == [{"skillId": 7, **top}, {"skillId": 1, **top}]
    # SIGHUP reads the file again
    path.write_text(
        "[[skill]]\ncc_id = 1\nvdn = 1\nskill = 1\nmax_rest_agent_num = 9\n", encoding="utf-8"
    )
    assert app.reload_files() is False  # no flags file: only the configuration is read
    assert (await api.post(CONFIG, ask)).json()["resultDesc"] == [
        {"skillId": 7, **DEFAULTS},
        {"skillId": 1, **DEFAULTS, "maxRestAgentNum": 9},
    ]
    # a file refused keeps the configuration in use, with one line in the log
    path.write_text("max_wait_time = -1\n", encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="ccms.ccconfig"):
        assert app.cc_config.reload() is False
    assert [r.getMessage() for r in caplog.records if r.name == "ccms.ccconfig"] == [
        "configuration file not reloaded, the configuration in use stays:"
        f" {path} line 1: max_wait_time must be an integer from 0 to 2147483647, got -1"
    ]
    answer = (await api.post(CONFIG, ask)).json()["resultDesc"]
    assert answer[1]["maxRestAgentNum"] == 9


async def test_queryaccesscodecallinfo_counts_the_calls_now(
    configured: tuple[Api, App, Path],
) -> None:
    api, _, _ = configured
    now = int(api.clock() * 1000)
    events = [
        e("a1", "1789999000-1", "arrive", now - 50_000, accessCode="650550"),  # in the IVR
        e("b1", "1789999000-2", "arrive", now - 50_000, accessCode="650550"),
        e("b2", "1789999000-2", "queue", now - 42_500, skillId=1),  # 42.5 s in queue
        e("c1", "1789999000-3", "arrive", now - 50_000, accessCode="650550"),
        e("c2", "1789999000-3", "queue", now - 20_000, skillId=2),
        e("d1", "1789999000-4", "arrive", now - 50_000, accessCode="650550"),
        e("d2", "1789999000-4", "offer", now - 5_000, agentId=101),  # ringing
        e("f1", "1789999000-5", "arrive", now - 50_000, accessCode="650550"),
        e("f2", "1789999000-5", "answer", now - 5_000, agentId=102),  # talking
        e("g1", "1789999000-6", "arrive", now - 50_000, accessCode="650550"),
        e("g2", "1789999000-6", "end", now - 1_000),  # ended: not counted
        e("h1", "1789999000-7", "arrive", now - 9_000, accessCode="1"),  # innoId 1
        e("h2", "1789999000-7", "queue", now - 8_000, skillId=1),
        {**e("i1", "1789999000-8", "arrive", now, accessCode="650550"), "vdn": 2},
    ]
    assert (await api.events(events)).json()["resultDesc"]["accepted"] == len(events)
    body = (await api.post(ACCESS, {"queryParam": {"ccId": 1, "vdn": 1,
                                                   "innoIds": [3, "1", 4, 3]}})).json()  # fmt: skip
    assert body["result"] == "0" and body["resultDatas"] == body["resultDesc"]
    assert body["resultDesc"] == [
        {"innoId": 3, "allCallCount": 5, "ivrCallCount": 1, "agentCallCount": 2,
         "queueCallCount": 2, "longestWaitTime": 42},
        {"innoId": 1, "allCallCount": 1, "ivrCallCount": 0, "agentCallCount": 0,
         "queueCallCount": 1, "longestWaitTime": 8},
        {"innoId": 4, "allCallCount": 0, "ivrCallCount": 0, "agentCallCount": 0,
         "queueCallCount": 0, "longestWaitTime": 0},
    ]  # fmt: skip


def _blocks(path: Path, heading: str, kind: str = "json") -> list[str]:
    """The ``kind`` code blocks of the section of ``path`` under ``heading``."""
    text = path.read_text(encoding="utf-8")
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    section = text[start : end if end != -1 else None]
    return re.findall(rf"```{kind}\n(.*?)```", section, re.S)


async def test_the_service_examples_of_the_docs(tmp_path: Path) -> None:
    """docs/calls.md's examples of the three routes, field by field, with its
    configuration file, after docs/intake.md's call (the app's clock: 1790000000000)."""
    docs = Path(__file__).resolve().parents[3] / "docs"
    calls_md = docs / "calls.md"
    config = tmp_path / "cc.toml"
    config.write_text(_blocks(calls_md, "### The configuration file", "toml")[0], "utf-8")
    intake = orjson.loads(_blocks(docs / "intake.md", "## Call events")[0])
    quality = [orjson.loads(b) for b in _blocks(calls_md, "## skill/servicequality")]
    limits = [orjson.loads(b) for b in _blocks(calls_md, "## skill/skillcfginfo")]
    access = [orjson.loads(b) for b in _blocks(calls_md, "## vdn/queryaccesscodecallinfo")]
    clock = FrozenClock()
    settings = load_settings({"CCMS_CC_CONFIG_FILE": str(config)})
    app = create_app(settings, SQLiteStore(str(tmp_path / "ccms.db"), clock=clock),
                     test_keys(), clock)  # fmt: skip
    await app.startup()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        api = Api(http, clock)
        events, quality_body, quality_answer = quality
        for batch in (intake, events):
            answer = (await api.events(batch["events"])).json()["resultDesc"]
            assert answer == {"accepted": len(batch["events"]), "duplicates": 0}
        assert (await api.post(QUALITY, quality_body)).json() == quality_answer
        again = await api.post(QUALITY, quality_body)  # within the second
        assert again.status_code == 429 and again.json() == {
            "result": "0100001", "resultCode": "0100001",
            "resultDesc": "skill/servicequality answers an access key once every 1 s",
        }  # fmt: skip
        for (body, expected), path in ((limits, CONFIG), (access, ACCESS)):
            assert (await api.post(path, body)).json() == {
                **expected,
                "resultDatas": expected["resultDesc"],
            }
    await app.shutdown()
