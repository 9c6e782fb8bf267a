"""The error family: codes from the wire contract, each error with its own headers."""

from __future__ import annotations

import pytest

from ccms import errors, wire
from ccms.errors import (
    CCMSError,
    MethodNotAllowedError,
    RateLimitedError,
    StoreUnavailableError,
)

pytestmark = pytest.mark.unit

CODES = {wire.SUCCESS, wire.FAILED, wire.INVALID_PARAMETER, wire.UNKNOWN_ERROR,
         wire.PERMISSION_DENIED}  # fmt: skip


def error_classes() -> list[type[CCMSError]]:
    found = [value for value in vars(errors).values() if isinstance(value, type)]
    return [kind for kind in found if issubclass(kind, CCMSError)]


def test_every_error_has_a_wire_code_and_an_http_status() -> None:
    assert len(error_classes()) >= 12
    for kind in error_classes():
        assert kind.result_code in CODES - {wire.SUCCESS}, kind
        assert 200 <= kind.http_status <= 599, kind


def test_errors_carry_the_headers_of_their_answer() -> None:
    assert RateLimitedError("slow down", retry_after_s=3).headers == {"Retry-After": "3"}
    assert StoreUnavailableError("gone").headers == {"Retry-After": "1"}
    assert MethodNotAllowedError("no", allow="GET, HEAD").headers == {"Allow": "GET, HEAD"}
    assert MethodNotAllowedError("no").headers == {"Allow": "POST"}
    assert CCMSError("plain").headers == {}
    assert CCMSError("own", {"X-Why": "test"}).headers == {"X-Why": "test"}


def test_only_store_failures_are_counted_as_such() -> None:
    counted = {kind for kind in error_classes() if kind.store_failure}
    assert counted == {StoreUnavailableError}
