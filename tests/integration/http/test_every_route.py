"""Every route, whatever it is: the error paths answer the one envelope."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from tests.conftest import (
    ADMIN_SK,
    INGEST_AK,
    INGEST_SK,
    QUERY_AK,
    QUERY_SK,
    Api,
    FrozenClock,
    test_keys,
)
from tests.integration.client.client_support import serve_in_thread
from tests.integration.http.test_agent_routes import envelope_error

from ccms.errors import StoreUnavailableError
from ccms.http import create_app
from ccms.http.app import App
from ccms.http.routes import route_table
from ccms.settings import load_settings
from ccms.store.sqlite import SQLiteStore

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def post_routes(app: App) -> list[str]:
    return sorted(route.path for route in app.routes if route.method == "POST")


async def test_there_are_routes_to_walk(app: App) -> None:
    assert len(post_routes(app)) >= 4


async def test_every_post_route_refuses_alike(api: Api, app: App) -> None:
    for path in post_routes(app):
        response = await api.http.get(path)
        envelope_error(response, 405, "0100002")
        assert response.headers["allow"] == "POST"
        envelope_error(await api.http.post(path, content=b"{}"), 415, "0100002")
        unsigned = await api.http.post(
            path, content=b"{}", headers={"content-type": "application/json"}
        )
        envelope_error(unsigned, 401, "0100001")
        envelope_error(await api.post(path, b"{not json"), 400, "0100002")
        envelope_error(await api.post(path, b"[]"), 400, "0100002")
        too_big = b'{"x":"' + b"x" * (app.settings.max_events_body_bytes + 1) + b'"}'
        envelope_error(await api.post(path, too_big), 413, "0100002")


class ExplodingStore(SQLiteStore):
    """A store whose reads fail in a way nobody planned for."""

    async def get_agent_detail(self, cc_id: int, vdn: int, work_no: int) -> Any:
        raise RuntimeError("internal detail: /var/lib/secret.db")  # the agent query's read


async def test_unexpected_error_is_500_with_nothing_internal(
    tmp_path: Path, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(
        load_settings({}), ExplodingStore(str(tmp_path / "x.db"), clock=clock), test_keys(), clock
    )
    await app.startup()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            with caplog.at_level(logging.ERROR):
                response = await Api(http, clock).agent()
    finally:
        await app.shutdown()
    assert response.status_code == 500
    assert response.json() == {
        "result": "0100999",
        "resultCode": "0100999",
        "resultDesc": "unknown error",
    }
    assert "secret" not in response.text
    assert "RuntimeError: internal detail" in caplog.text  # logged with its traceback
    assert "Traceback" in caplog.text


class UnavailableStore(SQLiteStore):
    """A store whose reads fail as a store does when its file or server is gone."""

    async def get_agent_detail(self, cc_id: int, vdn: int, work_no: int) -> Any:
        raise StoreUnavailableError("the store is unavailable, try again later")


async def test_store_unavailable_is_503_with_retry_after_and_counted(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app = create_app(
        load_settings({}), UnavailableStore(str(tmp_path / "x.db"), clock=clock), test_keys(), clock
    )
    await app.startup()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            response = await Api(http, clock).agent()
            metrics = (await http.get("/metrics")).text
    finally:
        await app.shutdown()
    envelope_error(response, 503, "0100001")
    assert response.headers["retry-after"] == "1"
    assert "ccms_store_errors_total 1.0" in metrics


async def test_no_secret_or_authorization_in_the_logs(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        body = b'{"ccId":1,"vdn":1,"agentId":101}'
        headers = api.headers("/rest/cmsapp/v1/openapi/agent/agentbyworkno", body)
        await api.http.post(
            "/rest/cmsapp/v1/openapi/agent/agentbyworkno", content=body, headers=headers
        )
        bad = {**headers, "authorization": headers["authorization"][:-1] + "0"}
        await api.http.post(
            "/rest/cmsapp/v1/openapi/agent/agentbyworkno", content=body, headers=bad
        )
        await api.events([{"eventId": "x", "ccId": 1, "vdn": 1, "agentId": 101, "at": 1}])
    signature = headers["authorization"].rpartition("/")[2]
    assert ADMIN_SK not in caplog.text
    assert signature not in caplog.text


async def test_a_key_without_the_query_role_reads_nothing(api: Api, app: App) -> None:
    """An ingest-only feed key may post events but no query route answers it."""
    from tests.conftest import INGEST_AK, INGEST_SK

    event = {"eventId": "r1", "ccId": 1, "vdn": 1, "agentId": 101, "at": 1, "ctiStatus": 1}
    assert (await api.events([event], ak=INGEST_AK, sk=INGEST_SK)).json()["resultCode"] == "0100000"
    queries = [path for path in post_routes(app) if "/openapi/" in path]
    assert len(queries) >= 10
    for path in queries:
        body = {"ccId": 1, "vdn": 1, "agentId": 101, "agentIds": [101], "skillId": 1,
                "skillIds": [1], "offset": 0, "limit": 10}  # fmt: skip
        response = await api.post(path, body, ak=INGEST_AK, sk=INGEST_SK)
        assert response.status_code == 200, path
        answer = response.json()
        assert answer["resultCode"] == "0101003", (path, answer)


@pytest.mark.parametrize("body", [{}, {"events": []}, b"{not json", {"ccId": 0, "agentIds": "x"}])
async def test_the_role_is_checked_before_the_body(api: Api, app: App, body: Any) -> None:
    """A key without the route's role learns nothing about its body's validity: the
    permission refusal, not the validation message (nor 400 for a body that is not JSON)."""
    for route in app.routes:
        if route.role is None:
            continue
        ak, sk = (QUERY_AK, QUERY_SK) if route.role == "ingest" else (INGEST_AK, INGEST_SK)
        if route.method == "GET":  # the same values, as the query string
            query = [] if isinstance(body, bytes) else [(k, str(v)) for k, v in body.items()]
            response = await api.get(route.path, query or [("x", "{not json")], ak=ak, sk=sk)
        else:
            response = await api.post(route.path, body, ak=ak, sk=sk)
        text = envelope_error(response, 200, "0101003")
        assert text == f"access key lacks the role {route.role!r}", route.path
    roles = {route.role for route in app.routes}
    assert {"query", "ingest"} <= roles
    assert {route.method for route in app.routes if route.role} == {"GET", "POST"}


async def test_non_ascii_content_length_is_not_a_500(app: App) -> None:
    """A server that does not validate Content-Length may pass any bytes: never a 500."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "POST", "path": "/rest/cmsapp/v1/ping", "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                    (b"content-length", "²".encode("latin-1"))],
    }  # fmt: skip
    await app(scope, receive, send)
    assert sent[0]["status"] == 401  # on to the signature check, which it fails


