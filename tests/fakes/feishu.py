"""A fake Feishu: open API (tenant token, im/v1 messages, resources, contact) and the long-connection gateway
(/callback/ws/endpoint + a websocket speaking lark's protobuf Frame). Plus helpers that encrypt and sign events
exactly as Feishu does (AES-256-CBC with SHA256(encrypt_key), random IV prefix; X-Lark-Signature =
sha256(timestamp + nonce + encrypt_key + body))."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import threading
from typing import Any

from aiohttp import WSMsgType, web
from Crypto.Cipher import AES
from Crypto.Util.Padding import pad

from fakes import FakeServer, Recorded

APP_ID, APP_SECRET = "cli_test", "feishu-secret"
ENCRYPT_KEY, VERIFICATION_TOKEN = "enc-key-123", "vt-456"


def encrypt(plaintext: str, key: str = ENCRYPT_KEY) -> str:
    iv = os.urandom(16)
    cipher = AES.new(hashlib.sha256(key.encode()).digest(), AES.MODE_CBC, iv)
    return base64.b64encode(iv + cipher.encrypt(pad(plaintext.encode(), 16))).decode()


def signed_request(envelope: dict, ts: int, key: str = ENCRYPT_KEY, nonce: str = "n0nce") -> tuple[bytes, dict]:
    """(body, headers) of an encrypted, signed Feishu event POST."""
    body = json.dumps({"encrypt": encrypt(json.dumps(envelope, ensure_ascii=False), key)}).encode()
    signature = hashlib.sha256((str(ts) + nonce + key).encode() + body).hexdigest()
    return body, {"X-Lark-Request-Timestamp": str(ts), "X-Lark-Request-Nonce": nonce, "X-Lark-Signature": signature,
                  "Content-Type": "application/json"}


def message_event(event_id: str, *, text: str = "/help", open_id: str = "ou_zhangwei", message_id: str = "om_1",
                  message_type: str = "text", content: dict | None = None, chat_type: str = "p2p",
                  mentions: list | None = None, token: str = VERIFICATION_TOKEN) -> dict:
    return {"schema": "2.0",
            "header": {"event_id": event_id, "event_type": "im.message.receive_v1", "create_time": "1772413200000",
                       "token": token, "app_id": APP_ID, "tenant_key": "tk"},
            "event": {"sender": {"sender_id": {"open_id": open_id, "union_id": "on_x", "user_id": "u1"},
                                 "sender_type": "user", "tenant_key": "tk"},
                      "message": {"message_id": message_id, "chat_id": "oc_1", "chat_type": chat_type,
                                  "message_type": message_type, "create_time": "1772413200000",
                                  "content": json.dumps(content if content is not None else {"text": text},
                                                        ensure_ascii=False),
                                  "mentions": mentions or []}}}


def card_event(event_id: str, value: Any, *, message_id: str = "om_card", open_id: str = "ou_zhangwei",
               token: str = VERIFICATION_TOKEN) -> dict:
    return {"schema": "2.0",
            "header": {"event_id": event_id, "event_type": "card.action.trigger", "create_time": "1772413200000",
                       "token": token, "app_id": APP_ID, "tenant_key": "tk"},
            "event": {"operator": {"open_id": open_id, "tenant_key": "tk"}, "token": "c-1",
                      "action": {"value": value, "tag": "button"},
                      "context": {"open_message_id": message_id, "open_chat_id": "oc_1"}}}


class FakeFeishu(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.tokens_issued = 0
        self.sent = 0
        self.files: dict[str, bytes] = {}
        self.org: dict[str, Any] = {"depts": [], "users": {}}
        self.ws_responses: list[dict] = []
        self._ws: web.WebSocketResponse | None = None
        self.ws_connected = threading.Event()
        self.extra_setup.append(lambda app: app.router.add_get("/ws", self._ws_handler))
        r = self.routes
        r[("POST", "/open-apis/auth/v3/tenant_access_token/internal")] = self._token
        r[("POST", "/open-apis/im/v1/messages")] = self._message
        r[("POST", "/callback/ws/endpoint")] = self._endpoint
        r[("POST", "/open-apis/im/v1/images")] = lambda rec: (200, {"code": 0, "data": {"image_key": "img_v2_1"}})
        r[("POST", "/open-apis/im/v1/files")] = lambda rec: (200, {"code": 0, "data": {"file_key": "file_v3_1"}})
        r[("GET", "/open-apis/contact/v3/departments/0/children")] = self._children
        r[("GET", "/open-apis/contact/v3/users/find_by_department")] = self._users
        self.prefix_routes[("POST", "/open-apis/im/v1/messages/")] = self._message
        self.prefix_routes[("PATCH", "/open-apis/im/v1/messages/")] = lambda rec: (200, {"code": 0, "msg": "ok"})
        self.prefix_routes[("GET", "/open-apis/im/v1/messages/")] = self._resource

    def _token(self, rec: Recorded):
        if rec.json != {"app_id": APP_ID, "app_secret": APP_SECRET}:
            return 200, {"code": 10014, "msg": "app secret invalid"}
        self.tokens_issued += 1
        return 200, {"code": 0, "msg": "ok", "tenant_access_token": f"t-{self.tokens_issued}", "expire": 7200}

    def _message(self, rec: Recorded):
        self.sent += 1
        return 200, {"code": 0, "msg": "success", "data": {"message_id": f"om_sent_{self.sent}"}}

    def _resource(self, rec: Recorded):
        key = rec.path.rsplit("/", 1)[-1]
        if key not in self.files:
            return 400, {"code": 234003, "msg": "file not found"}
        return web.Response(body=self.files[key], content_type="application/octet-stream")

    def _children(self, rec: Recorded):
        return 200, {"code": 0, "data": {"has_more": False, "items": self.org["depts"]}}

    def _users(self, rec: Recorded):
        dept = rec.query["department_id"]
        users = [u for u in self.org["users"].values() if dept in u["department_ids"]]
        start = int(rec.query.get("page_token") or 0)
        more = start + 1 < len(users)
        return 200, {"code": 0, "data": {"has_more": more, "page_token": str(start + 1) if more else "",
                                         "items": users[start:start + 1]}}

    # -- long connection
    def _endpoint(self, rec: Recorded):
        if rec.json.get("AppID") != APP_ID or rec.json.get("AppSecret") != APP_SECRET:
            return 200, {"code": 514, "msg": "auth failed"}
        return 200, {"code": 0, "msg": "ok", "data": {
            "URL": f"ws://127.0.0.1:{self.port}/ws?device_id=dev-1&service_id=7",
            "ClientConfig": {"ReconnectCount": -1, "ReconnectInterval": 1, "ReconnectNonce": 0, "PingInterval": 120}}}

    async def _ws_handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        self.ws_connected.set()
        async for msg in ws:
            if msg.type != WSMsgType.BINARY:
                continue
            from lark_oapi.ws.pb.pbbp2_pb2 import Frame

            frame = Frame()
            frame.ParseFromString(msg.data)
            headers = {h.key: h.value for h in frame.headers}
            if frame.method == 1:  # data frame coming back = the ACK of an event we pushed
                with self.cond:
                    self.ws_responses.append({"headers": headers, "payload": json.loads(frame.payload)})
                    self.cond.notify_all()
        self._ws = None
        self.ws_connected.clear()
        return ws

    def push_event(self, envelope: dict, message_id: str) -> None:
        from lark_oapi.ws.pb.pbbp2_pb2 import Frame  # lark_oapi is slow to import: only where needed

        frame = Frame()
        frame.SeqID, frame.LogID, frame.service, frame.method = 1, 1, 7, 1
        for k, v in (("type", "event"), ("message_id", message_id), ("sum", "1"), ("seq", "0"),
                     ("trace_id", "trace-1")):
            h = frame.headers.add()
            h.key, h.value = k, v
        frame.payload = json.dumps(envelope, ensure_ascii=False).encode()
        assert self.loop is not None and self._ws is not None, "no long-connection client"
        asyncio.run_coroutine_threadsafe(self._ws.send_bytes(frame.SerializeToString()), self.loop).result(5)

    async def await_ws_response(self, message_id: str, timeout: float = 5.0) -> dict:
        ok = await self.await_for(lambda: any(r["headers"].get("message_id") == message_id
                                              for r in self.ws_responses), timeout)
        assert ok, "no ACK frame"
        return next(r for r in self.ws_responses if r["headers"].get("message_id") == message_id)
