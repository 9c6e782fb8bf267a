"""The C2 checks as a client meets them over HTTP: 401 and a message that names the fault."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import orjson
import pytest
from tests.conftest import ADMIN_AK, ADMIN_SK, Api
from tests.integration.http.test_agent_routes import DETAIL, envelope_error

from ccms.auth import format_timestamp, sign

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
