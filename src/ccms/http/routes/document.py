"""``GET /ccms/v1/openapi.json``: the OpenAPI document of every route, this one included
(``ccms.http.openapi``). No authentication: it says what any copy of ccms serves."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import partial

from ccms import wire
from ccms.http import openapi
from ccms.http.routing import Answer, Auth, Body, Context, Request, Route
from ccms.settings import Settings

CONTENT_TYPE = b"application/json"


async def openapi_json(document: bytes, ctx: Context, request: Request) -> Answer:
    return Answer(document, content_type=CONTENT_TYPE, code="")


def routes(settings: Settings, served: Sequence[Route]) -> list[Route]:
    """The document's route, its document built once from ``served`` and itself."""
    route = Route(
        "GET", wire.OPENAPI_DOCUMENT, partial(openapi_json, b""), auth=Auth.NONE, body=Body.NONE
    )
    document = openapi.render([*served, route], settings)
    return [dataclasses.replace(route, handler=partial(openapi_json, document))]
