"""Client profiles: the file's place, the choice of profile, precedence, write_profile."""

from __future__ import annotations

import json
import stat
import sys
import tomllib
from pathlib import Path

import pytest

from ccms.client import ConfigurationError, config_path, load_config, write_profile
from ccms.client.config import read_profiles

pytestmark = pytest.mark.integration

SECRET = "profile-secret-0123456789"
SK_COMMAND_PROFILE = '[profile.default]\nurl = "http://h:1"\nak = "a"\n'


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ccms" / "client.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


TWO = f"""
[profile.default]
url = "https://cms-a.example:28443"
ak = "ak-a"
sk = "{SECRET}"
ca_bundle = "ca.pem"
timeout = 4

[profile.lab]
url = "http://127.0.0.1:28080"
ak = "ak-lab"
sk = "{SECRET}-lab"
"""


def test_config_path_respects_xdg_home_and_override(tmp_path: Path) -> None:
    assert config_path({"XDG_CONFIG_HOME": "/x/cfg", "HOME": "/home/u"}) == Path(
        "/x/cfg/ccms/client.toml"
    )
    assert config_path({"HOME": "/home/u"}) == Path("/home/u/.config/ccms/client.toml")
    assert config_path({"XDG_CONFIG_HOME": "relative", "HOME": "/h"}) == Path(
        "/h/.config/ccms/client.toml"
    )
    assert config_path({"CCMS_CLIENT_CONFIG": "/etc/c.toml", "HOME": "/h"}) == Path("/etc/c.toml")


def test_default_profile_is_chosen_and_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    _file(tmp_path, TWO)

    config = load_config({"XDG_CONFIG_HOME": str(tmp_path)})

    assert config.profile == "default"
    assert (config.url, config.ak, config.sk) == ("https://cms-a.example:28443", "ak-a", SECRET)
    assert config.ca_bundle == str(tmp_path / "ccms" / "ca.pem")
    assert config.verify == str(tmp_path / "ccms" / "ca.pem")
    assert config.timeout == 4.0
    assert SECRET not in repr(config)


def test_named_profile_and_only_profile(tmp_path: Path) -> None:
    path = _file(tmp_path, TWO)
    assert load_config({}, profile="lab", path=path).ak == "ak-lab"

    only = _file(tmp_path / "only", f'[profile.x]\nurl = "http://h:1"\nak = "a"\nsk = "{SECRET}"\n')
    config = load_config({}, path=only)
    assert (config.profile, config.ak, config.verify) == ("x", "a", True)


def test_several_profiles_without_default_must_be_chosen(tmp_path: Path) -> None:
    path = _file(tmp_path, TWO.replace("profile.default", "profile.prod"))

    with pytest.raises(ConfigurationError, match=r"choose one of the profiles .* with --profile"):
        load_config({}, path=path)


def test_unknown_profile_is_an_error_naming_the_known_ones(tmp_path: Path) -> None:
    path = _file(tmp_path, TWO)

    with pytest.raises(ConfigurationError, match=r"no profile 'prod' .*\(profiles: default, lab\)"):
        load_config({}, profile="prod", path=path)


def test_flags_override_environment_override_profile(tmp_path: Path) -> None:
    path = _file(tmp_path, TWO)
    environ = {"CCMS_URL": "https://env:1", "CCMS_AK": "env-ak", "CCMS_SK": "env-sk"}

    from_env = load_config(environ, path=path)
    from_flags = load_config(environ, path=path, url="https://flag:2", sk="flag-sk")

    assert (from_env.url, from_env.ak, from_env.sk) == ("https://env:1", "env-ak", "env-sk")
    assert (from_flags.url, from_flags.ak, from_flags.sk) == ("https://flag:2", "env-ak", "flag-sk")
    assert from_flags.timeout == 4.0  # still from the profile


def test_no_file_and_no_environment_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no server URL: give --url, set CCMS_URL"):
        load_config({"HOME": str(tmp_path)})
    with pytest.raises(ConfigurationError, match="no secret key"):
        load_config({"HOME": str(tmp_path), "CCMS_URL": "http://h:1", "CCMS_AK": "a"})


def test_sk_command_stdout_is_the_secret(tmp_path: Path) -> None:
    command = f"{sys.executable} -c \"print('from-command-0123456789')\""
    path = _file(tmp_path, SK_COMMAND_PROFILE + f"sk_command = {json.dumps(command)}\n")

    assert load_config({}, path=path).sk == "from-command-0123456789"
    assert load_config({"CCMS_SK": "env"}, path=path, run_command=_never).sk == "env"


def _never(command: str) -> str:
    raise AssertionError(f"sk_command should not run: {command}")


def test_failing_sk_command_is_a_configuration_error(tmp_path: Path) -> None:
    command = f"{sys.executable} -c \"import sys; sys.exit('vault is sealed')\""
    path = _file(tmp_path, SK_COMMAND_PROFILE + f"sk_command = {json.dumps(command)}\n")

    with pytest.raises(ConfigurationError, match="failed: vault is sealed"):
        load_config({}, path=path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[profile.default\n", "not valid TOML"),
        ('[profile.default]\nurl = "http://h:1"\npassword = "x"\n', "unknown key 'password'"),
        ('[profile.default]\nsk = "a"\nsk_command = "b"\n', "sk or sk_command, not both"),
        ("[profile.default]\ntimeout = -1\n", "timeout must be a positive number"),
        ('[profile.default]\nurl = "cms:28443"\nak = "a"\nsk = "s"\n', "must start with https://"),
    ],
)
def test_bad_profiles_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_config({}, path=_file(tmp_path, text))


def test_write_profile_creates_a_private_file(tmp_path: Path) -> None:
    environ = {"XDG_CONFIG_HOME": str(tmp_path / "cfg")}

    path = write_profile("demo", "http://127.0.0.1:28080", "demo-ak", 'se"cret\\0123456789',
                         environ=environ)  # fmt: skip

    assert path == tmp_path / "cfg" / "ccms" / "client.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = load_config(environ, profile="demo")
    assert (config.url, config.ak, config.sk) == (
        "http://127.0.0.1:28080",
        "demo-ak",
        'se"cret\\0123456789',
    )


def test_write_profile_replaces_its_table_and_keeps_the_rest(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "# my profiles\n" + TWO + '\n[profile.demo]\nurl = "http://old:1"\n'
        'ak = "old"\nsk = "old-secret-0123456789"\n\n[profile.z]\nurl = "http://z:1"\n',
    )
    path.chmod(0o644)

    write_profile("demo", "http://127.0.0.1:28080", "new-ak", "new-secret-0123456789", path)

    text = path.read_text()
    assert text.startswith("# my profiles\n")
    assert "old" not in text
    profiles = read_profiles(path)
    assert sorted(profiles) == ["default", "demo", "lab", "z"]
    assert profiles["demo"].ak == "new-ak"
    assert profiles["z"].url == "http://z:1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tomllib.loads(text)["profile"]["lab"]["ak"] == "ak-lab"


def test_write_profile_refuses_odd_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="profile name"):
        write_profile("a.b", "http://h:1", "a", "s", tmp_path / "c.toml")
    assert not (tmp_path / "c.toml").exists()
