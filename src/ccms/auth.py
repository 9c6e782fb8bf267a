"""C2 request signatures (sign and verify), access keys, roles and scopes.

The algorithm is the vendor's "C2 Monitoring ... Interface Authentication" as its Java demo
(``SignInfo``) implements it; ``spec/c2-auth-vectors.md`` holds the vectors both sides
reproduce. This module imports no HTTP library: the server and the client both use it.

    Authorization: auth-v2/{AK}/{timestamp}/{signed;headers}/{hex signature}
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

from ccms.errors import AuthenticationError, CCMSError, PermissionDeniedError

AUTH_VERSION = "auth-v2"
ROLES = ("query", "ingest", "admin")
_HEX64 = re.compile(r"[0-9a-f]{64}")  # a signature: lowercase hex, as the demo's sha256Hex
_TS_PATTERN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")
# Secrets that must never run a server: documentation samples and obvious placeholders.
_PLACEHOLDER_WORDS = ("change-me", "changeme", "placeholder", "a-long-random-secret", "xxxx")
MIN_SECRET_LENGTH = 16


class CredentialsError(CCMSError):
    """The credentials file is missing, unreadable or holds a key ccms refuses."""


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


@dataclass(frozen=True)
class AccessKey:
    ak: str
    sk: str
    roles: frozenset[str]
    # None: every call center. Otherwise "ccId/vdn" pairs and wildcard call centers.
    vdns: frozenset[tuple[int, int]] | None = None
    call_centers: frozenset[int] = frozenset()

    def has_role(self, role: str) -> bool:
        return role in self.roles or "admin" in self.roles

    def allows(self, cc_id: int, vdn: int) -> bool:
        if self.vdns is None:
            return True
        return cc_id in self.call_centers or (cc_id, vdn) in self.vdns

    def check(self, role: str, cc_id: int, vdn: int) -> None:
        if not self.has_role(role):
            raise PermissionDeniedError(f"access key lacks the role {role!r}")
        if not self.allows(cc_id, vdn):
            raise PermissionDeniedError(f"access key is not allowed for ccId {cc_id} and vdn {vdn}")


def _parse_scopes(
    ak: str, scopes: object
) -> tuple[frozenset[tuple[int, int]] | None, frozenset[int]]:
    if scopes is None:
        return None, frozenset()
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise CredentialsError(f"access key {ak}: scopes must be a list of 'ccId/vdn' strings")
    pairs: set[tuple[int, int]] = set()
    centers: set[int] = set()
    for scope in scopes:
        cc, sep, vdn = scope.partition("/")
        if not sep or not cc.isdigit() or not (vdn == "*" or vdn.isdigit()):
            raise CredentialsError(
                f"access key {ak}: scope {scope!r} is not 'ccId/vdn' or 'ccId/*'"
            )
        if vdn == "*":
            centers.add(int(cc))
        else:
            pairs.add((int(cc), int(vdn)))
    return frozenset(pairs), frozenset(centers)


def is_placeholder_secret(sk: str) -> bool:
    low = sk.lower()
    return len(sk) < MIN_SECRET_LENGTH or any(word in low for word in _PLACEHOLDER_WORDS)


def parse_credentials(text: str, source: str, allow_weak: bool = False) -> dict[str, AccessKey]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CredentialsError(f"{source}: not valid TOML: {exc}") from None
    entries = data.get("access_key")
    if not isinstance(entries, list) or not entries:
        raise CredentialsError(f"{source}: no [[access_key]] entries")
    keys: dict[str, AccessKey] = {}
    for entry in entries:
        ak, sk = entry.get("ak"), entry.get("sk")
        if not isinstance(ak, str) or not ak or "/" in ak:
            raise CredentialsError(f"{source}: every access key needs an 'ak' without '/'")
        if not isinstance(sk, str) or not sk:
            raise CredentialsError(f"{source}: access key {ak} needs an 'sk'")
        if not allow_weak and is_placeholder_secret(sk):
            raise CredentialsError(
                f"{source}: access key {ak} has a placeholder or short secret "
                f"(at least {MIN_SECRET_LENGTH} random characters are required)"
            )
        roles = entry.get("roles", ["query"])
        if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
            raise CredentialsError(f"{source}: access key {ak}: roles must be among {ROLES}")
        if ak in keys:
            raise CredentialsError(f"{source}: access key {ak} is listed twice")
        vdns, centers = _parse_scopes(ak, entry.get("scopes"))
        keys[ak] = AccessKey(ak, sk, frozenset(roles), vdns, centers)
    return keys


def load_credentials(path: str, allow_weak: bool = False) -> dict[str, AccessKey]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CredentialsError(f"cannot read credentials file {path}: {exc.strerror}") from None
    return parse_credentials(text, path, allow_weak)


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
