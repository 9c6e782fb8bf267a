"""The OpenAPI 3.1 document of both surfaces, built from the route table.

Each route gives what the pipeline knows of it (method, path, how it authenticates, the
role, whether and how large a body, the failure envelope); its operation in
``ccms.http.schemas.operations`` gives the summary, the request body's schema and the
schema of its HTTP 200 answer. The error answers are the pipeline's own and are the same
for every route of a kind: what ``ccms.http.app`` refuses (400, 401, 413, 415, 429, 503)
and what ``ccms.http.protocol`` refuses before the application (408, 431, 503).

``GET /ccms/v1/openapi.json`` serves it (``ccms.http.routes.document``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson

from ccms import __version__
from ccms.auth import LARGE_BODY
from ccms.http.envelope import Family
from ccms.http.routing import Auth, Body, Route
from ccms.http.schemas.operations import (
    COMPONENTS,
    FAILURE_REF,
    VENDOR_FAILURE_REF,
    Operation,
    Schema,
    operations,
)
from ccms.settings import Settings

OPENAPI_VERSION = "3.1.0"
SECURITY_SCHEME = "c2"

# The pipeline's refusals: (status, when), by what the route asks for.
_ALWAYS = [
    ("400", "Malformed request: no Host header, or more than one (HTTP/1.1)"),
    ("408", "Request headers or body not complete in time (header_timeout, body_timeout)"),
    ("431", "Request line and headers larger than max_header_bytes"),
    ("503", "Too many connections (max_connections), or the store is unavailable"),
]
_WITH_BODY = [
    ("400", "Malformed request: the body is not a JSON object (or the Host header)"),
    ("413", "Body larger than the route's limit"),
    ("415", "Content-Type is not application/json"),
]
_SIGNED = [
    ("401", "Authorization missing, malformed, unknown key, stale timestamp or bad signature"),
    ("429", "Too many requests for this access key (rate_limit)"),
]
_SIGNED_WITH_BODY = [
    ("429", "Too many requests for this access key (rate_limit), or, for a body larger than"
     f" {LARGE_BODY // 1024} KiB, too many failed signatures over such bodies from this"
     " client address (large_body_failures)"),
]  # fmt: skip
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "string"}}
}


def operation_id(route: Route) -> str:
    return f"{route.method.lower()}_" + re.sub(r"[^A-Za-z0-9]+", "_", route.name).strip("_")


def _errors(route: Route) -> dict[str, Any]:
    refusals = dict(_ALWAYS)
    if route.body is not Body.NONE:
        refusals.update(_WITH_BODY)
    if route.auth is not Auth.NONE:
        refusals.update(_SIGNED)
        if route.body is not Body.NONE:
            refusals.update(_SIGNED_WITH_BODY)
    own = VENDOR_FAILURE_REF if route.envelope is Family.VENDOR else FAILURE_REF
    answers: dict[str, Any] = {}
    for status, description in sorted(refusals.items()):
        # 408, 431 and a 503 past the connection cap come before the route is known
        schema = FAILURE_REF if status in ("408", "431", "503") else own
        answer: dict[str, Any] = {
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
        if status in ("429", "503"):
            answer["headers"] = _RETRY_AFTER
        answers[status] = answer
    return answers


def _answers(route: Route, op: Operation) -> dict[str, Any]:
    """The media of a 200: the operation's own, and for a stream (or any non-JSON answer
    of a route that takes parameters) the failure envelope a refused parameter gets."""
    content: dict[str, Any] = {media: {"schema": op.answer} for media in (op.media, *op.also_media)}
    if op.media != "application/json" and op.query:
        own = VENDOR_FAILURE_REF if route.envelope is Family.VENDOR else FAILURE_REF
        content["application/json"] = {"schema": own}
    return content


def _operation(route: Route, op: Operation) -> dict[str, Any]:
    description = op.description
    if route.role is not None:
        description = f"Role `{route.role}`. {description}".strip()
    item: dict[str, Any] = {
        "operationId": operation_id(route),
        "summary": op.summary,
        "tags": list(op.tags),
        "security": [{SECURITY_SCHEME: []}] if route.auth is not Auth.NONE else [],
        "responses": {
            "200": {
                "description": "The answer (a failure envelope for a refused parameter)",
                "content": _answers(route, op),
            },
            **_errors(route),
        },
    }
    for status, when in op.responses.items():
        answer: dict[str, Any] = {"description": when}
        if status != "304":
            answer["content"] = {"application/json": {"schema": FAILURE_REF}}
        item["responses"][status] = answer
    if description:
        item["description"] = description
    if route.role is not None:
        item["x-ccms-role"] = route.role
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": schema}
        for name, schema in op.path.items()
    ]
    parameters += [
        {"name": name, "in": "query", "required": name in op.required_query, "schema": schema}
        for name, schema in op.query.items()
    ]
    if parameters:
        item["parameters"] = parameters
    if route.body is not Body.NONE and op.request is not None:
        media: dict[str, Any] = {"schema": op.request}
        if op.example is not None:
            media["example"] = op.example
        item["requestBody"] = {
            "required": route.body is Body.JSON,
            "description": f"At most {route.max_body} bytes",
            "content": {"application/json": media},
        }
    return item


def documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    """The ``(method, path)`` of every operation of ``document``."""
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def document(routes: Iterable[Route], settings: Settings) -> dict[str, Any]:
    """The OpenAPI document of ``routes``; a route without an operation is left out (a
    test lists them)."""
    known: dict[tuple[str, str], Operation] = operations(settings)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        op = known.get((route.method, route.path))
        if op is not None:
            paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, op)
    schemes: dict[str, Schema] = {
        SECURITY_SCHEME: {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A C2 signature: auth-v2/{ak}/{timestamp}/{signed headers}/"
            "{signature}, an HMAC-SHA256 over the request (docs/authentication.md)",
        }
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "ccms",
            "version": __version__,
            "description": "Contact-center monitoring: the CC-CMS compatible routes"
            " (/rest/cmsapp/v1/...), the native routes (/ccms/v1/...), health and metrics.",
        },
        "paths": paths,
        "components": {"schemas": COMPONENTS, "securitySchemes": schemes},
    }


def render(routes: Iterable[Route], settings: Settings) -> bytes:
    return orjson.dumps(document(routes, settings))
