"""A local stand-in for qyapi.weixin.qq.com, for tests, the callbacks benchmark and offline trials.

It runs an aiohttp app in its own thread and event loop (so blocking callers cannot deadlock it), records every
request, and answers like WeCom does for the endpoints SalesPulse uses: gettoken, message/send,
message/update_template_card, appchat/send, media/upload, media/get, department/list, user/list and the
group-robot webhook, agent/get. Errors are scripted: `fail_next("/cgi-bin/message/send", 45009)`, `expire_tokens()` (the next
call answers 42001 until a new token is fetched).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    json: Any = None
    files: dict[str, bytes] = field(default_factory=dict)


class FakeWeComApi:
    def __init__(self, corp_id: str = "wwcorp", secret: str = "app-secret", agent_id: int = 1000002) -> None:
        self.corp_id = corp_id
        self.secret = secret
        self.agent_id = agent_id
        self.requests: list[Recorded] = []
        self.valid_tokens: set[str] = set()
        self.media: dict[str, tuple[bytes, str]] = {}
        self.departments: list[dict] = []
        self.users: dict[int, list[dict]] = {}
        self._failures: dict[str, list[int]] = defaultdict(list)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ------------------------------------------------------------ scripting

    def fail_next(self, path: str, errcode: int, times: int = 1) -> None:
        with self._lock:
            self._failures[path].extend([errcode] * times)

    def expire_tokens(self) -> None:
        with self._lock:
            self.valid_tokens.clear()

    def calls(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # ------------------------------------------------------------ app

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        for path in ("/cgi-bin/message/send", "/cgi-bin/message/update_template_card", "/cgi-bin/appchat/send"):
            app.router.add_post(path, self._json_call)
        app.router.add_post("/cgi-bin/media/upload", self._upload)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_get("/cgi-bin/department/list", self._json_call)
        app.router.add_get("/cgi-bin/user/list", self._json_call)
        app.router.add_get("/cgi-bin/agent/get", self._json_call)
        app.router.add_post("/cgi-bin/webhook/send", self._webhook)
        app.router.add_post("/cgi-bin/webhook/upload_media", self._webhook_upload)
        return app

    def _record(self, request: web.Request, body: Any = None, files: dict[str, bytes] | None = None) -> None:
        with self._lock:
            self.requests.append(Recorded(request.method, request.path, dict(request.query), body, files or {}))

    def _scripted(self, path: str) -> int:
        with self._lock:
            queue = self._failures.get(path)
            return queue.pop(0) if queue else 0

    def _token_ok(self, request: web.Request) -> bool:
        with self._lock:
            return request.query.get("access_token", "") in self.valid_tokens

    async def _gettoken(self, request: web.Request) -> web.Response:
        self._record(request)
        if request.query.get("corpid") != self.corp_id:  # as WeCom answers an unknown corp id
            return web.json_response({"errcode": 40013, "errmsg": "invalid corpid"})
        if request.query.get("corpsecret") != self.secret:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        code = self._scripted(request.path)
        if code:
            return web.json_response({"errcode": code, "errmsg": "scripted"})
        token = f"tok-{next(self._ids)}"
        with self._lock:
            self.valid_tokens.add(token)
        return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    async def _json_call(self, request: web.Request) -> web.Response:
        body = await request.json() if request.method == "POST" else None
        self._record(request, body)
        if not self._token_ok(request):
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        code = self._scripted(request.path)
        if code:
            return web.json_response({"errcode": code, "errmsg": "scripted"})
        if request.path == "/cgi-bin/department/list":
            return web.json_response({"errcode": 0, "errmsg": "ok", "department": self.departments})
        if request.path == "/cgi-bin/agent/get":  # the app the token's Secret belongs to
            if request.query.get("agentid") != str(self.agent_id):
                return web.json_response({"errcode": 40056, "errmsg": "invalid agentid"})
            return web.json_response({"errcode": 0, "errmsg": "ok", "agentid": self.agent_id, "name": "SalesPulse"})
        if request.path == "/cgi-bin/user/list":
            dept = int(request.query.get("department_id", "0") or 0)
            return web.json_response({"errcode": 0, "errmsg": "ok", "userlist": self.users.get(dept, [])})
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "msgid": f"msg-{next(self._ids)}"}
        if isinstance(body, dict) and body.get("msgtype") == "template_card":
            answer["response_code"] = f"rc-{next(self._ids)}"
        return web.json_response(answer)

    async def _upload(self, request: web.Request) -> web.Response:
        files: dict[str, bytes] = {}
        reader = await request.multipart()
        async for part in reader:
            files[part.filename or part.name or "media"] = await part.read()
        self._record(request, None, files)
        if not self._token_ok(request):
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        media_id = f"media-{next(self._ids)}"
        with self._lock:
            for content in files.values():
                self.media[media_id] = (content, "image/png")
        return web.json_response({"errcode": 0, "errmsg": "ok", "type": request.query.get("type"),
                                  "media_id": media_id})

    async def _media_get(self, request: web.Request) -> web.Response:
        self._record(request)
        if not self._token_ok(request):
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        with self._lock:
            found = self.media.get(request.query.get("media_id", ""))
        if found is None:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        return web.Response(body=found[0], content_type=found[1])

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._record(request, body)
        code = self._scripted(request.path)
        if code:
            return web.json_response({"errcode": code, "errmsg": "scripted"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _webhook_upload(self, request: web.Request) -> web.Response:
        """群机器人 文件上传: multipart part "media", `key` the robot's, `type` file or voice; a media_id back."""
        files: dict[str, bytes] = {}
        reader = await request.multipart()
        async for part in reader:
            files[part.filename or part.name or "media"] = await part.read()
        self._record(request, None, files)
        if not request.query.get("key") or request.query.get("type") not in ("file", "voice"):
            return web.json_response({"errcode": 40058, "errmsg": "invalid key or type"})
        media_id = f"robot-media-{next(self._ids)}"
        with self._lock:
            for content in files.values():
                self.media[media_id] = (content, "application/octet-stream")
        return web.json_response({"errcode": 0, "errmsg": "ok", "type": request.query["type"], "media_id": media_id})

    # ------------------------------------------------------------ thread

    def start(self, port: int = 0) -> str:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._runner = web.AppRunner(self._app(), access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", port)
            loop.run_until_complete(site.start())
            sock = site._server.sockets[0]  # type: ignore[union-attr]
            self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-wecom-api", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake WeCom API did not start")
        return self.base_url

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None
        self._thread = None
