"""The live stream: ``GET /ccms/v1/stream`` (SSE), ``GET /ccms/v1/changes`` (its long-poll
twin) and ``POST /ccms/v1/tokens`` (view tokens for browsers), ``spec/stream.md``.

Everything that can fail before the first byte does so in the envelope: parameters, the
key's role and scope (and a view token's narrowing), the cap of open streams per key, the
store's first answer. After it, a stream speaks only SSE: a ``reset`` (cursor too old: a
fresh snapshot follows; consumer too slow: the stream closes) or an ``error`` (token
expired, key or scope revoked) and the stream closes.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncGenerator

from ccms import wire
from ccms.domain.changes import ChangePage, ViewToken
from ccms.errors import AuthenticationError, PermissionDeniedError, StoreUnavailableError
from ccms.http.hub import CURSOR_EXPIRED, SLOW_CONSUMER, Ending, Hub, Subscriber
from ccms.http.routing import Answer, Auth, Body, Context, Request, Route, view_token_hash
from ccms.http.schemas import stream as schema
from ccms.http.schemas.stream import EncodedChange, StreamQuery, encode_change
from ccms.settings import Settings

PAGE = 500  # changes a stream reads from the log at once while it catches up
LONG_POLL_MAX = 1000  # changes in one long-poll answer
_STORE_RETRY_S = (0.5, 5.0)  # a stream waits this long (doubling) for a store that failed


def check_access(request: Request, cc_id: int, vdn: int) -> None:
    """The key's role and scope for the VDN, and a view token's narrowing (``0101003``)."""
    request.signed_key.check("query", cc_id, vdn)
    token = request.token
    if token is not None and token.cc_id is not None and (token.cc_id, token.vdn) != (cc_id, vdn):
        raise PermissionDeniedError(
            f"the view token is for ccId {token.cc_id} and vdn {token.vdn} only"
        )


# -- POST /ccms/v1/tokens ------------------------------------------------------------------


async def issue_token(ctx: Context, request: Request) -> Answer:
    settings = ctx.settings
    wanted = schema.token_request(
        request.body, settings.view_token_ttl_s, settings.view_token_max_ttl_s
    )
    key = request.signed_key
    if wanted.cc_id is not None and wanted.vdn is not None:
        key.check("query", wanted.cc_id, wanted.vdn)
    token = secrets.token_urlsafe(32)
    expires_at = ctx.services.now_ms() + wanted.ttl_s * 1000
    view = ViewToken(view_token_hash(token), key.ak, wanted.cc_id, wanted.vdn, expires_at)
    await ctx.store.put_view_token(view)
    return Answer(schema.token_answer(token, expires_at))


# -- GET /ccms/v1/stream -------------------------------------------------------------------


async def stream(ctx: Context, request: Request) -> Answer:
    query = schema.stream_query(
        request.query, request.headers.get("last-event-id"), ctx.settings.large_work_numbers
    )
    check_access(request, query.cc_id, query.vdn)
    hub = ctx.hub
    sub = hub.open(request.signed_key, request.token, query.cc_id, query.vdn, query.filter)
    try:
        await hub.ready()
        events = EventStream(ctx, hub, sub, query)
        await events.prepare()
        if query.queues:  # after the snapshot or the first page: the figures follow them
            hub.queues.watch(sub)
    except BaseException:
        hub.close(sub)
        raise
    return Answer(
        events,
        content_type=schema.EVENT_STREAM_TYPE,
        headers=schema.STREAM_HEADERS,
        abandon=sub.abandon,
    )


class EventStream:
    """The body of one stream answer: an async iterator of SSE chunks.

    ``cursor`` is the sequence number up to which every matching change was written (or is
    in the chunk being written); ``last_id`` the last ``id:`` the client saw. While the
    stream catches up it reads the log a page at a time, then it joins the hub and writes
    what the hub hands it. Closing it (``aclose``) releases its place in the hub.
    """

    def __init__(self, ctx: Context, hub: Hub, sub: Subscriber, query: StreamQuery) -> None:
        self._ctx = ctx
        self._hub = hub
        self._sub = sub
        self._query = query
        self._loop = asyncio.get_running_loop()
        self._heartbeat_s = ctx.settings.stream_heartbeat_s
        self._first: list[bytes] = []  # the chunks the answer starts with
        self.cursor = 0
        self.last_id = 0
        self._written_at = self._loop.time()
        self._deadline: float | None = None  # the view token's end, on the loop's clock
        if sub.token is not None:
            left_ms = sub.token.expires_at - ctx.services.now_ms()
            self._deadline = self._loop.time() + left_ms / 1000
        self._events = self._run()

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> bytes:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        try:
            await self._events.aclose()
        finally:
            self._hub.close(self._sub)

    async def prepare(self) -> None:
        """The first store read, before the first byte: a snapshot without a cursor, else
        the first page after it (a reset and a snapshot when it is too old)."""
        since = self._query.since
        if since is None:
            self._first = [schema.RETRY, *await self._snapshot()]
            return
        page = await self._read(since)
        if page.expired or since > page.newest:
            self._ctx.metrics.resets.labels(CURSOR_EXPIRED).inc()
            self._first = [schema.RETRY, *await self._snapshot(reset=page.newest)]
            return
        self.cursor = self.last_id = since
        self._first = [schema.RETRY + self._page(page)]

    # -- the stream --------------------------------------------------------------------

    async def _run(self) -> AsyncGenerator[bytes, None]:
        """The answer's chunks. Each is let go once handed out: a snapshot's parts are
        shared with other streams, and an idle stream holds no bytes of its own."""
        sub = self._sub
        parts, self._first = self._first, []
        retry = _STORE_RETRY_S[0]
        while True:
            if parts:  # a snapshot's, each part a chunk
                while parts:
                    yield parts.pop(0)
                self._written_at = self._loop.time()
            if sub.ending is not None:
                last = self._ending(sub.ending)
                if last:
                    yield last
                return
            if self._deadline is not None and self._loop.time() >= self._deadline:
                yield schema.error_event(AuthenticationError("the view token expired"))
                return
            chunk = b""
            try:
                if sub.expired:  # the hub fell behind the replay window
                    sub.expired = False
                    parts = await self._snapshot(reset=self._hub.seq or 0)
                elif not sub.live:
                    chunk = self._page(await self._read(self.cursor))
                else:
                    chunk = await self._live()
            except StoreUnavailableError:
                await sub.wait(retry)
                retry = min(retry * 2, _STORE_RETRY_S[1])
            else:
                retry = _STORE_RETRY_S[0]
            if (
                not chunk
                and not parts
                and self._loop.time() - self._written_at >= self._heartbeat_s
            ):
                chunk = self._heartbeat()
            if sub.queue_frame is not None and sub.ending is None:
                chunk += sub.take_queue_frame()  # after the changes it may follow
            if chunk:
                yield chunk
                chunk = b""  # not kept while the stream waits for the next
                self._written_at = self._loop.time()

    async def _live(self) -> bytes:
        """What the hub handed out, once there is some (or it is time for a heartbeat, or
        the token ends)."""
        sub = self._sub
        wake_at = self._written_at + self._heartbeat_s
        if self._deadline is not None:
            wake_at = min(wake_at, self._deadline)
        await sub.wait(wake_at - self._loop.time())
        if sub.ending is not None or sub.expired:
            return b""
        items = sub.take()
        chunk = self._write(items, live=True)
        hub_seq = self._hub.seq
        if hub_seq is not None and hub_seq > self.cursor:
            self.cursor = hub_seq  # every matching change up to it is in this chunk
        return chunk

    async def _read(self, since: int) -> ChangePage:
        query = self._query
        return await self._ctx.store.read_changes(since, PAGE, query.cc_id, query.vdn)

    def _page(self, page: ChangePage) -> bytes:
        """A page of the log: its matching changes; joins the hub once caught up."""
        query = self._query
        if page.expired:
            self._sub.expired = True
            self._ctx.metrics.resets.labels(CURSOR_EXPIRED).inc()
            return b""
        now = self._ctx.services.now_ms()
        chunk = self._write(
            [encoded for change in page.changes
             if query.filter.change(encoded := encode_change(change, now, self._ctx.flags))]
        )  # fmt: skip
        if page.changes:
            self.cursor = max(self.cursor, page.changes[-1].seq)
        if len(page.changes) < PAGE:
            self.cursor = max(self.cursor, page.newest)
            self._hub.join(self._sub, self.cursor)
        return chunk

    def _write(self, items: list[EncodedChange], live: bool = False) -> bytes:
        """The SSE bytes of the changes after the cursor. ``live``: handed out by the hub
        (the delivery lag is observed for those; a catch-up's changes are old on purpose)."""
        fresh = [item for item in items if item.seq > self.cursor]
        if not fresh:
            return b""
        metrics = self._ctx.metrics
        metrics.stream_changes.inc(len(fresh))
        if live:
            lag_ms = self._ctx.services.now_ms() - fresh[0].at
            metrics.stream_lag.observe(max(0, lag_ms) / 1000)
        self.cursor = self.last_id = fresh[-1].seq
        return b"".join(item.sse for item in fresh)

    async def _snapshot(self, reset: int | None = None) -> list[bytes]:
        """A fresh snapshot's parts, shared with the streams that ask for the same one
        (``SharedSnapshots``), after a ``cursor-expired`` reset when ``reset`` is given
        (the newest sequence number then); the stream catches up from its ``seq``."""
        query = self._query
        self._hub.leave(self._sub)
        snapshot = await self._hub.snapshots.get(
            query.cc_id,
            query.vdn,
            query.filter,
            self._ctx.settings.stream_window_s,
            self._ctx.flags,
            self._ctx.cc_config.config.reason_names(query.cc_id, query.vdn),
        )
        self.cursor = self.last_id = snapshot.seq
        if reset is None:
            return list(snapshot.events)
        return [schema.reset_event(CURSOR_EXPIRED, max(reset, snapshot.seq)), *snapshot.events]

    def _heartbeat(self) -> bytes:
        if self.cursor > self.last_id:
            self.last_id = self.cursor
            return schema.HEARTBEAT + schema.bookmark(self.cursor)
        return schema.HEARTBEAT

    def _ending(self, ending: Ending) -> bytes:
        if ending.error is not None:
            return schema.error_event(ending.error)
        if ending.reason == SLOW_CONSUMER:
            return schema.reset_event(SLOW_CONSUMER, max(self.cursor, self._hub.seq or 0))
        return b""  # the server is shutting down


# -- GET /ccms/v1/changes ------------------------------------------------------------------


async def changes(ctx: Context, request: Request) -> Answer:
    query = schema.changes_query(request.query, ctx.settings.large_work_numbers)
    check_access(request, query.cc_id, query.vdn)
    store = ctx.store
    since = query.since
    if since is None:
        return await _reset_answer(ctx, query)
    page = await store.read_changes(since, LONG_POLL_MAX, query.cc_id, query.vdn)
    if page.expired or since > page.newest:
        ctx.metrics.resets.labels(CURSOR_EXPIRED).inc()
        return await _reset_answer(ctx, query)
    now = ctx.services.now_ms()
    found = [encoded for change in page.changes
             if query.filter.change(encoded := encode_change(change, now, ctx.flags))]  # fmt: skip
    if len(page.changes) == LONG_POLL_MAX:
        return Answer(schema.changes_answer(found, page.changes[-1].seq))
    if found or query.wait_s <= 0:
        return Answer(schema.changes_answer(found, page.newest))
    return await _wait(ctx, request, query, page.newest)


async def _wait(ctx: Context, request: Request, query: StreamQuery, cursor: int) -> Answer:
    """Wait (at most ``query.wait_s``) for the hub to hand out a matching change."""
    hub = ctx.hub
    sub = hub.open(request.signed_key, request.token, query.cc_id, query.vdn, query.filter)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + query.wait_s
    token_end: float | None = None  # a view token's end, on the loop's clock
    if request.token is not None:
        token_end = loop.time() + (request.token.expires_at - ctx.services.now_ms()) / 1000
        deadline = min(deadline, token_end)
    try:
        await hub.ready()
        while not hub.join(sub, cursor):  # the log moved on: read it up to the hub
            page = await ctx.store.read_changes(cursor, LONG_POLL_MAX, query.cc_id, query.vdn)
            if page.expired:
                return await _reset_answer(ctx, query)
            now, flags, wanted = ctx.services.now_ms(), ctx.flags, query.filter.change
            found = [encoded for change in page.changes
                     if wanted(encoded := encode_change(change, now, flags))]  # fmt: skip
            if found or len(page.changes) == LONG_POLL_MAX:
                last = page.changes[-1].seq
                return Answer(schema.changes_answer(found, last))
            cursor = max(cursor, page.newest)
        while True:
            await sub.wait(deadline - loop.time())
            if sub.ending is not None:
                if sub.ending.error is not None:
                    raise sub.ending.error
                if sub.ending.reason is None:
                    raise StoreUnavailableError("the server is shutting down")
                return await _reset_answer(ctx, query)
            if sub.expired:
                return await _reset_answer(ctx, query)
            found = [item for item in sub.take() if item.seq > cursor]
            if not found and token_end is not None and loop.time() >= token_end:
                raise AuthenticationError("the view token expired")
            if found or loop.time() >= deadline:
                next_seq = max(cursor, hub.seq or 0, found[-1].seq if found else 0)
                if found:
                    ctx.metrics.stream_changes.inc(len(found))
                return Answer(schema.changes_answer(found, next_seq))
    finally:
        hub.close(sub)


async def _reset_answer(ctx: Context, query: StreamQuery) -> Answer:
    snapshot = await ctx.store.snapshot(query.cc_id, query.vdn)
    return Answer(schema.reset_answer(snapshot, query.filter, ctx.services.now_ms(), ctx.flags))


def routes(settings: Settings) -> list[Route]:
    return [
        Route("POST", wire.TOKENS, issue_token, role="query", body=Body.JSON_OR_EMPTY,
              max_body=settings.max_body_bytes),
        Route("GET", wire.STREAM, stream, auth=Auth.VIEW_TOKEN, role="query", body=Body.NONE),
        Route("GET", wire.CHANGES, changes, auth=Auth.VIEW_TOKEN, role="query", body=Body.NONE),
    ]  # fmt: skip
