"""Tracked document links: `/link <文件或URL> <商机>` makes a short URL; each open becomes a DocumentOpen.

Why: "客户打开方案PDF超3次" is one of the strongest buying signals in the spec, and it only exists if documents go
out through a link we serve. The short URL (adapters/links.py) records the open through the inbox and redirects
(or serves the file); this module records the opens (count, distinct openers, first / last open) so `/links`
can answer, while the rules and the heatmap read the same DocumentOpen events from the stored event stream.

Codes are random (72 bits, URL-safe), so links cannot be guessed or enumerated.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.context import Context
from bot.errors import UserInputError
from bot.events import Command, DocumentOpen, Role
from bot.router import Router
from store import leads as lead_store
from store import links as links_store

router = Router("links")

CODE_BYTES = 9  # → 12 URL-safe characters, 72 random bits
MAX_URL = 2000


def files_dir(config: Config) -> Path:
    return links_store.files_folder(config.links.files_dir, config.bot.data_dir)


def short_url(config: Config, code: str) -> str:
    prefix = "/" + config.links.path_prefix.strip("/")
    return f"{config.server.public_base_url.rstrip('/')}{prefix}/{code}"


# ---------------------------------------------------------------- who may see which lead


def can_see(ctx: Context, lead: lead_store.Lead) -> bool:
    """Admins: all; the owner; a manager: the leads of reps in the teams they manage."""
    actor = ctx.event.actor
    if actor.is_admin:
        return True
    if actor.role not in (Role.REP, Role.MANAGER) or not actor.person_id:
        return False
    if lead.owner_id == actor.person_id:
        return True
    if actor.role == Role.MANAGER and lead.owner_id:
        owner = ctx.directory.person(lead.owner_id)
        return bool(owner and owner.team_id in ctx.directory.teams_managed_by(actor.person_id))
    return False


def find_lead(ctx: Context, query: str) -> lead_store.Lead:
    """One visible lead for `query` (id, title or customer name); a clear question when none or several match."""
    if ctx.event.actor.role not in (Role.REP, Role.MANAGER) and not ctx.event.actor.is_admin:
        raise UserInputError(ctx.t("core.permission_denied"))
    exact = lead_store.get(ctx.store, query)
    if exact is not None and can_see(ctx, exact):
        return exact
    found = [lead for lead in lead_store.search(ctx.store, query, limit=20) if can_see(ctx, lead)]
    if not found:
        raise UserInputError(ctx.t("links.no_lead", query=query))
    open_ones = [lead for lead in found if lead.status == "open"]
    candidates = open_ones or found
    if len(candidates) > 1:
        options = ctx.t("core.list_sep").join(ctx.t("links.lead_option", title=lead.title, id=lead.id)
                                              for lead in candidates[:5])
        raise UserInputError(ctx.t("links.many_leads", query=query, options=options))
    return candidates[0]


# ---------------------------------------------------------------- /link


def _document_of_url(url: str) -> str:
    parts = urlsplit(url)
    name = unquote(PurePosixPath(parts.path).name) if parts.path not in ("", "/") else ""
    return name or parts.netloc


@router.command("link")
def on_link(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    if len(args) < 2:
        raise UserInputError(ctx.t("links.usage"))
    target, query = args[0], " ".join(args[1:])
    lead = find_lead(ctx, query)
    if target.lower().startswith(("http://", "https://")):
        parts = urlsplit(target)
        if not parts.netloc or len(target) > MAX_URL or any(c.isspace() for c in target):
            raise UserInputError(ctx.t("links.bad_url"))
        kind, document = "url", _document_of_url(target)
    else:
        if links_store.resolve_file(files_dir(ctx.config), target) is None:
            raise UserInputError(ctx.t("links.no_file", name=target, folder=str(files_dir(ctx.config))))
        kind, document = "file", target
    code = secrets.token_urlsafe(CODE_BYTES)
    while links_store.exists(ctx.store, code):
        code = secrets.token_urlsafe(CODE_BYTES)
    links_store.create(ctx.store, code, lead.id, lead.customer_id, document, target, kind, event.actor.person_id,
                       event.occurred_at)
    text = ctx.t("links.created", url=short_url(ctx.config, code), document=document, lead=lead.title)
    if not is_public(ctx.config.server.public_base_url):
        # a customer cannot open http://127.0.0.1:8080/d/…: say so instead of handing it out without a word
        text += "\n" + ctx.t("links.not_public", base=ctx.config.server.public_base_url)
    ctx.reply(text)


def is_public(base_url: str) -> bool:
    """Whether customers outside this machine's network can reach `base_url` (not localhost / a private address)."""
    import ipaddress

    host = (urlsplit(base_url).hostname or "").lower()
    if not host or host == "localhost" or host.endswith((".local", ".localhost", ".internal", ".lan")):
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return "." in host  # a name such as bot.example.cn
    return ip.is_global


# ---------------------------------------------------------------- /links


@router.command("links")
def on_links(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    if not args:
        raise UserInputError(ctx.t("links.list_usage"))
    lead = find_lead(ctx, " ".join(args))
    rows = links_store.for_lead(ctx.store, lead.id)
    if not rows:
        ctx.reply(ctx.t("links.none", lead=lead.title))
        return
    lines = [ctx.t("links.list_title", lead=lead.title, n=len(rows))]
    for row in rows:
        if row.opens:
            lines.append(ctx.t("links.list_line", document=row.link.document, url=short_url(ctx.config, row.link.code),
                               opens=row.opens, openers=row.openers, first=_when(ctx, row.first_open),
                               last=_when(ctx, row.last_open)))
        else:
            lines.append(ctx.t("links.list_line_unopened", document=row.link.document,
                               url=short_url(ctx.config, row.link.code), created=_when(ctx, row.link.created_at)))
    ctx.reply("\n".join(lines))


# ---------------------------------------------------------------- opens


@router.observe(DocumentOpen)
def on_open(event: DocumentOpen, ctx: Context) -> None:
    """Count the open (idempotent per event). Tagging and the heatmap read the stored event separately."""
    if not event.link_code:
        return
    links_store.record_open(ctx.store, event.event_id, event.link_code, event.lead_id, event.document,
                            event.opener_hash, event.occurred_at)


def _when(ctx: Context, ms: int | None) -> str:
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(ctx.config.bot.timezone)).strftime("%m-%d %H:%M")
