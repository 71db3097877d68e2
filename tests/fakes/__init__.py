"""Fake platform servers for tests: real aiohttp apps on loopback, each in its own thread and event loop.

Why a thread: the platform SDKs make blocking `requests` calls, which would deadlock against a server sharing the
test's event loop. Every request is recorded (method, path, query, headers, body) so tests assert what the
platform would have received. Tests wait on threading conditions with timeouts, never on sleeps.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Responder = Callable[[Recorded], "tuple[int, Any] | web.StreamResponse"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class FakeServer:
    """Routes are (METHOD, path) → responder(Recorded) → (status, json body) or a ready Response."""

    routes: dict[tuple[str, str], Responder] = field(default_factory=dict)
    prefix_routes: dict[tuple[str, str], Responder] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.cond = threading.Condition()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.extra_setup: list[Callable[[web.Application], None]] = []

    # -- recording and waiting
    def record(self, rec: Recorded) -> None:
        with self.cond:
            self.requests.append(rec)
            self.cond.notify_all()

    def calls(self, path: str, method: str | None = None) -> list[Recorded]:
        with self.cond:
            return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        with self.cond:
            return self.cond.wait_for(predicate, timeout)

    async def await_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """From async tests: wait in a worker thread so the test's loop keeps serving the SDK under test."""
        return await asyncio.to_thread(self.wait_for, predicate, timeout)

    # -- serving
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        rec = Recorded(request.method, request.path, dict(request.query), dict(request.headers), await request.read())
        responder = self.routes.get((request.method, request.path))
        if responder is None:
            for (method, prefix), fn in self.prefix_routes.items():
                if method == request.method and request.path.startswith(prefix):
                    responder = fn
                    break
        self.record(rec)
        if responder is None:
            return web.json_response({"code": "NotFound", "message": f"no fake route {request.path}"}, status=404)
        out = responder(rec)
        if isinstance(out, web.StreamResponse):
            return out
        status, body = out
        if isinstance(body, bytes):
            return web.Response(status=status, body=body)
        return web.json_response(body, status=status)

    async def _main(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for setup in self.extra_setup:
            setup(app)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port)
        await site.start()
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.shutdown()
        await runner.cleanup()

    def start(self) -> FakeServer:
        def run() -> None:
            self.loop = asyncio.new_event_loop()
            try:
                self.loop.run_until_complete(self._main())
            finally:
                self.loop.close()

        self._thread = threading.Thread(target=run, name=f"fake-{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake server did not start")
        return self

    def call_in_loop(self, fn: Callable[[], Any]) -> None:
        assert self.loop is not None
        self.loop.call_soon_threadsafe(fn)

    def stop(self) -> None:
        if self.loop is not None and self._stop is not None and self._thread and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(10)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
