"""What every monitoring route shares: tenant fields, scopes, body shapes, the envelope."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import QUERY_AK, QUERY_SK, SCOPED_AK, SCOPED_SK, Api, EventFactory
from tests.integration.http.monitor_support import (
    LEGACY_ROUTES,
    ROUTE_NAMES,
    VALID_BODIES,
    data,
    monitor,
)
from tests.integration.http.test_agent_routes import envelope_error

from ccms.http.app import App

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

TENANT_CASES = [
    ("ccId", None, "ccId is required"),
    ("ccId", 0, "ccId must be an integer from 1 to 65535"),
    ("ccId", 65536, "ccId must be an integer from 1 to 65535"),
    ("ccId", "1x", "ccId must be an integer from 1 to 65535"),
    ("ccId", True, "ccId must be an integer from 1 to 65535"),
    ("vdn", None, "vdn is required"),
    ("vdn", 0, "vdn must be an integer from 1 to 5000"),
    ("vdn", 5001, "vdn must be an integer from 1 to 5000"),
    ("vdn", 1.0, "vdn must be an integer from 1 to 5000"),
    ("vdn", [1], "vdn must be an integer from 1 to 5000"),
]


async def seed(api: Api, event: EventFactory) -> None:
    """Agent 101 signed in to skill queue 1 with a call, in VDN 1 and in VDN 2."""
    await api.events([event(vdn=vdn, ctiStatus=5, skills=[1], calls=["c-1"]) for vdn in (1, 2)])


async def test_every_monitoring_route_is_installed(app: App) -> None:
    installed = {route.name for route in app.routes}
    assert set(ROUTE_NAMES) <= installed


@pytest.mark.parametrize("name", ROUTE_NAMES)
@pytest.mark.parametrize(("field", "value", "message"), TENANT_CASES)
async def test_tenant_fields_are_checked(
    api: Api, name: str, field: str, value: Any, message: str
) -> None:
    body = dict(VALID_BODIES[name])
    if value is None:
        del body[field]
    else:
        body[field] = value
    assert envelope_error(await monitor(api, name, body), 200, "0100002") == message


@pytest.mark.parametrize("name", ROUTE_NAMES)
async def test_scoped_key_reads_its_vdn_only(api: Api, event: EventFactory, name: str) -> None:
    await seed(api, event)
    own = await monitor(api, name, VALID_BODIES[name], ak=SCOPED_AK, sk=SCOPED_SK)
    assert data(own) is not None
    other = {**VALID_BODIES[name], "vdn": 2}
    text = envelope_error(await monitor(api, name, other, ak=SCOPED_AK, sk=SCOPED_SK), 200,
                          "0101003")  # fmt: skip
    assert text == "access key is not allowed for ccId 1 and vdn 2"
    # the unscoped query key reads VDN 2
    assert data(await monitor(api, name, other, ak=QUERY_AK, sk=QUERY_SK)) is not None


@pytest.mark.parametrize("name", ROUTE_NAMES)
async def test_both_body_shapes_and_digit_strings_answer_alike(
    api: Api, event: EventFactory, name: str
) -> None:
    await seed(api, event)
    flat = await monitor(api, name, VALID_BODIES[name])
    wrapped = await monitor(api, name, {"queryParam": VALID_BODIES[name]})
    as_strings = {
        key: str(value) if isinstance(value, int) else value
        for key, value in VALID_BODIES[name].items()
    }
    digits = await monitor(api, name, {"queryParam": as_strings})
    assert data(flat) == data(wrapped) == data(digits)
    if name not in LEGACY_ROUTES:
        assert flat.json()["resultCode"] == "0100000"


@pytest.mark.parametrize("name", ROUTE_NAMES)
async def test_query_param_must_be_an_object(api: Api, name: str) -> None:
    text = envelope_error(await monitor(api, name, {"queryParam": [VALID_BODIES[name]]}), 200,
                          "0100002")  # fmt: skip
    assert text == "queryParam must be a JSON object"


@pytest.mark.parametrize("name", ROUTE_NAMES)
async def test_body_not_an_object_is_400(api: Api, name: str) -> None:
    envelope_error(await monitor(api, name, b"[1]"), 400, "0100002")
