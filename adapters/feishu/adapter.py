"""The Feishu adapter: event subscription over HTTP (our own aiohttp route) or the long connection (lark.ws.Client
in its own thread); im.v1 outbound; card presses with a toast and an updated card in the 3-second answer; org sync.

HTTP order: size → bounded JSON → decrypt → verification token → signature / timestamp → persist through
AdapterContext.accept (dedupe by header.event_id) → 200. We do not hand requests to lark-oapi's
EventDispatcherHandler: its unmarshal fails (HTTP 500, "will retry" forever) on an authentic event whose `event` or
`event.message` is not an object, and it writes the challenge reply without JSON escaping. Our parsers keep any
authentic payload they cannot use as `unsupported` and ack it, and the challenge reply is built with json.dumps.
Refusals go through ctx.refusals (fixed short text + reference id; details in a rate-limited log).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from lark_oapi.core.const import LARK_REQUEST_NONCE, LARK_REQUEST_SIGNATURE, LARK_REQUEST_TIMESTAMP
from lark_oapi.core.utils import AESCipher
from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse

from adapters import guard
from adapters.base import Adapter, AdapterContext, org_synced, run_on_cron
from adapters.feishu import parse, render
from adapters.feishu.client import FeishuApi
from adapters.feishu.org_sync import sync_org
from adapters.feishu.ws import LongConnection
from bot.errors import BadPayload, PlatformError
from bot.media import MediaRequest, MediaUnavailable
from bot.replies import Reply, ReplyKind, Target
from prompts import Prompts
from store import platform_cards
from store.platform_org import SyncResult

log = logging.getLogger("salespulse.feishu")

PLATFORM = "feishu"
ORG_SYNC_KEY = "feishu.org_synced_at"
WINDOW_S = 3600
PERSIST_TIMEOUT_S = 2.5  # Feishu wants an answer within 3 s
T = TypeVar("T")


class _WsHandler:
    """What lark.ws.Client calls with each event frame (its `_do_without_validation`): the same persistence as HTTP;
    a card press answers with the toast / updated card, everything else with nothing."""

    def __init__(self, adapter: FeishuAdapter) -> None:
        self.adapter = adapter

    def _do_without_validation(self, payload: bytes) -> Any:
        try:
            envelope = guard.loads_object(payload)
            _eid, event_type = parse.envelope_header(envelope)
        except BadPayload as exc:
            reason = str(exc)
            self.adapter._on_main(lambda: self.adapter._keep_bad(payload, reason))
            return None
        if event_type == parse.CARD_EVENT:
            return P2CardActionTriggerResponse(self.adapter._on_main(lambda: self.adapter._persist_card(envelope)))
        self.adapter._on_main(lambda: self.adapter._persist_message(envelope))
        return None


class FeishuAdapter(Adapter):
    platform = PLATFORM

    def __init__(self, ctx: AdapterContext) -> None:
        super().__init__(ctx)
        self.section = ctx.config.feishu
        self.prompts = Prompts(ctx.config.bot.locale)
        self.api = FeishuApi(self.section, ctx.clock)
        self.long_connection: LongConnection | None = None
        self._main_loop: asyncio.AbstractEventLoop | None = None
        self._main_thread = threading.get_ident()
        self._org_task: asyncio.Task | None = None

    # ------------------------------------------------------------------ lifecycle
    def routes(self) -> list[web.RouteDef]:
        return [web.post(self.section.callback_path, self.handle_http)] if self.section.mode == "http" else []

    async def start(self) -> None:
        self._main_loop = asyncio.get_running_loop()
        self._main_thread = threading.get_ident()
        if self.section.mode == "ws":
            self.long_connection = LongConnection(self.section.app_id, self.section.app_secret, self.section.domain,
                                                  _WsHandler(self))
            self.long_connection.start()
        if self.section.org_sync_cron and self.section.app_id:
            self._org_task = asyncio.create_task(
                run_on_cron(self.ctx, self.section.org_sync_cron, ORG_SYNC_KEY, self.sync_org, "feishu org sync"),
                name="feishu-org-sync")

    async def stop(self) -> None:
        if self.long_connection is not None:
            await self.long_connection.stop()
            self.long_connection = None
        if self._org_task is not None:
            self._org_task.cancel()
            await asyncio.wait([self._org_task], timeout=5)
            self._org_task = None
        await self.api.close()

    def connected(self) -> bool | None:
        if self.section.mode != "ws":
            return None
        return self.long_connection is not None and self.long_connection.connected

    # ------------------------------------------------------------------ persistence (main loop only)
    def _on_main(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the main loop's thread (the store's home) and wait for it: persist before the ACK."""
        if threading.get_ident() == self._main_thread or self._main_loop is None:
            return fn()

        async def call() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), self._main_loop).result(PERSIST_TIMEOUT_S)

    def _keep_bad(self, payload: Any, reason: str) -> bool:
        raw = payload if isinstance(payload, bytes | str) else json.dumps(payload, default=str)
        digest = hashlib.sha1(raw if isinstance(raw, bytes) else raw.encode()).hexdigest()[:20]
        body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        return self.ctx.accept(PLATFORM, f"bad:{digest}", {"raw": body[:10000]}, None, unsupported_reason=reason)

    def _persist_message(self, envelope: dict) -> bool:
        now = self.ctx.clock.now_ms()
        try:
            parsed = parse.parse_message(envelope, now)
        except BadPayload as exc:
            return self._keep_bad(json.dumps(envelope, ensure_ascii=False, default=str), str(exc))
        return self.ctx.accept(PLATFORM, parsed.external_id, envelope, parsed.event,
                               unsupported_reason=parsed.unsupported)

    def _persist_card(self, envelope: dict) -> dict:
        """Persist the press; answer with a toast and, for a card we sent, the card re-rendered as pressed."""
        now = self.ctx.clock.now_ms()
        toast = {"type": "success", "content": self.prompts.t("platforms.card_received")}
        try:
            press = parse.parse_card_action(envelope)
        except BadPayload as exc:
            self._keep_bad(json.dumps(envelope, ensure_ascii=False, default=str), str(exc))
            return {}
        event = parse.card_action_event(press, now)
        if event is None:
            self.ctx.accept(PLATFORM, press.event_id, envelope, None, unsupported_reason="card value without action")
            return {}
        self.ctx.accept(PLATFORM, press.event_id, envelope, event)
        answer: dict[str, Any] = {"toast": toast}
        known = platform_cards.lookup(self.ctx.store, PLATFORM, press.message_id) if press.message_id else None
        if known is not None:
            reply = Reply.from_dict(known[1])
            label = next((b.text for b in reply.buttons if b.action == event.action and dict(b.value) == event.value),
                         self.prompts.t("platforms.card_button_fallback"))
            footer = self.prompts.t("platforms.card_pressed", button=label)
            answer["card"] = {"type": "raw", "data": render.card(reply, footer=footer)}
        return answer

    # ------------------------------------------------------------------ HTTP
    def _check_signature(self, request: web.Request, body: bytes) -> str | None:
        """None when fine, else the reason for the log. Only meaningful with an encrypt key (as Feishu signs)."""
        ts = request.headers.get(LARK_REQUEST_TIMESTAMP, "")
        nonce = request.headers.get(LARK_REQUEST_NONCE, "")
        signature = request.headers.get(LARK_REQUEST_SIGNATURE, "")
        if not ts or not signature:
            return "missing X-Lark-Request-Timestamp/X-Lark-Signature"
        seconds = guard.digits(ts)  # 5,000 digits pass isdigit() but make int() raise
        if seconds is None or abs(self.ctx.clock.now_ms() // 1000 - seconds) > WINDOW_S:
            return "request timestamp outside the 1-hour window"
        # surrogatepass: non-UTF-8 header bytes arrive as lone surrogates; a strict encode was a 500, not a 401
        expected = hashlib.sha256((ts + nonce + self.section.encrypt_key).encode("utf-8", "surrogatepass")
                                  + body).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "surrogatepass")):
            return "bad signature"
        return None

    async def handle_http(self, request: web.Request) -> web.Response:
        refuse = self.ctx.refusals.refuse
        limit = self.ctx.config.server.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return refuse(request, PLATFORM, "too_large", f"Content-Length {request.content_length}")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return refuse(request, PLATFORM, "too_large", "body over the limit")
        if len(body) > limit:
            return refuse(request, PLATFORM, "too_large", f"{len(body)} bytes")
        try:
            outer = guard.loads_object(body)
        except BadPayload as exc:
            return refuse(request, PLATFORM, "malformed_json", str(exc))
        key = self.section.encrypt_key
        if "encrypt" in outer:
            if not key:
                return refuse(request, PLATFORM, "bad_request", "encrypted event but no encrypt_key configured")
            try:
                plain = AESCipher(key).decrypt_str(str(outer["encrypt"]))
            except (ValueError, UnicodeDecodeError, TypeError, IndexError) as exc:
                return refuse(request, PLATFORM, "decrypt", f"{type(exc).__name__} (check encrypt_key)")
            try:
                inner = guard.loads_object(plain)
            except BadPayload as exc:
                return refuse(request, PLATFORM, "decrypt", f"decrypted body: {exc}")
        elif key:
            return refuse(request, PLATFORM, "bad_request", "expected an encrypted body (encrypt_key is set)")
        else:
            inner = outer
        is_challenge = inner.get("type") == "url_verification"
        header = inner.get("header")
        token = inner.get("token") if is_challenge else (header.get("token") if isinstance(header, dict) else None)
        if self.section.verification_token and not hmac.compare_digest(
                str(token or "").encode("utf-8", "surrogatepass"), self.section.verification_token.encode()):
            return refuse(request, PLATFORM, "token", "bad verification token")
        if is_challenge:  # json.dumps escapes; lark-oapi formats the challenge into the reply unescaped
            return web.json_response({"challenge": str(inner.get("challenge") or "")})
        if key:
            problem = self._check_signature(request, body)
            if problem:
                return refuse(request, PLATFORM, "signature", problem)
        try:
            _eid, event_type = parse.envelope_header(inner)
        except BadPayload as exc:
            self._keep_bad(json.dumps(inner, ensure_ascii=False, default=str), str(exc))
            return web.json_response({"msg": "success"})
        if event_type == parse.CARD_EVENT:
            return web.json_response(self._persist_card(inner))
        self._persist_message(inner)
        return web.json_response({"msg": "success"})

    # ------------------------------------------------------------------ outbound
    async def _render(self, reply: Reply) -> tuple[str, str]:
        """Images are uploaded and sent as an image card; a missing file degrades to its text version."""
        if reply.kind == ReplyKind.IMAGE and reply.image_path:
            try:
                blob = await asyncio.to_thread(Path(reply.image_path).read_bytes)
            except OSError:
                log.warning("feishu: image %s not readable; sending its text version", reply.image_path)
            else:
                return "interactive", render.image_card(reply, await self.api.upload_image(blob))
        return render.message(reply)

    # Feishu's upload file_type per suffix; any other document goes up as "stream"
    FILE_TYPES = {".xlsx": "xls", ".xls": "xls", ".csv": "stream", ".pdf": "pdf", ".doc": "doc", ".docx": "doc",
                  ".ppt": "ppt", ".pptx": "ppt", ".mp4": "mp4", ".opus": "opus"}

    async def send(self, target: Target, reply: Reply, key: str) -> str | None:
        if reply.kind == ReplyKind.FILE:
            return await self._send_file(target, reply, key)
        return await self._send_rendered(target, reply, key, *(await self._render(reply)))

    async def _send_file(self, target: Target, reply: Reply, key: str) -> str | None:
        """A document (an .xlsx export): its text version as a post, then the file uploaded to im/v1/files and sent
        as msg_type "file" with its file_key."""
        path = Path(reply.file_path)
        try:
            blob = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise PlatformError(f"feishu file {path}: {exc.strerror}", permanent=True) from None
        if reply.alt_text:
            await self._send_rendered(target, reply, f"{key}:alt", *render.message(reply))
        file_key = await self.api.upload_file(blob, path.name, self.FILE_TYPES.get(path.suffix.lower(), "stream"))
        return await self._send_rendered(target, reply, key, "file", json.dumps({"file_key": file_key}))

    async def _send_rendered(self, target: Target, reply: Reply, key: str, msg_type: str, content: str) -> str | None:
        uuid = hashlib.sha1(key.encode()).hexdigest()  # Feishu dedupes a uuid for an hour: retries never double-send
        message_id, replied = "", False
        if target.reply_token:
            try:
                message_id = await self.api.reply_message(target.reply_token, msg_type, content, uuid)
                replied = True
            except PlatformError as exc:  # the message may be gone (recalled); answer in the chat instead
                if not exc.permanent or not (target.chat_id or target.user_id):
                    raise
                log.warning("feishu reply to %s failed (%s); sending a new message", target.reply_token, exc)
        if not replied:
            if target.chat_id:
                message_id = await self.api.create_message("chat_id", target.chat_id, msg_type, content, uuid)
            elif target.user_id:
                message_id = await self.api.create_message("open_id", target.user_id, msg_type, content, uuid)
            else:
                raise PlatformError("feishu target has neither user_id nor chat_id", permanent=True)
        if reply.kind == ReplyKind.CARD and message_id:
            platform_cards.remember(self.ctx.store, PLATFORM, message_id, target.to_dict(), reply.to_dict(),
                                    self.ctx.clock.now_ms())
        return message_id

    async def update_card(self, message_id: str, reply: Reply) -> None:
        await self.api.patch_card(message_id, render.card_content(reply))
        platform_cards.remember(self.ctx.store, PLATFORM, message_id, {}, reply.to_dict(), self.ctx.clock.now_ms())

    async def download(self, message_id: str, file_key: str, kind: str = "file") -> bytes:
        """A message's resource: kind "image" for an image_key (image messages, images in a post), "file" for the
        file_key of file / audio / media messages (Feishu's 获取消息中的资源文件 accepts only these two)."""
        return await self.api.resource(message_id, file_key, kind)

    async def fetch_media(self, request: MediaRequest) -> bytes:
        """bot/media.py fetcher: audio (Ogg/Opus) through the message-resource API, type=file (a photo's image_key:
        type=image); the message id is the event id's tail ("feishu:<message_id>")."""
        message_id = request.message_event_id.partition(":")[2] or request.message_event_id
        try:
            return await self.download(message_id, request.media_id, "image" if request.kind == "image" else "file")
        except PlatformError as exc:
            raise MediaUnavailable(str(exc), permanent=exc.permanent) from None

    async def download_voice_wav(self, message_id: str, file_key: str) -> bytes:
        from adapters.feishu.audio import to_wav16k_async

        return await to_wav16k_async(await self.download(message_id, file_key, "file"))

    # ------------------------------------------------------------------ org sync
    async def sync_org(self) -> SyncResult:
        result = await sync_org(self.api, self.ctx.store)
        org_synced(self.ctx, ORG_SYNC_KEY, "feishu", result)
        return result

    # ------------------------------------------------------------------ doctor
    def doctor(self) -> list[tuple[str, bool, str]]:
        """Rows in the configured locale (prompts platforms.feishu_doctor_*)."""
        s, t = self.section, self.t
        rows: list[tuple[str, bool, str]] = []
        missing = [k for k, v in (("app_id", s.app_id), ("app_secret", s.app_secret)) if not v]
        rows.append((t("platforms.feishu_doctor_credentials"), not missing,
                     t("platforms.feishu_doctor_credentials_ok") if not missing else
                     t("platforms.feishu_doctor_credentials_missing", keys=", ".join(missing))))
        inbound = t("platforms.feishu_doctor_inbound")
        if s.mode == "http":
            url = self.ctx.config.server.public_base_url.rstrip("/") + s.callback_path
            lacks = [k for k, v in (("encrypt_key", s.encrypt_key), ("verification_token", s.verification_token))
                     if not v]
            ok = not lacks and url.startswith("https://")
            detail = t("platforms.feishu_doctor_http", url=url)
            if lacks:
                detail += t("platforms.feishu_doctor_unsigned", keys=", ".join(lacks))
            if not url.startswith("https://"):
                detail += t("platforms.feishu_doctor_not_https")
            rows.append((inbound, ok, detail))
        elif s.mode == "ws":
            rows.append((inbound, True, t("platforms.feishu_doctor_ws", url=s.domain)))
        else:
            rows.append((inbound, False, t("platforms.doctor_bad_mode", modes="http / ws", mode=s.mode)))
        ok = s.domain.startswith("https://") or s.domain.startswith(("http://127.0.0.1", "http://localhost"))
        rows.append((t("platforms.feishu_doctor_domain"), ok,
                     f"domain = {s.domain}" + ("" if ok else t("platforms.feishu_doctor_domain_https"))))
        return rows
