"""The credentials file on disk: its mode (as ssh checks a private key) and its text."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ccms.credentials import CredentialsError, CredentialsFile, load_credentials
from ccms.settings import load_settings

pytestmark = pytest.mark.integration

TEXT = '[[access_key]]\nak = "a"\nsk = "Yq3oV0c_Rr8wq6GZ3c1o7y9LZkSg0Pdd"\n'


def _file(tmp_path: Path, mode: int, text: str = TEXT) -> Path:
    path = tmp_path / "credentials.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_a_file_only_its_owner_may_read_is_loaded(tmp_path: Path, mode: int) -> None:
    assert set(load_credentials(str(_file(tmp_path, mode)))) == {"a"}


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o666])
def test_a_file_open_to_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = _file(tmp_path, mode)
    with pytest.raises(CredentialsError) as info:
        load_credentials(str(path))
    assert info.value.message == (
        f"credentials file {path} is open to group or others (mode {mode:04o}): run chmod 600"
        f" {path}, or start with --allow-open-credentials"
    )


def test_allow_open_credentials_turns_the_refusal_into_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _file(tmp_path, 0o644)
    settings = load_settings({"CCMS_ALLOW_OPEN_CREDENTIALS": "true", "CCMS_CREDENTIALS": str(path)})
    with caplog.at_level(logging.WARNING, logger="ccms.credentials"):
        keys = load_credentials(settings.credentials, allow_open=settings.allow_open_credentials)
    assert set(keys) == {"a"}
    assert [r.getMessage() for r in caplog.records] == [
        f"credentials file {path} is open to group or others (mode 0644); starting anyway"
        " (allow_open_credentials)"
    ]


def test_the_mode_is_checked_before_the_secrets_are_read(tmp_path: Path) -> None:
    path = _file(tmp_path, 0o644, "not toml [")
    with pytest.raises(CredentialsError, match="open to group or others"):
        load_credentials(str(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe", "is not UTF-8 text"),
        (TEXT.replace("sk =", "role = ['query']\nsk =").encode(), "line 3: unknown key 'role'"),
    ],
)
def test_bad_text_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "credentials.toml"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(CredentialsError, match=message):
        load_credentials(str(path))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match=r"cannot read credentials file .*missing\.toml"):
        load_credentials(str(tmp_path / "missing.toml"))


def test_a_followed_file_tells_each_change_once_and_loads_with_the_start_checks(
    tmp_path: Path,
) -> None:
    path = _file(tmp_path, 0o600)
    followed = CredentialsFile(str(path))
    assert followed.changed() is False
    assert set(followed.load()) == {"a"}
    replaced = tmp_path / "new.toml"
    replaced.write_text(TEXT.replace('"a"', '"b"'), encoding="utf-8")
    replaced.chmod(0o600)
    replaced.replace(path)  # as editors and deploy tools write it: a new file, renamed
    assert followed.changed() is True
    assert followed.changed() is False
    assert set(followed.load()) == {"b"}
    path.chmod(0o644)
    assert followed.changed() is True
    with pytest.raises(CredentialsError, match="open to group or others"):
        followed.load()
    assert set(CredentialsFile(str(path), allow_open=True).load()) == {"b"}
    path.unlink()
    assert followed.changed() is True
    with pytest.raises(CredentialsError, match="cannot read credentials file"):
        followed.load()
