"""A scripted event-stream server for the client's stream tests (httpx.MockTransport: the
network is the process boundary), and the wire JSON of agents and changes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import orjson

SIGNED_OUT = 4_294_967_295_000


def agent(
    work_no: int, cti: int = 1, since: int = 1_790_000_000_000, **fields: Any
) -> dict[str, Any]:
    """An agent as the stream carries it."""
    return {
        "workNo": work_no, "vdnId": 1, "ccId": 1, "citStatus": cti, "name": f"Agent {work_no}",
        "phoneNumber": None, "loginDate": since if cti else SIGNED_OUT, "currentStateTime": 0,
        "mediaType": 5, "status": 4 if cti == 1 else 7, "since": since, "reason": None,
        "skills": [1], "calls": [], "flags": [], **fields,
    }  # fmt: skip


def block(event: str | None, data: Any = None, id: int | None = None) -> bytes:
    lines = []
    if event is not None:
        lines.append(f"event: {event}")
    if id is not None:
        lines.append(f"id: {id}")
    if data is not None:
        lines.append("data: " + orjson.dumps(data).decode())
    return ("\n".join(lines) + "\n\n").encode()


def snapshot(seq: int, agents: list[dict[str, Any]], parts: int = 1) -> bytes:
    size = -(-len(agents) // parts) if agents else 0
    out = b""
    for part in range(1, parts + 1):
        chunk = agents[(part - 1) * size : part * size]
        data = {"seq": seq, "part": part, "parts": parts, "serverTime": 1_790_000_100_000,
                "replayWindowS": 900, "agents": chunk}  # fmt: skip
        out += block("snapshot", data, seq if part == parts else None)
    return out


def change(seq: int, work_no: int, cti: int, prev_cti: int | None = 1) -> bytes:
    data = {
        "seq": seq, "at": 1_790_000_000_000 + seq, "key": {"ccId": 1, "vdn": 1, "agentId": work_no},
        "prev": None if prev_cti is None else agent(work_no, prev_cti),
        "cur": agent(work_no, cti, since=1_790_000_000_000 + seq),
    }  # fmt: skip
    return block("change", data, seq)


DROP = object()  # the connection breaks after the chunks
HANG = object()  # the connection stays open without a byte (the idle timeout ends it)


class Script:
    """Answers each request with the next answer: ``(chunks, ending)`` for a 200 event
    stream (ending ``None``: the server closes it; ``DROP``: a reset connection), or an
    ``httpx.Response``, or an exception to raise (a connection refused). Records the
    requests."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.answers:
            raise AssertionError("the client asked for more connections than the script has")
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        chunks, ending = answer
        headers = {"content-type": "text/event-stream; charset=utf-8"}
        return httpx.Response(200, headers=headers, content=_body(request, chunks, ending))

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        response = self.handler(request)
        if isinstance(response.stream, httpx.SyncByteStream):
            sync = response.stream
            return httpx.Response(
                response.status_code, headers=response.headers, content=_aiter(sync)
            )
        return response

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def async_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.async_handler)

    def header(self, name: str) -> list[str | None]:
        return [request.headers.get(name) for request in self.requests]


def _body(request: httpx.Request, chunks: list[bytes], ending: object) -> Iterator[bytes]:
    yield from chunks
    if ending is DROP:
        raise httpx.ReadError("connection reset by peer", request=request)
    if ending is HANG:
        raise httpx.ReadTimeout("timed out", request=request)


async def _aiter(sync: Any) -> AsyncIterator[bytes]:
    for chunk in sync:
        yield chunk


def envelope(status: int, code: str, desc: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, json={"result": code, "resultCode": code, "resultDesc": desc}, headers=headers
    )


Take = Callable[[int], list[Any]]
