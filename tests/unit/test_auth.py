"""C2: the vectors of spec/c2-auth-vectors.md, signer and verifier, and the rate limit."""

from __future__ import annotations

import pytest

from ccms.auth import AccessKey, RateLimiter, Verifier, parse_timestamp, sign
from ccms.errors import AuthenticationError

pytestmark = pytest.mark.unit

AK, SK = "globalaktest", "example-sk-0123456789"
PATH = "/rest/cmsapp/v1/openapi/agent/agentbyworkno"
BODY = b'{"queryParam":{"ccId":1,"vdn":1,"agentId":101}}'
HOST = {"host": "10.22.26.181:28080"}
HEADERS_B = {**HOST, "content-type": "application/json;charset=UTF-8", "content-length": "47"}
VECTOR_A = "auth-v2/globalaktest/2024-01-01T00:00:00Z/host/00f6b45ba06555021ab6df7df7a0261c204cfadcc8e836307ebb85f1735068c3"
VECTOR_B = "auth-v2/globalaktest/2024-01-01T00:00:00Z/content-length;content-type;host/85da6870ef2a30b13651afa1ee597d58037ad629f32d2fa29b2c9ea0db21dd64"
VECTOR_C = "auth-v2/globalaktest/2024-01-01T00:00:00Z/host/86de43a7bb3ff028c3614222b03456e315557c13214fddb67288de410e025e6b"
VECTOR_D = "auth-v2/globalaktest/2024-01-01T00:00:00.123Z/host/b821fd054ae890f90fddbe9780c30343ddcced189ab8e0a522e84fc3c4b1d3df"
T = parse_timestamp("2024-01-01T00:00:00Z").timestamp()


def verifier() -> Verifier:
    return Verifier({AK: AccessKey(AK, SK, frozenset({"query"}))}, clock_skew_s=900)


def test_body_is_47_bytes() -> None:
    assert len(BODY) == 47


def test_signer_reproduces_vectors() -> None:
    assert sign(AK, SK, "POST", PATH, HOST, BODY, "2024-01-01T00:00:00Z") == VECTOR_A
    assert sign(AK, SK, "POST", PATH, HEADERS_B, BODY, "2024-01-01T00:00:00Z") == VECTOR_B
    assert sign(AK, SK, "POST", PATH, HOST, BODY, "2024-01-01T00:00:00.123Z") == VECTOR_D


@pytest.mark.parametrize(
    ("authorization", "headers"),
    [(VECTOR_A, HOST), (VECTOR_B, HEADERS_B), (VECTOR_C, HOST), (VECTOR_D, HOST)],
)
def test_verifier_accepts_vectors(authorization: str, headers: dict[str, str]) -> None:
    key = verifier().verify(authorization, "POST", PATH, "", headers, BODY, T)
    assert key.ak == AK


def test_verifier_takes_the_signed_list_verbatim() -> None:
    # A demo client sorting before lower-casing sends "Host;content-type": not re-sorted.
    headers = {"Host": "h:1", "content-type": "application/json"}
    prefix = "auth-v2/globalaktest/2024-01-01T00:00:00Z/Host;content-type"
    from ccms.auth import _hex_hmac, canonical_request

    canonical = canonical_request("POST", PATH, [], "Host;content-type", headers.items(), BODY)
    authorization = prefix + "/" + _hex_hmac(_hex_hmac(SK, prefix), canonical)
    lower = {k.lower(): v for k, v in headers.items()}
    assert verifier().verify(authorization, "POST", PATH, "", lower, BODY, T).ak == AK


def test_query_parameters_are_signed() -> None:
    query = [("b", "2"), ("a", "x y")]
    authorization = sign(AK, SK, "POST", PATH, HOST, BODY, "2024-01-01T00:00:00Z", query)
    assert verifier().verify(authorization, "POST", PATH, "b=2&a=x+y", HOST, BODY, T)
    with pytest.raises(AuthenticationError, match="does not match"):
        verifier().verify(authorization, "POST", PATH, "b=3&a=x+y", HOST, BODY, T)


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "missing"),
        ("", "missing"),
        ("auth-v1/globalaktest/2024-01-01T00:00:00Z/host/" + "0" * 64, "not auth-v2"),
        ("auth-v2/globalaktest/host/" + "0" * 64, "not auth-v2"),
        (VECTOR_A[:-1], "not auth-v2"),
        (VECTOR_A.replace("globalaktest", "other"), "unknown access key"),
        (VECTOR_A.replace("2024-01-01T00:00:00Z", "2024-01-01 00:00:00"), "timestamp"),
        (VECTOR_A[:-1] + ("0" if VECTOR_A[-1] != "0" else "1"), "does not match"),
        (VECTOR_A[:-1] + "\u00e9", "not auth-v2"),  # non-ASCII: refused, never a TypeError
        (VECTOR_A[:-64] + VECTOR_A[-64:].upper(), "not auth-v2"),
    ],
)
def test_verifier_refuses(authorization: str | None, message: str) -> None:
    with pytest.raises(AuthenticationError, match=message):
        verifier().verify(authorization, "POST", PATH, "", HOST, BODY, T)


def test_clock_skew_window() -> None:
    v = verifier()
    assert v.verify(VECTOR_A, "POST", PATH, "", HOST, BODY, T + 900)
    assert v.verify(VECTOR_A, "POST", PATH, "", HOST, BODY, T - 900)
    for now in (T + 901, T - 901):
        with pytest.raises(AuthenticationError, match="clock skew"):
            v.verify(VECTOR_A, "POST", PATH, "", HOST, BODY, now)


def test_error_messages_never_carry_the_secret() -> None:
    for authorization in (VECTOR_A[:-2] + "00", VECTOR_A.replace("globalaktest", "x")):
        with pytest.raises(AuthenticationError) as info:
            verifier().verify(authorization, "POST", PATH, "", HOST, BODY, T)
        assert SK not in info.value.message


def test_rate_limiter_refills() -> None:
    limiter = RateLimiter(rate=2.0, burst=2)
    assert [limiter.allow("a", 0.0) for _ in range(3)] == [True, True, False]
    assert limiter.allow("b", 0.0)
    assert limiter.allow("a", 0.5)
    assert not limiter.allow("a", 0.5)
