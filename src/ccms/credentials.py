"""Access keys: the credentials file, the secrets it may hold, and what a key may do.

    [[access_key]]
    ak = "wallboard"
    sk = "..."              # python3 -c 'import secrets; print(secrets.token_urlsafe(32))'
    roles = ["query"]       # "query" (the default), "ingest", "admin"
    scopes = ["1/*"]        # "ccId/vdn" or "ccId/*"; absent: every call center

The server refuses to start on anything it would otherwise have to guess about: an
unknown key (``scope`` for ``scopes``), a weak or placeholder secret, a file that group or
others may read (as ssh refuses such a private key).
"""

from __future__ import annotations

import logging
import math
import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ccms.errors import CCMSError, PermissionDeniedError
from ccms.tomlkeys import key_line, unknown_key

log = logging.getLogger(__name__)

ROLES = ("query", "ingest", "admin")
ENTRY_KEYS = frozenset({"ak", "sk", "roles", "scopes"})
MIN_SECRET_LENGTH = 16
MIN_SECRET_DISTINCT = 6
MIN_SECRET_BITS = 56
SECRET_RECIPE = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
# Words no random secret holds: documentation samples and the placeholders people type.
_PLACEHOLDER_WORDS = (
    "change-me", "changeme", "placeholder", "example", "secret", "password", "xxxx",
)  # fmt: skip
_OPEN_BITS = stat.S_IRWXG | stat.S_IRWXO


class CredentialsError(CCMSError):
    """The credentials file is missing, unreadable or holds a key ccms refuses."""


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


def secret_bits(sk: str) -> float:
    """A rough estimate of the randomness of a secret, in bits.

    Each character that a guesser could not predict counts ``log2`` of the alphabet the
    secret draws from (lower case, upper case, digits, anything else). Predictable: the
    previous character again, the next step of a run (``1234``, ``abcd``, ``9753``), the
    end of three characters seen earlier (``passwordpassword``). A random 16-character
    hexadecimal string scores about 75, ``secrets.token_urlsafe(32)`` about 250.
    """
    alphabet = 0
    alphabet += 26 if any("a" <= c <= "z" for c in sk) else 0
    alphabet += 26 if any("A" <= c <= "Z" for c in sk) else 0
    alphabet += 10 if any("0" <= c <= "9" for c in sk) else 0
    alphabet += 33 if any(not (c.isascii() and c.isalnum()) for c in sk) else 0
    surprising = 0
    for i, char in enumerate(sk):
        if i >= 1 and char == sk[i - 1]:
            continue
        if i >= 2 and ord(char) - ord(sk[i - 1]) == ord(sk[i - 1]) - ord(sk[i - 2]):
            continue
        if i >= 3 and sk.find(sk[i - 2 : i + 1], 0, i) >= 0:
            continue
        surprising += 1
    return surprising * math.log2(alphabet) if alphabet > 1 else 0.0


def secret_weakness(sk: str) -> tuple[str, str] | None:
    """Why ``sk`` may not run a server, as (kind, detail): ``("short", "9 characters, at
    least 16 are required")``, ``("placeholder", ...)``, ``("weak", ...)``; or ``None``."""
    if len(sk) < MIN_SECRET_LENGTH:
        return "short", f"{len(sk)} characters, at least {MIN_SECRET_LENGTH} are required"
    low = sk.lower()
    word = next((w for w in _PLACEHOLDER_WORDS if w in low), None)
    if word is not None:
        return "placeholder", f"it contains {word!r}"
    distinct = len(set(sk))
    if distinct < MIN_SECRET_DISTINCT:
        plural = "" if distinct == 1 else "s"
        return "weak", (
            f"{distinct} distinct character{plural}, at least {MIN_SECRET_DISTINCT} are required"
        )
    bits = secret_bits(sk)
    if bits < MIN_SECRET_BITS:
        return "weak", f"about {bits:.0f} bits of randomness, {MIN_SECRET_BITS} are required"
    return None


def is_placeholder_secret(sk: str) -> bool:
    """True for a secret that may not run a server (see :func:`secret_weakness`)."""
    return secret_weakness(sk) is not None


def _parse_scopes(
    where: str, scopes: object
) -> tuple[frozenset[tuple[int, int]] | None, frozenset[int]]:
    if scopes is None:
        return None, frozenset()
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise CredentialsError(f"{where}: scopes must be a list of 'ccId/vdn' strings")
    pairs: set[tuple[int, int]] = set()
    centers: set[int] = set()
    for scope in scopes:
        cc, sep, vdn = scope.partition("/")
        if not sep or not cc.isdigit() or not (vdn == "*" or vdn.isdigit()):
            raise CredentialsError(f"{where}: scope {scope!r} is not 'ccId/vdn' or 'ccId/*'")
        if vdn == "*":
            centers.add(int(cc))
        else:
            pairs.add((int(cc), int(vdn)))
    return frozenset(pairs), frozenset(centers)


