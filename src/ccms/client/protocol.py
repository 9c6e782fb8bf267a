"""The request core both clients share: build and sign a request, read its answer.

Nothing here does I/O. :class:`RequestBuilder` turns a :class:`Call` (a route, its body
and how to read its answer) into a signed ``httpx.Request``; :func:`parse_answer` turns
the status, headers and body of the answer into the call's result or an
:class:`~ccms.client.errors.ApiError`; :func:`transport_error` classifies an httpx
failure. :class:`Client` and :class:`AsyncClient` only move bytes.

Signing (C2, ``ccms.auth.sign``) covers ``host``, ``content-type`` and
``content-length`` as they travel: httpx fills ``host`` from the request URL (with the
port when it is not the scheme's default), so the signed value is the one sent.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar

import httpx
import orjson

from ccms import __version__
from ccms.auth import format_timestamp, sign
from ccms.client.errors import (
    SUCCESS,
    AgentNotFoundError,
    ConfigurationError,
    TransportError,
    UnexpectedAnswerError,
    error_for_answer,
)

T = TypeVar("T")

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
DEFAULT_SIGNED_HEADERS = ("host", "content-type", "content-length")
USER_AGENT = f"ccms-client/{__version__}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Signer:
    """Signs requests with an access key (AK) and secret key (SK), C2 ``auth-v2``.

    ``signed_headers`` are the header names to sign (``host`` at least); ``millis``
    sends the ``yyyy-MM-ddTHH:mm:ss.SSSZ`` timestamp form; ``now`` is the clock.
    """

    def __init__(
        self,
        ak: str,
        sk: str,
        *,
        signed_headers: Sequence[str] = DEFAULT_SIGNED_HEADERS,
        millis: bool = False,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        if not ak or "/" in ak:
            raise ConfigurationError("the access key (AK) must be non-empty, without '/'")
        if not sk:
            raise ConfigurationError("the secret key (SK) must not be empty")
        self.ak = ak
        self._sk = sk
        self.signed_headers = tuple(name.lower() for name in signed_headers)
        self._millis = millis
        self._now = now

    def __repr__(self) -> str:
        return f"Signer(ak={self.ak!r}, signed_headers={self.signed_headers!r})"

    def authorization(self, request: httpx.Request) -> str:
        """The ``Authorization`` value for ``request`` as it will be sent."""
        # A GET has no body: its content-type and content-length are not sent, nor signed.
        headers = {
            name: request.headers[name] for name in self.signed_headers if name in request.headers
        }
        return sign(
            self.ak,
            self._sk,
            request.method,
            request.url.path,
            headers,
            request.content,
            format_timestamp(self._now(), millis=self._millis),
            query=request.url.params.multi_items(),
        )


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API call: where it goes, what it sends, how its answer is read.

    ``parse`` reads the answer's data (``resultDesc``; ``resultDatas`` when ``legacy``;
    the whole envelope when ``envelope``, for answers with a top-level ``count``) and
    raises ``ValueError`` when it does not fit. ``agent_route``: ``0100001`` on HTTP 200
    means the agent is unknown. ``idempotent``: the call may be retried. ``method`` and
    ``query``: a ``GET`` sends its fields in the query string (signed with it).
    ``signed``: false for a call that carries a view token in its query instead.
    ``read_timeout``: seconds the answer may take (a long poll), instead of ``timeout``.
    """

    name: str
    path: str
    body: bytes
    parse: Callable[[object], T]
    legacy: bool = False
    agent_route: bool = False
    idempotent: bool = True
    envelope: bool = False
    method: str = "POST"
    query: tuple[tuple[str, str], ...] = ()
    signed: bool = True
    read_timeout: float | None = None


def json_body(value: Any) -> bytes:
    return orjson.dumps(value)


