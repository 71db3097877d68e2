"""WeComAdapter: the app callback route, outbound messages and cards, the archive puller and org sync.

Composition only; the parts live in their own modules (callback, parse, crypto, client, render, media, archive,
ingest, org_sync). Addressing of a Target on WeCom:
- `user_id` → message/send to that member (the bot's 1:1 chat);
- `chat_id` "robot" or "robot:<webhook key>" → the group-robot webhook (20/min per robot, no callbacks);
- any other `chat_id` → appchat/send (a group chat created by the app);
- a button press is shown on the pressed card at once (its buttons become "已收到：…，结果见下一条消息", using the click's
  single-use response_code), as the DingTalk and Feishu adapters do;
- `reply_token` = a card's task_id (CardAction.card_ref) with a card reply → message/update_template_card while an
  unused response_code is known (the one message/send returned); otherwise the card goes out as a new message.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import mimetypes
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.base import Adapter, AdapterContext, next_cron_run_ms, run_on_cron
from adapters.wecom import keys, org_sync, render
from adapters.wecom.callback import CallbackRoute
from adapters.wecom.client import WeComApiError, WeComClient
from adapters.wecom.crypto import CallbackCrypto, aes_key_ok
from bot.errors import PlatformError
from bot.events import CardAction
from bot.media import MediaRequest, MediaUnavailable
from bot.replies import Button, Reply, ReplyKind, Target
from prompts import Prompts
from store import kv
from store import wecom as wecom_store

log = logging.getLogger("salespulse.wecom")

MAX_DUP_CHECK_S = 14400  # WeCom's ceiling for duplicate_check_interval (4 h)


def task_id_for(key: str) -> str:
    """template_card task_id: unique per outbox key, ≤128 bytes, only [0-9a-zA-Z_-@] — a digest of the key."""
    return "sp_" + hashlib.sha1(key.encode("utf-8")).hexdigest()


class WeComAdapter(Adapter):
    platform = "wecom"

    def __init__(self, ctx: AdapterContext) -> None:
        super().__init__(ctx)
        self.section = ctx.config.wecom
        s = self.section
        self.client = WeComClient(s.api_base_url, s.corp_id, s.secret, s.agent_id, ctx.clock)
        self.callback: CallbackRoute | None = None
        if s.token and aes_key_ok(s.encoding_aes_key):
            self.callback = CallbackRoute(ctx, CallbackCrypto(s.token, s.encoding_aes_key, s.corp_id),
                                          on_press=self._on_press)
        self.prompts = Prompts(ctx.config.bot.locale)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._background: set[asyncio.Task] = set()
        self._sends = 0
        self.puller = None

    # ------------------------------------------------------------ inbound

    def routes(self) -> list[web.RouteDef]:
        if self.callback is None:
            log.warning("wecom callback not mounted: token or encoding_aes_key missing/invalid")
            return []
        path = self.section.callback_path
        return [web.get(path, self.callback.verify_url), web.post(path, self.callback.receive)]

    async def start(self) -> None:
        self._stop.clear()
        s = self.section
        if s.archive_sdk_path:
            self.puller = self._build_puller()
            self._tasks.append(asyncio.create_task(self.puller.run(self._stop), name="wecom-archive"))
        if s.secret and s.corp_id and s.org_sync_cron:
            self._tasks.append(asyncio.create_task(
                run_on_cron(self.ctx, s.org_sync_cron, org_sync.LAST_SYNC_KEY, self.sync_org, "wecom org sync"),
                name="wecom-org-sync"))

    async def stop(self) -> None:
        self._stop.set()
        await self.drain_background()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.puller is not None:
            await asyncio.to_thread(self.puller.close)
        await self.client.close()

    def _build_puller(self):
        from adapters.wecom.archive import ArchivePuller, FinanceSdk, load_private_keys

        s = self.section
        keys_by_ver = load_private_keys(s.archive_private_keys)

        def factory() -> FinanceSdk:
            sdk = FinanceSdk(s.archive_sdk_path)
            sdk.init(s.corp_id, s.archive_secret)
            return sdk

        media_dir = Path(self.ctx.config.bot.data_dir) / "wecom-archive"
        return ArchivePuller(self.ctx, factory, keys_by_ver, media_dir=media_dir, poll_s=s.archive_poll_s)

    def next_org_sync_ms(self) -> int:
        """Due time of the next org sync: now when never synced, else the cron's next fire after the last run."""
        return next_cron_run_ms(self.ctx, self.section.org_sync_cron, org_sync.LAST_SYNC_KEY)

    async def sync_org(self) -> org_sync.SyncResult:
        return await org_sync.sync(self.ctx, self.client)

    # ------------------------------------------------------------ card presses

    def _on_press(self, event: CardAction, task_id: str, response_code: str) -> None:
        """After a click is stored: show it on the card (its buttons become "已收到：…，结果见下一条消息"), like DingTalk
        and Feishu. It says received, not accepted: the handler decides later (a press can still be refused or late),
        and its answer follows as a message.

        The response_code is single-use, so it is consumed here; later card replies to the press go out as new
        messages. The update runs in the background: the callback's ack never waits for it.
        """
        card = wecom_store.card(self.ctx.store, task_id)
        label = self.prompts.t("platforms.card_button_fallback")
        if card is not None:
            wecom_store.use_response_code(self.ctx.store, task_id, self.ctx.clock.now_ms())
            value = {k: v for k, v in event.value.items() if k != "selected"}
            for b in Reply.from_dict(card.reply).buttons:
                if b.action == event.action and dict(b.value) == value:
                    label = b.text
                    break
        text = render.truncate_chars(self.prompts.t("platforms.card_pressed", button=label), 20)
        # 更新按钮为不可点击状态: {"userids", "agentid", "response_code", "button": {"replace_name"}}, with the
        # click's own ResponseCode (https://developer.work.weixin.qq.com/document/path/94888)
        body = {"userids": [event.actor.platform_id], "response_code": response_code,
                "button": {"replace_name": text}}
        task = asyncio.get_running_loop().create_task(self._update_pressed(task_id, body))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _update_pressed(self, task_id: str, body: dict[str, Any]) -> None:
        try:
            await self.client.update_template_card(body)
        except (PlatformError, OSError, TimeoutError) as exc:
            log.warning("wecom card %s not updated after the press: %s", task_id, exc)

    async def drain_background(self) -> None:
        """Wait for pending card updates (tests; shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    # ------------------------------------------------------------ outbound

    def _key_for(self, button: Button) -> str:
        key, inline = keys.encode(button.action, dict(button.value))
        if not inline:
            wecom_store.put_button_key(self.ctx.store, key, button.action, dict(button.value))
        return key

    def _dup_check(self, body: dict[str, Any], key: str, suffix: str) -> dict[str, Any]:
        """On a retry of the same outbox key, ask WeCom to drop the message if the first attempt got through — but
        only when that is safe. WeCom's check is by content (the request JSON, doc 90236 发送应用消息), not by our
        key: if another reply with the same recipient and body went out within the interval (the same fixed answer
        asked for twice), the retry is sent without the check, accepting a possible double over a lost reply.
        Cards are always distinguishable: their task_id is derived from the key."""
        now = self.ctx.clock.now_ms()
        self._sends += 1
        if self._sends % 1000 == 0:  # keys older than WeCom's longest duplicate-check window are useless
            wecom_store.prune_attempts(self.ctx.store, now - 2 * MAX_DUP_CHECK_S * 1000)
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]
        full_key = f"{key}{suffix}"
        first = wecom_store.note_attempt(self.ctx.store, full_key, now, digest)
        if first is not None:
            interval = min(MAX_DUP_CHECK_S, max(60, (now - first) // 1000 + 60))
            if wecom_store.same_body_sent_by_another(self.ctx.store, full_key, digest, now - interval * 1000):
                return body
            return {**body, "enable_duplicate_check": 1, "duplicate_check_interval": interval}
        return body

    def _robot_key(self, target: Target) -> str:
        robot_key = target.chat_id.partition(":")[2] or self.section.robot_webhook_key
        if not robot_key:
            raise PlatformError("wecom robot: no webhook key configured", permanent=True)
        return robot_key

    async def _deliver(self, target: Target, body: dict[str, Any], key: str, suffix: str = "",
                       reserved: bool = False) -> str:
        chat = target.chat_id
        if chat == "robot" or chat.startswith("robot:"):
            await self.client.robot_send(self._robot_key(target), body, limited=not reserved)
            return f"robot:{key}{suffix}"
        if chat:
            answer = await self.client.send_appchat(self._dup_check({"chatid": chat, **body}, key, suffix))
            return str(answer.get("msgid", ""))
        if not target.user_id:
            raise PlatformError("wecom: target has neither user_id nor chat_id", permanent=True)
        answer = await self.client.send_message(self._dup_check({"touser": target.user_id, **body}, key, suffix))
        if body.get("msgtype") == "template_card":
            code = answer.get("response_code")
            if isinstance(code, str) and code:
                wecom_store.set_response_code(self.ctx.store, body["template_card"]["task_id"], code,
                                              self.ctx.clock.now_ms())
        return str(answer.get("msgid", ""))

    async def send(self, target: Target, reply: Reply, key: str) -> str | None:
        if reply.kind == ReplyKind.CARD and target.reply_token:
            updated = await self._update_card(target, reply)
            if updated is not None:
                return updated
        robot = target.chat_id == "robot" or target.chat_id.startswith("robot:")
        if reply.kind == ReplyKind.IMAGE:
            return await self._send_image(target, reply, key, robot)
        if reply.kind == ReplyKind.FILE:
            return await self._send_file(target, reply, key, robot)
        task_id = ""
        # Only message/send to members carries clickable template cards; group chats (appchat) and robots get
        # the card as markdown.
        interactive = bool(target.user_id) and not target.chat_id
        if reply.kind == ReplyKind.CARD and reply.buttons and interactive:
            task_id = task_id_for(key)
            wecom_store.save_card(self.ctx.store, task_id, key, target.to_dict(), reply.to_dict(), "",
                                  self.ctx.clock.now_ms())
        bodies = render.bodies_for(reply, task_id=task_id, key_for=self._key_for, robot=not interactive)
        if robot and len(bodies) > 1:  # all parts or none: a retry-after mid-way would repeat the first parts
            self.client.robot_limiter.reserve(self._robot_key(target), len(bodies), "wecom robot")
        ref = await self._deliver(target, bodies[0], key)
        for i, body in enumerate(bodies[1:], start=2):  # a long digest: the rest, in order, each with its own key
            await self._deliver(target, body, key, f":part{i}", reserved=robot)
        return ref

    async def _update_card(self, target: Target, reply: Reply) -> str | None:
        """Update the card a button was pressed on (None when there is no usable response_code: send anew).

        Body as in WeCom's 更新模版卡片消息 (https://developer.work.weixin.qq.com/document/path/94888, read from its
        copy .../path/94945): `userids`, `agentid` (added by the client), `response_code`, and either
        `button.replace_name` (the buttons become unclickable with that text) or a whole new `template_card`.
        A response_code works once and only for 72 h; the store does not know its age, so when WeCom refuses the
        update with an errcode (used or expired code, card gone …) the reply goes out as a new message instead of
        being retried until it dies. Transport failures and rate limits still propagate (the outbox retries).
        """
        card = wecom_store.card(self.ctx.store, target.reply_token)
        if card is None or not card.response_code or not target.user_id:
            return None
        if reply.buttons:
            tc = render.template_card(reply, card.task_id, self._key_for)
            body: dict[str, Any] = {"template_card": tc}
        else:  # no buttons left: the button area shows the new state, e.g. "已确认"
            body = {"button": {"replace_name": render.truncate_chars(reply.title or reply.text, 20)}}
        try:
            await self.client.update_template_card({"userids": [target.user_id],
                                                    "response_code": card.response_code, **body})
        except WeComApiError as exc:
            log.warning("wecom card %s not updated (%s); sending the reply as a new message", card.task_id, exc)
            wecom_store.use_response_code(self.ctx.store, card.task_id, self.ctx.clock.now_ms())
            return None
        wecom_store.use_response_code(self.ctx.store, card.task_id, self.ctx.clock.now_ms())
        return f"update:{card.task_id}"

    async def _send_image(self, target: Target, reply: Reply, key: str, robot: bool) -> str:
        """Upload and send the picture, then its text version (alt_text) for clients that show no images."""
        path = Path(reply.image_path)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise PlatformError(f"wecom image {path}: {exc.strerror}", permanent=True) from None
        if robot:
            import base64

            body = {"msgtype": "image", "image": {"base64": base64.b64encode(content).decode(),
                                                  "md5": hashlib.md5(content).hexdigest()}}
        else:
            ctype = mimetypes.guess_type(path.name)[0] or "image/png"
            media_id = await self.client.upload_media("image", path.name, content, ctype)
            body = {"msgtype": "image", "image": {"media_id": media_id}}
        ref = await self._deliver(target, body, key, ":image")
        if reply.alt_text:
            text = f"{reply.title}\n{reply.alt_text}" if reply.title else reply.alt_text
            await self._deliver(target, render.text_body(text), key, ":alt")
        return ref

    async def _send_file(self, target: Target, reply: Reply, key: str, robot: bool) -> str:
        """A document (an .xlsx export): its text version first (what is in it), then the file itself — uploaded
        with media/upload type=file (an app) or the robot's webhook/upload_media, sent as msgtype "file"."""
        path = Path(reply.file_path)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise PlatformError(f"wecom file {path}: {exc.strerror}", permanent=True) from None
        if reply.alt_text:
            text = f"{reply.title}\n{reply.alt_text}" if reply.title else reply.alt_text
            await self._deliver(target, render.text_body(text), key, ":alt")
        if robot:
            media_id = await self.client.robot_upload(self._robot_key(target), path.name, content)
        else:
            ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            media_id = await self.client.upload_media("file", path.name, content, ctype)
        return await self._deliver(target, {"msgtype": "file", "file": {"media_id": media_id}}, key, ":file")

    # ------------------------------------------------------------ media (same shape as the DingTalk adapter)

    async def download(self, media_id: str) -> bytes:
        """A message's media: an archive file already fetched by the puller, else media/get (callback media)."""
        path = wecom_store.media_path(self.ctx.store, media_id)
        if path and Path(path).is_file():
            return await asyncio.to_thread(Path(path).read_bytes)
        data, _ctype = await self.client.get_media(media_id)
        return data

    async def fetch_media(self, request: MediaRequest) -> bytes:
        """bot/media.py fetcher: an archive note's stored file (AMR, or the WAV made next to it) or media/get."""
        try:
            return await self.download(request.media_id)
        except PlatformError as exc:
            raise MediaUnavailable(str(exc), permanent=exc.permanent) from None

    async def download_voice_wav(self, media_id: str) -> bytes:
        """A voice message (AMR) as 16 kHz mono WAV, ready for speech recognition."""
        from adapters.wecom import media

        data = await self.download(media_id)
        return data if data[:4] == b"RIFF" else await media.to_wav(data)

    # ------------------------------------------------------------ doctor

    def doctor(self) -> list[tuple[str, bool, str]]:
        """Rows in the configured locale (prompts platforms.wecom_doctor_*)."""
        s, t = self.section, self.t
        out: list[tuple[str, bool, str]] = []
        missing = [n for n, v in (("corp_id", s.corp_id), ("secret", s.secret), ("agent_id", s.agent_id)) if not v]
        out.append((t("platforms.wecom_doctor_credentials"), not missing,
                    t("platforms.wecom_doctor_credentials_ok") if not missing else
                    t("platforms.doctor_missing", keys=", ".join(missing))))
        url = self.ctx.config.server.public_base_url.rstrip("/") + s.callback_path
        problems = []
        if not s.token:
            problems.append(t("platforms.doctor_unset", name="token"))
        if not s.encoding_aes_key:
            problems.append(t("platforms.doctor_unset", name="encoding_aes_key"))
        elif not aes_key_ok(s.encoding_aes_key):
            problems.append(t("platforms.wecom_doctor_aes_length", n=len(s.encoding_aes_key)))
        if not s.callback_path.startswith("/"):
            problems.append(t("platforms.doctor_path_slash"))
        detail = t("platforms.doctor_register", url=url)
        detail += t("platforms.doctor_problems", problems="；".join(problems)) if problems else \
            t("platforms.wecom_doctor_keys_ok")
        if not url.startswith("https://"):
            detail += t("platforms.wecom_doctor_not_https")
        out.append((t("platforms.wecom_doctor_callback"), not problems, detail))
        if not s.archive_sdk_path:
            out.append((t("platforms.wecom_doctor_archive"), True, t("platforms.wecom_doctor_archive_off")))
        else:
            out.append((t("platforms.wecom_doctor_archive"), *self._archive_status()))
        if s.robot_webhook_key:
            out.append((t("platforms.wecom_doctor_robot"), True, t("platforms.wecom_doctor_robot_ok")))
        return out

    def _archive_status(self) -> tuple[bool, str]:
        s, t = self.section, self.t
        from adapters.wecom.archive import load_private_keys
        from bot.errors import ConfigError

        if not Path(s.archive_sdk_path).is_file():
            return False, t("platforms.wecom_doctor_sdk_missing", path=s.archive_sdk_path)
        if not s.archive_secret:
            return False, t("platforms.doctor_unset", name="archive_secret")
        try:
            versions = sorted(load_private_keys(s.archive_private_keys))
        except ConfigError as exc:
            return False, str(exc)
        if not versions:
            return False, t("platforms.wecom_doctor_no_keys")
        seq = kv.get(self.ctx.store, "wecom.archive.seq", "0")
        return True, t("platforms.wecom_doctor_archive_ok", versions=", ".join(map(str, versions)), seq=seq)

