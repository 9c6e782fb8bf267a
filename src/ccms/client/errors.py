"""The one exception tree of the ccms client.

Everything the client raises is a :class:`CCMSClientError`, split in three by where it
came from:

- :class:`ApiError`: the server answered, with a failure. It carries the server's
  ``result_code`` (``None`` when the answer was not a CC-CMS envelope), the
  ``http_status`` and the server's ``message``. Subclasses name the cases a caller
  handles differently (see :func:`error_for_answer`).
- :class:`TransportError`: no answer at all: connection refused or reset, DNS failure,
  timeout, TLS failure. Kept apart from answers so that a monitoring caller can tell
  "the agent is unknown" from "the server is unreachable".
- :class:`ConfigurationError`: the client cannot be set up (no URL, AK or SK, an
  unreadable profile file or CA bundle, an ``sk_command`` that failed).

The result codes are the wire contract's (``ccms.wire``), re-exported here.
"""

from __future__ import annotations

from ccms.wire import FAILED as FAILED
from ccms.wire import INVALID_PARAMETER as INVALID_PARAMETER
from ccms.wire import PERMISSION_DENIED as PERMISSION_DENIED
from ccms.wire import SUCCESS as SUCCESS
from ccms.wire import UNKNOWN_ERROR as UNKNOWN_ERROR


class CCMSClientError(Exception):
    """Base of every error the ccms client raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(CCMSClientError):
    """The client cannot be set up: missing URL/AK/SK, bad profile file, CA bundle, ..."""


class TransportError(CCMSClientError):
    """The server gave no answer: connection failure, timeout or TLS failure.

    ``retryable`` is false for failures a retry cannot fix (a TLS certificate the client
    does not trust, a URL scheme httpx does not speak).
    """

    def __init__(self, message: str, *, url: str, retryable: bool) -> None:
        super().__init__(message)
        self.url = url
        self.retryable = retryable


class ApiError(CCMSClientError):
    """The server answered with a failure.

    ``result_code`` is the CC-CMS result code of the answer (``"0100002"``...), ``None``
    when the answer was not a CC-CMS envelope; ``http_status`` its HTTP status;
    ``message`` the server's ``resultDesc``; ``retry_after`` the seconds of its
    ``Retry-After`` header, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        result_code: str | None,
        http_status: int,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.result_code = result_code
        self.http_status = http_status
        self.retry_after = retry_after

    def __str__(self) -> str:
        code = self.result_code if self.result_code is not None else "none"
        return f"{self.message} (resultCode {code}, HTTP {self.http_status})"


class InvalidParameterError(ApiError):
    """``0100002``: a parameter is missing, of the wrong type or out of range; also the
    answers to a malformed body (HTTP 400) and to a wrong path, method, content type or
    size (HTTP 404, 405, 415, 413), which carry the same code."""


class AgentNotFoundError(ApiError):
    """``0100001`` on HTTP 200 from an agent route: no such agent in that call center
    and VDN (or a success answer with empty data, as some vendor versions send)."""


class PermissionDeniedError(ApiError):
    """``0101003``: the access key may not use that call center / VDN, or lacks the role."""


class AuthenticationError(ApiError):
    """HTTP 401: signature, access key or timestamp refused (check AK, SK and the clock)."""


class RateLimitedError(ApiError):
    """HTTP 429: too many requests for this access key (see ``retry_after``)."""


class ServerError(ApiError):
    """HTTP 5xx: the store is unavailable (503) or the server failed (500, ``0100999``)."""


class UnexpectedAnswerError(ApiError):
    """The server answered HTTP 200 with something that is not the CC-CMS contract
    (not JSON, not an envelope, a field missing or of the wrong type)."""


def error_for_answer(
    http_status: int,
    result_code: str | None,
    message: str,
    *,
    agent_route: bool,
    retry_after: float | None = None,
) -> ApiError:
    """The exception for a failed answer: by HTTP status first, then by result code."""
    kind: type[ApiError]
    if http_status == 401:
        kind = AuthenticationError
    elif http_status == 429:
        kind = RateLimitedError
    elif http_status >= 500:
        kind = ServerError
    elif result_code == INVALID_PARAMETER:
        kind = InvalidParameterError
    elif result_code == PERMISSION_DENIED:
        kind = PermissionDeniedError
    elif result_code == FAILED and http_status == 200 and agent_route:
        kind = AgentNotFoundError
    else:
        kind = ApiError
    return kind(message, result_code=result_code, http_status=http_status, retry_after=retry_after)
