"""The credentials file: access keys, roles and scopes, and what it refuses."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from ccms.credentials import (
    MIN_SECRET_BITS,
    AccessKey,
    CredentialsError,
    parse_credentials,
    secret_bits,
    secret_weakness,
)
from ccms.errors import PermissionDeniedError

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
STRONG = "BX6szhBzUaRf7DaiVI4_MzUwUwXhn0iA"
STRONG_2 = "tQrl5lL7RhkuN76GEsULFiSXhmWMYert"

CREDS = f"""
[[access_key]]
ak = "a1"
sk = "{STRONG}"

[[access_key]]
ak = "a2"
sk = "{STRONG_2}"
roles = ["ingest"]
scopes = ["1/5", "2/*"]
"""


def _one(body: str, sk: str = STRONG) -> str:
    return f"[[access_key]]\nak = 'a'\nsk = '{sk}'\n{body}"


def test_credentials_roles_and_scopes() -> None:
    keys = parse_credentials(CREDS, "creds.toml")
    assert keys["a1"].roles == {"query"}
    assert keys["a1"].allows(9, 9)
    a2 = keys["a2"]
    assert a2.allows(1, 5) and a2.allows(2, 4000)
    assert not a2.allows(1, 4)
    a2.check("ingest", 1, 5)
    with pytest.raises(PermissionDeniedError, match="role"):
        a2.check("query", 1, 5)
    with pytest.raises(PermissionDeniedError, match="not allowed"):
        a2.check("ingest", 3, 1)
    admin = AccessKey("x", "y" * 20, frozenset({"admin"}))
    assert admin.has_role("query") and admin.has_role("ingest")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no \\[\\[access_key\\]\\]"),
        ("[[access_key]]\nak='a'\nsk='short'", "short secret"),
        ("[[access_key]]\nak='a'\nsk='a-long-random-secret'", "placeholder secret"),
        ("[[access_key]]\nak='a'\nsk='changeme-changeme-changeme'", "placeholder secret"),
        (f"[[access_key]]\nak='a/b'\nsk='{STRONG}'", "without '/'"),
        (_one("roles=['root']"), "roles"),
        (_one("scopes=['1']"), "scope"),
        (_one("") + _one(""), "twice"),
        ("not toml [", "not valid TOML"),
        ("[access_key]\nak='a'", "write \\[\\[access_key\\]\\]"),
        ("access_key = ['a']", "must hold \\[\\[access_key\\]\\] tables"),
    ],
)
def test_credentials_refused(text: str, message: str) -> None:
    with pytest.raises(CredentialsError, match=message):
        parse_credentials(text, "creds.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            f"[[access_key]]\nak = 'a1'\nsk = '{STRONG}'\n\n[[access_key]]\nak = 'a2'\n"
            f"sk = '{STRONG_2}'\nroles = ['query']\nscope = ['1/1']\n",
            "creds.toml line 9: unknown key 'scope' in [[access_key]] a2 (did you mean 'scopes'?)",
        ),
        (
            _one("role = ['ingest']"),
            "creds.toml line 4: unknown key 'role' in [[access_key]] a (did you mean 'roles'?)",
        ),
        (
            f"[[access_keys]]\nak = 'a'\nsk = '{STRONG}'\n",
            "creds.toml line 1: unknown key 'access_keys' (did you mean 'access_key'?)",
        ),
        (
            _one("colour = 'blue'"),
            "creds.toml line 4: unknown key 'colour' in [[access_key]] a"
            " (known: ak, roles, scopes, sk)",
        ),
    ],
)
def test_unknown_keys_name_the_line_and_the_key_meant(text: str, message: str) -> None:
    with pytest.raises(CredentialsError) as info:
        parse_credentials(text, "creds.toml")
    assert info.value.message == message


def test_an_unknown_key_is_refused_even_for_the_demo() -> None:
    with pytest.raises(CredentialsError, match="unknown key 'scope'"):
        parse_credentials(_one("scope = ['1/1']", sk="x"), "demo", allow_weak=True)


@pytest.mark.parametrize(
    ("sk", "kind"),
    [
        (" " * 16, "weak"),
        ("a" * 16, "weak"),
        ("passwordpassword", "placeholder"),
        ("1234567890123456", "weak"),
        ("abcdefghijklmnopqrstuvwxyz", "weak"),
        ("abababababababababab", "weak"),
        ("0123456789abcdefXYZ", "weak"),
        ("k3y-9", "short"),
        ("example-sk-0123456789", "placeholder"),  # the C2 vectors' SK
        ("my-secret-key-for-the-cms", "placeholder"),
    ],
)
def test_weak_secrets_are_refused_with_the_file_and_the_key(sk: str, kind: str) -> None:
    with pytest.raises(CredentialsError) as info:
        parse_credentials(_one("", sk=sk), "creds.toml")
    message = info.value.message
    assert message.startswith(f"creds.toml line 3: access key a has a {kind} secret (")
    assert "secrets.token_urlsafe(32)" in message
    assert "\n" not in message
    assert sk.strip() not in message or not sk.strip()  # the secret itself is never shown


def test_weak_by_randomness_alone() -> None:
    # Long enough, six distinct characters or more, no placeholder word: the estimate decides.
    assert secret_weakness("1234567890123456") == (
        "weak",
        f"about {secret_bits('1234567890123456'):.0f} bits of randomness,"
        f" {MIN_SECRET_BITS} are required",
    )
    assert secret_bits("passwordpassword") < MIN_SECRET_BITS


def test_random_secrets_pass() -> None:
    for _ in range(200):
        for sk in (secrets.token_urlsafe(32), secrets.token_urlsafe(16), secrets.token_hex(16)):
            assert secret_weakness(sk) is None, sk
    assert secret_bits(secrets.token_urlsafe(32)) > 200


def test_the_demo_may_keep_any_secret() -> None:
    keys = parse_credentials(_one("", sk="a" * 16), "demo", allow_weak=True)
    assert keys["a"].sk == "a" * 16


def _documented_secrets() -> list[tuple[str, str]]:
    found = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for value in re.findall(r'^\s*sk\s*=\s*"([^"]*)"', doc.read_text("utf-8"), re.M):
            if not value.startswith("$("):  # a shell recipe that makes a fresh secret
                found.append((doc.name, value))
    return found


def test_the_documentation_has_an_example_secret() -> None:
    assert ("authentication.md", "a secret of at least 16 random characters") in (
        _documented_secrets()
    )


@pytest.mark.parametrize(("doc", "sk"), _documented_secrets())
def test_the_documentations_example_secrets_are_refused(doc: str, sk: str) -> None:
    with pytest.raises(CredentialsError, match=r"(placeholder|short|weak) secret"):
        parse_credentials(_one("", sk=sk), doc)
