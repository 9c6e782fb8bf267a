"""POST /ccms/v1/events refuses control characters in text, on every store backend.

PostgreSQL cannot store NUL (the attack run got HTTP 500); SQLite stored it. Both now
answer 0100002 naming the field, and store nothing of the batch.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import Api, FrozenClock, test_keys
from tests.integration.http.test_agent_routes import envelope_error
from tests.integration.store.conftest import make_schema

from ccms.http import create_app
from ccms.settings import load_settings
from ccms.store.backends import open_store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def backend_api(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ccms.db'}"
    else:
        schema = make_schema()
        url = schema.url
    clock = FrozenClock(time.time())  # the store keeps its real clock: stay near it
    app = create_app(
        load_settings({}, {"store": url}),
        open_store(load_settings({}, {"store": url})),
        test_keys(),
        clock,
    )
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Api(http, clock)
    finally:
        await app.shutdown()
        if schema is not None:
            schema.drop()


def _event(api: Api, n: int, **fields: Any) -> dict[str, Any]:
    at = int(api.clock() * 1000) - 1000
    base = {"eventId": f"t{n}", "ccId": 1, "vdn": 1, "agentId": 100 + n, "at": at, "ctiStatus": 1}
    return {**base, **fields}


@pytest.mark.parametrize(
    ("bad", "clean", "named"),
    [
        ({"name": "Ann\x00Lee"}, {"name": "Ann Lee"}, "events[1].name"),
        ({"eventId": "t2\x00"}, {"eventId": "t2"}, "events[1].eventId"),
        ({"phoneNumber": "555\x000100"}, {"phoneNumber": "5550100"}, "events[1].phoneNumber"),
        ({"calls": ["call-1", "call\x002"]}, {"calls": ["call-1", "call2"]}, "events[1].calls[1]"),
        ({"name": "Ann\nLee"}, {"name": "Ann Lee"}, "events[1].name"),
    ],
)
async def test_a_control_character_refuses_the_batch_and_stores_nothing(
    backend_api: Api, bad: dict[str, Any], clean: dict[str, Any], named: str
) -> None:
    api = backend_api
    good = _event(api, 1, name="Bob")
    response = await api.events([good, _event(api, 2, **bad)])
    text = envelope_error(response, 200, "0100002")
    assert text == f"{named} must not contain control characters (U+0000 to U+001F)"
    for work_no in (101, 102):  # neither event of the batch was applied
        envelope_error(await api.agent(agent_id=work_no), 200, "0100001")
    # and both eventIds are still free: the batch without the control character applies
    answer = (await api.events([good, _event(api, 2, **clean)])).json()
    assert answer["resultDesc"] == {"accepted": 2, "duplicates": 0}
    assert (await api.agent(agent_id=101)).json()["resultDesc"]["name"] == "Bob"
