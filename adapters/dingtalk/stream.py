"""dingtalk-stream's client, pointed at a configurable gateway and made to stop when cancelled.

The SDK speaks the protocol (open_connection body, CALLBACK/EVENT/SYSTEM frames, handler routing, ACK frames) and
we keep all of that. Two things are replaced, because they misbehave inside a server:
- `start()` swallows the first CancelledError, sleeps 10 s and reconnects (a second cancel is needed while it
  sleeps); ours lets cancellation through, cancels its own keepalive/frame tasks and returns promptly;
- `open_connection()` is a blocking `requests.post`; ours runs it in a worker thread.
`DINGTALK_OPENAPI_ENDPOINT` is read at import time, so `point_sdk_at()` patches the class constant and the module
globals that captured it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote_plus

import dingtalk_stream
import websockets
from dingtalk_stream import AckMessage, CallbackHandler, CallbackMessage, Credential, DingTalkStreamClient
from dingtalk_stream import card_replier as _card_replier
from dingtalk_stream import chatbot as _chatbot
from dingtalk_stream import stream as _stream
from dingtalk_stream import utils as _utils

log = logging.getLogger("salespulse.dingtalk.stream")

ROBOT_TOPIC = dingtalk_stream.ChatbotMessage.TOPIC
CARD_TOPIC = dingtalk_stream.Card_Callback_Router_Topic

# (data dict, delivery id) -> (ACK code, ACK response)
FrameFn = Callable[[dict, str], Awaitable[tuple[int, object]]]


def point_sdk_at(api_base_url: str) -> None:
    """Redirect every SDK call that reads DINGTALK_OPENAPI_ENDPOINT (gateway, token, SDK reply helpers)."""
    base = api_base_url.rstrip("/")
    for module in (_utils, _stream, _chatbot, _card_replier):
        if hasattr(module, "DINGTALK_OPENAPI_ENDPOINT"):
            module.DINGTALK_OPENAPI_ENDPOINT = base
    DingTalkStreamClient.OPEN_CONNECTION_API = base + "/v1.0/gateway/connections/open"


class FrameHandler(CallbackHandler):
    """Hands a CALLBACK frame's data to the adapter; the adapter persists it before we return the ACK."""

    def __init__(self, fn: FrameFn) -> None:
        super().__init__()
        self.fn = fn

    async def process(self, message: CallbackMessage):
        try:
            return await self.fn(message.data, message.headers.message_id or "")
        except Exception:  # the ACK must still go out; 500 makes DingTalk redeliver
            log.exception("dingtalk frame handling failed")
            return AckMessage.STATUS_SYSTEM_EXCEPTION, "error"


class GatewayStreamClient(DingTalkStreamClient):
    def __init__(self, credential: Credential, *, retry_s: float = 5.0) -> None:
        super().__init__(credential, logger=log)
        self.retry_s = retry_s
        self.connected = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()

    def _track(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:  # noqa: C901 - one loop, kept in one place on purpose
        self.pre_start()
        try:
            while True:
                connection = await asyncio.to_thread(self.open_connection)
                if not connection or not isinstance(connection, dict) or "endpoint" not in connection:
                    log.warning("dingtalk stream: open connection failed; retrying in %ss", self.retry_s)
                    await asyncio.sleep(self.retry_s)
                    continue
                uri = f'{connection["endpoint"]}?ticket={quote_plus(str(connection.get("ticket", "")))}'
                try:
                    async with websockets.connect(uri) as websocket:
                        self.websocket = websocket
                        self.connected.set()
                        self._track(self.keepalive(websocket))
                        async for raw in websocket:
                            try:
                                frame = json.loads(raw)
                            except ValueError:
                                log.warning("dingtalk stream: non-JSON frame ignored")
                                continue
                            if isinstance(frame, dict):
                                self._track(self.background_task(frame))
                except (websockets.exceptions.WebSocketException, OSError) as exc:
                    log.warning("dingtalk stream: connection lost (%s); reconnecting in %ss", exc, self.retry_s)
                finally:
                    self.connected.clear()
                await asyncio.sleep(self.retry_s)
        finally:
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
