"""`salespulse serve`: one aiohttp server, the enabled adapters, the scheduler wake-up and the runtime loop.

Adapters mount their callback routes on the shared server; the request body limit (server.max_body_bytes) gives
413 for oversized bodies; unexpected errors become a short 500 without a stack trace (logged with a reference).

The body guard runs before any route: a declared Content-Length over the limit is answered 413 without reading a
byte (aiohttp itself only notices while the handler reads, after waiting for the body), a chunked body is cut off at
the limit, and a body that trickles in slower than BODY_TIMEOUT_S gets 408 — so a slow or huge upload cannot hold a
handler. Either way the connection is closed rather than drained. Slow *headers* are not covered (aiohttp has no
header timeout): expose the server through a reverse proxy that has one (nginx client_header_timeout).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
import uuid

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from adapters.base import Adapter, AdapterContext
from adapters.refusals import ParserErrorFilter
from bot.app import ADAPTERS, Runtime
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.errors import ConfigError
from bot.metrics import Registry
from bot.supervisor import Supervisor
from prompts import Prompts
from store import open_store

log = logging.getLogger("salespulse.server")

BODY_TIMEOUT_S = 30.0  # a callback body is at most max_body_bytes; 30 s is generous for any real platform

PLATFORMS = ("wecom", "dingtalk", "feishu")


def enabled_adapter_names(config: Config) -> list[str]:
    """Adapters whose bot.toml section exists and says enabled = true."""
    names = []
    for name in ADAPTERS:
        section = getattr(config, name, None)
        if section is not None and getattr(section, "enabled", False):
            names.append(name)
    return names


def build_adapters(config: Config, ctx: AdapterContext) -> list[Adapter]:
    adapters = []
    for name in enabled_adapter_names(config):
        module_name, _, cls_name = ADAPTERS[name].partition(":")
        cls = getattr(importlib.import_module(module_name), cls_name)
        adapters.append(cls(ctx))
    return adapters


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:  # the one error path for HTTP: log with a reference, answer briefly
        ref = uuid.uuid4().hex[:8]
        log.exception("request %s %s failed (ref %s)", request.method, request.path, ref)
        return web.Response(status=500, text=f"internal error (ref {ref})")


def body_guard(max_bytes: int, timeout_s: float):
    """Middleware: 413 / 408 before the handler runs (see the module docstring); the handler reads the cached body."""

    @web.middleware
    async def guard(request: web.Request, handler):
        if request.body_exists:
            length = request.content_length
            if length is not None and length > max_bytes:
                return _closing(413, "request body too large")
            try:
                await asyncio.wait_for(request.read(), timeout_s)  # over max_bytes while chunked → aiohttp's 413
            except TimeoutError:
                return _closing(408, "request body too slow")
            except web.HTTPRequestEntityTooLarge:
                return _closing(413, "request body too large")
        return await handler(request)

    return guard


def _closing(status: int, text: str) -> web.Response:
    resp = web.Response(status=status, text=text)
    resp.force_close()  # never drain what is left of a refused body
    return resp


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def build_app(config: Config, adapters: list[Adapter], body_timeout_s: float = BODY_TIMEOUT_S) -> web.Application:
    limit = config.server.max_body_bytes
    app = web.Application(client_max_size=limit, middlewares=[error_middleware, body_guard(limit, body_timeout_s)])
    app.router.add_get("/healthz", healthz)
    for adapter in adapters:
        app.add_routes(adapter.routes())
    return app


class Server:
    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.store = open_store(config.bot.database)
        self.runtime = Runtime(config=config, store=self.store, clock=self.clock)
        self.metrics = Registry()  # read by a /metrics endpoint; refusal counts today
        self.adapter_ctx = AdapterContext(self.store, config, self.clock, self.runtime.wake,
                                          org_changed=self.runtime.services.directory.refresh, metrics=self.metrics)
        self.adapters = build_adapters(config, self.adapter_ctx)
        for adapter in self.adapters:
            self.runtime.add_sender(adapter.platform, adapter.send)
        self.app = build_app(config, self.adapters)
        self._parser_errors = ParserErrorFilter(self.adapter_ctx.refusals)
        logging.getLogger("aiohttp.server").addFilter(self._parser_errors)
        self.supervisor = Supervisor()
        self.stop_event = asyncio.Event()

    async def run(self, ready: asyncio.Event | None = None) -> None:
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.config.server.host, self.config.server.port)
        await site.start()
        scheduler = AsyncIOScheduler(timezone=self.config.scheduler.timezone)
        scheduler.add_job(self.runtime.wake, "interval", seconds=self.config.scheduler.poll_interval_s,
                          id="wake", replace_existing=True)
        scheduler.add_job(self.adapter_ctx.refusals.flush, "interval", seconds=60, id="refusal-log",
                          replace_existing=True)  # the per-minute summary lines of refused requests
        scheduler.start()
        for adapter in self.adapters:
            await adapter.start()
        self.supervisor.spawn(self.runtime.run_forever(self.stop_event), "runtime")
        log.warning("SalesPulse serving on http://%s:%s (%s)", self.config.server.host, self.config.server.port,
                    ", ".join(a.platform for a in self.adapters))
        if ready is not None:
            ready.set()
        try:
            await self.stop_event.wait()
        finally:
            for adapter in self.adapters:
                try:
                    await asyncio.wait_for(adapter.stop(), timeout=10)
                except (TimeoutError, OSError):
                    log.exception("adapter %s did not stop cleanly", adapter.platform)
            scheduler.shutdown(wait=False)
            self.adapter_ctx.refusals.flush(force=True)
            await self.supervisor.shutdown()
            await runner.cleanup()
            self.runtime.close()
            self.store.close()
            logging.getLogger("aiohttp.server").removeFilter(self._parser_errors)

    def stop(self) -> None:
        self.stop_event.set()


def serve(config: Config) -> int:
    if not any(getattr(config, p).enabled for p in PLATFORMS):
        raise ConfigError(Prompts(config.bot.locale).t("core.no_platform", source=config.source))

    async def main() -> None:
        server = Server(config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.stop)
        await server.run()

    asyncio.run(main())
    return 0
