"""Feishu long connection: lark.ws.Client in its own thread, with its own event loop.

Why a thread: `Client.start()` blocks and drives the module-global `lark_oapi.ws.client.loop` (captured at import);
inside our running loop it raises. The client is also constructed inside the thread because it binds its
ExpiringCache task to the loop current at construction. Events arrive in that thread; the adapter hands each
payload to the main loop and waits for it to be persisted before the SDK writes the ACK frame.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

log = logging.getLogger("salespulse.feishu.ws")


class LongConnection:
    def __init__(self, app_id: str, app_secret: str, domain: str, event_handler: Any) -> None:
        self.app_id, self.app_secret, self.domain = app_id, app_secret, domain.rstrip("/")
        self.event_handler = event_handler
        self.client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._built = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="feishu-ws", daemon=True)
        self._thread.start()
        self._built.wait(10)

    def _run(self) -> None:
        import lark_oapi as lark
        import lark_oapi.ws.client as ws_client

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        ws_client.loop = loop
        self._loop = loop
        try:
            self.client = lark.ws.Client(self.app_id, self.app_secret, event_handler=self.event_handler,
                                         domain=self.domain, log_level=lark.LogLevel.WARNING)
        finally:
            self._built.set()
        try:
            self.client.start()
        except RuntimeError:
            pass  # loop.stop() from stop(): run_until_complete gives up, which is what we asked for
        except Exception:
            log.exception("feishu long connection ended")
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    @property
    def connected(self) -> bool:
        return self.client is not None and getattr(self.client, "_conn", None) is not None

    async def stop(self) -> None:
        loop, client = self._loop, self.client
        if loop is not None and client is not None and not loop.is_closed():
            client._auto_reconnect = False
            try:
                fut = asyncio.run_coroutine_threadsafe(client._disconnect(), loop)
                await asyncio.wait_for(asyncio.wrap_future(fut), timeout=2)
            except (TimeoutError, RuntimeError, OSError):
                pass
            try:
                loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:
                pass  # already closed
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5)
