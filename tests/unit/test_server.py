"""The composition root's pure parts: the start line and the log formats."""

from __future__ import annotations

import logging
import sys

import orjson
import pytest

from ccms import __version__
from ccms.server import JsonFormatter, open_store, start_line
from ccms.settings import load_settings

pytestmark = pytest.mark.unit


def test_the_start_line_names_version_address_store_keys_and_workers() -> None:
    settings = load_settings({}, {"port": 28443, "store": "sqlite:///data/ccms.db"})

    assert start_line(settings, open_store(settings), keys=1) == (
        f"ccms {__version__} serving http://127.0.0.1:28443: store sqlite:///data/ccms.db,"
        " 1 access key, 1 worker"
    )


def test_the_start_line_hides_the_store_password_and_counts_in_plural() -> None:
    settings = load_settings(
        {},
        {"store": "postgresql://ccms:s3cret@db:5432/ccms", "workers": 4, "host": "0.0.0.0",
         "insecure_http": True},
    )  # fmt: skip

    line = start_line(settings, open_store(settings), keys=3)  # not connected

    assert "s3cret" not in line
    assert line.endswith(
        "serving http://0.0.0.0:28080: store postgresql://ccms:***@db:5432/ccms,"
        " 3 access keys, 4 workers"
    )


def record(message: str, *args: object, name: str = "ccms.test") -> logging.LogRecord:
    return logging.LogRecord(name, logging.WARNING, __file__, 1, message, args, None)


def test_a_json_log_line_has_time_level_logger_and_message() -> None:
    line = JsonFormatter().format(record("%d agents", 3))

    fields = orjson.loads(line)
    assert "\n" not in line
    assert {k: fields[k] for k in ("level", "logger", "message")} == {
        "level": "WARNING", "logger": "ccms.test", "message": "3 agents"
    }  # fmt: skip
    assert fields["time"].endswith("Z") and "T" in fields["time"]


def test_a_json_log_line_carries_the_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.LogRecord("ccms", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())

    fields = orjson.loads(JsonFormatter().format(failed))

    assert fields["message"] == "failed"
    assert "ValueError: boom" in fields["exception"]


def test_a_json_access_line_has_its_fields() -> None:
    access = record(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST", "/x?a=1", "1.1", 200,
        name="uvicorn.access",
    )  # fmt: skip

    fields = orjson.loads(JsonFormatter().format(access))

    assert fields["message"] == '127.0.0.1:5000 - "POST /x?a=1 HTTP/1.1" 200'
    assert (fields["client"], fields["method"], fields["path"], fields["status"]) == (
        "127.0.0.1:5000", "POST", "/x?a=1", 200
    )  # fmt: skip
