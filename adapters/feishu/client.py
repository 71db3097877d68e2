"""A thin aiohttp client for Feishu's open API under [feishu] domain (tests point it at a fake on loopback).

Why not lark's Client: its `a*` calls still fetch the tenant token with blocking `requests`. Here the tenant token
is cached until 5 minutes before it expires and refetched once when Feishu says it is invalid. Failures become
PlatformError (permanent for request errors) or PlatformRetryAfter (HTTP 429 / code 99991400).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import aiohttp

from adapters.http import ApiSession
from bot.clock import Clock
from bot.config import FeishuSection
from bot.errors import PlatformError, PlatformRetryAfter

TOKEN_INVALID = {99991661, 99991663, 99991668, 99991671}
RATE_LIMITED = {99991400, 11232, 230020}
RESOURCE_TYPES = ("image", "file")  # the `type` values of the message-resource download


class FeishuApi(ApiSession):
    def __init__(self, section: FeishuSection, clock: Clock, *, timeout_s: float = 10.0) -> None:
        self.section = section
        self.clock = clock
        self.base = section.domain.rstrip("/") + "/open-apis"
        super().__init__(timeout_s)
        self._token = ""
        self._token_expires_ms = 0
        self._lock = asyncio.Lock()
        self.token_fetches = 0

    async def _http(self) -> aiohttp.ClientSession:
        return self.session()

    async def tenant_token(self, *, refused: str = "") -> str:
        """The cached tenant token. `refused` is one Feishu just called invalid (99991663 …): it is replaced only if
        it is still the cached one, so concurrent sends that all hit it fetch a single new token."""
        async with self._lock:
            fresh = self._token and self.clock.now_ms() < self._token_expires_ms
            if fresh and (not refused or refused != self._token):
                return self._token
            data = await self._call("POST", "/auth/v3/tenant_access_token/internal",
                                    {"app_id": self.section.app_id, "app_secret": self.section.app_secret}, auth=False,
                                    whole=True)
            token = data.get("tenant_access_token")
            if not isinstance(token, str) or not token:
                raise PlatformError("feishu tenant_access_token missing", permanent=True)
            self._token = token
            self._token_expires_ms = self.clock.now_ms() + max(int(data.get("expire") or 7200) - 300, 60) * 1000
            self.token_fetches += 1
            return token

    def reset_token(self) -> None:
        self._token, self._token_expires_ms = "", 0

    async def _call(self, method: str, path: str, body: Any = None, *, params: dict | None = None,
                    auth: bool = True, refused: str = "", raw: bool = False, whole: bool = False,
                    files: dict[str, tuple[str, bytes, str]] | None = None) -> Any:
        headers: dict[str, str] = {}
        token = ""
        if auth:
            token = await self.tenant_token(refused=refused)
            headers["Authorization"] = f"Bearer {token}"
        if files is not None:  # multipart: plain fields from `body`, files as (name, bytes, content type)
            data: Any = aiohttp.FormData()
            for k, v in (body or {}).items():
                data.add_field(k, str(v))
            for k, (fname, blob, ctype) in files.items():
                data.add_field(k, blob, filename=fname, content_type=ctype)
        else:
            headers["Content-Type"] = "application/json; charset=utf-8"
            data = None if body is None else json.dumps(body, ensure_ascii=False)
        http = await self._http()
        try:
            async with http.request(method, self.base + path, params=params, headers=headers, data=data) as resp:
                status = resp.status
                reset = resp.headers.get("x-ogw-ratelimit-reset", "")
                ctype = resp.headers.get("Content-Type", "")
                payload = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:  # transport trouble: retry later, with backoff
            raise PlatformError(f"feishu transport error on {path}: {type(exc).__name__}") from None
        if raw and status == 200 and "application/json" not in ctype:
            return payload
        try:
            data = json.loads(payload) if payload else {}
        except (ValueError, UnicodeDecodeError):
            data = {"code": -1, "msg": payload[:200].decode("utf-8", "replace")}
        if not isinstance(data, dict):
            data = {"code": -1, "msg": "not an object"}
        code = data.get("code", 0)
        if code in TOKEN_INVALID and auth and not refused:
            return await self._call(method, path, body, params=params, auth=auth, refused=token, raw=raw, whole=whole,
                                    files=files)
        if status == 429 or code in RATE_LIMITED:
            raise PlatformRetryAfter(f"feishu rate limited on {path}", float(reset) if reset.isdigit() else 1.0)
        if status >= 500:
            raise PlatformError(f"feishu HTTP {status} on {path}: {data.get('msg', '')}")
        if status >= 400 or code != 0:
            raise PlatformError(f"feishu {path}: code {code} {data.get('msg', '')}".strip(), permanent=True)
        if raw:
            return payload
        return data if whole else data.get("data")

    # -- messages
    async def create_message(self, receive_id_type: str, receive_id: str, msg_type: str, content: str,
                             uuid: str = "") -> str:
        body = {"receive_id": receive_id, "msg_type": msg_type, "content": content}
        if uuid:
            body["uuid"] = uuid[:50]
        data = await self._call("POST", "/im/v1/messages", body, params={"receive_id_type": receive_id_type})
        return str((data or {}).get("message_id", ""))

    async def reply_message(self, message_id: str, msg_type: str, content: str, uuid: str = "") -> str:
        body = {"msg_type": msg_type, "content": content}
        if uuid:
            body["uuid"] = uuid[:50]
        data = await self._call("POST", f"/im/v1/messages/{quote(message_id, safe='')}/reply", body)
        return str((data or {}).get("message_id", ""))

    async def patch_card(self, message_id: str, content: str) -> None:
        await self._call("PATCH", f"/im/v1/messages/{quote(message_id, safe='')}", {"content": content})

    async def upload_image(self, blob: bytes, filename: str = "image.png") -> str:
        data = await self._call("POST", "/im/v1/images", {"image_type": "message"},
                                files={"image": (filename, blob, "image/png")})
        key = (data or {}).get("image_key")
        if not isinstance(key, str) or not key:
            raise PlatformError("feishu image_key missing", permanent=True)
        return key

    async def upload_file(self, blob: bytes, filename: str, file_type: str = "stream") -> str:
        """上传文件: POST /open-apis/im/v1/files, multipart file_type (opus/mp4/pdf/doc/xls/ppt/stream), file_name
        and file (at most 30 MB, never empty); the file_key it answers is what a msg_type "file" message carries."""
        data = await self._call("POST", "/im/v1/files", {"file_type": file_type, "file_name": filename},
                                files={"file": (filename, blob, "application/octet-stream")})
        key = (data or {}).get("file_key")
        if not isinstance(key, str) or not key:
            raise PlatformError("feishu file_key missing", permanent=True)
        return key

    async def resource(self, message_id: str, file_key: str, kind: str = "file") -> bytes:
        """获取消息中的资源文件: GET /open-apis/im/v1/messages/:message_id/resources/:file_key?type=…
        (https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message-resource/get; the same URI and
        `type` query in larksuite/oapi-sdk-python lark_oapi/api/im/v1/model/get_message_resource_request.py).
        `type` takes only "image" (images, also those inside a post) or "file" (files, audio, video); the answer is
        the raw bytes (up to 100 MB), a JSON body only on error."""
        if kind not in RESOURCE_TYPES:
            raise PlatformError(f"feishu resource type must be 'image' or 'file', not {kind!r}", permanent=True)
        return await self._call("GET", f"/im/v1/messages/{quote(message_id, safe='')}/resources/"
                                f"{quote(file_key, safe='')}", params={"type": kind}, raw=True)

    # -- contact (org sync)
    async def _pages(self, path: str, params: dict) -> list[dict]:
        items: list[dict] = []
        token = ""
        for _ in range(1000):
            query = {**params, "page_size": "50", **({"page_token": token} if token else {})}
            data = await self._call("GET", path, params=query) or {}
            items.extend(i for i in data.get("items") or [] if isinstance(i, dict))
            if not data.get("has_more"):
                break
            token = str(data.get("page_token") or "")
            if not token:
                break
        return items

    async def child_departments(self, department_id: str = "0") -> list[dict]:
        return await self._pages(f"/contact/v3/departments/{quote(department_id, safe='')}/children",
                                 {"department_id_type": "open_department_id", "fetch_child": "true"})

    async def department_users(self, department_id: str) -> list[dict]:
        return await self._pages("/contact/v3/users/find_by_department",
                                 {"department_id": department_id, "department_id_type": "open_department_id"})
