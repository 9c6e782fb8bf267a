from __future__ import annotations

from pathlib import Path

import pytest

from ccms.settings import (
    SETTINGS,
    Settings,
    SettingsError,
    defaults_match_table,
    exported,
    load_settings,
    process_environ,
    to_environ,
)

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_table_and_dataclass_agree() -> None:
    assert defaults_match_table()


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [
        s.name
        for s in SETTINGS
        if f"`{s.name}`" not in text or s.env not in text or s.flag not in text
    ]
    assert missing == []


def test_precedence_defaults_file_env_flags(tmp_path: Path) -> None:
    config = tmp_path / "ccms.toml"
    config.write_text('port = 1000\nhost = "0.0.0.0"\nworkers = 3\n', encoding="utf-8")
    environ = {"CCMS_CONFIG": str(config), "CCMS_PORT": "2000", "CCMS_WORKERS": "2"}
    settings = load_settings(environ, {"port": 3000, "workers": None})
    assert (settings.host, settings.port, settings.workers) == ("0.0.0.0", 3000, 2)
    assert settings.clock_skew == Settings().clock_skew


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CCMS_PORT": "x"}, "port"),
        ({"CCMS_PORT": "70000"}, "port"),
        ({"CCMS_INSECURE_HTTP": "maybe"}, "true or false"),
        ({"CCMS_WORKERS": "0"}, "workers"),
        ({"CCMS_TLS_CERT": "c.pem"}, "go together"),
        ({"CCMS_SQLITE_SYNCHRONOUS": "OFF"}, "synchronous"),
        ({"CCMS_EVENT_ID_RETENTION_DAYS": "0"}, "event_id_retention_days"),
        ({"CCMS_LOG_LEVEL": "LOUD"}, "must be one of debug, info, warning, error, got 'LOUD'"),
        ({"CCMS_LOG_FORMAT": "xml"}, r"log_format \(CCMS_LOG_FORMAT\) must be one of text, json"),
        ({"CCMS_ACCESS_LOG": "loud"}, "true or false"),
    ],
)
def test_bad_values_are_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(environ)


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "ccms.toml"
    config.write_text("prot = 1\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="unknown setting 'prot'"):
        load_settings({}, config_file=str(config))


def test_environ_round_trip() -> None:
    settings = load_settings({}, {"port": 9, "large_work_numbers": True, "rate_limit": 2.5})
    assert load_settings(to_environ(settings)) == settings


def test_exported_settings_reach_the_process_environment_for_the_block() -> None:
    settings = load_settings({}, {"port": 9, "workers": 3})
    before = dict(process_environ())
    with exported(to_environ(settings)):
        assert load_settings(process_environ()) == settings  # what a worker process sees
    assert dict(process_environ()) == before


def test_docs_table_is_generated_from_the_settings() -> None:
    from ccms.settings import settings_markdown

    assert settings_markdown() in DOCS.read_text(encoding="utf-8")


def test_choices_are_matched_whatever_the_case() -> None:
    settings = load_settings(
        {
            "CCMS_LOG_LEVEL": "WARNING",
            "CCMS_LOG_FORMAT": "JSON",
            "CCMS_SQLITE_SYNCHRONOUS": "normal",
        }
    )

    assert (settings.log_level, settings.log_format) == ("warning", "json")
    assert settings.sqlite_synchronous == "NORMAL"


def test_logging_defaults_are_text_without_an_access_log() -> None:
    settings = load_settings({})

    assert (settings.log_format, settings.access_log) == ("text", False)


def test_unknown_setting_names_the_line_and_the_setting_meant(tmp_path: Path) -> None:
    config = tmp_path / "ccms.toml"
    config.write_text('host = "127.0.0.1"\n\nprot = 1\n', encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        load_settings({}, config_file=str(config))
    assert info.value.message == f"{config} line 3: unknown setting 'prot' (did you mean 'port'?)"


def test_allowed_hosts_from_file_env_and_flag(tmp_path: Path) -> None:
    config = tmp_path / "ccms.toml"
    config.write_text('allowed_hosts = ["cms.example", "10.0.0.5:28443"]\n', encoding="utf-8")
    from_file = load_settings({}, config_file=str(config))
    assert from_file.allowed_hosts == ("cms.example", "10.0.0.5:28443")
    from_env = load_settings({"CCMS_ALLOWED_HOSTS": " a.example, b.example:1 ,"})
    assert from_env.allowed_hosts == ("a.example", "b.example:1")
    assert load_settings({}).allowed_hosts == ()
    assert load_settings(to_environ(from_file)) == from_file


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CCMS_ALLOWED_HOSTS": "https://cms.example"}, "allowed_hosts: 'https://cms.example'"),
        ({"CCMS_ALLOWED_HOSTS": "cms example"}, "is not a host or host:port"),
        ({"CCMS_ALLOW_OPEN_CREDENTIALS": "perhaps"}, "true or false"),
    ],
)
def test_bad_host_settings_are_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(environ)


def test_allowed_hosts_in_a_file_must_be_strings(tmp_path: Path) -> None:
    config = tmp_path / "ccms.toml"
    config.write_text("allowed_hosts = [1]\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="list of strings"):
        load_settings({}, config_file=str(config))
