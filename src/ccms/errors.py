"""The one error family of ccms.

Every failure ccms reports is a :class:`CCMSError`. Each class carries its CC-CMS result
code and its HTTP status as plain values, so this module imports nothing (neither a web
framework nor the rest of ccms) and the domain, the store and the services may raise these
errors directly. One handler in ``ccms.http`` renders them into the CC-CMS envelope.
"""

from __future__ import annotations

SUCCESS = "0100000"
FAILED = "0100001"
INVALID_PARAMETER = "0100002"
UNKNOWN_ERROR = "0100999"
PERMISSION_DENIED = "0101003"


class CCMSError(Exception):
    """Base of every error ccms answers with. ``message`` goes to the client as is."""

    result_code: str = UNKNOWN_ERROR
    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidParameterError(CCMSError):
    """A request field is missing, of the wrong type or out of range (HTTP 200)."""

    result_code = INVALID_PARAMETER
    http_status = 200


class MalformedRequestError(CCMSError):
    """The body is not JSON, or not a JSON object (HTTP 400)."""

    result_code = INVALID_PARAMETER
    http_status = 400


class AgentNotFoundError(CCMSError):
    """The agent is not known in that call center and VDN."""

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
    """Too many requests for one access key."""

    result_code = FAILED
    http_status = 429

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class StoreUnavailableError(CCMSError):
    """The store cannot be read or written right now (file gone, disk full, server down)."""

    result_code = FAILED
    http_status = 503


class NotFoundError(CCMSError):
    """No route at that path."""

    result_code = INVALID_PARAMETER
    http_status = 404


class MethodNotAllowedError(CCMSError):
    """The route exists but not for that method."""

    result_code = INVALID_PARAMETER
    http_status = 405

    def __init__(self, message: str, allow: str = "POST") -> None:
        super().__init__(message)
        self.allow = allow


class UnsupportedMediaTypeError(CCMSError):
    """Content-Type is not application/json."""

    result_code = INVALID_PARAMETER
    http_status = 415


class PayloadTooLargeError(CCMSError):
    """The body is larger than the route accepts."""

    result_code = INVALID_PARAMETER
    http_status = 413


class InternalError(CCMSError):
    """Anything unexpected; the body never says what."""

    result_code = UNKNOWN_ERROR
    http_status = 500
