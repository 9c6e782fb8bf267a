"""The C2 checks as a client meets them over HTTP: 401 and a message that names the fault."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from tests.conftest import ADMIN_AK, ADMIN_SK, Api, EventFactory, FrozenClock
from tests.integration.http.test_agent_routes import DETAIL, envelope_error

from ccms.auth import LARGE_BODY, format_timestamp, sign
from ccms.http.app import App

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

BODY = orjson.dumps({"queryParam": {"ccId": 1, "vdn": 1, "agentId": 101}})


def _authorization(api: Api, headers: dict[str, str]) -> str:
    stamp = format_timestamp(datetime.fromtimestamp(api.clock(), UTC))
    return sign(ADMIN_AK, ADMIN_SK, "POST", DETAIL, headers, BODY, stamp)


async def _post(api: Api, authorization: str) -> str:
    headers = {"content-type": "application/json", "authorization": authorization}
    response = await api.http.post(DETAIL, content=BODY, headers=headers)
    return envelope_error(response, 401, "0100001") if response.status_code == 401 else ""


@pytest.mark.parametrize("padding", [" ", "  ", "\t", " \t"])
async def test_whitespace_after_the_authorization_value_is_ignored(api: Api, padding: str) -> None:
    authorization = _authorization(api, {"host": "testserver"}) + padding
    headers = {"content-type": "application/json", "authorization": authorization}
    response = await api.http.post(DETAIL, content=BODY, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["resultCode"] in ("0100000", "0100001")  # signed: answered


async def test_a_base64_signature_is_named_as_such(api: Api) -> None:
    good = _authorization(api, {"host": "testserver"})
    as_base64 = base64.b64encode(bytes.fromhex(good[-64:])).decode()
    for signature in (as_base64, good[-64:].upper()):
        text = await _post(api, good[:-64] + signature)
        assert "signature must be 64 lowercase hex characters" in text


async def test_a_signature_without_host_is_refused(api: Api) -> None:
    text = await _post(api, _authorization(api, {"content-type": "application/json"}))
    assert text == "the signed-header list must include host"


async def test_a_huge_signed_header_list_is_refused(api: Api) -> None:
    names = ";".join(f"x-h{n}" for n in range(2000))
    stamp = format_timestamp(datetime.fromtimestamp(api.clock(), UTC))
    text = await _post(api, f"auth-v2/{ADMIN_AK}/{stamp}/{names};host/" + "0" * 64)
    assert text == "Authorization is longer than 2048 characters"


async def _call_unread(app: App, authorization: str) -> int:
    """POST through the ASGI app with a body that must never be read: the status."""
    start = await _unread(app, authorization, DETAIL, 8 * 1024 * 1024, None)
    return int(start["status"])


async def test_an_unknown_key_or_a_stale_stamp_costs_no_body(app: App, clock: FrozenClock) -> None:
    stamp = format_timestamp(datetime.fromtimestamp(clock(), UTC))
    unknown = sign("nobody", ADMIN_SK, "POST", DETAIL, {"host": "testserver"}, BODY, stamp)
    assert await _call_unread(app, unknown) == 401
    old = format_timestamp(datetime.fromtimestamp(clock() - 3600, UTC))
    stale = sign(ADMIN_AK, ADMIN_SK, "POST", DETAIL, {"host": "testserver"}, BODY, old)
    assert await _call_unread(app, stale) == 401


@pytest.mark.parametrize("settings_overrides", [{"rate_limit": 1.0, "rate_burst": 3}])
async def test_replays_of_a_captured_request_do_not_lock_the_owner_out(
    api: Api, event: EventFactory
) -> None:
    events = {"events": [event(ctiStatus=1)]}
    body = orjson.dumps(events)
    captured = api.headers("/ccms/v1/events", body)
    first = await api.http.post("/ccms/v1/events", content=body, headers=captured)
    assert first.json()["resultDesc"] == {"accepted": 1, "duplicates": 0}
    # the owner's retry after a lost answer is answered, with the duplicate count
    again = await api.http.post("/ccms/v1/events", content=body, headers=captured)
    assert again.json()["resultDesc"] == {"accepted": 0, "duplicates": 1}
    replays = [
        (await api.http.post("/ccms/v1/events", content=body, headers=captured)).status_code
        for _ in range(50)
    ]
    assert replays.count(429) >= 45  # the replays exhaust their own bucket ...
    owner = [(await api.agent(agent_id=102 + n)).status_code for n in range(2)]
    assert owner == [200, 200]  # ... and never the key's


@pytest.mark.parametrize("settings_overrides", [{"allowed_hosts": ["cms.example.test"]}])
async def test_a_signature_for_another_server_is_refused(api: Api) -> None:
    text = await _post(api, _authorization(api, {"host": "testserver"}))
    assert "host" in text.lower()


# -- failed signatures over large bodies: a budget per client address ------------------

EVENTS = "/ccms/v1/events"


def _large(event: EventFactory, tag: str) -> bytes:
    """A batch of one event, padded past LARGE_BODY with whitespace (still JSON)."""
    body = orjson.dumps({"events": [event(eventId=tag, ctiStatus=1)]})
    return body[:-1] + b" " * (LARGE_BODY + 1) + b"}"


def _wrong(api: Api, body: bytes) -> dict[str, str]:
    """Headers of a known key and a fresh timestamp with a signature that does not match."""
    headers = api.headers(EVENTS, body)
    headers["authorization"] = headers["authorization"][:-64] + "0" * 64
    return headers


async def _unread_from(app: App, authorization: str, length: int, client: str) -> Any:
    """POST to the intake through the ASGI app from ``client``, with a body that must
    never be read: the answer's start message."""
    return await _unread(app, authorization, EVENTS, length, (client, 40000))


