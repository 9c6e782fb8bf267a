"""The raw ASGI baseline: reads the body, answers a constant JSON body of an agent answer's
size. No authentication, no store: the floor any ASGI service pays under the same server."""

from __future__ import annotations

from typing import Any

import orjson

BODY = orjson.dumps(
    {
        "result": "0",
        "resultCode": "0100000",
        "resultDatas": {
            "workNo": 12345, "vdnId": 1, "citStatus": 5, "name": "Agent 12345",
            "phoneNumber": "+861055512345", "loginDate": 1790000000000,
            "currentStateTime": 42, "mediaType": 5, "status": 7,
        },
        "resultDesc": {
            "workNo": 12345, "vdnId": 1, "citStatus": 5, "name": "Agent 12345",
            "phoneNumber": "+861055512345", "loginDate": 1790000000000,
            "currentStateTime": 42, "mediaType": 5, "status": 7,
        },
    }
)  # fmt: skip
HEADERS = [
    (b"content-type", b"application/json;charset=UTF-8"),
    (b"content-length", str(len(BODY)).encode()),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
