"""/heatmap (/热力图) and /timeline (/时间线): a lead's process made visible.

The heatmap puts days on the x axis and the three tag categories 销售动作 / 客户响应 / 跨部门协作 on the y axis;
colour is the weighted tag count per day, and runs of at least [heatmap] cold_days days without any touch are
outlined as cold zones. The data is computed here (a few indexed reads); the PNG is drawn by the deferred job
"heatmap.render" off the event loop, and the reply always carries the Unicode-block text version as alt_text for
terminals and platforms without images.

Visibility (shared with /silent and /baseline through `scope_for`): a rep sees their own leads, a manager the
leads of the teams they manage, an admin everything. A lead outside someone's scope is answered exactly like an
unknown one, so names of other teams' customers never leak.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import from_ms, to_ms
from bot.commands import shown_name
from bot.context import Context, Services
from bot.errors import ConfigError
from bot.events import Actor, CardAction, Command, Role
from bot.replies import Reply
from bot.router import F, Router
from handlers import charts
from prompts import Keyed
from store import timeline as timeline_store

router = Router("timeline")

CATEGORIES = ("销售动作", "客户响应", "跨部门协作")  # category values written by the rule packs
_ROW_KEYS = ("timeline.row_sales", "timeline.row_customer", "timeline.row_cross")


def setup(services: Services) -> None:
    """Refuse settings that would draw a wrong picture, naming the key."""
    cfg = services.config.heatmap
    levels = list(cfg.levels)
    if not levels or levels != sorted(levels) or levels[0] <= 0:
        raise ConfigError(Keyed("config_errors.ascending_positive", field="heatmap.levels", got=levels))
    for key in ("cold_days", "max_days", "timeline_limit"):
        if getattr(cfg, key) < 1:
            raise ConfigError(Keyed("config_errors.setting_at_least", field=f"heatmap.{key}", least=1, got=getattr(cfg, key)))


# ---------------------------------------------------------------- visibility


@dataclass(frozen=True)
class Scope:
    """Whose leads a person may see: everyone's (admin) or those owned by `owner_ids`."""

    everyone: bool
    owner_ids: frozenset[str]
    person_id: str = ""

    def allows(self, owner_id: str | None) -> bool:
        return self.everyone or (owner_id or "") in self.owner_ids


def scope_for(ctx: Context, actor: Actor) -> Scope | None:
    """None for people the directory does not know (customers, strangers): they see nothing."""
    person = ctx.directory.person(actor.person_id) if actor.person_id else None
    if person is None:
        return None
    if person.is_admin:
        return Scope(True, frozenset(), person.id)
    owners = {person.id}
    if person.role == Role.MANAGER:
        for team_id in ctx.directory.teams_managed_by(person.id):
            owners.update(p.id for p in ctx.directory.team_members(team_id))
    return Scope(False, frozenset(owners), person.id)


# ---------------------------------------------------------------- helpers


def tz(ctx: Context) -> ZoneInfo:
    return ZoneInfo(ctx.config.bot.timezone)


def fmt_time(ctx: Context, ms: int) -> str:
    return from_ms(ms).astimezone(tz(ctx)).strftime("%m-%d %H:%M")


def lead_label(lead: timeline_store.LeadRef) -> str:
    return f"{lead.customer_name}·{lead.title}" if lead.customer_name else lead.title


@dataclass(frozen=True)
class Found:
    lead: timeline_store.LeadRef | None  # exactly one visible lead matched
    suggestions: tuple[timeline_store.LeadRef, ...] = ()
    ambiguous: bool = False  # suggestions all match the text; otherwise they are close to it (a typo)


def find_lead(ctx: Context, scope: Scope, text: str) -> Found:
    owners = None if scope.everyone else scope.owner_ids
    found = timeline_store.search_leads(ctx.store, text, owners, limit=8)
    if not found:
        return Found(None, tuple(close_matches(ctx, owners, text)))
    for pick in ([r for r in found if r.lead_id == text], [r for r in found if r.title == text],
                 [r for r in found if r.customer_name == text and r.status == "open"], found):
        if len(pick) == 1:
            return Found(pick[0])
    return Found(None, tuple(found), ambiguous=True)