async def _unread(
    app: App, authorization: str, path: str, length: int, client: tuple[str, int] | None
) -> Any:
    """POST ``path`` through the ASGI app, a body of ``length`` announced that must never
    be read: the answer's start message."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body was read before the Authorization header was checked")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope: dict[str, Any] = {
        "type": "http", "method": "POST", "path": path, "query_string": b"",
        "http_version": "1.1", "client": client,
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                    (b"content-length", str(length).encode()),
                    (b"authorization", authorization.encode())],
    }  # fmt: skip
    await app(scope, receive, send)
    return sent[0]


@pytest.mark.parametrize("settings_overrides", [{"large_body_failures": 3}])
async def test_failed_signatures_over_large_bodies_spend_the_address_budget(
    app: App, clock: FrozenClock, event: EventFactory
) -> None:
    def client(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    async with client("192.0.2.7") as attacker, client("192.0.2.8") as other:
        api, elsewhere = Api(attacker, clock), Api(other, clock)
        body = _large(event, "big-1")
        for _ in range(3):
            response = await attacker.post(EVENTS, content=body, headers=_wrong(api, body))
            assert envelope_error(response, 401, "0100001") == "signature does not match"
        # the budget is spent: a large body from that address is refused unread, even signed
        refused = await attacker.post(EVENTS, content=body, headers=api.headers(EVENTS, body))
        text = envelope_error(refused, 429, "0100001")
        assert text == (
            f"too many failed signatures over bodies larger than {LARGE_BODY} bytes from this"
            " client address: such a body is refused for 20 s (large_body_failures)"
        )
        assert refused.headers["retry-after"] == "20"
        headers = dict(_wrong(api, body))
        start = await _unread_from(app, headers["authorization"], len(body), "192.0.2.7")
        assert start["status"] == 429
        # small bodies from that address are answered; another address is not affected
        assert (await api.agent()).status_code == 200
        accepted = await other.post(EVENTS, content=body, headers=elsewhere.headers(EVENTS, body))
        assert accepted.json()["resultDesc"] == {"accepted": 1, "duplicates": 0}
        # a failure's worth refills in 60 / 3 s
        clock.now += 19
        again = await attacker.post(EVENTS, content=body, headers=api.headers(EVENTS, body))
        assert envelope_error(again, 429, "0100001")
        assert again.headers["retry-after"] == "1"
        clock.now += 1
        body = _large(event, "big-2")
        taken = await attacker.post(EVENTS, content=body, headers=api.headers(EVENTS, body))
        assert taken.json()["resultDesc"] == {"accepted": 1, "duplicates": 0}


async def test_failed_signatures_over_small_bodies_spend_nothing(
    app: App, clock: FrozenClock, event: EventFactory
) -> None:
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        api = Api(http, clock)
        small = orjson.dumps({"events": [event(ctiStatus=1)]}) + b" " * (LARGE_BODY - 200)
        for _ in range(20):  # twice the default budget
            response = await http.post(EVENTS, content=small, headers=_wrong(api, small))
            assert response.status_code == 401
        body = _large(event, "big")
        taken = await http.post(EVENTS, content=body, headers=api.headers(EVENTS, body))
        assert taken.json()["resultDesc"] == {"accepted": 1, "duplicates": 0}
    assert app.failures.tracked == 0
