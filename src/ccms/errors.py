"""The one error family of ccms.

Every failure ccms reports is a :class:`CCMSError`. Each class carries its CC-CMS result
code and its HTTP status as plain values, and each error the extra headers of its answer
(``Allow``, ``Retry-After``), as starlette's ``HTTPException`` does. This module imports no
web framework and nothing of ccms but the wire contract (``ccms.wire``), so the domain, the
store and the services may raise these errors directly. One handler in ``ccms.http``
renders any of them into the CC-CMS envelope without knowing which it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ccms.wire import FAILED, INVALID_PARAMETER, PERMISSION_DENIED, UNKNOWN_ERROR


class CCMSError(Exception):
    """Base of every error ccms answers with. ``message`` goes to the client as is;
    ``headers`` are added to the answer."""

    result_code: ClassVar[str] = UNKNOWN_ERROR
    http_status: ClassVar[int] = 500
    # Counted by the metric ``ccms_store_errors`` when answered.
    store_failure: ClassVar[bool] = False

    def __init__(self, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers: dict[str, str] = dict(headers) if headers else {}


class InvalidParameterError(CCMSError):
    """A request field is missing, of the wrong type or out of range (HTTP 200)."""

    result_code = INVALID_PARAMETER
    http_status = 200


class MalformedRequestError(CCMSError):
    """The request is malformed (HTTP 400): its body is not JSON or not a JSON object, or
    its ``Host`` header is missing (HTTP/1.1) or repeated."""

    result_code = INVALID_PARAMETER
    http_status = 400


class AgentNotFoundError(CCMSError):
    """The agent is not known in that call center and VDN."""

    result_code = FAILED
    http_status = 200


class CallNotFoundError(CCMSError):
    """The call is not in progress in that call center and VDN (unknown, or ended)."""

    result_code = FAILED
    http_status = 200


class PermissionDeniedError(CCMSError):
    """The access key may not use that call center / VDN, or lacks the role."""

    result_code = PERMISSION_DENIED
    http_status = 200


class AuthenticationError(CCMSError):
    """Authorization missing, malformed, unknown access key, bad signature, stale time."""

    result_code = FAILED
    http_status = 401


class RateLimitedError(CCMSError):
    """Too many requests for one access key (``Retry-After``)."""

    result_code = FAILED
    http_status = 429

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message, {"Retry-After": str(retry_after_s)})
        self.retry_after_s = retry_after_s


class StoreUnavailableError(CCMSError):
    """The store cannot be read or written right now (file gone, disk full, server down);
    answered with ``Retry-After: 1``."""

    result_code = FAILED
    http_status = 503
    store_failure = True

    def __init__(self, message: str) -> None:
        super().__init__(message, {"Retry-After": "1"})


class NotFoundError(CCMSError):
    """No route at that path."""

    result_code = INVALID_PARAMETER
    http_status = 404


class MethodNotAllowedError(CCMSError):
    """The route exists but not for that method (``Allow``: the methods it takes)."""

    result_code = INVALID_PARAMETER
    http_status = 405

    def __init__(self, message: str, allow: str = "POST") -> None:
        super().__init__(message, {"Allow": allow})
        self.allow = allow


class UnsupportedMediaTypeError(CCMSError):
    """Content-Type is not application/json."""

    result_code = INVALID_PARAMETER
    http_status = 415


class PayloadTooLargeError(CCMSError):
    """The body is larger than the route accepts."""

    result_code = INVALID_PARAMETER
    http_status = 413


class HeadersTooLargeError(CCMSError):
    """The request line and headers are larger than ``max_header_bytes`` (HTTP 431)."""

    result_code = INVALID_PARAMETER
    http_status = 431


class RequestTimeoutError(CCMSError):
    """The request's headers or body did not arrive in time (HTTP 408)."""

    result_code = FAILED
    http_status = 408


class TooManyConnectionsError(CCMSError):
    """The process holds as many connections as it takes (HTTP 503, ``Retry-After``)."""

    result_code = FAILED
    http_status = 503

    def __init__(self, message: str) -> None:
        super().__init__(message, {"Retry-After": "1"})


class InternalError(CCMSError):
    """Anything unexpected; the body never says what."""

    result_code = UNKNOWN_ERROR
    http_status = 500
