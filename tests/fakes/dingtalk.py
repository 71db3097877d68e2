"""A fake DingTalk: stream gateway (connections/open + websocket pushing CALLBACK frames, collecting ACKs),
OpenAPI (token, robot messages, interactive cards, file download), session webhooks, custom robot, org topapi."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from aiohttp import WSMsgType, web

from fakes import FakeServer, Recorded

ROBOT_TOPIC = "/v1.0/im/bot/messages/get"
CARD_TOPIC = "/v1.0/card/instances/callback"


class FakeDingTalk(FakeServer):
    def __init__(self, client_id: str = "ding-app", client_secret: str = "ding-secret") -> None:
        super().__init__()
        self.client_id, self.client_secret = client_id, client_secret
        self.acks: list[dict] = []
        self.opened: list[dict] = []
        self.tokens_issued = 0
        self.files: dict[str, bytes] = {}
        self.org: dict[str, Any] = {"depts": {}, "users": {}, "managers": {}}
        self._ws: web.WebSocketResponse | None = None
        self._ws_ready = threading.Event()
        self._seq = 0
        self.extra_setup.append(lambda app: app.router.add_get("/gateway", self._gateway))
        r = self.routes
        r[("POST", "/v1.0/gateway/connections/open")] = self._open
        r[("POST", "/v1.0/oauth2/accessToken")] = self._token
        ok = lambda rec: (200, {"processQueryKey": f"q{len(self.requests)}"})  # noqa: E731
        r[("POST", "/v1.0/robot/oToMessages/batchSend")] = ok
        r[("POST", "/v1.0/robot/groupMessages/send")] = ok
        r[("POST", "/v1.0/im/v1.0/robot/interactiveCards/send")] = ok
        r[("PUT", "/v1.0/im/robots/interactiveCards")] = lambda rec: (200, {"success": True})
        r[("POST", "/media/upload")] = lambda rec: (200, {"errcode": 0, "type": "image", "media_id": "@lADP-media-1"})
        r[("POST", "/robot/send")] = lambda rec: (200, {"errcode": 0, "errmsg": "ok"})
        r[("POST", "/v1.0/robot/messageFiles/download")] = self._download
        r[("POST", "/topapi/v2/department/listsub")] = self._listsub
        r[("POST", "/topapi/v2/department/get")] = self._dept_get
        r[("POST", "/topapi/v2/user/list")] = self._user_list
        self.prefix_routes[("POST", "/session/")] = lambda rec: (200, {"errcode": 0, "errmsg": "ok"})
        self.prefix_routes[("GET", "/files/")] = lambda rec: (200, self.files[rec.path.rsplit("/", 1)[-1]])

    # -- gateway
    def _open(self, rec: Recorded):
        body = rec.json
        self.opened.append(body)
        if body.get("clientId") != self.client_id or body.get("clientSecret") != self.client_secret:
            return 401, {"code": "InvalidAuthentication", "message": "bad credential"}
        return 200, {"endpoint": f"ws://127.0.0.1:{self.port}/gateway", "ticket": "ticket+1/="}

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.record(Recorded("WS", "/gateway", dict(request.query), dict(request.headers), b""))
        self._ws = ws
        self._ws_ready.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                with self.cond:
                    self.acks.append(json.loads(msg.data))
                    self.cond.notify_all()
        self._ws = None
        self._ws_ready.clear()
        return ws

    def wait_connected(self, timeout: float = 5.0) -> bool:
        return self._ws_ready.wait(timeout)

    def push(self, topic: str, data: dict, message_id: str | None = None) -> str:
        """Send one CALLBACK frame to the connected client; returns its messageId."""
        self._seq += 1
        mid = message_id or f"frame-{self._seq}"
        frame = {"specVersion": "1.0", "type": "CALLBACK",
                 "headers": {"appId": "app", "connectionId": "conn-1", "contentType": "application/json",
                             "messageId": mid, "time": "1700000000000", "topic": topic},
                 "data": json.dumps(data, ensure_ascii=False)}
        assert self.loop is not None and self._ws is not None, "no stream client connected"
        fut = asyncio.run_coroutine_threadsafe(self._ws.send_str(json.dumps(frame, ensure_ascii=False)), self.loop)
        fut.result(5)
        return mid

    def push_system_disconnect(self) -> None:
        frame = {"specVersion": "1.0", "type": "SYSTEM", "headers": {"topic": "disconnect", "messageId": "sys-1",
                 "contentType": "application/json"}, "data": "{}"}
        assert self.loop is not None and self._ws is not None
        asyncio.run_coroutine_threadsafe(self._ws.send_str(json.dumps(frame)), self.loop).result(5)

    def acks_for(self, message_id: str) -> list[dict]:
        with self.cond:
            return [a for a in self.acks if a.get("headers", {}).get("messageId") == message_id]

    async def await_ack(self, message_id: str, timeout: float = 5.0) -> dict:
        assert await self.await_for(lambda: any(
            a.get("headers", {}).get("messageId") == message_id for a in self.acks), timeout), "no ACK"
        return self.acks_for(message_id)[0]

    # -- OpenAPI
    def _token(self, rec: Recorded):
        body = rec.json
        if body.get("appKey") != self.client_id or body.get("appSecret") != self.client_secret:
            return 400, {"code": "invalidClientIdOrSecret", "message": "bad app key"}
        self.tokens_issued += 1
        return 200, {"accessToken": f"tok-{self.tokens_issued}", "expireIn": 7200}

    def _download(self, rec: Recorded):
        code = rec.json.get("downloadCode")
        if code not in self.files:
            return 400, {"code": "invalidDownloadCode", "message": "unknown"}
        return 200, {"downloadUrl": f"{self.base_url}/files/{code}"}

    def _listsub(self, rec: Recorded):
        dept = rec.json["dept_id"]
        return 200, {"errcode": 0, "result": [d for d in self.org["depts"].values() if d["parent_id"] == dept]}

    def _dept_get(self, rec: Recorded):
        dept = rec.json["dept_id"]
        info = self.org["depts"].get(dept, {"dept_id": dept, "name": "root"})
        return 200, {"errcode": 0, "result": {**info, "dept_manager_userid_list": self.org["managers"].get(dept, [])}}

    def _user_list(self, rec: Recorded):
        dept = rec.json["dept_id"]
        users = [u for u in self.org["users"].values() if dept in u["dept_id_list"]]
        cursor = rec.json.get("cursor", 0)
        page = users[cursor:cursor + 1]  # one per page: exercises paging
        more = cursor + 1 < len(users)
        return 200, {"errcode": 0, "result": {"has_more": more, "next_cursor": cursor + 1, "list": page}}


def robot_message(msg_id: str, *, msgtype: str = "text", text: str = "/help", sender: str = "zhangwei",
                  conversation_type: str = "1", webhook: str = "", expires: int = 0, **extra: Any) -> dict:
    """A robot message as DingTalk sends it (stream data or outgoing-robot POST body)."""
    data: dict[str, Any] = {
        "msgId": msg_id, "msgtype": msgtype, "conversationId": "cid-1", "conversationType": conversation_type,
        "senderStaffId": sender, "senderId": f"$:LWCP_v1:${sender}", "senderNick": "张伟",
        "robotCode": "ding-app", "chatbotUserId": "bot-1", "isInAtList": conversation_type == "1",
        "createAt": 1772413200000, "sessionWebhook": webhook, "sessionWebhookExpiredTime": expires,
    }
    if msgtype == "text":
        data["text"] = {"content": text}
    data.update(extra)
    return data
