"""The OpenAPI document: every route of the table and no other, valid OpenAPI 3.1, served
without authentication."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from ccms.http import openapi
from ccms.http.app import App
from ccms.http.routes import route_table
from ccms.http.routing import Answer, Context, Request, Route
from ccms.http.schemas.operations import operations
from ccms.settings import load_settings

pytestmark = [pytest.mark.integration]


def table_keys(routes: list[Route]) -> set[tuple[str, str]]:
    return {(route.method, route.path) for route in routes}


@pytest.mark.parametrize("overrides", [{}, {"large_work_numbers": True, "max_events_per_batch": 9}])
def test_the_document_lists_every_route_of_the_table_and_no_other(
    overrides: dict[str, Any],
) -> None:
    settings = load_settings({}, overrides)
    routes = route_table(settings)
    document = openapi.document(routes, settings)
    in_table, in_document = table_keys(routes), openapi.documented(document)
    assert in_table - in_document == set(), "routes without an operation in schemas/operations.py"
    assert in_document - in_table == set()
    assert set(operations(settings)) == in_table, "operations of no route, or routes of none"
    # every request body has an example that succeeds (the live schemathesis run sends it)
    assert [key for key, op in operations(settings).items() if op.request and not op.example] == []
    OpenAPIV31SpecValidator(document).validate()


def test_a_route_without_an_operation_is_left_out_and_so_found() -> None:
    async def handler(ctx: Context, request: Request) -> Answer:
        return Answer(b"{}")

    settings = load_settings({})
    extra = Route("POST", "/ccms/v1/unknown", handler)
    routes = [*route_table(settings), extra]
    assert table_keys(routes) - openapi.documented(openapi.document(routes, settings)) == {
        ("POST", "/ccms/v1/unknown")
    }


def test_the_document_says_how_each_route_authenticates_and_refuses() -> None:
    settings = load_settings({})
    paths = openapi.document(route_table(settings), settings)["paths"]
    agent = paths["/rest/cmsapp/v1/openapi/agent/agentbyworkno"]["post"]
    assert agent["security"] == [{"c2": []}]
    assert agent["x-ccms-role"] == "query"
    assert agent["requestBody"]["required"] is True
    assert {"400", "401", "408", "413", "415", "429", "431", "503"} <= set(agent["responses"])
    assert paths["/rest/cmsapp/v1/ping"]["post"]["requestBody"]["required"] is False
    health = paths["/healthz"]["get"]
    assert health["security"] == []
    assert "requestBody" not in health
    assert "401" not in health["responses"]
    vendor = paths["/rest/cmsapp/v1/openapi/vdn/queryAgentByStatus"]["post"]["responses"]
    assert vendor["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/VendorFailure"
    }
    assert "text/plain" in paths["/metrics"]["get"]["responses"]["200"]["content"]


@pytest.mark.anyio
async def test_the_document_is_served_without_a_signature(app: App) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        response = await http.get("/ccms/v1/openapi.json")
        head = await http.head("/ccms/v1/openapi.json")
        post = await http.post("/ccms/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    served = orjson.loads(response.content)
    assert served == orjson.loads(openapi.render(app.routes, app.settings))
    assert served["openapi"] == "3.1.0"
    assert "/ccms/v1/openapi.json" in served["paths"]
    assert (head.status_code, head.content) == (200, b"")
    assert post.status_code == 405
    assert post.headers["allow"] == "GET, HEAD"
