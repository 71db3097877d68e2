"""The tracked-link server: GET <public_base_url>/d/<code> records a DocumentOpen, then redirects to the document.

The open goes into the inbox (platform "links", one row per open) before the customer is redirected, like any
other adapter's ack-after-persist. Who opened is kept only as a salted SHA-256 of client address + user agent —
enough to tell one reader from several, never the address itself. Link-preview crawlers (chat apps unfurl links
when a rep pastes them) are redirected but not counted ([links] ignore_user_agents), nor are HEAD requests.
An unknown code gets a short 404 page.

Files are named by whoever fills the files folder, and the short URL is on the bot's own origin: only types a browser
shows passively (PDF, raster images, plain text, audio/video) are served inline; anything else (HTML, SVG, XML,
scripts, unknown) is a download with a sandboxing CSP, and every file carries `nosniff`, so a document can never run
script in a customer's browser under our address.
"""

from __future__ import annotations

import hashlib
import html
import mimetypes
import re
import uuid
from urllib.parse import quote

from aiohttp import web

from adapters.base import Adapter, AdapterContext
from bot.errors import PlatformError
from bot.events import Actor, DocumentOpen, Role
from bot.replies import Reply, Target
from prompts import Prompts
from store import links as links_store

PLATFORM = "links"
_CODE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# Types a browser renders without running anything; everything else is served as an attachment.
INLINE_TYPES = frozenset({
    "application/pdf", "text/plain", "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp",
    "audio/mpeg", "audio/mp4", "audio/wav", "video/mp4", "video/webm",
})


def file_headers(document: str) -> dict[str, str]:
    """Content-Type, Content-Disposition and hardening headers for a served file named `document`."""
    guessed = mimetypes.guess_type(document, strict=False)[0] or "application/octet-stream"
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
    if guessed in INLINE_TYPES:
        disposition = "inline"
        headers["Content-Type"] = guessed  # no charset forced: a .txt may well be GBK
    else:
        disposition = "attachment"
        headers["Content-Type"] = "application/octet-stream"
        headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(document, safe='')}"
    return headers


def opener_hash(salt: str, address: str, user_agent: str) -> str:
    return hashlib.sha256(f"{salt}\n{address}\n{user_agent}".encode()).hexdigest()


class LinkAdapter(Adapter):
    platform = PLATFORM

    def __init__(self, ctx: AdapterContext) -> None:
        super().__init__(ctx)
        self.section = ctx.config.links
        self.prompts = Prompts(ctx.config.bot.locale)
        self.folder = links_store.files_folder(self.section.files_dir, ctx.config.bot.data_dir)
        self.prefix = "/" + self.section.path_prefix.strip("/")
        self._salt = self.section.hash_salt
        self._ignored = tuple(s.lower() for s in self.section.ignore_user_agents if s)

    def routes(self) -> list[web.RouteDef]:
        return [web.get(self.prefix + "/{code}", self.open)]

    def salt(self) -> str:
        if not self._salt:
            self._salt = links_store.opener_salt(self.ctx.store)
        return self._salt

    def client_address(self, request: web.Request) -> str:
        if self.section.trust_forwarded_for:
            # The last entry is the one our reverse proxy appended (the address it saw); earlier entries come from
            # the client and can be anything, so trusting the first would let one opener pose as many.
            forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
            if forwarded:
                return forwarded
        return request.remote or ""

    def counts(self, request: web.Request) -> bool:
        agent = request.headers.get("User-Agent", "").lower()
        return request.method == "GET" and not any(word in agent for word in self._ignored)

    def not_found(self) -> web.Response:
        page = self.prompts.t("links.not_found_page", title=html.escape(self.prompts.t("links.not_found_title")))
        return web.Response(status=404, text=page, content_type="text/html", charset="utf-8")

    async def open(self, request: web.Request) -> web.StreamResponse:
        code = request.match_info.get("code", "")
        link = links_store.get(self.ctx.store, code) if _CODE.match(code) else None
        if link is None:
            return self.not_found()
        path = links_store.resolve_file(self.folder, link.target) if link.kind == "file" else None
        if link.kind == "file" and path is None:
            return self.not_found()
        if self.counts(request):
            self.record(link, request)
        if path is not None:
            return web.FileResponse(path, headers=file_headers(link.document))
        raise web.HTTPFound(link.target, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    def record(self, link: links_store.Link, request: web.Request) -> None:
        hashed = opener_hash(self.salt(), self.client_address(request), request.headers.get("User-Agent", ""))
        now = self.ctx.clock.now_ms()
        external_id = f"{link.code}:{now}:{uuid.uuid4().hex[:12]}"
        event = DocumentOpen(
            event_id=f"{PLATFORM}:{external_id}", platform=PLATFORM, occurred_at=now, received_at=now,
            actor=Actor(platform_id=f"opener:{hashed[:16]}", role=Role.CUSTOMER, customer_id=link.customer_id),
            link_code=link.code, document=link.document, lead_id=link.lead_id, opener_hash=hashed,
        )
        self.ctx.accept(PLATFORM, external_id, {"code": link.code, "opener_hash": hashed}, event)

    async def send(self, target: Target, reply: Reply, key: str) -> str | None:
        raise PlatformError("the link server cannot deliver messages", permanent=True)

    def doctor(self) -> list[tuple[str, bool, str]]:
        base = self.ctx.config.server.public_base_url
        local = any(h in base for h in ("127.0.0.1", "localhost", "0.0.0.0"))
        url = f"{base}{self.prefix}/…"
        return [
            (self.t("platforms.doctor_links_folder"), self.folder.is_dir(),
             self.t("platforms.doctor_links_folder_detail", folder=self.folder)),
            (self.t("platforms.doctor_links_url"), not local,
             self.t("platforms.doctor_links_url_local", url=url) if local else url),
        ]
