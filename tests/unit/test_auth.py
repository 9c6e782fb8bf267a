"""C2: the vectors of spec/c2-auth-vectors.md, signer and verifier (both phases), the
bounds checked before the body, and the rate limit per access key."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccms import auth
from ccms.auth import (
    _PERCENT,
    HEAD_CACHE,
    MAX_AUTHORIZATION_LENGTH,
    MAX_SIGNED_HEADERS,
    SIGNING_KEY_CACHE,
    TABLE_BYTES,
    AccessKey,
    FailureBudget,
    RateLimiter,
    Verifier,
    _percent_encoded,
    normalize,
    parse_timestamp,
    peer_of,
    sign,
)
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
        (VECTOR_A[:-1], "signature must be 64 lowercase hex characters"),
        (VECTOR_A.replace("globalaktest", "other"), "unknown access key"),
        (VECTOR_A.replace("2024-01-01T00:00:00Z", "2024-01-01 00:00:00"), "timestamp"),
        (VECTOR_A[:-1] + ("0" if VECTOR_A[-1] != "0" else "1"), "does not match"),
        (VECTOR_A[:-1] + "\u00e9", "64 lowercase hex"),  # non-ASCII: refused, not a TypeError
        (VECTOR_A[:-64] + VECTOR_A[-64:].upper(), "signature must be 64 lowercase hex"),
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


# -- the two phases: precheck (no body), then the HMAC over the body --------------------


@pytest.mark.parametrize(
    ("authorization", "headers"),
    [(VECTOR_A, HOST), (VECTOR_B, HEADERS_B), (VECTOR_C, HOST), (VECTOR_D, HOST)],
)
def test_vectors_pass_both_phases(authorization: str, headers: dict[str, str]) -> None:
    pending = verifier().precheck(authorization, "POST", PATH, "", headers, T)
    assert pending.key.ak == AK
    assert pending.signature == authorization[-64:]
    assert pending.verify(BODY).ak == AK


def test_the_body_phase_refuses_another_body() -> None:
    pending = verifier().precheck(VECTOR_A, "POST", PATH, "", HOST, T)
    with pytest.raises(AuthenticationError, match="does not match"):
        pending.verify(BODY + b" ")
    with pytest.raises(AuthenticationError, match="does not match"):
        pending.verify(b"")


@pytest.mark.parametrize(
    ("authorization", "headers", "now", "message"),
    [
        (None, HOST, T, "missing"),
        (VECTOR_A.replace("globalaktest", "nobody"), HOST, T, "unknown access key"),
        (VECTOR_A, HOST, T + 901, "clock skew"),
        (VECTOR_A, {}, T, "signed header 'host' is missing"),
        ("auth-v2/globalaktest/2024-01-01T00:00:00Z/host/" + "A" * 64, HOST, T, "64 lowercase"),
    ],
)
def test_the_cheap_checks_need_no_body(
    authorization: str | None, headers: dict[str, str], now: float, message: str
) -> None:
    with pytest.raises(AuthenticationError, match=message):
        verifier().precheck(authorization, "POST", PATH, "", headers, now)


def _signed(names: list[str], stamp: str = "2024-01-01T00:00:00Z") -> tuple[str, dict[str, str]]:
    headers = {name: f"value-{name}" for name in names}
    return sign(AK, SK, "POST", PATH, headers, BODY, stamp), headers


def test_the_signed_header_list_is_bounded() -> None:
    names = ["host"] + [f"x-h{n:02d}" for n in range(MAX_SIGNED_HEADERS - 1)]
    authorization, headers = _signed(names)
    assert verifier().verify(authorization, "POST", PATH, "", headers, BODY, T).ak == AK
    authorization, headers = _signed([*names, "x-one-more"])
    with pytest.raises(AuthenticationError, match=f"more than {MAX_SIGNED_HEADERS} names"):
        verifier().precheck(authorization, "POST", PATH, "", headers, T)


def test_a_huge_authorization_is_refused_before_anything_else() -> None:
    # The attack run's 200,000 names: refused by its length alone.
    names = ";".join(f"h{n}" for n in range(200_000))
    authorization = f"auth-v2/{AK}/2024-01-01T00:00:00Z/{names};host/" + "0" * 64
    with pytest.raises(AuthenticationError, match=f"longer than {MAX_AUTHORIZATION_LENGTH}"):
        verifier().precheck(authorization, "POST", PATH, "", HOST, T)


def test_host_must_be_signed() -> None:
    authorization, headers = _signed(["content-type"])
    with pytest.raises(AuthenticationError, match="signed-header list must include host"):
        verifier().verify(authorization, "POST", PATH, "", headers, BODY, T)


def _host_verifier(*allowed: str) -> Verifier:
    return Verifier({AK: AccessKey(AK, SK, frozenset({"query"}))}, 900, allowed_hosts=allowed)


@pytest.mark.parametrize(
    ("allowed", "host", "ok"),
    [
        ((), "anything:1", True),
        (("10.22.26.181",), "10.22.26.181:28080", True),
        (("10.22.26.181:28080",), "10.22.26.181:28080", True),
        (("10.22.26.181:28443",), "10.22.26.181:28080", False),
        (("cms.example",), "10.22.26.181:28080", False),
        (("CMS.Example",), "cms.EXAMPLE", True),
        (("a.example", "cms.example"), "cms.example:443", True),
        (("[::1]",), "[::1]:28080", True),
        (("[::1]",), "[::2]:28080", False),
        (("cms.example",), "cms.example.evil:80", False),
    ],
)
def test_allowed_hosts_are_checked_against_the_signed_host(
    allowed: tuple[str, ...], host: str, ok: bool
) -> None:
    authorization = sign(AK, SK, "POST", PATH, {"host": host}, BODY, "2024-01-01T00:00:00Z")
    verify = _host_verifier(*allowed).verify
    if ok:
        assert verify(authorization, "POST", PATH, "", {"host": host}, BODY, T).ak == AK
    else:
        with pytest.raises(AuthenticationError, match="not one of this server's allowed hosts"):
            verify(authorization, "POST", PATH, "", {"host": host}, BODY, T)


def test_a_request_for_another_server_does_not_replay_here() -> None:
    # Captured for server A, sent to server B (same keys, allowed_hosts = B).
    for_a = sign(AK, SK, "POST", PATH, {"host": "a.example"}, BODY, "2024-01-01T00:00:00Z")
    with pytest.raises(AuthenticationError, match="allowed hosts"):
        _host_verifier("b.example").verify(for_a, "POST", PATH, "", {"host": "a.example"}, BODY, T)


@pytest.mark.parametrize(
    "padded", [VECTOR_A + " ", VECTOR_A + "\t", " " + VECTOR_A, VECTOR_A + " \t "]
)
def test_whitespace_around_the_authorization_value_is_ignored(padded: str) -> None:
    assert verifier().verify(padded, "POST", PATH, "", HOST, BODY, T).ak == AK


def test_a_base64_signature_is_named_as_such() -> None:
    raw = bytes.fromhex(VECTOR_A[-64:])
    for encoded in (
        base64.b64encode(raw).decode(),
        "ab/cdEFgh+ijklmnopqrstuvwxyz0123456789ABCDEFGH=",  # base64 with a '/'
        VECTOR_A[-64:].upper(),
    ):
        authorization = VECTOR_A[:-64] + encoded
        with pytest.raises(AuthenticationError) as info:
            verifier().verify(authorization, "POST", PATH, "", HOST, BODY, T)
        assert "signature must be 64 lowercase hex characters" in info.value.message


def test_only_verified_prefixes_enter_the_signing_key_cache() -> None:
    v = verifier()
    for second in range(100):  # a known key id, fresh timestamps, wrong signatures
        stamp = f"2024-01-01T00:{second // 60:02d}:{second % 60:02d}Z"
        authorization, headers = _signed(["host", f"x-{second}"], stamp)
        with pytest.raises(AuthenticationError, match="does not match"):
            v.verify(authorization, "POST", PATH, "", headers, BODY + b"!", T)
    assert v.cached_signing_keys == 0
    assert v.verify(VECTOR_A, "POST", PATH, "", HOST, BODY, T)
    assert v.verify(VECTOR_A, "POST", PATH, "", HOST, BODY, T)
    assert v.cached_signing_keys == 1


def test_the_signing_key_cache_is_bounded() -> None:
    v = verifier()
    for n in range(SIGNING_KEY_CACHE + 20):
        authorization, headers = _signed(["host", f"x-{n}"])
        assert v.verify(authorization, "POST", PATH, "", headers, BODY, T)
    assert v.cached_signing_keys == SIGNING_KEY_CACHE


def test_only_verified_requests_enter_the_head_cache_and_it_is_bounded() -> None:
    v = verifier()
    for n in range(50):  # wrong signatures over fresh header values
        authorization, headers = _signed(["host", f"x-{n}"])
        with pytest.raises(AuthenticationError, match="does not match"):
            v.verify(authorization, "POST", PATH, "", headers, BODY + b"!", T)
    assert v.cached_heads == 0
    for n in range(HEAD_CACHE + 20):
        authorization, headers = _signed(["host", f"x-{n}"])
        assert v.verify(authorization, "POST", PATH, "", headers, BODY, T)
    assert v.cached_heads == HEAD_CACHE


def test_a_cached_head_is_used_only_for_the_same_method_path_query_and_values() -> None:
    v = verifier()
    authorization, headers = _signed(["host", "x-a"])
    assert v.verify(authorization, "POST", PATH, "", headers, BODY, T)
    assert v.verify(authorization, "POST", PATH, "", headers, BODY, T)  # from the cache
    for method, path, query, changed in (
        ("PUT", PATH, "", headers),
        ("POST", PATH + "x", "", headers),
        ("POST", PATH, "a=1", headers),
        ("POST", PATH, "", {**headers, "x-a": headers["x-a"] + "!"}),
    ):
        with pytest.raises(AuthenticationError, match="does not match"):
            v.verify(authorization, method, path, query, changed, BODY, T)
    # every vector (both canonical forms) verifies again from its cached head
    vectors = [(VECTOR_A, HOST), (VECTOR_B, HEADERS_B), (VECTOR_C, HOST), (VECTOR_D, HOST)]
    for vector, vector_headers in vectors * 2:
        assert v.verify(vector, "POST", PATH, "", vector_headers, BODY, T).ak == AK
    with pytest.raises(AuthenticationError, match="does not match"):  # a cached head,
        v.verify(VECTOR_A, "POST", PATH, "", HOST, BODY + b" ", T)  # another body


# -- the rate limit: replays are charged to their own signature -------------------------


def _sig(n: int) -> str:
    return f"auth-v2/{AK}/2024-01-01T00:00:00Z/host/{n:064x}"


def test_replays_of_a_captured_request_do_not_lock_the_owner_out() -> None:
    limiter = RateLimiter(rate=1.0, burst=3)
    assert limiter.allow(AK, 0.0, signature=_sig(1))  # the owner's request
    replays = [limiter.allow(AK, 0.0, signature=_sig(1)) for _ in range(50)]
    assert replays == [True] * 3 + [False] * 47  # the signature's own allowance, then 429
    assert limiter.allow(AK, 0.0, signature=_sig(2))  # the owner still has its tokens
    assert limiter.allow(AK, 0.0, signature=_sig(3))
    assert not limiter.allow(AK, 0.0, signature=_sig(4))  # and its own limit still holds


def test_a_retry_after_a_lost_answer_is_answered_even_at_the_limit() -> None:
    limiter = RateLimiter(rate=0.001, burst=2)
    assert limiter.allow(AK, 0.0, signature=_sig(1))
    assert limiter.allow(AK, 0.0, signature=_sig(2))
    assert not limiter.allow(AK, 0.0, signature=_sig(3))  # the key is at its limit
    assert limiter.allow(AK, 0.0, signature=_sig(2))  # but the answer to sig 2 was lost


def test_resending_a_refused_request_does_not_get_round_the_limit() -> None:
    limiter = RateLimiter(rate=0.001, burst=1)
    assert limiter.allow(AK, 0.0, signature=_sig(1))
    assert [limiter.allow(AK, 0.0, signature=_sig(2)) for _ in range(5)] == [False] * 5


def test_whitespace_does_not_make_a_replay_new() -> None:
    limiter = RateLimiter(rate=0.001, burst=1)
    assert limiter.allow(AK, 0.0, signature=_sig(1))
    variants = [_sig(1) + " " * n for n in range(1, 6)] + ["\t" + _sig(1), _sig(1)[-64:]]
    assert [limiter.allow(AK, 0.0, signature=v) for v in variants] == [True] * 3 + [False] * 4


def test_signatures_are_forgotten_after_the_window() -> None:
    limiter = RateLimiter(rate=1 / 3600, burst=1, window_s=1800)
    assert limiter.allow(AK, 0.0, signature=_sig(1))
    assert limiter.allow(AK, 1799.0, signature=_sig(1))  # a repeat: its own allowance
    # Past the window the signature is new again (the verifier refuses it as stale by
    # then): it is charged to the key, whose bucket is still empty.
    assert not limiter.allow(AK, 1801.0, signature=_sig(1))


def test_the_signatures_remembered_are_bounded() -> None:
    limiter = RateLimiter(rate=1e-9, burst=5, max_signatures=4)
    assert all(limiter.allow(AK, 0.0, signature=_sig(n)) for n in range(1, 6))
    assert limiter.allow(AK, 0.0, signature=_sig(2))  # still remembered: a repeat
    assert not limiter.allow(AK, 0.0, signature=_sig(1))  # forgotten: new, and no tokens


# -- percent-encoding: the large-body encoder equals the reference ---------------------


def reference(data: bytes) -> str:
    """The spec's ``normalize`` (spec/c2-auth-vectors.md): urllib's percent-encoding with
    only the unreserved characters kept."""
    return quote_from_bytes(data, safe="")


def test_the_encoders_equal_the_reference_for_every_byte_value() -> None:
    for value in range(256):
        one = bytes([value])
        assert bytes(_percent_encoded(one)) == reference(one).encode()
        assert one.decode("latin-1").translate(_PERCENT) == reference(one)
        assert normalize(one) == reference(one)
    every = bytes(range(256)) * 5
    assert bytes(_percent_encoded(every)) == reference(every).encode()
    assert normalize(every) == reference(every)  # past TABLE_BYTES: _percent_encoded
    short = every[:TABLE_BYTES]  # at most TABLE_BYTES: the table
    assert normalize(short) == reference(short)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=2 * TABLE_BYTES),
        st.binary(min_size=1024, max_size=4096),
        st.text(max_size=1024).map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.lists(st.sampled_from([b"a", b"~", b"%", b"{", b'"', b"\x00", b"\xff", b"\xc3\xa9"]),
                 max_size=1024).map(b"".join),
    )
)  # fmt: skip
def test_the_encoders_equal_the_reference(data: bytes) -> None:
    expected = reference(data)
    assert bytes(_percent_encoded(data)) == expected.encode()
    assert data.decode("latin-1").translate(_PERCENT) == expected
    assert normalize(data) == expected


@pytest.mark.parametrize("table_bytes", [0, 1 << 30])  # every value framed; every one by table
def test_the_vectors_hold_through_either_encoder(
    monkeypatch: pytest.MonkeyPatch, table_bytes: int
) -> None:
    monkeypatch.setattr(auth, "TABLE_BYTES", table_bytes)
    test_signer_reproduces_vectors()
    for authorization, headers in [(VECTOR_A, HOST), (VECTOR_B, HEADERS_B), (VECTOR_C, HOST),
                                   (VECTOR_D, HOST)]:  # fmt: skip
        assert verifier().verify(authorization, "POST", PATH, "", headers, BODY, T).ak == AK
        with pytest.raises(AuthenticationError, match="does not match"):
            verifier().verify(authorization, "POST", PATH, "", headers, BODY + b" ", T)


def _reference_signature(body: bytes, empty_query_line: bool) -> str:
    """A signature over ``body`` computed from the reference encoding alone."""
    prefix = "auth-v2/globalaktest/2024-01-01T00:00:00Z/host"
    canonical = (
        f"POST\n{PATH}\n" + ("\n" if empty_query_line else "")
        + f"host\nhost:{reference(HOST['host'].encode())}\n" + reference(body)
    )  # fmt: skip
    key = hmac.new(SK.encode(), prefix.encode(), hashlib.sha256).hexdigest()
    return prefix + "/" + hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("empty_query_line", [False, True])
def test_a_large_body_is_verified_and_a_changed_byte_refused(empty_query_line: bool) -> None:
    body = bytes(range(256)) * 4096 + '{"name":"Agent é ~._-"}'.encode()  # 1 MiB and more
    authorization = _reference_signature(body, empty_query_line)
    if not empty_query_line:  # the signer emits the demo form
        assert sign(AK, SK, "POST", PATH, HOST, body, "2024-01-01T00:00:00Z") == authorization
    assert verifier().verify(authorization, "POST", PATH, "", HOST, body, T).ak == AK
    for changed in (body[:-1] + b"!", b"!" + body[1:], body[:-1], body + b"a"):
        with pytest.raises(AuthenticationError, match="does not match"):
            verifier().verify(authorization, "POST", PATH, "", HOST, changed, T)


# -- the budget of failed signatures over large bodies, per client address ------------


def test_a_peer_may_fail_its_budget_then_waits_for_it_to_refill() -> None:
    budget = FailureBudget(per_minute=3)
    assert budget.wait("a", 0.0) == 0.0
    for _ in range(3):
        budget.charge("a", 0.0)
    assert budget.wait("a", 0.0) == pytest.approx(20.0)  # one failure's worth: 60 / 3 s
    assert budget.wait("b", 0.0) == 0.0  # another peer is not affected
    assert budget.wait("a", 10.0) == pytest.approx(10.0)
    assert budget.wait("a", 20.0) == 0.0
    budget.charge("a", 20.0)
    assert budget.wait("a", 20.0) == pytest.approx(20.0)


def test_the_budget_forgets_a_peer_a_minute_after_its_last_failure() -> None:
    budget = FailureBudget(per_minute=2)
    budget.charge("a", 0.0)
    budget.charge("b", 30.0)
    assert budget.tracked == 2
    budget.charge("c", 60.0)  # a's bucket is full again: forgotten
    assert budget.tracked == 2
    assert budget.wait("a", 60.0) == 0.0


def test_the_peers_remembered_are_bounded() -> None:
    budget = FailureBudget(per_minute=1, max_peers=100)
    for n in range(1000):
        budget.charge(f"10.0.{n // 256}.{n % 256}", 0.0)
    assert budget.tracked == 100
    assert budget.wait("10.0.3.231", 0.0) > 0  # the newest stay
    assert budget.wait("10.0.0.0", 0.0) == 0.0  # the oldest went first


@pytest.mark.parametrize(
    ("address", "peer"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),  # an IPv4 client of a dual-stack listener
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),  # one subscriber's /64: one peer
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("unix-socket", "unix-socket"),
    ],
)
def test_a_peer_is_an_ipv4_address_or_an_ipv6_64(address: str, peer: str) -> None:
    assert peer_of(address) == peer