class RequestBuilder:
    """Builds the signed ``httpx.Request`` of a call against ``base_url``; ``timeout`` is
    the client's, which a request with its own read timeout keeps for the other phases."""

    def __init__(self, base_url: str, signer: Signer, timeout: float | None = None) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ConfigurationError(
                f"server URL must look like https://host:port, got {base_url!r}"
            )
        self.base_url = str(url).rstrip("/")
        self.signer = signer
        self.timeout = timeout

    def build(self, call: Call[Any]) -> httpx.Request:
        return self.request(
            call.method, call.path, call.query, call.body,
            signed=call.signed, read_timeout=call.read_timeout,
        )  # fmt: skip

    def request(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        *,
        signed: bool = True,
        accept: str = "application/json",
        headers: Mapping[str, str] | None = None,
        read_timeout: float | None = None,
    ) -> httpx.Request:
        """A request to ``path``: a POST carries ``body`` as JSON, a GET carries nothing
        but its ``query``; signed (C2, the query string included) unless ``signed`` is
        false. ``headers`` are sent and not signed (``Last-Event-ID``)."""
        sent = {"accept": accept, "user-agent": USER_AGENT, **(headers or {})}
        if method != "GET":
            sent["content-type"] = JSON_CONTENT_TYPE
        request = httpx.Request(
            method,
            self.base_url + path,
            params=list(query) or None,
            content=body if method != "GET" else None,
            headers=sent,
        )
        if signed:
            request.headers["authorization"] = self.signer.authorization(request)
        if read_timeout is not None:
            timeout = httpx.Timeout(self.timeout, read=read_timeout)
            request.extensions = {**request.extensions, "timeout": timeout.as_dict()}
        return request


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date; ``None`` if absent."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - _utc_now()).total_seconds())


def parse_answer(call: Call[T], status: int, headers: Mapping[str, str], content: bytes) -> T:
    """The result of ``call`` from its answer, or the :class:`ApiError` the answer means."""
    retry_after = retry_after_seconds(headers.get("retry-after"))
    try:
        envelope = orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        envelope = None
    if not isinstance(envelope, dict):
        message = "the answer is not a CC-CMS JSON envelope"
        if status == 200:
            raise UnexpectedAnswerError(message, result_code=None, http_status=status)
        raise error_for_answer(
            status,
            None,
            f"HTTP {status} {httpx.codes.get_reason_phrase(status)}".strip(),
            agent_route=call.agent_route,
            retry_after=retry_after,
        )
    # ``returnCode``: the vendor's envelope of ``vdn/queryAgentByStatus``.
    code = envelope.get("resultCode", envelope.get("result", envelope.get("returnCode")))
    code = None if code is None else str(code)
    success = code == SUCCESS or ("resultCode" not in envelope and code == "0")
    if status == 200 and success:
        return _data(call, envelope)
    desc = envelope.get("resultDesc", envelope.get("description"))
    message = desc if isinstance(desc, str) and desc else f"request failed ({call.name})"
    raise error_for_answer(
        status, code, message, agent_route=call.agent_route, retry_after=retry_after
    )


def _data(call: Call[T], envelope: dict[str, Any]) -> T:
    first, second = ("resultDatas", "resultDesc") if call.legacy else ("resultDesc", "resultDatas")
    data = envelope if call.envelope else envelope.get(first, envelope.get(second))
    # An empty list or ``false`` is an answer (no calls); only no data at all is no agent.
    if call.agent_route and (data is None or data == {}):
        raise AgentNotFoundError(
            "the server answered success without agent data", result_code=SUCCESS, http_status=200
        )
    try:
        return call.parse(data)
    except ValueError as exc:
        raise UnexpectedAnswerError(
            f"unexpected {call.name} answer: {exc}", result_code=SUCCESS, http_status=200
        ) from None


def _tls_failure(exc: BaseException) -> BaseException | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def transport_error(exc: httpx.RequestError, timeout: float | None) -> TransportError:
    """The client's :class:`TransportError` for an httpx failure (no answer received)."""
    try:
        url = str(exc.request.url.copy_with(query=None))
    except RuntimeError:  # the exception was raised before a request existed
        url = "the server"
    detail = str(exc) or type(exc).__name__
    tls = _tls_failure(exc)
    if tls is not None:
        reason = getattr(tls, "reason", None) or tls.__class__.__name__
        message = (
            f"TLS with {url} failed: {reason} ({detail}); is the server's CA bundle"
            " configured (ca_bundle in the profile, --ca-bundle)?"
        )
        return TransportError(message, url=url, retryable=False)
    if isinstance(exc, httpx.TimeoutException):
        limit = f" within {timeout:g}s" if timeout is not None else ""
        return TransportError(
            f"no answer from {url}{limit} ({type(exc).__name__})", url=url, retryable=True
        )
    if isinstance(exc, httpx.UnsupportedProtocol):
        return TransportError(f"cannot talk to {url}: {detail}", url=url, retryable=False)
    retryable = isinstance(exc, httpx.TransportError)
    return TransportError(f"cannot reach {url}: {detail}", url=url, retryable=retryable)


def tls_verify(verify: bool | str) -> bool | ssl.SSLContext:
    """httpx's ``verify`` for ``True``/``False`` or the path of a PEM CA bundle."""
    if isinstance(verify, bool):
        return verify
    try:
        return ssl.create_default_context(cafile=verify)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"cannot use CA bundle {verify}: {exc}") from None
