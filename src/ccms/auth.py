"""C2 request signatures (sign and verify) and the rate limit per access key.

The algorithm is the vendor's "C2 Monitoring ... Interface Authentication" as its Java demo
(``SignInfo``) implements it; ``spec/c2-auth-vectors.md`` holds the vectors both sides
reproduce. This module imports no HTTP library: the server and the client both use it.

    Authorization: auth-v2/{AK}/{timestamp}/{signed;headers}/{hex signature}

Verification has two phases, so that a server reads a body only for a request that may
be genuine: :meth:`Verifier.precheck` looks at the Authorization value and the headers
(form, known access key, fresh timestamp, a bounded signed-header list that holds
``host``, an allowed host), and :meth:`PendingSignature.verify` computes the HMAC over
the body. :meth:`Verifier.verify` does both in one call. Access keys and the credentials
file are in :mod:`ccms.credentials` (re-exported here).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from ccms.credentials import (
    MIN_SECRET_LENGTH,
    ROLES,
    AccessKey,
    CredentialsError,
    is_placeholder_secret,
    load_credentials,
    parse_credentials,
)
from ccms.errors import AuthenticationError

__all__ = [
    "AUTH_VERSION",
    "LARGE_BODY",
    "MAX_AUTHORIZATION_LENGTH",
    "MAX_SIGNED_HEADERS",
    "MIN_SECRET_LENGTH",
    "ROLES",
    "AccessKey",
    "CredentialsError",
    "FailureBudget",
    "PendingSignature",
    "RateLimiter",
    "Verifier",
    "canonical_request",
    "format_timestamp",
    "is_placeholder_secret",
    "load_credentials",
    "normalize",
    "parse_credentials",
    "parse_timestamp",
    "peer_of",
    "sign",
]

AUTH_VERSION = "auth-v2"
# Bounds checked before any HMAC: a vendor client signs three names in about 90 characters.
MAX_AUTHORIZATION_LENGTH = 2048
MAX_SIGNED_HEADERS = 32
SIGNING_KEY_CACHE = 1024  # signing keys of verified prefixes, per verifier
HEAD_CACHE = 1024  # canonical heads of verified requests, per verifier
_HEX64 = re.compile(r"[0-9a-f]{64}")  # a signature: lowercase hex, as the demo's sha256Hex
_TS_PATTERN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")
_OWS = " \t"  # optional whitespace around a header value (RFC 9110)


_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
# Each byte (as a latin-1 code point) to itself or to its %XX form: str.translate with a
# 256-entry list does the percent-encoding in C. It looks each character up as a Python
# object, though (about 50 ns a byte: 0.45 s for an 8 MiB body), so only values of at
# most TABLE_BYTES take it; longer ones take _percent_encoded (about 7 ns a byte).
_PERCENT = [chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in range(256)]
TABLE_BYTES = 24  # where the two cost the same (callgrind); the agent query's 47: frames
# _percent_encoded's tables: each byte's three places in a 3-byte frame, "%XX" for a byte
# encoded and the byte then two NULs for a byte kept (the output has no NUL of its own).
_HEX = b"0123456789ABCDEF"
_FRAME = (
    bytes(b if b in _UNRESERVED else 0x25 for b in range(256)),
    bytes(0 if b in _UNRESERVED else _HEX[b >> 4] for b in range(256)),
    bytes(0 if b in _UNRESERVED else _HEX[b & 15] for b in range(256)),
)


def normalize(value: str | bytes) -> str:
    """RFC 3986 percent-encoding of the UTF-8 bytes, uppercase hex (the demo's PathUtils)."""
    return _normalized_bytes(value.encode() if isinstance(value, str) else value).decode("ascii")


def _normalized_bytes(data: bytes) -> bytes | bytearray:
    """:func:`normalize` of ``data`` as ASCII bytes (what the HMAC takes), each way without
    a round trip through ``str`` for the large ones."""
    if len(data) > TABLE_BYTES:
        return _percent_encoded(data)
    return data.decode("latin-1").translate(_PERCENT).encode("ascii")


def _percent_encoded(data: bytes) -> bytearray:
    """:func:`normalize` of ``data``, as ASCII bytes, in passes that each run in C at
    memory speed whatever the bytes: three 1:1 translations fill every third byte of a
    frame three times the size, and one more deletes the NULs."""
    first, second, third = _FRAME
    frame = bytearray(3 * len(data))
    frame[0::3] = data.translate(first)
    frame[1::3] = data.translate(second)
    frame[2::3] = data.translate(third)
    return frame.translate(None, b"\0")


try:  # OpenSSL's HMAC objects, without the Python frames of hmac.HMAC
    from _hashlib import hmac_new as _hmac_new
except ImportError:  # pragma: no cover - a Python built without OpenSSL
    _hmac_new = hmac.new  # type: ignore[assignment]


def _keyed_hmac(signing_key: bytes) -> Any:
    """An HMAC-SHA256 keyed with ``signing_key`` and fed nothing: each request's MAC is a
    copy of it, which skips the key's set-up (the query's cost, ``benchmarks/RESULTS.md``)."""
    return _hmac_new(signing_key, digestmod="sha256")


def _hex_hmac(key: str, msg: str) -> str:
    return hmac.digest(key.encode(), msg.encode(), hashlib.sha256).hex()


def format_timestamp(moment: datetime, millis: bool = False) -> str:
    moment = moment.astimezone(UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    """``yyyy-MM-ddTHH:mm:ssZ`` or ``yyyy-MM-ddTHH:mm:ss.SSSZ``; anything else: ValueError."""
    return datetime.fromtimestamp(_epoch_seconds(text), UTC)


@lru_cache(maxsize=4096)  # only well-formed stamps are cached: bounded
def _epoch_seconds(text: str) -> float:
    if not _TS_PATTERN.fullmatch(text):
        raise ValueError(text)
    return datetime.fromisoformat(text).timestamp()


def _canonical_query(query: Sequence[tuple[str, str]]) -> str:
    return "&".join(sorted(f"{normalize(k)}={normalize(v) if v else ''}" for k, v in query))


def _canonical_head(
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    signed_names: str,
    header_values: Iterable[tuple[str, str]],
    empty_query_line: bool,
) -> str:
    parts = [method, "\n", path, "\n"]
    if query:
        parts += [_canonical_query(query), "\n"]
    elif empty_query_line:
        parts.append("\n")
    lines = sorted(f"{normalize(name.lower())}:{normalize(value)}" for name, value in header_values)
    parts += [signed_names, "\n", "\n".join(lines), "\n"]
    return "".join(parts)


def canonical_request(
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    signed_names: str,
    header_values: Iterable[tuple[str, str]],
    body: bytes,
    empty_query_line: bool = False,
) -> str:
    """The string that is signed. ``signed_names`` is the header list as it travels."""
    head = _canonical_head(method, path, query, signed_names, header_values, empty_query_line)
    return head + normalize(body) if body else head


def sign(
    ak: str,
    sk: str,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    timestamp: str,
    query: Sequence[tuple[str, str]] = (),
) -> str:
    """The ``Authorization`` value for a request (the vendor demo's canonical form).

    ``headers`` are the headers to sign (at least ``host``), with the values sent.
    ``timestamp`` is a formatted timestamp (see :func:`format_timestamp`).
    """
    signed_names = ";".join(sorted(name.lower() for name in headers))
    prefix = f"{AUTH_VERSION}/{ak}/{timestamp}/{signed_names}"
    canonical = canonical_request(
        method, path, query, signed_names, headers.items(), body, empty_query_line=False
    )
    return prefix + "/" + _hex_hmac(_hex_hmac(sk, prefix), canonical)


class PendingSignature:
    """A request whose Authorization passed :meth:`Verifier.precheck`; the body decides.

    ``signature`` is the request's 64-hex signature (what :meth:`RateLimiter.allow` takes
    to tell a repeated request from a new one).
    """

    __slots__ = (
        "_empty_query_at", "_head", "_head_key", "_verifier", "key", "prefix", "signature"
    )  # fmt: skip

    def __init__(
        self,
        verifier: Verifier,
        key: AccessKey,
        prefix: str,
        signature: str,
        head: str,
        empty_query_at: int | None,
        head_key: tuple[str, ...] | None = None,
    ) -> None:
        self._verifier = verifier
        self._head_key = head_key  # where the head is cached once it verified (None: it is)
        # The canonical request before the body (the demo's form), and where the second
        # form inserts its empty query line (None: the request has a query string).
        self._head = head
        self._empty_query_at = empty_query_at
        self.key = key
        self.prefix = prefix
        self.signature = signature

    def verify(self, body: bytes) -> AccessKey:
        """The access key when the signature covers ``body``, else AuthenticationError.

        The body is percent-encoded once for both canonical forms; a failure costs two
        HMACs over it (one when the request has a query string) and is remembered nowhere.
        """
        verifier = self._verifier
        key = self.key
        cache_key = (key.ak, self.prefix)
        keyed = verifier._signing_keys.get(cache_key)
        known = keyed is not None
        if keyed is None:
            keyed = _keyed_hmac(_hex_hmac(key.sk, self.prefix).encode())
        encoded = _normalized_bytes(body)
        head = self._head
        mac = keyed.copy()
        mac.update(head.encode())
        mac.update(encoded)
        if not hmac.compare_digest(mac.hexdigest(), self.signature):
            at = self._empty_query_at
            if at is None:
                raise AuthenticationError("signature does not match")
            second = head[:at] + "\n" + head[at:]  # the form with an empty query line
            mac = keyed.copy()
            mac.update(second.encode())
            mac.update(encoded)
            if not hmac.compare_digest(mac.hexdigest(), self.signature):
                raise AuthenticationError("signature does not match")
        if not known:
            _remember(verifier._signing_keys, cache_key, keyed, SIGNING_KEY_CACHE)
        if self._head_key is not None:
            _remember(verifier._heads, self._head_key, (head, self._empty_query_at), HEAD_CACHE)
        return key


def _remember(cache: dict[Any, Any], key: Any, value: Any, limit: int) -> None:
    """Put ``value`` in ``cache`` (the oldest entry out when it holds ``limit``)."""
    if len(cache) >= limit:
        del cache[next(iter(cache))]
    cache[key] = value


class Verifier:
    """Checks C2 signatures against a set of access keys.

    ``allowed_hosts`` (empty: any) are the Host values a signature may name: ``name``
    matches that host on any port, ``name:port`` only that port (case-insensitive).
    Failures raise :class:`AuthenticationError` with a message that never echoes the
    secret. Signing keys are cached only for prefixes that verified, at most
    ``SIGNING_KEY_CACHE`` of them: a caller without the secret adds nothing to the cache.
    """

    def __init__(
        self,
        keys: Mapping[str, AccessKey],
        clock_skew_s: int,
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        self._keys = dict(keys)
        self._skew = clock_skew_s
        self._allowed = frozenset(host.strip().lower() for host in allowed_hosts)
        # the signing keys of verified prefixes, each as an HMAC keyed with it
        self._signing_keys: dict[tuple[str, str], Any] = {}
        # Canonical heads (the request before its body) of requests that verified, by
        # method, path, signed names and their values: a client repeats them. Only a
        # verified request adds one, so a caller without the secret adds nothing.
        self._heads: dict[tuple[str, ...], tuple[str, int | None]] = {}

    def precheck(
        self,
        authorization: str | None,
        method: str,
        path: str,
        query_string: str,
        headers: Mapping[str, str],
        now: float,
    ) -> PendingSignature:
        """The cheap checks, before the body is read: nothing here grows with the body.

        ``headers`` maps lower-case names to values. Whitespace around the Authorization
        value is ignored, as HTTP servers (and the vendor's) strip it.
        """
        authorization = authorization.strip(_OWS) if authorization else ""
        if not authorization:
            raise AuthenticationError("Authorization header is missing")
        if len(authorization) > MAX_AUTHORIZATION_LENGTH:
            raise AuthenticationError(
                f"Authorization is longer than {MAX_AUTHORIZATION_LENGTH} characters"
            )
        parts = authorization.split("/", 4)
        if len(parts) != 5 or parts[0] != AUTH_VERSION:
            raise AuthenticationError("Authorization is not auth-v2/AK/timestamp/headers/signature")
        _, ak, stamp, signed_names, signature = parts
        if not _HEX64.fullmatch(signature):
            raise AuthenticationError(
                "Authorization signature must be 64 lowercase hex characters"
                " (hex of the HMAC-SHA256, not base64)"
            )
        key = self._keys.get(ak)
        if key is None:
            raise AuthenticationError("unknown access key")
        try:
            moment = _epoch_seconds(stamp)
        except ValueError:
            raise AuthenticationError(
                "Authorization timestamp is not yyyy-MM-ddTHH:mm:ssZ"
            ) from None
        if abs(now - moment) > self._skew:
            raise AuthenticationError("Authorization timestamp is outside the allowed clock skew")
        values = self._signed_values(signed_names, headers)
        head_key = (method, path, query_string, signed_names, *[v for _, v in values])
        cached = self._heads.get(head_key)
        if cached is None:
            query = parse_qsl(query_string, keep_blank_values=True) if query_string else []
            head = _canonical_head(method, path, query, signed_names, values, False)
            empty_query_at = None if query else len(method) + len(path) + 2
        else:
            head, empty_query_at = cached
        prefix = "/".join(parts[:4])
        return PendingSignature(self, key, prefix, signature, head, empty_query_at,
                                None if cached else head_key)  # fmt: skip

    def _signed_values(
        self, signed_names: str, headers: Mapping[str, str]
    ) -> list[tuple[str, str]]:
        if signed_names.count(";") >= MAX_SIGNED_HEADERS:
            raise AuthenticationError(
                f"the signed-header list has more than {MAX_SIGNED_HEADERS} names"
            )
        values = []
        host = False
        missing = None
        # a loop, not ``"host" in (genexpr)``: a generator left unfinished is closed when
        # freed, by raising GeneratorExit in it (the query's cost, ``benchmarks/RESULTS.md``)
        for name in signed_names.split(";"):
            lower = name.lower()
            if lower == "host":
                host = True
            value = headers.get(lower)
            if value is None:
                if missing is None:
                    missing = name
            else:
                values.append((name, value))
        if not host:
            raise AuthenticationError("the signed-header list must include host")
        if missing is not None:
            raise AuthenticationError(f"signed header {missing!r} is missing from the request")
        if self._allowed and not self._host_allowed(headers["host"]):
            shown = headers["host"][:100]
            raise AuthenticationError(
                f"Host {shown!r} is not one of this server's allowed hosts (allowed_hosts)"
            )
        return values

    def _host_allowed(self, host: str) -> bool:
        host = host.strip(_OWS).lower()
        if host in self._allowed:
            return True
        name, sep, port = host.rpartition(":")
        return bool(sep) and port.isdigit() and name in self._allowed

    @property
    def cached_heads(self) -> int:
        """How many canonical heads are cached (at most ``HEAD_CACHE``)."""
        return len(self._heads)

    @property
    def cached_signing_keys(self) -> int:
        """How many signing keys are cached (at most ``SIGNING_KEY_CACHE``)."""
        return len(self._signing_keys)

    def verify(
        self,
        authorization: str | None,
        method: str,
        path: str,
        query_string: str,
        headers: Mapping[str, str],
        body: bytes,
        now: float,
    ) -> AccessKey:
        """Both phases in one call: :meth:`precheck`, then :meth:`PendingSignature.verify`."""
        pending = self.precheck(authorization, method, path, query_string, headers, now)
        return pending.verify(body)


REPLAY_ALLOWANCE = 3  # repeats of one signature answered before 429
MAX_TRACKED_SIGNATURES = 65_536  # about 15 MB at most


def _signature_id(value: str) -> str:
    """The signature of an Authorization value (or the signature itself): the part a
    replay cannot change, whitespace around the value being ignored by the verifier."""
    return value.strip(_OWS).rpartition("/")[2]


class RateLimiter:
    """A token bucket per access key: ``rate`` requests a second, ``burst`` at once.

    Given the request's ``signature`` (its Authorization value, or
    :attr:`PendingSignature.signature`), only a signature not seen in the last
    ``window_s`` seconds (twice the clock skew: as long as a signature stays valid) is
    charged to the key. A repeat of one is charged to that signature alone, which may be
    repeated ``replays`` times: a client retrying its own request after a lost answer is
    answered, and replays of a captured request never take the owner's tokens. A
    signature the key's bucket refused is not remembered (its retry is charged again), so
    resending does not get round the limit. At most ``max_signatures`` are remembered,
    the oldest forgotten first.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        window_s: float = 1800.0,
        replays: int = REPLAY_ALLOWANCE,
        max_signatures: int = MAX_TRACKED_SIGNATURES,
    ) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._window = window_s
        self._replays = replays
        self._max_signatures = max_signatures
        self._buckets: dict[str, tuple[float, float]] = {}
        # signature -> (forgotten at, repeats left), in the order first seen
        self._seen: dict[str, tuple[float, int]] = {}

    @property
    def enabled(self) -> bool:
        return self._rate > 0

    def allow(self, ak: str, now: float, signature: str | None = None) -> bool:
        if signature is None:
            return self._take(ak, now)
        sig = _signature_id(signature)
        self._forget(now)
        seen = self._seen.get(sig)
        if seen is not None:
            until, left = seen
            if left < 1:
                return False
            self._seen[sig] = (until, left - 1)
            return True
        if not self._take(ak, now):
            return False
        if len(self._seen) >= self._max_signatures:
            del self._seen[next(iter(self._seen))]
        self._seen[sig] = (now + self._window, self._replays)
        return True

    def _forget(self, now: float) -> None:
        seen = self._seen
        while seen:
            first = next(iter(seen))
            if seen[first][0] > now:
                return
            del seen[first]

    def _take(self, ak: str, now: float) -> bool:
        tokens, last = self._buckets.get(ak, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens < 1.0:
            self._buckets[ak] = (tokens, now)
            return False
        self._buckets[ak] = (tokens - 1.0, now)
        return True


LARGE_BODY = 65_536  # bytes: a failed signature over a larger body is charged to its peer
MAX_TRACKED_PEERS = 4096  # client addresses remembered by a FailureBudget (about 1 MB)


def peer_of(address: str) -> str:
    """The client address a :class:`FailureBudget` charges: an IPv4 address (also when
    it comes mapped into IPv6), or the /64 of an IPv6 address (what one subscriber
    holds); anything else as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


class FailureBudget:
    """Signatures that did not match over large bodies, per client address.

    A failed verification of a body larger than :data:`LARGE_BODY` costs an HMAC pass
    (two) over it, which an attacker who knows only a key id can ask for again and
    again. Each peer may cost ``per_minute`` of them: a token bucket that holds that many
    and refills in a minute. While a peer's is empty, :meth:`wait` says how long until
    it holds one again, and the server refuses that peer's large bodies before reading
    them. A peer is forgotten a minute after its last failure (its bucket is full again
    by then); at most ``max_peers`` are remembered, the oldest failure first out.
    ``per_minute`` 0: off.
    """

    def __init__(self, per_minute: int, max_peers: int = MAX_TRACKED_PEERS) -> None:
        self._burst = float(per_minute)
        self._rate = per_minute / 60.0
        self._max_peers = max_peers
        self._peers: dict[str, tuple[float, float]] = {}  # peer -> (tokens, at), by `at`

    @property
    def enabled(self) -> bool:
        return self._burst > 0

    @property
    def tracked(self) -> int:
        """How many peers are remembered (at most ``max_peers``)."""
        return len(self._peers)

    def _tokens(self, peer: str, now: float) -> float:
        entry = self._peers.get(peer)
        if entry is None:
            return self._burst
        tokens, at = entry
        return min(self._burst, tokens + (now - at) * self._rate)

    def wait(self, peer: str, now: float) -> float:
        """Seconds until ``peer`` may send a large body again (0: it may now)."""
        tokens = self._tokens(peer, now)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self._rate

    def charge(self, peer: str, now: float) -> None:
        """Count one failed signature over a large body from ``peer``."""
        tokens = max(0.0, self._tokens(peer, now) - 1.0)
        peers = self._peers
        peers.pop(peer, None)  # in again at the end: the map stays in order of failure
        while peers:  # forget the peers whose buckets are full again
            first = next(iter(peers))
            if now - peers[first][1] < 60.0 and len(peers) < self._max_peers:
                break
            del peers[first]
        peers[peer] = (tokens, now)