async def raw_post(app: App, path: str, headers: list[tuple[bytes, bytes]],
                   http_version: str = "1.1") -> tuple[int, dict[str, Any]]:  # fmt: skip
    """POST ``{}`` through the ASGI app with exactly ``headers``: (status, answer)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "query_string": b"",
             "http_version": http_version, "headers": headers}  # fmt: skip
    await app(scope, receive, send)
    return sent[0]["status"], orjson.loads(sent[1]["body"])


@pytest.mark.parametrize("path", ["/rest/cmsapp/v1/ping", "/healthz", "/nowhere"])
async def test_two_host_headers_are_400(app: App, path: str) -> None:
    headers = [(b"host", b"testserver"), (b"content-type", b"application/json"),
               (b"host", b"other")]  # fmt: skip
    status, answer = await raw_post(app, path, headers)
    assert (status, answer["resultCode"]) == (400, "0100002")
    assert answer["resultDesc"] == "the request has more than one Host header"


@pytest.mark.parametrize("path", ["/rest/cmsapp/v1/ping", "/healthz"])
async def test_no_host_header_is_400_not_401(app: App, path: str) -> None:
    status, answer = await raw_post(app, path, [(b"content-type", b"application/json")])
    assert (status, answer["resultCode"]) == (400, "0100002")
    assert answer["resultDesc"] == "the request has no Host header"


def test_host_errors_over_real_http_are_the_envelope(tmp_path: Path, clock: FrozenClock) -> None:
    """Through uvicorn with httptools, as ``ccms serve`` runs."""
    app = create_app(load_settings({}), SQLiteStore(str(tmp_path / "x.db")), test_keys(), clock)
    with serve_in_thread(app, http="httptools") as url:
        host, port = url.removeprefix("http://").split(":")
        answers = []
        for head in (b"Host: a\r\nHost: b\r\n", b""):
            with socket.create_connection((host, int(port)), timeout=10) as connection:
                connection.sendall(
                    b"GET /healthz HTTP/1.1\r\n" + head + b"Connection: close\r\n\r\n"
                )
                answer = b""
                while chunk := connection.recv(65536):
                    answer += chunk
            status_line, _, rest = answer.partition(b"\r\n")
            answers.append((status_line, orjson.loads(rest.rpartition(b"\r\n\r\n")[2])))
    assert [(line, body["resultCode"]) for line, body in answers] == [
        (b"HTTP/1.1 400 Bad Request", "0100002"),
        (b"HTTP/1.1 400 Bad Request", "0100002"),
    ]
    assert answers[0][1]["resultDesc"] == "the request has more than one Host header"
    assert answers[1][1]["resultDesc"] == "the request has no Host header"


async def test_http_1_0_may_leave_host_out(app: App) -> None:
    """RFC 9112 requires Host of HTTP/1.1 requests only: on to the signature check."""
    headers = [(b"content-type", b"application/json")]
    status, answer = await raw_post(app, "/rest/cmsapp/v1/ping", headers, http_version="1.0")
    assert (status, answer["resultCode"]) == (401, "0100001")


async def test_other_repeated_headers_are_not_refused(app: App) -> None:
    headers = [(b"host", b"testserver"), (b"content-type", b"application/json"),
               (b"x-trace", b"1"), (b"x-trace", b"2")]  # fmt: skip
    status, answer = await raw_post(app, "/rest/cmsapp/v1/ping", headers)
    assert (status, answer["resultCode"]) == (401, "0100001")


async def test_websocket_handshake_is_refused(app: App) -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "websocket", "path": "/ccms/v1/stream", "headers": []}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]


async def test_every_route_is_documented_and_in_the_changelog() -> None:
    root = Path(__file__).resolve().parents[3]
    api = (root / "docs" / "api.md").read_text(encoding="utf-8")
    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    missing = []
    for route in route_table(load_settings({})):
        name = route.path.split("/openapi/")[-1]
        if name not in api or name not in changelog:
            missing.append(route.path)
    assert missing == []