def close_matches(ctx: Context, owners: frozenset[str] | None, text: str) -> list[timeline_store.LeadRef]:
    """Typos ("华东机床" for 华东机械): visible open leads whose customer name or title is close to `text`."""
    pool = timeline_store.open_leads(ctx.store, owners)
    by_name: dict[str, list[timeline_store.LeadRef]] = {}
    for lead in pool:
        for name in (lead.customer_name, lead.title):
            if name:
                by_name.setdefault(name, []).append(lead)
    picked: dict[str, timeline_store.LeadRef] = {}
    for name in difflib.get_close_matches(text, list(by_name), n=5, cutoff=0.5):
        for lead in by_name[name]:
            picked.setdefault(lead.lead_id, lead)
    return list(picked.values())[:6]


def _suggest(ctx: Context, text: str, command: str, found: Found) -> str:
    if not found.suggestions:
        return ctx.t("timeline.not_found", text=text)
    lines = [ctx.t("timeline.ambiguous" if found.ambiguous else "timeline.did_you_mean", text=text)]
    for lead in found.suggestions[:6]:
        lines.append(ctx.t("timeline.suggestion", label=lead_label(lead), lead_id=lead.lead_id, command=command,
                           status=ctx.t(f"timeline.status_{lead.status}")))
    return "\n".join(lines)


def _resolve(ctx: Context, actor: Actor, args: tuple[str, ...], command: str) -> timeline_store.LeadRef | None:
    """The lead a command names, or None after answering with usage / permission / suggestions."""
    scope = scope_for(ctx, actor)
    if scope is None:
        ctx.reply(ctx.t("core.permission_denied"))
        return None
    text = " ".join(args).strip()
    if not text:
        ctx.reply(ctx.t("timeline.usage", command=command))
        return None
    found = find_lead(ctx, scope, text)
    if found.lead is None:
        ctx.reply(_suggest(ctx, text, command, found))
    return found.lead


# ---------------------------------------------------------------- heatmap


def heatmap_data(ctx: Context, lead: timeline_store.LeadRef, now_ms: int) -> charts.HeatmapData:
    cfg = ctx.config.heatmap
    zone = tz(ctx)
    today = from_ms(now_ms).astimezone(zone).date()
    first = from_ms(min(lead.created_at, timeline_store.first_tag_at(ctx.store, lead.lead_id) or lead.created_at))
    start = max(first.astimezone(zone).date(), today - timedelta(days=max(1, cfg.max_days) - 1))
    days = [start + timedelta(days=i) for i in range((today - start).days + 1)]
    index = {d: i for i, d in enumerate(days)}
    values = [[0.0] * len(days) for _ in CATEGORIES]
    since = to_ms(datetime.combine(start, time(0), tzinfo=zone))
    for at, category, weight in timeline_store.tag_points(ctx.store, lead.lead_id, since, now_ms):
        if category in CATEGORIES:
            col = index.get(from_ms(at).astimezone(zone).date())
            if col is not None:
                values[CATEGORIES.index(category)][col] += weight
    # Cold = no touch at all (tagged or not, whatever its weight), as the silence alert counts activity.
    touched = [0.0] * len(days)
    for at in timeline_store.activity_times(ctx.store, lead.lead_id, since, now_ms):
        col = index.get(from_ms(at).astimezone(zone).date())
        if col is not None:
            touched[col] = 1.0
    levels = tuple(cfg.levels) or (1.0,)
    steps = charts.legend_thresholds(levels)
    legend = ctx.t("timeline.legend", steps="  ".join(f"{charts.SHADES[i] if i else '␣'}={s}"
                                                     for i, s in enumerate(steps)), days=cfg.cold_days)
    return charts.HeatmapData(
        title=ctx.t("timeline.heatmap_title", label=lead_label(lead), start=start.strftime("%m-%d"),
                    end=today.strftime("%m-%d")),
        days=tuple(d.isoformat() for d in days),
        row_labels=tuple(ctx.t(k) for k in _ROW_KEYS),
        values=tuple(tuple(row) for row in values),
        cold=tuple(charts.cold_zones(touched, cfg.cold_days)),
        levels=levels,
        texts={"legend": legend, "cold_row": ctx.t("timeline.cold_row"),
               "cold_caption": ctx.t("timeline.cold_caption", days=cfg.cold_days),
               "legend_title": ctx.t("timeline.legend_title"), "x_label": ctx.t("timeline.x_label")},
    )


