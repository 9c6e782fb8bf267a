"""Helpers of the client tests: keys, a fixed server clock, the app, a served app."""

from __future__ import annotations

import contextlib
import inspect
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import uvicorn

from ccms.auth import parse_credentials
from ccms.client import AsyncClient, Client
from ccms.http import create_app
from ccms.http.app import App
from ccms.settings import load_settings
from ccms.store.sqlite import SQLiteStore

SK = "AkXGnMMKW0k0XtlCxVVLVk0uSnX5nkr4"
CREDENTIALS = f"""
[[access_key]]
ak = "admin"
sk = "{SK}"
roles = ["admin"]

[[access_key]]
ak = "scoped"
sk = "{SK}"
roles = ["query"]
scopes = ["1/1"]

[[access_key]]
ak = "reader"
sk = "{SK}"
roles = ["query"]
"""
KEYS = parse_credentials(CREDENTIALS, "test credentials")


class ServerClock:
    """The app's clock: fixed, moved by tests (``advance``)."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    @property
    def now_ms(self) -> int:
        return int(self.now * 1000)

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_app(db: Path, clock: ServerClock, environ: dict[str, str] | None = None) -> App:
    return create_app(load_settings(environ or {}), SQLiteStore(str(db)), KEYS, clock=clock)


@contextlib.contextmanager
def serve_in_thread(app: App, http: str = "h11") -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yield its base URL. ``http``:
    uvicorn's HTTP implementation (``ccms serve`` uses httptools where installed)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="on", log_config=None, log_level="warning", access_log=False,
        loop="asyncio", http=http, ws="none",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.005)  # polling the started flag, with a deadline
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


class Api:
    """A client of either kind behind awaitable methods: ``await api.ping("x")``."""

    def __init__(self, client: Client | AsyncClient) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        return call


ApiFactory = Callable[..., Api]
