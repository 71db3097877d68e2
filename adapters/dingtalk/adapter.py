"""The DingTalk adapter: stream mode (default) or HTTP outgoing robot inbound; OpenAPI, session webhook and
custom-robot outbound; card presses back as CardAction; org sync on a schedule.

Inbound order is always verify → parse → persist (AdapterContext.accept, deduped by msgId) → ACK, so an ACKed
message is never lost and a redelivered one is processed once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from aiohttp import web
from dingtalk_stream import AckMessage, Credential

from adapters import guard
from adapters.base import Adapter, AdapterContext, org_synced, run_on_cron
from adapters.dingtalk import parse, render, template_cards
from adapters.dingtalk.client import DingTalkApi
from adapters.dingtalk.org_sync import sync_org
from adapters.dingtalk.sign import verify
from adapters.dingtalk.stream import CARD_TOPIC, ROBOT_TOPIC, FrameHandler, GatewayStreamClient, point_sdk_at
from bot.errors import BadPayload, PlatformAuthError, PlatformError
from bot.media import MediaRequest, MediaUnavailable
from bot.replies import Reply, ReplyKind, Target
from prompts import Prompts
from store import platform_cards, used_signatures
from store.platform_org import SyncResult

log = logging.getLogger("salespulse.dingtalk")

PLATFORM = "dingtalk"
ORG_SYNC_KEY = "dingtalk.org_synced_at"
CUSTOM_ROBOT_CHAT = "custom-robot"  # Target(chat_id=...) that goes to the group custom robot webhook
WEBHOOK_MARGIN_MS = 5_000


class DingTalkAdapter(Adapter):
    platform = PLATFORM

    def __init__(self, ctx: AdapterContext) -> None:
        super().__init__(ctx)
        self.section = ctx.config.dingtalk
        self.prompts = Prompts(ctx.config.bot.locale)
        self.api = DingTalkApi(self.section, ctx.clock)
        self.stream: GatewayStreamClient | None = None
        self._stream_task: asyncio.Task | None = None
        self._org_task: asyncio.Task | None = None
        self._background: set[asyncio.Task] = set()
        self.stream_retry_s = 5.0

    # ------------------------------------------------------------------ lifecycle
    def routes(self) -> list[web.RouteDef]:
        if self.section.mode == "http":
            return [web.post(self.section.callback_path, self.handle_http)]
        return []

    async def start(self) -> None:
        if self.section.mode == "stream":
            point_sdk_at(self.section.api_base_url)
            client = GatewayStreamClient(Credential(self.section.client_id, self.section.client_secret),
                                         retry_s=self.stream_retry_s)
            client.register_callback_handler(ROBOT_TOPIC, FrameHandler(self.on_robot_frame))
            client.register_callback_handler(CARD_TOPIC, FrameHandler(self.on_card_frame))
            self.stream = client
            self._stream_task = asyncio.create_task(client.start(), name="dingtalk-stream")
        if self.section.org_sync_cron and self.section.client_id:
            self._org_task = asyncio.create_task(
                run_on_cron(self.ctx, self.section.org_sync_cron, ORG_SYNC_KEY, self.sync_org, "dingtalk org sync"),
                name="dingtalk-org-sync")

    async def stop(self) -> None:
        tasks = [t for t in (self._stream_task, self._org_task, *self._background) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        self._stream_task = self._org_task = None
        await self.api.close()

    def connected(self) -> bool | None:
        if self.section.mode != "stream":
            return None
        return self.stream is not None and self.stream.connected.is_set()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ------------------------------------------------------------------ inbound
    def _persist_robot(self, data: Any) -> bool:
        """Parse and persist one robot message; malformed ones are kept as unsupported. True if new."""
        now = self.ctx.clock.now_ms()
        try:
            parsed = parse.parse_robot_message(data, now)
        except BadPayload as exc:
            digest = hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:20]
            return self.ctx.accept(PLATFORM, f"bad:{digest}", data, None, unsupported_reason=str(exc))
        return self.ctx.accept(PLATFORM, parsed.external_id, data, parsed.event, unsupported_reason=parsed.unsupported)

    async def on_robot_frame(self, data: dict, delivery_id: str) -> tuple[int, object]:
        self._persist_robot(data)
        return AckMessage.STATUS_OK, "OK"

    async def on_card_frame(self, data: dict, delivery_id: str) -> tuple[int, object]:
        now = self.ctx.clock.now_ms()
        try:
            press = parse.parse_card_callback(data)
        except BadPayload as exc:
            self.ctx.accept(PLATFORM, f"card:bad:{delivery_id}", data, None, unsupported_reason=str(exc))
            return AckMessage.STATUS_OK, {}
        external_id = parse.card_press_id(press, delivery_id)
        known = platform_cards.lookup(self.ctx.store, PLATFORM, press.card_ref)
        reply = Reply.from_dict(known[1]) if known else None
        button = render.button_for(reply, press.action_id) if reply else None
        if button is not None:
            action, value = button.action, dict(button.value)
        else:
            action = str(press.params.get("action") or press.action_id)
            value = press.params.get("value") if isinstance(press.params.get("value"), dict) else {}
        if not action:
            self.ctx.accept(PLATFORM, external_id, data, None, unsupported_reason="card press without an action")
            return AckMessage.STATUS_OK, {}
        event = parse.card_action_event(press, external_id, action, value, now)
        new = self.ctx.accept(PLATFORM, external_id, data, event)
        if new and reply is not None and button is not None:
            self._spawn(self._show_pressed(press.card_ref, reply, button.text))
        return AckMessage.STATUS_OK, {}

    async def _show_pressed(self, card_ref: str, reply: Reply, button_text: str) -> None:
        """Best effort: re-render the card without its buttons and with who pressed what."""
        footer = self.prompts.t("platforms.card_pressed", button=button_text)
        try:
            if self.section.card_template_id:
                await template_cards.update(self.api, card_ref, reply, footer)
                return
            await self.api.update_card(card_ref, render.card_data(reply, footer=footer))
        except (PlatformError, OSError, TimeoutError) as exc:
            log.warning("dingtalk card %s not updated: %s", card_ref, exc)

    async def handle_http(self, request: web.Request) -> web.Response:
        """Outgoing-robot mode: signed POSTs of the same message JSON as stream mode.

        The sign covers only the timestamp, so besides the window each timestamp/sign pair is accepted once: again
        only with the very same body (a redelivery, deduped by msgId), never with another (a forged body under a
        captured header pair). What this can and cannot prove: docs/platforms/dingtalk.md."""
        refuse = self.ctx.refusals.refuse
        limit = self.ctx.config.server.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return refuse(request, PLATFORM, "too_large", f"Content-Length {request.content_length}")
        now = self.ctx.clock.now_ms()
        window_ms = self.section.http_sign_window_s * 1000
        timestamp, signature = request.headers.get("timestamp"), request.headers.get("sign")
        try:
            verify(self.section.client_secret, timestamp, signature, now, window_ms)
        except PlatformAuthError as exc:
            return refuse(request, PLATFORM, "signature", str(exc))
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return refuse(request, PLATFORM, "too_large", "body over the limit")
        if len(body) > limit:
            return refuse(request, PLATFORM, "too_large", f"{len(body)} bytes")
        try:
            data = guard.loads_object(body)
        except BadPayload as exc:
            return refuse(request, PLATFORM, "malformed_json", str(exc))
        expires = (guard.digits(timestamp) or now) + window_ms
        if not used_signatures.claim(self.ctx.store, PLATFORM, f"{timestamp}:{signature}",
                                     hashlib.sha256(body).hexdigest(), expires, now):
            return refuse(request, PLATFORM, "replayed", "timestamp/sign pair already used for another body")
        self._persist_robot(data)
        return web.json_response({})

    # ------------------------------------------------------------------ outbound
    async def send(self, target: Target, reply: Reply, key: str) -> str | None:
        if reply.kind == ReplyKind.CARD and target.chat_id != CUSTOM_ROBOT_CHAT:
            return await self._send_card(target, reply, key)
        if target.chat_id == CUSTOM_ROBOT_CHAT:
            await self.api.custom_robot(render.webhook_message(reply))
            return "custom-robot"
        if reply.kind == ReplyKind.FILE and (target.chat_id or target.user_id):
            return await self._send_file(target, reply)
        image_id = await self._upload_image(reply) if reply.kind == ReplyKind.IMAGE else ""
        webhook, expires = parse.split_reply_token(target.reply_token)
        usable = webhook and (expires == 0 or expires > self.ctx.clock.now_ms() + WEBHOOK_MARGIN_MS)
        if usable and not image_id:
            try:
                await self.api.session_webhook(webhook, render.webhook_message(reply))
                return "session-webhook"
            except PlatformError as exc:  # expired or revoked early: the OpenAPI still reaches them
                if not exc.permanent or not (target.chat_id or target.user_id):
                    raise
                log.warning("dingtalk session webhook refused (%s); using the robot OpenAPI", exc)
        if image_id:
            msg_key, msg_param = "sampleImageMsg", {"photoURL": image_id}
        else:
            msg_key, msg_param = render.robot_message(reply)
        if target.chat_id or target.user_id:
            return await self._robot_send(target, msg_key, msg_param)
        raise PlatformError("dingtalk target has neither user_id nor chat_id", permanent=True)

    async def _send_file(self, target: Target, reply: Reply) -> str:
        """A document (an .xlsx export): its text version, then the file uploaded with media/upload type=file and
        sent through the robot OpenAPI as sampleFile {mediaId, fileName, fileType} (a session webhook carries no
        files)."""
        path = Path(reply.file_path)
        try:
            blob = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise PlatformError(f"dingtalk file {path}: {exc.strerror}", permanent=True) from None
        if reply.alt_text:
            await self._robot_send(target, *render.robot_message(Reply.plain(
                f"{reply.title}\n{reply.alt_text}" if reply.title else reply.alt_text)))
        media_id = await self.api.upload_file(blob, path.name)
        return await self._robot_send(target, "sampleFile", {"mediaId": media_id, "fileName": path.name,
                                                             "fileType": path.suffix.lstrip(".").lower() or "file"})

    async def _robot_send(self, target: Target, msg_key: str, msg_param: dict) -> str:
        if target.chat_id:
            return await self.api.send_to_group(target.chat_id, msg_key, msg_param)
        return await self.api.send_to_users([target.user_id], msg_key, msg_param)

    async def _upload_image(self, reply: Reply) -> str:
        """Upload a chart; a missing file degrades to its text version (empty id)."""
        try:
            blob = await asyncio.to_thread(Path(reply.image_path).read_bytes)
        except (OSError, ValueError):
            log.warning("dingtalk: image %r not readable; sending its text version", reply.image_path)
            return ""
        return await self.api.upload_image(blob, Path(reply.image_path).name or "image.png")

    async def _send_card(self, target: Target, reply: Reply, key: str) -> str:
        """cardBizId is derived from the outbox key: a retry re-sends the same card, never a second one."""
        card_ref = "sp" + hashlib.sha256(key.encode()).hexdigest()[:30]
        platform_cards.remember(self.ctx.store, PLATFORM, card_ref, target.to_dict(), reply.to_dict(),
                                self.ctx.clock.now_ms())
        if self.section.card_template_id:  # 高级版: presses come back on the stream (template_cards.py)
            await template_cards.deliver(self.api, self.section.card_template_id, card_ref, reply,
                                         user_id=target.user_id, conversation_id=target.chat_id)
            return card_ref
        await self.api.send_card(card_ref, render.card_data(reply), user_id=target.user_id,
                                 conversation_id=target.chat_id)
        return card_ref

    async def update_card(self, card_ref: str, reply: Reply) -> None:
        platform_cards.remember(self.ctx.store, PLATFORM, card_ref, {}, reply.to_dict(), self.ctx.clock.now_ms())
        if self.section.card_template_id:
            await template_cards.update(self.api, card_ref, reply)
            return
        await self.api.update_card(card_ref, render.card_data(reply))

    async def download(self, download_code: str) -> bytes:
        return await self.api.download(download_code)

    async def fetch_media(self, request: MediaRequest) -> bytes:
        """bot/media.py fetcher: a robot message file by its downloadCode (audio arrives with its own transcript)."""
        try:
            return await self.api.download(request.media_id, max_bytes=request.max_bytes)
        except PlatformError as exc:
            raise MediaUnavailable(str(exc), permanent=exc.permanent) from None

    async def download_voice_wav(self, download_code: str) -> bytes:
        from adapters.feishu.audio import to_wav16k_async

        return await to_wav16k_async(await self.api.download(download_code))

    # ------------------------------------------------------------------ org sync
    async def sync_org(self) -> SyncResult:
        result = await sync_org(self.api, self.ctx.store)
        org_synced(self.ctx, ORG_SYNC_KEY, "dingtalk", result)
        return result

    # ------------------------------------------------------------------ doctor
    def doctor(self) -> list[tuple[str, bool, str]]:
        """Rows in the configured locale (prompts platforms.dingtalk_doctor_*)."""
        s, t = self.section, self.t
        rows: list[tuple[str, bool, str]] = []
        missing = [k for k, v in (("client_id", s.client_id), ("client_secret", s.client_secret)) if not v]
        rows.append((t("platforms.dingtalk_doctor_credentials"), not missing,
                     t("platforms.dingtalk_doctor_credentials_ok") if not missing else
                     t("platforms.dingtalk_doctor_credentials_missing", keys=", ".join(missing))))
        inbound = t("platforms.dingtalk_doctor_inbound")
        if s.mode == "stream":
            rows.append((inbound, True, t("platforms.dingtalk_doctor_stream", url=s.api_base_url)))
        elif s.mode == "http":
            url = self.ctx.config.server.public_base_url.rstrip("/") + s.callback_path
            ok = url.startswith("https://")
            rows.append((inbound, ok, t("platforms.dingtalk_doctor_http", url=url)
                         + ("" if ok else t("platforms.dingtalk_doctor_not_https"))
                         + t("platforms.dingtalk_doctor_http_cards")))
        else:
            rows.append((inbound, False, t("platforms.doctor_bad_mode", modes="stream / http", mode=s.mode)))
        rows.append((t("platforms.dingtalk_doctor_template"), True,
                     t("platforms.dingtalk_doctor_template_ok", id=s.card_template_id) if s.card_template_id
                     else t("platforms.dingtalk_doctor_template_unset")))
        code = s.robot_code or s.client_id or t("platforms.doctor_unset_word")
        rows.append(("robot_code", True, f"robot_code = {code}"
                     + ("" if s.robot_code else t("platforms.dingtalk_doctor_robot_code_default"))))
        if s.group_robot_token or s.group_robot_secret:
            ok = bool(s.group_robot_token and s.group_robot_secret)
            rows.append((t("platforms.dingtalk_doctor_custom_robot"), ok,
                         t("platforms.dingtalk_doctor_custom_robot_ok") if ok else
                         t("platforms.dingtalk_doctor_custom_robot_half")))
        return rows
