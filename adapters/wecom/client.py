"""A thin aiohttp client for the WeCom server API (base URL from bot.toml [wecom] api_base_url).

Why not wechatpy's WeChatClient: it makes blocking `requests` calls and hard-codes qyapi.weixin.qq.com for the
token and media endpoints, so it can neither run on our event loop nor be pointed at a fake or a private gateway.

- access_token: fetched from /cgi-bin/gettoken, cached until 60 s before `expires_in`, and re-fetched once when a
  call answers 40001 / 40014 / 42001 (token invalid or expired).
- errcodes become typed errors: rate limits (45009, 45033, …) → PlatformRetryAfter; configuration faults that a
  retry cannot fix (bad user id, untrusted IP, no permission) → PlatformError(permanent=True); everything else →
  a retryable PlatformError. The outbox sender backs off accordingly.
- the group-robot webhook is limited to 20 messages per minute per robot here, before WeCom has to say 45009.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
from typing import Any

import aiohttp

from adapters.http import ApiSession, RateLimiter
from bot.clock import Clock
from bot.errors import PlatformError, PlatformRetryAfter
from bot.sender import retry_after_seconds

log = logging.getLogger("salespulse.wecom.client")

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
RATE_LIMIT_ERRORS = frozenset({45009, 45011, 45033, 45047, 45035})
PERMANENT_ERRORS = frozenset({
    40003,  # invalid userid
    40008,  # invalid message type
    40013,  # invalid corpid
    40056,  # invalid agentid
    40058,  # invalid parameter
    44001,  # empty media
    45002,  # content too long
    48002,  # API forbidden for this app
    60011,  # no privilege
    60020,  # request from an IP not on the app's trusted list
    81013,  # user / party / tag all invalid
    301002,  # no privilege to access data
})
TASK_ID_REUSED = 42014
ROBOT_PER_MINUTE = 20
RETRY_AFTER_S = 60.0


class WeComApiError(PlatformError):
    def __init__(self, path: str, errcode: int, errmsg: str, *, permanent: bool = False) -> None:
        super().__init__(f"wecom {path}: errcode {errcode} {errmsg}", permanent=permanent)
        self.errcode = errcode


def _raise_for(path: str, data: dict[str, Any]) -> None:
    code = data.get("errcode", 0)
    if not isinstance(code, int):
        raise PlatformError(f"wecom {path}: errcode is not a number")
    if code == 0:
        return
    msg = str(data.get("errmsg", ""))[:200]
    if code in RATE_LIMIT_ERRORS:
        raise PlatformRetryAfter(f"wecom {path}: rate limited ({code} {msg})", RETRY_AFTER_S)
    raise WeComApiError(path, code, msg, permanent=code in PERMANENT_ERRORS)


class WeComClient(ApiSession):
    def __init__(self, base_url: str, corp_id: str, secret: str, agent_id: int, clock: Clock,
                 timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.corp_id = corp_id
        self.secret = secret
        self.agent_id = agent_id
        self.clock = clock
        super().__init__(timeout_s)
        self.robot_limiter = RateLimiter(ROBOT_PER_MINUTE, 60_000, clock)
        self._token = ""
        self._token_expires_ms = 0
        self._token_lock = asyncio.Lock()
        self.token_fetches = 0

    # ------------------------------------------------------------ plumbing

    async def _request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                       json: Any = None, data: Any = None) -> tuple[dict[str, Any] | None, bytes, str]:
        """(JSON body or None, raw bytes, content type); HTTP-level failures become typed errors."""
        url = f"{self.base_url}{path}"
        try:
            async with self.session().request(method, url, params=params, json=json, data=data) as resp:
                raw = await resp.read()
                status, ctype = resp.status, resp.headers.get("Content-Type", "")
                retry = resp.headers.get("Retry-After", "")
        except aiohttp.ClientError as exc:  # disconnects, bad payloads …: retryable, never an untyped error
            raise PlatformError(f"wecom {path}: {type(exc).__name__}: {exc}") from None
        if status == 429:
            wait = retry_after_seconds(retry, self.clock.now_ms())  # seconds or an HTTP date (RFC 9110)
            raise PlatformRetryAfter(f"wecom {path}: HTTP 429", RETRY_AFTER_S if wait is None else wait)
        if status >= 500:
            raise PlatformError(f"wecom {path}: HTTP {status}")
        if status >= 400:
            raise PlatformError(f"wecom {path}: HTTP {status}", permanent=True)
        if "json" in ctype or "text/plain" in ctype or raw[:1] == b"{":
            try:
                body = jsonlib.loads(raw)
            except ValueError:
                if "json" in ctype:
                    raise PlatformError(f"wecom {path}: answer is not JSON") from None
                return None, raw, ctype
            if isinstance(body, dict):
                return body, raw, ctype
            raise PlatformError(f"wecom {path}: answer is not a JSON object")
        return None, raw, ctype

    async def token(self, *, refused: str = "") -> str:
        """The cached token, fetched when missing or within 60 s of expiry.

        `refused` is a token WeCom just rejected (40001/40014/42001): it is replaced — but only if it is still the
        cached one. When ten sends hit 42001 at once, the first one through the lock fetches a new token and the
        other nine reuse it, instead of fetching ten tokens in a row (gettoken is rate-limited too).
        """
        async with self._token_lock:
            now = self.clock.now_ms()
            fresh = self._token and now < self._token_expires_ms - 60_000
            if fresh and (not refused or refused != self._token):
                return self._token
            body, _raw, _ct = await self._request("GET", "/cgi-bin/gettoken",
                                                  params={"corpid": self.corp_id, "corpsecret": self.secret})
            if body is None:
                raise PlatformError("wecom gettoken: answer is not JSON")
            code = body.get("errcode", 0)
            if code in (40001, 40013, 40091, 41002, 41004):
                raise PlatformError(f"wecom gettoken: credentials refused ({code} {body.get('errmsg', '')})",
                                    permanent=True)
            _raise_for("/cgi-bin/gettoken", body)
            token = body.get("access_token")
            if not isinstance(token, str) or not token:
                raise PlatformError("wecom gettoken: no access_token in the answer")
            expires = body.get("expires_in", 7200)
            self._token = token
            self._token_expires_ms = now + int(expires if isinstance(expires, int) else 7200) * 1000
            self.token_fetches += 1
            return token

    async def call(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
                   data: Any = None, ok_codes: frozenset[int] = frozenset()) -> dict[str, Any]:
        """An authenticated JSON call; the token is refreshed and the call retried once on a token error."""
        token = ""
        for attempt in (0, 1):
            token = await self.token(refused=token if attempt == 1 else "")
            body, _raw, _ct = await self._request(method, path, params={**(params or {}), "access_token": token},
                                                  json=json, data=data)
            if body is None:
                raise PlatformError(f"wecom {path}: answer is not JSON")
            code = body.get("errcode", 0)
            if code in TOKEN_ERRORS and attempt == 0:
                log.info("wecom token refused (%s); fetching a new one", code)
                continue
            if code in ok_codes:
                return body
            _raise_for(path, body)
            return body
        raise PlatformError(f"wecom {path}: token refused twice")  # pragma: no cover - loop always returns

    # ------------------------------------------------------------ messages

    async def send_message(self, body: dict[str, Any]) -> dict[str, Any]:
        """message/send (to users); `body` holds touser + the msgtype part; agentid is added here."""
        answer = await self.call("POST", "/cgi-bin/message/send", json={**body, "agentid": self.agent_id},
                                 ok_codes=frozenset({TASK_ID_REUSED}))
        for field in ("invaliduser", "invalidparty", "invalidtag", "unlicenseduser"):
            if answer.get(field):
                log.warning("wecom message/send: %s %s", field, answer[field])
        return answer

    async def send_appchat(self, body: dict[str, Any]) -> dict[str, Any]:
        """appchat/send to a group chat created by the app (chatid + msgtype part)."""
        return await self.call("POST", "/cgi-bin/appchat/send", json=body)

    async def update_template_card(self, body: dict[str, Any]) -> dict[str, Any]:
        """message/update_template_card: userids + response_code + button.replace_name or template_card; agentid
        is added here (https://developer.work.weixin.qq.com/document/path/94888)."""
        return await self.call("POST", "/cgi-bin/message/update_template_card", json={**body, "agentid": self.agent_id})

    async def robot_send(self, key: str, body: dict[str, Any], *, limited: bool = True) -> dict[str, Any]:
        """Group-robot webhook (no token; the key is the credential), at most 20 messages a minute per robot
        (`limited=False` when the caller already reserved the slot for a multi-part message)."""
        if limited:
            self.robot_limiter.take(key, "wecom robot")
        answer, _raw, _ct = await self._request("POST", "/cgi-bin/webhook/send", params={"key": key}, json=body)
        if answer is None:
            raise PlatformError("wecom webhook: answer is not JSON")
        _raise_for("/cgi-bin/webhook/send", answer)
        return answer

    async def robot_upload(self, key: str, filename: str, content: bytes) -> str:
        """群机器人 文件上传接口: POST /cgi-bin/webhook/upload_media?key=KEY&type=file, multipart part "media";
        the media_id it answers is usable for three days, by this robot only."""
        form = aiohttp.FormData()
        form.add_field("media", content, filename=filename, content_type="application/octet-stream")
        answer, _raw, _ct = await self._request("POST", "/cgi-bin/webhook/upload_media",
                                                params={"key": key, "type": "file"}, data=form)
        if answer is None:
            raise PlatformError("wecom webhook upload: answer is not JSON")
        _raise_for("/cgi-bin/webhook/upload_media", answer)
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise PlatformError("wecom webhook upload: no media_id in the answer")
        return media_id

    # ------------------------------------------------------------ media

    async def upload_media(self, kind: str, filename: str, content: bytes, content_type: str) -> str:
        form = aiohttp.FormData()
        form.add_field("media", content, filename=filename, content_type=content_type)
        answer = await self.call("POST", "/cgi-bin/media/upload", params={"type": kind}, data=form)
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise PlatformError("wecom media/upload: no media_id in the answer")
        return media_id

    async def get_media(self, media_id: str) -> tuple[bytes, str]:
        """media/get: (bytes, content type). A JSON answer is an error (expired or unknown media id)."""
        token = ""
        for attempt in (0, 1):
            token = await self.token(refused=token if attempt == 1 else "")
            body, raw, ctype = await self._request("GET", "/cgi-bin/media/get",
                                                   params={"access_token": token, "media_id": media_id})
            if body is None:
                return raw, ctype
            if body.get("errcode") in TOKEN_ERRORS and attempt == 0:
                continue
            _raise_for("/cgi-bin/media/get", body)
            raise PlatformError("wecom media/get: JSON answer without media")
        raise PlatformError("wecom media/get: token refused twice")  # pragma: no cover

    # ------------------------------------------------------------ org

    async def departments(self) -> list[dict[str, Any]]:
        answer = await self.call("GET", "/cgi-bin/department/list")
        depts = answer.get("department", [])
        return [d for d in depts if isinstance(d, dict)] if isinstance(depts, list) else []

    async def department_users(self, dept_id: int) -> list[dict[str, Any]]:
        answer = await self.call("GET", "/cgi-bin/user/list", params={"department_id": dept_id})
        users = answer.get("userlist", [])
        return [u for u in users if isinstance(u, dict)] if isinstance(users, list) else []
