"""C2 request signatures (sign and verify) and the rate limit per access key.

The algorithm is the vendor's "C2 Monitoring ... Interface Authentication" as its Java demo
(``SignInfo``) implements it; ``spec/c2-auth-vectors.md`` holds the vectors both sides
reproduce. This module imports no HTTP library: the server and the client both use it.

    Authorization: auth-v2/{AK}/{timestamp}/{signed;headers}/{hex signature}

Access keys and the credentials file are in :mod:`ccms.credentials` (re-exported here).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
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
    "MIN_SECRET_LENGTH",
    "ROLES",
    "AccessKey",
    "CredentialsError",
    "RateLimiter",
    "Verifier",
    "canonical_request",
    "format_timestamp",
    "is_placeholder_secret",
    "load_credentials",
    "normalize",
    "parse_credentials",
    "parse_timestamp",
    "sign",
]

AUTH_VERSION = "auth-v2"
_HEX64 = re.compile(r"[0-9a-f]{64}")  # a signature: lowercase hex, as the demo's sha256Hex
_TS_PATTERN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")


_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
# Each byte (as a latin-1 code point) to itself or to its %XX form: str.translate with a
# 256-entry list does the percent-encoding in C, several times faster than
# urllib.parse.quote (a 100 kB intake body is signed and verified in about 2 ms).
_PERCENT = [chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in range(256)]


def normalize(value: str | bytes) -> str:
    """RFC 3986 percent-encoding of the UTF-8 bytes, uppercase hex (the demo's PathUtils)."""
    data = value.encode() if isinstance(value, str) else value
    return data.decode("latin-1").translate(_PERCENT)


def _hex_hmac(key: str, msg: str) -> str:
    return hmac.digest(key.encode(), msg.encode(), hashlib.sha256).hex()


@functools.lru_cache(maxsize=4096)
def _signing_key(sk: str, prefix: str) -> str:
    """Clients sign many requests a second with one prefix: cache its signing key."""
    return _hex_hmac(sk, prefix)


def format_timestamp(moment: datetime, millis: bool = False) -> str:
    moment = moment.astimezone(UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    """``yyyy-MM-ddTHH:mm:ssZ`` or ``yyyy-MM-ddTHH:mm:ss.SSSZ``; anything else: ValueError."""
    return datetime.fromtimestamp(_epoch_seconds(text), UTC)


@functools.lru_cache(maxsize=4096)
def _epoch_seconds(text: str) -> float:
    if not _TS_PATTERN.fullmatch(text):
        raise ValueError(text)
    return datetime.fromisoformat(text).timestamp()


def _canonical_query(query: Sequence[tuple[str, str]]) -> str:
    return "&".join(sorted(f"{normalize(k)}={normalize(v) if v else ''}" for k, v in query))


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
    parts = [method, "\n", path, "\n"]
    if query:
        parts += [_canonical_query(query), "\n"]
    elif empty_query_line:
        parts.append("\n")
    lines = sorted(f"{normalize(name.lower())}:{normalize(value)}" for name, value in header_values)
    parts += [signed_names, "\n", "\n".join(lines), "\n"]
    if body:
        parts.append(normalize(body))
    return "".join(parts)


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


class Verifier:
    """Checks C2 signatures against a set of access keys.

    ``verify`` returns the access key of a valid request or raises
    :class:`AuthenticationError` with a message that never echoes the secret.
    """

    def __init__(self, keys: Mapping[str, AccessKey], clock_skew_s: int) -> None:
        self._keys = dict(keys)
        self._skew = clock_skew_s

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
        if not authorization:
            raise AuthenticationError("Authorization header is missing")
        prefix, sep, signature = authorization.rpartition("/")
        parts = prefix.split("/")
        if (
            not sep
            or len(parts) != 4
            or parts[0] != AUTH_VERSION
            or not _HEX64.fullmatch(signature)
        ):
            raise AuthenticationError("Authorization is not auth-v2/AK/timestamp/headers/signature")
        _, ak, stamp, signed_names = parts
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
        values = []
        for name in signed_names.split(";"):
            value = headers.get(name.lower())
            if value is None:
                raise AuthenticationError(f"signed header {name!r} is missing from the request")
            values.append((name, value))
        query = parse_qsl(query_string, keep_blank_values=True) if query_string else []
        signing_key = _signing_key(key.sk, prefix)
        forms = (False,) if query else (False, True)
        for empty_query_line in forms:
            canonical = canonical_request(
                method, path, query, signed_names, values, body, empty_query_line
            )
            if hmac.compare_digest(_hex_hmac(signing_key, canonical), signature):
                return key
        raise AuthenticationError("signature does not match")


class RateLimiter:
    """A token bucket per access key: ``rate`` requests a second, ``burst`` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    @property
    def enabled(self) -> bool:
        return self._rate > 0

    def allow(self, ak: str, now: float) -> bool:
        tokens, last = self._buckets.get(ak, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens < 1.0:
            self._buckets[ak] = (tokens, now)
            return False
        self._buckets[ak] = (tokens - 1.0, now)
        return True
