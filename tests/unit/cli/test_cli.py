"""The ``ccms`` command's one parser, one dispatch and one exit-code policy."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

import pytest

from ccms.cli import build_parser, main
from ccms.cli.command import (
    EXIT_FAILED,
    EXIT_NO_ANSWER,
    EXIT_USAGE,
    InputError,
    exit_code,
)
from ccms.client import AgentNotFoundError, ConfigurationError, ServerError, TransportError
from ccms.settings import SettingsError

pytestmark = pytest.mark.unit


def leaves(parser: argparse.ArgumentParser, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every runnable command of ``parser`` (``"events post"``...) with its handler."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        yield path.strip(), parser.get_default("handler")
        return
    for name, sub in actions[0].choices.items():
        inherited = parser.get_default("handler")
        for leaf, handler in leaves(sub, f"{path} {name}"):
            yield leaf, handler or inherited


def test_every_command_has_a_handler() -> None:
    found = dict(leaves(build_parser()))

    assert set(found) == {
        "serve", "simulate", "demo", "agent", "agents", "events post", "watch", "queues",
        "db status",
        "db migrate",
        "adapter ami", "wallboard-url",
        "completion",
    }  # fmt: skip
    assert all(callable(handler) for handler in found.values()), found


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (AgentNotFoundError("agent 9 is not known", result_code="0100001", http_status=200),
         EXIT_FAILED),
        (ServerError("unknown error", result_code="0100999", http_status=500), EXIT_FAILED),
        (TransportError("cannot reach", url="http://x", retryable=True), EXIT_NO_ANSWER),
        (ConfigurationError("no server URL"), EXIT_USAGE),
        (InputError("cannot read events.ndjson"), EXIT_USAGE),
        (SettingsError("port must be 1..65535"), EXIT_USAGE),
    ],
)  # fmt: skip
def test_exit_code_of_each_error(error: Exception, code: int) -> None:
    assert exit_code(error) == code


def test_an_error_is_one_line_and_its_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "--url", "http://127.0.0.1:9", "--batch", "0"], {})

    assert code == EXIT_USAGE
    assert capsys.readouterr().err == (
        "ccms: --batch must be positive, --start-hour within 0..24, --warmup >= 0\n"
    )


def test_debug_raises_the_error_instead() -> None:
    with pytest.raises(SettingsError, match="credentials file is required"):
        main(["--debug", "serve"], {})


def test_usage_error_is_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["agent", "1"], {})

    assert caught.value.code == EXIT_USAGE
    assert "the following arguments are required" in capsys.readouterr().err


def help_of(*command: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        main([*command, "--help"], {})
    return " ".join(capsys.readouterr().out.split())  # unwrapped


def test_serve_help_names_each_value_and_its_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    text = help_of("serve", capsys=capsys)

    for usage in ("--port PORT", "--store URL", "--credentials FILE", "--tls-cert FILE",
                  "--workers N", "--log-level LEVEL", "--log-format FORMAT", "--config FILE"):  # fmt: skip
        assert usage in text, usage
    assert "(env CCMS_PORT, default 28080)" in text
    assert "(env CCMS_STORE, default sqlite:///ccms.db)" in text
    assert "(env CCMS_CREDENTIALS)" in text  # no default to show
    assert "(env CCMS_ACCESS_LOG)" in text  # a switch
    assert "debug, info, warning, error" in text
    assert "VALUE" not in text
    assert "'127.0.0.1'" not in text and "default: " not in text  # no Python reprs


def test_demo_and_db_help_name_each_value_and_its_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    demo = help_of("demo", capsys=capsys)
    status = help_of("db", "status", capsys=capsys)

    for usage in ("--port PORT", "--data-dir DIR", "--agents N", "--vdns N", "--seed N",
                  "--speed X"):  # fmt: skip
        assert usage in demo, usage
    assert "(default 28080)" in demo
    assert "(default .ccms-demo)" in demo
    assert "(default 200)" in demo
    assert "--store URL" in status
    assert "(env CCMS_STORE, default sqlite:///ccms.db)" in status


CLIENT_COMMANDS = ("agent", "events post", "watch", "simulate")


def command_parser(path: str) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in path.split():
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


@pytest.mark.parametrize("path", CLIENT_COMMANDS)
def test_client_command_options_name_their_value_and_default(path: str) -> None:
    """``--batch N (default 1000)``, not ``--batch BATCH``: every option that takes a value
    names it, and says its default when it has one."""
    for action in command_parser(path)._actions:
        if not action.option_strings or action.nargs == 0 or action.help == argparse.SUPPRESS:
            continue
        name = action.option_strings[-1]
        assert action.metavar is not None, f"{path} {name} has no metavar"
        if action.default is not None:
            assert "default" in (action.help or ""), f"{path} {name} does not say its default"
