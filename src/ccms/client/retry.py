"""Retries: exponential backoff with full jitter, bounded by a total deadline.

A call is retried when it is idempotent and its attempt ended with HTTP 429, HTTP 503
or a retryable transport failure (connection refused or reset, timeout; not a TLS
failure). Every call of the ccms API is idempotent: queries and ``ping`` read, and an
event batch carries ``eventId``s, so sending it twice applies it once.

The wait before retry ``n`` (0-based) is the server's ``Retry-After`` when it sent one,
else ``uniform(0, min(cap, base * 2**n))`` ("full jitter"). No attempt starts after
``deadline`` seconds from the first; a wait that would end past it is not taken and the
last error is raised. ``deadline=0`` disables retries.

:class:`Exchange` is the state of one call across its attempts; both clients drive it:

    exchange = Exchange(call, builder, policy, clock, timeout)
    while True:
        outcome = send(exchange.request())      # an httpx.Response or httpx.RequestError
        step = exchange.handle(outcome)         # Done(result), or seconds to wait
        if isinstance(step, Done): return step.value
        sleep(step)

Before each wait the clients call their ``on_retry`` hook, if given, with a
:class:`RetryNotice` (the library never prints: a command says "retrying" on stderr).
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import httpx

from ccms.client.errors import ApiError, CCMSClientError, RateLimitedError, TransportError
from ccms.client.protocol import Call, RequestBuilder, parse_answer, transport_error

T = TypeVar("T")

DEFAULT_RETRY_DEADLINE = 10.0
RETRY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """When to retry and how long to wait; ``jitter`` returns a float in [0, 1)."""

    deadline: float = DEFAULT_RETRY_DEADLINE
    base: float = 0.2
    cap: float = 5.0
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    def __post_init__(self) -> None:
        if self.deadline < 0 or self.base < 0 or self.cap < 0:
            raise ValueError("retry deadline, base and cap must be >= 0")

    def backoff(self, retry: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        if retry_after is not None:
            return retry_after
        return self.jitter() * min(self.cap, self.base * 2.0**retry)


def retryable(error: Exception) -> bool:
    """Whether waiting may cure ``error``: HTTP 429 and 503, connection failures and
    timeouts; not a TLS failure or any other answer."""
    if isinstance(error, TransportError):
        return error.retryable
    return isinstance(error, ApiError) and error.http_status in RETRY_STATUSES


_ERRNO = re.compile(r"^\[Errno -?\d+\]\s*")


def _os_reason(error: BaseException) -> str | None:
    """The operating system's words for the failure under an httpx error, if any."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and isinstance(seen.errno, int) and seen.errno > 0:
            return os.strerror(seen.errno)  # asyncio's strerror is "Connect call failed (...)"
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
        seen = seen.__cause__ or seen.__context__
    return None


def reason(error: CCMSClientError) -> str:
    """A few words on why an attempt failed, for a progress line: ``connection refused``,
    ``no answer within 10s``, ``server unavailable, HTTP 503``..."""
    if isinstance(error, RateLimitedError):
        return f"rate limited, HTTP {error.http_status}"
    if isinstance(error, ApiError):
        if error.http_status == 503:
            return "server unavailable, HTTP 503"
        return f"{error.message}, HTTP {error.http_status}"
    cause = error.__cause__
    if not isinstance(error, TransportError) or cause is None:
        return error.message
    if isinstance(cause, httpx.TimeoutException):
        return error.message.split(" (", 1)[0].replace(f" from {error.url}", "")
    text = _os_reason(cause) or _ERRNO.sub("", str(cause)) or type(cause).__name__
    return text[:1].lower() + text[1:]


@dataclass(frozen=True)
class RetryNotice:
    """What a client's ``on_retry`` hook is told before it waits to retry a call."""

    call: str  # the route, as ``agent/agentbyworkno``
    retry: int  # 1 for the first retry
    wait: float  # seconds before it
    error: CCMSClientError  # what the last attempt ended with

    @property
    def reason(self) -> str:
        return reason(self.error)


@dataclass(frozen=True)
class Done(Generic[T]):
    value: T


class Exchange(Generic[T]):
    """One call across its attempts: the next request, and what an outcome means."""

    def __init__(
        self,
        call: Call[T],
        builder: RequestBuilder,
        policy: RetryPolicy,
        clock: Callable[[], float],
        timeout: float | None,
    ) -> None:
        self.call = call
        self._builder = builder
        self._policy = policy
        self._clock = clock
        self._timeout = timeout
        self._started = clock()
        self.retries = 0
        self.error: ApiError | TransportError | None = None  # of the last failed attempt

    def request(self) -> httpx.Request:
        """The request of the next attempt (signed afresh: a new timestamp each time)."""
        return self._builder.build(self.call)

    def handle(self, outcome: httpx.Response | httpx.RequestError) -> Done[T] | float:
        """The result, or the seconds to wait before the next attempt; else raise."""
        try:
            if isinstance(outcome, httpx.RequestError):
                raise transport_error(outcome, self._timeout) from outcome
            return Done(parse_answer(self.call, outcome.status_code, outcome.headers,
                                     outcome.content))  # fmt: skip
        except (ApiError, TransportError) as error:
            wait = self._wait(error)
            if wait is None:
                raise
            self.retries += 1
            self.error = error
            return wait

    def notice(self, wait: float) -> RetryNotice:
        """The :class:`RetryNotice` of the wait :meth:`handle` just returned."""
        assert self.error is not None
        return RetryNotice(self.call.name, self.retries, wait, self.error)

    def _wait(self, error: Exception) -> float | None:
        policy = self._policy
        if policy.deadline <= 0 or not self.call.idempotent or not retryable(error):
            return None
        retry_after = error.retry_after if isinstance(error, ApiError) else None
        wait = policy.backoff(self.retries, retry_after)
        if self._clock() - self._started + wait > policy.deadline:
            return None
        return wait
