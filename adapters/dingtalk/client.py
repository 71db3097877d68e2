"""A thin aiohttp client for the DingTalk OpenAPI (api.dingtalk.com) and the old oapi (oapi.dingtalk.com).

Why not the SDK's helpers: they make blocking `requests` calls (even the async_* ones fetch the token
synchronously) and hard-code hosts. Base URLs come from bot.toml so tests and private deployments can redirect
them. Failures become PlatformError (permanent for 4xx other than 401/429) or PlatformRetryAfter.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote_plus, urlsplit

import aiohttp

from adapters.dingtalk.sign import sign
from adapters.http import ApiSession, RateLimiter
from bot.clock import Clock
from bot.config import DingTalkSection
from bot.errors import PlatformError, PlatformRetryAfter
from bot.sender import retry_after_seconds

THROTTLE_CODES = {"Forbidden.AccessDenied.QpsLimitForApi", "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
                  "Throttling", "ServiceUnavailable.Throttling"}
OAPI_THROTTLE = {90002, 130101, 90018}  # oapi "too many requests" / custom robot "send too fast"
OAPI_TOKEN_INVALID = {40001, 40014, 42001}  # invalid / expired access_token (also as errcode 88's sub_code)
OAPI_BUSY = {-1}  # 系统繁忙: try again later
# Where a message's sessionWebhook may point: DingTalk documents https://oapi.dingtalk.com/robot/sendBySession?…
# (机器人接收消息 / 企业内部机器人回复消息). The URL comes from the inbound payload, so it is never trusted by itself:
# anything else (another host, http, credentials or an odd port) is refused and the OpenAPI is used instead.
SESSION_WEBHOOK_HOSTS = frozenset({"oapi.dingtalk.com", "api.dingtalk.com"})


def _oapi_code(data: dict) -> int | None:
    """The oapi errcode that matters: errcode 88 is a wrapper whose real code is in `sub_code`."""
    errcode = data.get("errcode")
    if not isinstance(errcode, int) or errcode == 0:
        return None
    if errcode == 88:
        sub = str(data.get("sub_code", ""))
        return int(sub) if sub.lstrip("-").isdigit() else errcode
    return errcode


def _token_invalid(status: int, data: dict) -> bool:
    if status == 401 or str(data.get("code", "")) == "InvalidAuthentication":
        return True
    return _oapi_code(data) in OAPI_TOKEN_INVALID


def _check(url: str, status: int, data: dict, retry_after: str, now_ms: int = 0) -> dict:
    """The answer, or the typed error the outbox sender backs off on (Retry-After in seconds or as an HTTP date)."""
    code = str(data.get("code", ""))
    where = url.split("?")[0]
    if status == 429 or code in THROTTLE_CODES:
        wait = retry_after_seconds(retry_after, now_ms)
        raise PlatformRetryAfter(f"dingtalk throttled {where}: {code or status}", 2.0 if wait is None else wait)
    if status >= 500:
        raise PlatformError(f"dingtalk {status} on {where}: {data.get('message', '')}")
    if status == 401 or code == "InvalidAuthentication":  # still refused after a fresh token: credentials
        raise PlatformError(f"dingtalk {status} on {where}: {code} {data.get('message', '')}".strip())
    if status >= 400:
        raise PlatformError(f"dingtalk {status} on {where}: {code} {data.get('message', '')}".strip(),
                            permanent=True)
    errcode = _oapi_code(data)
    if errcode is not None:
        msg = f"dingtalk errcode {data.get('errcode')}" + (f"/{errcode}" if errcode != data.get("errcode") else "")
        msg += f": {data.get('sub_msg') or data.get('errmsg', '')}"
        if errcode in OAPI_THROTTLE:
            raise PlatformRetryAfter(msg, 60.0)
        raise PlatformError(msg, permanent=errcode not in OAPI_BUSY and errcode not in OAPI_TOKEN_INVALID)
    return data


class DingTalkApi(ApiSession):
    def __init__(self, section: DingTalkSection, clock: Clock, *, timeout_s: float = 10.0) -> None:
        self.section = section
        self.clock = clock
        self.api = section.api_base_url.rstrip("/")
        self.oapi = section.oapi_base_url.rstrip("/")
        self.robot_code = section.robot_code or section.client_id
        super().__init__(timeout_s)
        self.custom_robot_limiter = RateLimiter(20, 60_000, clock)
        self._token = ""
        self._token_expires_ms = 0
        self._token_lock = asyncio.Lock()
        self.token_fetches = 0

    async def _http(self) -> aiohttp.ClientSession:
        return self.session()

    # ------------------------------------------------------------------ token
    async def access_token(self, *, refused: str = "") -> str:
        """Cached app access token; refreshed 5 minutes before DingTalk's expireIn (7200 s).

        `refused` is a token DingTalk just called invalid: it is replaced only if it is still the cached one, so a
        burst of sends that all hit the invalid token fetches one new token, not one each.
        """
        async with self._token_lock:
            fresh = self._token and self.clock.now_ms() < self._token_expires_ms
            if fresh and (not refused or refused != self._token):
                return self._token
            body = {"appKey": self.section.client_id, "appSecret": self.section.client_secret}
            data = await self._request("POST", f"{self.api}/v1.0/oauth2/accessToken", body, auth=None)
            token = data.get("accessToken")
            if not isinstance(token, str) or not token:
                raise PlatformError("dingtalk accessToken missing in response", permanent=True)
            expire_s = int(data.get("expireIn") or 7200)
            self._token = token
            self._token_expires_ms = self.clock.now_ms() + max(expire_s - 300, 60) * 1000
            self.token_fetches += 1
            return token

    def reset_token(self) -> None:
        self._token, self._token_expires_ms = "", 0

    # ------------------------------------------------------------------ transport
    async def _request(self, method: str, url: str, body: Any = None, *, auth: str | None = "header") -> dict:
        """One call; `auth` puts the app token in the `x-acs-dingtalk-access-token` header ("header", the new
        api.dingtalk.com), in the `access_token` query ("query", the old oapi.dingtalk.com) or nowhere (None).

        A token DingTalk calls invalid is refreshed and the call retried once. How each API says so:
        - api.dingtalk.com: HTTP 400 (or 401) `{"code": "InvalidAuthentication", "message": "不合法的access_token"}`
          (as reported in satorijs/satori#240 and alibabacloud-sdk-php/dingtalk#1);
        - oapi.dingtalk.com: HTTP 200 `{"errcode": 40014|42001, …}` or `{"errcode": 88, "sub_code": "40014", …}`
          (satorijs/satori#240, 007gzs/dingtalk-sdk#52).
        """
        token = ""
        for attempt in (0, 1):
            if auth is not None:
                token = await self.access_token(refused=token if attempt else "")
            status, data, retry_after = await self._send(method, url, body, auth, token)
            if auth is not None and attempt == 0 and _token_invalid(status, data):
                continue
            return _check(url, status, data, retry_after, self.clock.now_ms())
        raise PlatformError(f"dingtalk {url.split('?')[0]}: access token refused twice")

    async def _send(self, method: str, url: str, body: Any, auth: str | None, token: str) -> tuple[int, dict, str]:
        headers = {"Content-Type": "application/json"}
        params = None
        if auth == "header":
            headers["x-acs-dingtalk-access-token"] = token
        elif auth == "query":
            params = {"access_token": token}
        http = await self._http()
        try:
            async with http.request(method, url, headers=headers, params=params,
                                    data=None if body is None else json.dumps(body, ensure_ascii=False)) as resp:
                text = await resp.text()
                status = resp.status
                retry_after = resp.headers.get("Retry-After", "")
        except (aiohttp.ClientError, TimeoutError) as exc:  # transport trouble: retry later, with backoff
            raise PlatformError(f"dingtalk transport error on {url.split('?')[0]}: {type(exc).__name__}") from None
        try:
            data = json.loads(text) if text else {}
        except json.JSONDecodeError:
            data = {"message": text[:200]}
        if not isinstance(data, dict):
            data = {"result": data}
        return status, data, retry_after

    # ------------------------------------------------------------------ messages
    def session_webhook_allowed(self, url: str) -> bool:
        """Only DingTalk's own hosts over https (or exactly the configured api/oapi base URL's origin, which is how
        tests and private deployments redirect DingTalk)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        if parts.username is not None or parts.password is not None:
            return False
        if parts.scheme == "https" and parts.hostname in SESSION_WEBHOOK_HOSTS and port in (None, 443):
            return True
        origins = {(urlsplit(base).scheme, urlsplit(base).netloc) for base in (self.api, self.oapi)}
        return (parts.scheme, parts.netloc) in origins

    async def session_webhook(self, url: str, body: dict) -> dict:
        """Reply in the conversation through the message's session webhook (no token needed)."""
        if not self.session_webhook_allowed(url):
            raise PlatformError(f"dingtalk session webhook on a foreign host refused: {url[:80]!r}", permanent=True)
        return await self._request("POST", url, body, auth=None)

    async def send_to_users(self, user_ids: list[str], msg_key: str, msg_param: dict) -> str:
        data = await self._request("POST", f"{self.api}/v1.0/robot/oToMessages/batchSend", {
            "robotCode": self.robot_code, "userIds": user_ids, "msgKey": msg_key,
            "msgParam": json.dumps(msg_param, ensure_ascii=False)})
        return str(data.get("processQueryKey", ""))

    async def send_to_group(self, conversation_id: str, msg_key: str, msg_param: dict) -> str:
        data = await self._request("POST", f"{self.api}/v1.0/robot/groupMessages/send", {
            "robotCode": self.robot_code, "openConversationId": conversation_id, "msgKey": msg_key,
            "msgParam": json.dumps(msg_param, ensure_ascii=False)})
        return str(data.get("processQueryKey", ""))

    async def send_card(self, card_biz_id: str, card_data: dict, *, user_id: str = "",
                        conversation_id: str = "") -> None:
        """Interactive card, 普通版 (StandardCard), to one user or a group.

        Body per https://open.dingtalk.com/document/development/robots-send-interactive-cards (same call as
        dingtalk-stream 0.24.3 ChatbotHandler.reply_card): cardTemplateId is fixed to "StandardCard", cardBizId is
        our idempotent card id (≤100 chars; it comes back as the callback's outTrackId), cardData is the card JSON as
        a string, singleChatReceiver is a JSON string {"userId": …}, exclusive with openConversationId. This API
        has no callbackRouteKey/callbackType: its only callback field is an optional raw `callbackUrl`, and
        DingTalk's card FAQ says 普通版 cards do not support Stream-mode callbacks
        (open-dingtalk/developerpedia docs/learn/card/intro.md).
        """
        body: dict[str, Any] = {"cardTemplateId": "StandardCard", "robotCode": self.robot_code,
                                "cardBizId": card_biz_id, "cardData": json.dumps(card_data, ensure_ascii=False),
                                "sendOptions": {"atAll": False}, "pullStrategy": False}
        if conversation_id:
            body["openConversationId"] = conversation_id
        else:
            body["singleChatReceiver"] = json.dumps({"userId": user_id})
        await self._request("POST", f"{self.api}/v1.0/im/v1.0/robot/interactiveCards/send", body)

    async def update_card(self, card_biz_id: str, card_data: dict) -> None:
        """Replace a 普通版 card's data: PUT {cardBizId, cardData}; without updateOptions DingTalk replaces the whole
        cardData (https://open.dingtalk.com/document/development/update-the-robot-to-send-interactive-cards;
        dingtalk-stream 0.24.3 ChatbotHandler.update_card)."""
        await self._request("PUT", f"{self.api}/v1.0/im/robots/interactiveCards", {
            "cardBizId": card_biz_id, "cardData": json.dumps(card_data, ensure_ascii=False)})

    async def custom_robot(self, body: dict) -> dict:
        """Group custom robot (自定义机器人) with signing; 20 messages per minute per robot."""
        token, secret = self.section.group_robot_token, self.section.group_robot_secret
        if not token:
            raise PlatformError("dingtalk group_robot_token is not configured", permanent=True)
        self.custom_robot_limiter.take("dingtalk custom robot")
        url = f"{self.oapi}/robot/send?access_token={quote_plus(token)}"
        if secret:
            ts = self.clock.now_ms()
            url += f"&timestamp={ts}&sign={quote_plus(sign(secret, ts))}"
        return await self._request("POST", url, body, auth=None)

    # ------------------------------------------------------------------ files
    async def upload_image(self, blob: bytes, filename: str = "image.png") -> str:
        """oapi media/upload type=image; the returned media_id is what sampleImageMsg's photoURL accepts."""
        return await self.upload_media(blob, filename, "image", "image/png")

    async def upload_file(self, blob: bytes, filename: str) -> str:
        """oapi media/upload type=file (doc/xls/xlsx/pdf/zip…, at most 20 MB); the media_id is sampleFile's mediaId."""
        return await self.upload_media(blob, filename, "file", "application/octet-stream")

    async def upload_media(self, blob: bytes, filename: str, kind: str, content_type: str) -> str:
        """oapi media/upload. A token DingTalk calls invalid is renewed and the upload tried once more, like every
        other call (see `_request`)."""
        token = ""
        for attempt in (0, 1):
            token = await self.access_token(refused=token if attempt else "")
            form = aiohttp.FormData()  # a FormData is consumed by one request: build it for each attempt
            form.add_field("type", kind)
            form.add_field("media", blob, filename=filename, content_type=content_type)
            http = await self._http()
            try:
                async with http.post(f"{self.oapi}/media/upload", params={"access_token": token, "type": kind},
                                     data=form) as resp:
                    status = resp.status
                    text = await resp.text()
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise PlatformError(f"dingtalk media upload failed: {type(exc).__name__}") from None
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                data = {}
            if attempt == 0 and isinstance(data, dict) and _token_invalid(status, data):
                continue
            if status >= 500:
                raise PlatformError(f"dingtalk media upload HTTP {status}")
            media_id = data.get("media_id") if isinstance(data, dict) else None
            if status >= 400 or not isinstance(media_id, str) or not media_id:
                raise PlatformError(f"dingtalk media upload failed: {str(data)[:200]}", permanent=True)
            return media_id
        raise PlatformError("dingtalk media upload: access token refused twice")

    async def download(self, download_code: str, max_bytes: int = 50 * 1024 * 1024) -> bytes:
        """A robot message file (picture, audio, file, video) by its downloadCode."""
        data = await self._request("POST", f"{self.api}/v1.0/robot/messageFiles/download",
                                   {"downloadCode": download_code, "robotCode": self.robot_code})
        url = data.get("downloadUrl")
        if not isinstance(url, str) or not url:
            raise PlatformError("dingtalk downloadUrl missing", permanent=True)
        http = await self._http()
        try:
            async with http.get(url) as resp:
                if resp.status != 200:
                    raise PlatformError(f"dingtalk file download HTTP {resp.status}", permanent=resp.status < 500)
                out = await resp.content.read(max_bytes + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PlatformError(f"dingtalk file download failed: {type(exc).__name__}") from None
        if len(out) > max_bytes:
            raise PlatformError("dingtalk file larger than the download limit", permanent=True)
        return out

    # ------------------------------------------------------------------ org (oapi topapi)
    async def _oapi(self, path: str, body: dict) -> Any:
        data = await self._request("POST", f"{self.oapi}{path}", body, auth="query")
        return data.get("result")

    async def sub_departments(self, dept_id: int) -> list[dict]:
        result = await self._oapi("/topapi/v2/department/listsub", {"dept_id": dept_id})
        return [d for d in result or [] if isinstance(d, dict)]

    async def department(self, dept_id: int) -> dict:
        result = await self._oapi("/topapi/v2/department/get", {"dept_id": dept_id})
        return result if isinstance(result, dict) else {}

    async def department_users(self, dept_id: int) -> list[dict]:
        users: list[dict] = []
        cursor = 0
        for _ in range(1000):  # hard stop against a server that never says has_more = false
            result = await self._oapi("/topapi/v2/user/list", {"dept_id": dept_id, "cursor": cursor, "size": 100})
            if not isinstance(result, dict):
                break
            users.extend(u for u in result.get("list") or [] if isinstance(u, dict))
            if not result.get("has_more"):
                break
            cursor = int(result.get("next_cursor") or 0)
        return users