def _entry(entry: object, index: int, text: str, source: str, allow_weak: bool) -> AccessKey:
    if not isinstance(entry, dict):
        raise CredentialsError(f"{source}: access_key must hold [[access_key]] tables")

    def at(key: str) -> str:  # "file line N", N the line of key (else of ak) in this entry
        line = key_line(text, key, "access_key", index) or key_line(text, "ak", "access_key", index)
        return f"{source} line {line}" if line else source

    ak, sk = entry.get("ak"), entry.get("sk")
    if not isinstance(ak, str) or not ak or "/" in ak:
        raise CredentialsError(f"{at('ak')}: every access key needs an 'ak' without '/'")
    unknown = sorted(set(entry) - ENTRY_KEYS)
    if unknown:
        raise CredentialsError(
            unknown_key(
                unknown[0], ENTRY_KEYS, source, key_line(text, unknown[0], "access_key", index),
                where=f"[[access_key]] {ak}",
            )
        )  # fmt: skip
    if not isinstance(sk, str) or not sk:
        raise CredentialsError(f"{at('sk')}: access key {ak} needs an 'sk'")
    weakness = None if allow_weak else secret_weakness(sk)
    if weakness is not None:
        kind, detail = weakness
        raise CredentialsError(
            f"{at('sk')}: access key {ak} has a {kind} secret ({detail});"
            f" make one with: {SECRET_RECIPE}"
        )
    roles = entry.get("roles", ["query"])
    if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
        raise CredentialsError(f"{at('roles')}: access key {ak}: roles must be among {ROLES}")
    vdns, centers = _parse_scopes(f"{at('scopes')}: access key {ak}", entry.get("scopes"))
    return AccessKey(ak, sk, frozenset(roles), vdns, centers)


def parse_credentials(text: str, source: str, allow_weak: bool = False) -> dict[str, AccessKey]:
    """The access keys of a credentials file's ``text`` (``source`` names it in errors).

    ``allow_weak`` (``ccms demo`` only, which writes its own random secrets) skips the
    secret-strength checks; every other check holds.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CredentialsError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"access_key"})
    if unknown:
        raise CredentialsError(
            unknown_key(unknown[0], ["access_key"], source, key_line(text, unknown[0]))
        )
    entries = data.get("access_key")
    if isinstance(entries, dict):
        raise CredentialsError(f"{source}: write [[access_key]] (a list of keys), not [access_key]")
    if not isinstance(entries, list) or not entries:
        raise CredentialsError(f"{source}: no [[access_key]] entries")
    keys: dict[str, AccessKey] = {}
    for index, entry in enumerate(entries):
        key = _entry(entry, index, text, source, allow_weak)
        if key.ak in keys:
            raise CredentialsError(f"{source}: access key {key.ak} is listed twice")
        keys[key.ak] = key
    return keys


def check_file_mode(path: str, allow_open: bool = False) -> None:
    """Refuse a credentials file that group or others may access (a warning with
    ``allow_open``), as ssh does for a private key. Not checked where POSIX modes do not
    exist."""
    if os.name != "posix":  # pragma: no cover - the suite runs on POSIX
        return
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise CredentialsError(f"cannot read credentials file {path}: {exc.strerror}") from None
    if not mode & _OPEN_BITS:
        return
    what = f"credentials file {path} is open to group or others (mode {stat.S_IMODE(mode):04o})"
    if not allow_open:
        raise CredentialsError(
            f"{what}: run chmod 600 {path}, or start with --allow-open-credentials"
        )
    log.warning("%s; starting anyway (allow_open_credentials)", what)


def load_credentials(
    path: str, allow_weak: bool = False, allow_open: bool = False
) -> dict[str, AccessKey]:
    """The access keys of the credentials file at ``path``: its mode checked (see
    :func:`check_file_mode`), then its text (see :func:`parse_credentials`)."""
    check_file_mode(path, allow_open)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CredentialsError(f"cannot read credentials file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CredentialsError(f"credentials file {path} is not UTF-8 text") from None
    return parse_credentials(text, path, allow_weak)


class CredentialsFile:
    """The credentials file as a running server follows it: :meth:`changed` tells when the
    file is no longer the one last read (its inode, size or times moved), :meth:`load`
    reads it again with the checks of the start (:func:`load_credentials`)."""

    def __init__(self, path: str, allow_open: bool = False) -> None:
        self.path = path
        self.allow_open = allow_open
        self._stamp = self._stat()

    def _stat(self) -> tuple[int, ...] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)

    def changed(self) -> bool:
        """True once for each change of the file since the last call (or the start)."""
        stamp = self._stat()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        return True

    def load(self) -> dict[str, AccessKey]:
        return load_credentials(self.path, allow_open=self.allow_open)
