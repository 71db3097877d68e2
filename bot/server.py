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
from collections.abc import Callable

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from adapters.base import Adapter, AdapterContext
from adapters.refusals import REASONS, ParserErrorFilter, Refusals
from bot import health
from bot.app import ADAPTERS, Runtime
from bot.backup_schedule import ScheduledBackups
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.errors import ConfigError
from bot.health import Readiness
from bot.metrics import Metrics
from bot.supervisor import Supervisor
from bot.upgrade import backup_before_migrations
from prompts import Prompts
from store import open_store

log = logging.getLogger("salespulse.server")

SHUTDOWN_JOBS_S = 10.0  # how long a stop waits for background jobs (speech recognition) in flight
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


def body_guard(max_bytes: int, timeout_s: float, refusals: Refusals | None = None):
    """Middleware: 413 / 408 before the handler runs (see the module docstring); the handler reads the cached body.
    With `refusals` the answer carries a reference id and the refusal is counted and (rate-limited) logged."""

    def closing(request: web.Request, reason: str, detail: str) -> web.Response:
        if refusals is not None:
            resp = refusals.refuse(request, "http", reason, detail)
        else:
            status, text = REASONS[reason]
            resp = web.Response(status=status, text=text)
        resp.force_close()  # never drain what is left of a refused body
        return resp

    @web.middleware
    async def guard(request: web.Request, handler):
        if request.body_exists:
            length = request.content_length
            if length is not None and length > max_bytes:
                return closing(request, "too_large", f"{request.path}: Content-Length {length}")
            try:
                await asyncio.wait_for(request.read(), timeout_s)  # over max_bytes while chunked → aiohttp's 413
            except TimeoutError:
                return closing(request, "too_slow", f"{request.path}: body slower than {timeout_s:g} s")
            except web.HTTPRequestEntityTooLarge:
                return closing(request, "too_large", f"{request.path}: chunked body over the limit")
        return await handler(request)

    return guard


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def readyz_handler(readiness: Callable[[], Readiness]):
    async def readyz(request: web.Request) -> web.Response:
        result = readiness()
        return web.json_response(result.to_dict(), status=200 if result.ready else 503)

    return readyz


def build_app(config: Config, adapters: list[Adapter], body_timeout_s: float = BODY_TIMEOUT_S, *,
              readiness: Callable[[], Readiness] | None = None, metrics: Metrics | None = None) -> web.Application:
    limit = config.server.max_body_bytes
    refusals = next((r for a in adapters if (r := getattr(getattr(a, "ctx", None), "refusals", None))), None)
    middlewares = [error_middleware, body_guard(limit, body_timeout_s, refusals)]
    if metrics is not None:
        middlewares.insert(0, metrics.middleware())  # outermost: the latency a platform sees, refusals included
    app = web.Application(client_max_size=limit, middlewares=middlewares)
    app.router.add_get("/healthz", healthz)
    if readiness is not None:
        app.router.add_get("/readyz", readyz_handler(readiness))
    if metrics is not None and config.metrics.port == 0:
        app.router.add_get(config.metrics.path, metrics.handle)
    for adapter in adapters:
        app.add_routes(adapter.routes())
    return app


class Server:
    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        t = self.t = Prompts(config.bot.locale).t
        todo, backup = backup_before_migrations(config, self.clock, t)  # a newer database stops here
        if backup is not None:
            log.warning("%s", t("operations.backup_before_migrate", n=len(todo), path=backup.path))
        self.store = open_store(config.bot.database)
        self.runtime = Runtime(config=config, store=self.store, clock=self.clock)
        self.adapter_ctx = AdapterContext(self.store, config, self.clock, self.runtime.wake,
                                          org_changed=self.runtime.services.directory.refresh)
        self.adapters = build_adapters(config, self.adapter_ctx)
        for adapter in self.adapters:
            self.runtime.add_sender(adapter.platform, adapter.send)
            fetch = getattr(adapter, "fetch_media", None)
            if fetch is not None:  # voice notes' audio, for handlers that never import adapters (bot/media.py)
                self.runtime.media.register(adapter.platform, fetch)
        self._parser_errors = ParserErrorFilter(self.adapter_ctx.refusals)  # installed while run() serves
        self.metrics = (Metrics(self.runtime, self.adapter_ctx.accepted, refused=lambda: dict(self.adapter_ctx.refused),
                                token=config.metrics.token)
                        if config.metrics.enabled else None)
        self.app = build_app(config, self.adapters, readiness=self.readiness, metrics=self.metrics)
        self.supervisor = Supervisor()
        self.stop_event = asyncio.Event()

    def readiness(self) -> Readiness:
        return health.check(self.store, self.config, self.clock.now_ms(), self.adapters, self.runtime.sender.last_ok)

    async def run(self, ready: asyncio.Event | None = None) -> None:
        logging.getLogger("aiohttp.server").addFilter(self._parser_errors)
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.config.server.host, self.config.server.port)
        await site.start()
        self.port = _bound_port(site, self.config.server.port)
        metrics_runner = None
        if self.metrics is not None and self.config.metrics.port:
            metrics_app = web.Application()
            metrics_app.router.add_get(self.config.metrics.path, self.metrics.handle)
            metrics_runner = web.AppRunner(metrics_app, access_log=None)
            await metrics_runner.setup()
            await web.TCPSite(metrics_runner, self.config.server.host, self.config.metrics.port).start()
        scheduler = AsyncIOScheduler(timezone=self.config.scheduler.timezone)
        scheduler.add_job(self.runtime.wake, "interval", seconds=self.config.scheduler.poll_interval_s,
                          id="wake", replace_existing=True)
        scheduler.add_job(self.adapter_ctx.refusals.flush, "interval", seconds=60, id="refusal-log",
                          replace_existing=True)  # the per-minute summary lines of refused requests
        scheduler.start()
        for adapter in self.adapters:
            await adapter.start()
        self.supervisor.spawn(self.runtime.run_forever(self.stop_event), "runtime")
        if self.config.backup.enabled:
            backups = ScheduledBackups(self.runtime.services)
            self.supervisor.spawn(backups.run_forever(self.stop_event, self.config.scheduler.poll_interval_s),
                                  "backups")
        # the one line every admin sees at start: in their language, with the port actually bound (port = 0 binds any)
        log.warning("%s", self.t("operations.serving", host=self.config.server.host, port=self.port,
                                 parts=",".join(a.platform for a in self.adapters)))
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
            try:  # let a voice note being recognised finish; one cut short stays pending and runs after a restart
                await asyncio.wait_for(self.runtime.deferred.wait_idle(), timeout=SHUTDOWN_JOBS_S)
            except TimeoutError:
                log.warning("%s", self.t("operations.jobs_still_running", seconds=f"{SHUTDOWN_JOBS_S:.0f}"))
            if metrics_runner is not None:
                await metrics_runner.cleanup()
            await runner.cleanup()
            self.runtime.close()
            self.store.close()
            logging.getLogger("aiohttp.server").removeFilter(self._parser_errors)

    def stop(self) -> None:
        self.stop_event.set()


def _bound_port(site: web.TCPSite, configured: int) -> int:
    """The port actually bound (tests ask for port 0 and need to know which one they got)."""
    server = site._server  # aiohttp keeps the asyncio Server here; it has no public accessor
    sockets = getattr(server, "sockets", None) or ()
    return sockets[0].getsockname()[1] if sockets else configured


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