def chart_path(ctx: Context, lead_id: str) -> str:
    """Under [bot] data_dir/charts/; named after the request so a replay redraws the same file."""
    request = ctx.event.event_id if ctx.event else lead_id
    digest = hashlib.sha1(request.encode()).hexdigest()[:12]
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", lead_id)[:40]
    return str(charts.chart_folder(ctx.config) / f"heatmap_{safe}_{digest}.png")


def send_heatmap(ctx: Context, lead: timeline_store.LeadRef) -> None:
    data = heatmap_data(ctx, lead, ctx.clock.now_ms())
    ctx.defer("heatmap.render", {"data": data.to_dict(), "path": chart_path(ctx, lead.lead_id),
                                 "alt_text": charts.text_heatmap(data, with_title=False), "title": data.title})


@router.job("heatmap.render")
def render_job(payload: dict, reader: object) -> Reply:
    """Worker thread: draw the PNG; the text version travels with it."""
    info = charts.render_png(charts.HeatmapData.from_dict(payload["data"]), payload["path"])
    charts.prune_charts(Path(payload["path"]).parent, "heatmap_")
    return Reply.image(info.path, payload["alt_text"], payload["title"])


@router.command("heatmap")
def on_heatmap(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    lead = _resolve(ctx, event.actor, args, shown_name("heatmap", ctx.prompts.locale))
    if lead is not None:
        send_heatmap(ctx, lead)


# ---------------------------------------------------------------- timeline


def _who(ctx: Context, row: timeline_store.TimelineRow, lead: timeline_store.LeadRef) -> str:
    person = ctx.directory.person(row.person_id) if row.person_id else None
    if person:
        return person.name
    if row.role == Role.CUSTOMER.value:
        return lead.customer_name or ctx.t("core.role_customer")
    return row.actor_id or ctx.t("core.role_unknown")


def timeline_text(ctx: Context, lead: timeline_store.LeadRef) -> str:
    limit = ctx.config.heatmap.timeline_limit
    rows = timeline_store.tagged_events(ctx.store, lead.lead_id, limit)
    if not rows:
        return ctx.t("timeline.empty", label=lead_label(lead))
    total = timeline_store.count_tagged_events(ctx.store, lead.lead_id)
    lines = [ctx.t("timeline.title", label=lead_label(lead), n=len(rows), total=total)]
    for row in rows:
        tags = ctx.t("core.list_sep").join(pair.split("|", 1)[0] for pair in row.tags.split("\n"))
        lines.append(ctx.t("timeline.line", time=fmt_time(ctx, row.occurred_at), who=_who(ctx, row, lead), tags=tags,
                           text=_short(row.text, 40)))
    return "\n".join(lines)


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@router.command("timeline")
def on_timeline(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    lead = _resolve(ctx, event.actor, args, shown_name("timeline", ctx.prompts.locale))
    if lead is not None:
        ctx.reply(timeline_text(ctx, lead))


# ---------------------------------------------------------------- buttons on silence alerts


@router.on(CardAction, F(lambda event, ctx: event.action in ("heatmap", "timeline")))
def on_button(event: CardAction, ctx: Context) -> None:
    scope = scope_for(ctx, event.actor)
    lead = timeline_store.lead_ref(ctx.store, str(event.value.get("lead", "")))
    if scope is None or lead is None or not scope.allows(lead.owner_id):
        ctx.reply(ctx.t("core.permission_denied"))
        return
    if event.action == "heatmap":
        send_heatmap(ctx, lead)
    else:
        ctx.reply(timeline_text(ctx, lead))
