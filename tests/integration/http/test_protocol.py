"""The HTTP limits' parts that need no server: the refusal log and the connection cap."""

from __future__ import annotations

import logging
import pickle

import pytest

from ccms.http.protocol import HttpLimits, RefusalLog
from ccms.server import FD_RESERVE, http_limits
from ccms.settings import SettingsError, load_settings

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_refusals_are_logged_once_a_minute_per_kind(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    refusals = RefusalLog(interval=60, clock=clock)
    caplog.set_level(logging.WARNING, logger="ccms.http.protocol")
    assert refusals.note("connections", "refused")  # the first at once
    assert not any(refusals.note("connections", "refused") for _ in range(500))
    assert refusals.note("headers", "too large")  # another kind has its own minute
    clock.now += 61
    assert refusals.note("connections", "refused")
    assert [r.getMessage() for r in caplog.records] == [
        "refused",
        "too large",
        "refused (501 since the last report)",
    ]


def test_a_worker_process_starts_its_refusal_log_afresh() -> None:
    refusals = RefusalLog()
    refusals.note("connections", "refused")
    copy = pickle.loads(pickle.dumps(refusals))
    assert copy.note("connections", "refused")  # logged: the copy has no history


def test_the_connection_cap_fits_the_file_descriptor_limit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = load_settings({}, {"max_connections": 500, "max_header_bytes": 4096})
    assert http_limits(settings, None) == HttpLimits(4096, 10.0, 30.0, 500, None)
    assert http_limits(settings, 500 + FD_RESERVE).max_connections == 500
    caplog.set_level(logging.WARNING, logger="ccms.server")
    lowered = http_limits(settings, 256)
    assert (lowered.max_connections, lowered.fd_limit) == (256 - FD_RESERVE, 256)
    assert caplog.messages == [
        "max_connections lowered from 500 to 192: the file-descriptor limit is 256"
    ]
    assert http_limits(settings, 10).max_connections == 1


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CCMS_MAX_HEADER_BYTES": "100"}, "max_header_bytes must be at least 1024"),
        ({"CCMS_HEADER_TIMEOUT": "0"}, "header_timeout must be a positive"),
        ({"CCMS_BODY_TIMEOUT": "-1"}, "body_timeout must be a positive"),
        ({"CCMS_KEEP_ALIVE_TIMEOUT": "0"}, "keep_alive_timeout must be a positive"),
        ({"CCMS_MAX_CONNECTIONS": "0"}, "max_connections must be at least 1"),
    ],
)
def test_limits_out_of_range_are_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(environ)
