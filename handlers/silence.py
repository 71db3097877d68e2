"""Silence alerts: a lead with no recognisable action from any source for [silence] hours (72 by default) alerts
its rep and the rep's manager once, quoting the last three things the customer said. `/silent` lists them.

Why it is built this way:
- "Activity" is leads.last_activity_at, which every capability bumps through store.leads.touch for every
  recognisable action (a chat line tagged 资料交付, a call, a tracked-link open, a meeting). Triggers copy it
  into store/silence's state table, so a lead whose only activity was "附件:XX型号参数.pdf" in chat is never
  silent (the seed's fault case), whichever capability recorded it.
- The sweep (Tick job "silence_sweep", every minute) first recomputes the deadlines of leads that changed, then
  alerts the unalerted ones whose deadline passed. Both are index ranges, so a sweep over a million leads costs
  what changed since the last minute (bench/silence.py).
- One alert per silence episode: the notify key is (lead, basis_at); new activity resolves the episode and the
  next silence is a new episode with a new key. Replays and catch-up ticks cannot alert twice.
- Working-hours mode counts only 09:00-18:00 on Chinese working days (holidays skipped, make-up days counted).
- Quiet hours ([silence] quiet_hours, 22:00-08:00 by default, bot timezone): an alert that falls due at night waits
  for the first sweep after them — a 72-hour deadline is not worth waking anyone for; /silent lists it meanwhile.
- A lead already silent for more than [silence] backlog_days when the sweep first sees it (historic leads just
  imported, a long outage) is recorded and listed by /silent but not pushed: a first import must not flood chats.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

from bot.clock import from_ms
from bot.context import Context, Services
from bot.errors import ConfigError
from bot.events import Command, Role, Tick
from bot.replies import Button, Reply
from bot.router import F, Router
from handlers.timeline import Scope, fmt_time, scope_for
from handlers.workcal import WorkCalendar, parse_hhmm
from prompts import Keyed
from store import kv
from store import silence as silence_store

log = logging.getLogger("salespulse.silence")
router = Router("silence")

JOB = "silence_sweep"
_RECOMPUTE_CHUNK = 5000
_RECOMPUTE_MAX = 200_000  # per sweep; after a settings change the rest is done by the following sweeps


@dataclass(frozen=True)
class QuietHours:
    """A daily span of local time (may wrap midnight) in which alerts are held back."""

    tz: ZoneInfo
    start: time
    end: time

    def holds(self, now_ms: int) -> bool:
        t = from_ms(now_ms).astimezone(self.tz).time()
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


def quiet_hours_from(services: Services) -> QuietHours | None:
    text = services.config.silence.quiet_hours.strip()
    if not text:
        return None
    start, sep, end = text.partition("-")
    if not sep:
        raise ConfigError(Keyed("config_errors.hhmm_range", field="silence.quiet_hours", value=text))
    return QuietHours(ZoneInfo(services.config.bot.timezone), parse_hhmm(start, "silence.quiet_hours"),
                      parse_hhmm(end, "silence.quiet_hours"))


@dataclass(frozen=True)
class SilencePolicy:
    """When a lead whose clock started at `basis_at` becomes silent."""

    hours: int
    calendar: WorkCalendar | None  # None = wall-clock hours

    def deadline(self, basis_at: int) -> int:
        if self.calendar is None:
            return basis_at + self.hours * 3_600_000
        return self.calendar.add_working_hours(basis_at, self.hours)

    def fingerprint(self) -> str:
        cal = self.calendar
        return f"{self.hours}|" + (f"{cal.tz.key}|{cal.start:%H:%M}|{cal.end:%H:%M}" if cal else "wall")


def policy_from(services: Services) -> SilencePolicy:
    cfg = services.config.silence
    if cfg.hours <= 0:
        raise ConfigError(Keyed("config_errors.setting_positive", field="silence.hours", got=cfg.hours))
    if cfg.quotes < 0 or cfg.quote_max_chars < 2 or cfg.sweep_batch < 1:
        raise ConfigError(Keyed("config_errors.silence_counts"))
    calendar = None
    if cfg.working_hours_only:
        calendar = WorkCalendar(services.config.bot.timezone, parse_hhmm(cfg.work_start, "silence.work_start"),
                                parse_hhmm(cfg.work_end, "silence.work_end"))
    return SilencePolicy(cfg.hours, calendar)


def setup(services: Services) -> None:
    """Check the settings once, and have every deadline recomputed when they changed since the last start."""
    policy = policy_from(services)
    services.extras["silence.policy"] = policy
    services.extras["silence.quiet"] = quiet_hours_from(services)
    store = services.store
    with store.transaction():
        if kv.get(store, "silence.policy") != policy.fingerprint():
            silence_store.invalidate_all(store)
            kv.put(store, "silence.policy", policy.fingerprint())


def _policy(ctx: Context) -> SilencePolicy:
    policy = ctx.services.extras.get("silence.policy")
    if policy is None:
        policy = policy_from(ctx.services)
        ctx.services.extras["silence.policy"] = policy
    return policy


def refresh(ctx: Context, now_ms: int, max_rows: int = _RECOMPUTE_MAX) -> int:
    """Recompute deadlines of leads that changed; new activity on an alerted lead resolves its episode unless
    the lead is still past its (new) deadline. Returns how many rows were recomputed."""
    policy = _policy(ctx)
    done = 0
    while done < max_rows:
        rows = silence_store.pending(ctx.store, _RECOMPUTE_CHUNK)
        if not rows:
            break
        keep: list[tuple[int, str]] = []
        resolved: list[tuple[int, str, int]] = []
        for row in rows:
            deadline = policy.deadline(row.basis_at)
            if row.alerted_at is not None and deadline > now_ms:
                resolved.append((deadline, row.lead_id, row.basis_at))
            else:
                keep.append((deadline, row.lead_id))
        silence_store.set_deadlines(ctx.store, keep)
        silence_store.resolve(ctx.store, resolved)
        done += len(rows)
    return done


def shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: max(1, limit - 1)] + "…"


def alert_reply(ctx: Context, lead: silence_store.SilentLead) -> Reply:
    cfg = ctx.config.silence
    quotes = silence_store.customer_quotes(ctx.store, lead.lead_id, cfg.quotes)
    owner = ctx.directory.person(lead.owner_id or "")
    lines = [ctx.t("silence.alert_body", hours=cfg.hours,
                   unit=ctx.t("silence.unit_working" if cfg.working_hours_only else "silence.unit_hours"),
                   last=fmt_time(ctx, lead.basis_at), owner=owner.name if owner else ctx.t("silence.no_owner"))]
    if quotes:
        lines.append(ctx.t("silence.quotes_title", n=len(quotes)))
        for i, (at, text) in enumerate(quotes, 1):
            lines.append(ctx.t("silence.quote_line", i=i, text=shorten(text, cfg.quote_max_chars),
                               at=fmt_time(ctx, at)))
    else:
        lines.append(ctx.t("silence.no_quotes"))
    sibling = silence_store.active_sibling(ctx.store, lead.lead_id, lead.basis_at)
    if sibling is not None:  # the customer is talking, about another project: say so, the rep decides
        lines.append(ctx.t("silence.sibling_active", lead=sibling[1], lead_id=sibling[0], last=fmt_time(ctx, sibling[2])))
    return Reply.card(
        ctx.t("silence.alert_title", customer=lead.customer_name, lead=lead.title),
        "\n".join(lines),
        buttons=(Button(ctx.t("silence.button_heatmap"), "heatmap", {"lead": lead.lead_id}),
                 Button(ctx.t("silence.button_timeline"), "timeline", {"lead": lead.lead_id})),
    )


def recipients(ctx: Context, owner_id: str | None) -> list[str]:
    """The rep and the rep's manager; a lead without an owner goes to the admins (someone must know)."""
    people: list[str] = []
    if owner_id and ctx.directory.person(owner_id):
        people.append(owner_id)
        manager = ctx.directory.manager_of(owner_id)
        if manager:
            people.append(manager.id)
    else:
        people.extend(sorted(p.id for p in ctx.directory.people.values() if p.is_admin))
    return list(dict.fromkeys(people))


def sweep(ctx: Context, now_ms: int) -> int:
    """One silence sweep at `now_ms`: recompute what changed, alert what became silent. Returns messages queued."""
    refresh(ctx, now_ms)
    quiet = ctx.services.extras.get("silence.quiet")
    if quiet is not None and quiet.holds(now_ms):
        return 0  # due alerts stay unalerted; the first sweep after the quiet hours sends them
    sent = 0
    backlog_ms = ctx.config.silence.backlog_days * 86_400_000
    for lead in silence_store.due(ctx.store, now_ms, ctx.config.silence.sweep_batch):
        silence_store.mark_alerted(ctx.store, lead, now_ms)
        if backlog_ms and now_ms - lead.deadline_at > backlog_ms:
            continue  # silent long before we saw it (an import of old leads): /silent lists it, no push flood
        reply = alert_reply(ctx, lead)
        for person_id in recipients(ctx, lead.owner_id):
            sent += ctx.notify(person_id, reply, f"silence:{lead.lead_id}:{lead.basis_at}")
    if sent:
        log.info("silence sweep at %s: %d alerts", from_ms(now_ms).isoformat(), sent)
    return sent


@router.on(Tick, F(lambda event, ctx: event.job == JOB))
def on_sweep(event: Tick, ctx: Context) -> None:
    sweep(ctx, max(ctx.clock.now_ms(), event.due_at))


def _none_text(ctx: Context, scope: Scope) -> str:
    """"Nothing is silent", saying for whom: customer service seeing no leads of their own must not read it as the
    company having no silent leads."""
    if scope.everyone:
        return ctx.t("silence.none_company")
    person = ctx.directory.person(scope.person_id)
    if person is not None and person.role == Role.MANAGER:
        teams = ctx.t("core.list_sep").join(ctx.directory.teams[t][0] for t in ctx.directory.teams_managed_by(person.id))
        return ctx.t("silence.none_team", teams=teams or person.name)
    if person is not None and person.role == Role.REP:
        return ctx.t("silence.none_own")
    return ctx.t("silence.none_no_leads")


def silent_text(ctx: Context, scope: Scope, now_ms: int, limit: int = 30) -> str:
    refresh(ctx, now_ms)
    total, rows = silence_store.silent(ctx.store, now_ms, None if scope.everyone else scope.owner_ids, limit)
    if not rows:
        return _none_text(ctx, scope)
    lines = [ctx.t("silence.list_title", n=total)]
    for lead in rows:
        owner = ctx.directory.person(lead.owner_id or "")
        lines.append(ctx.t("silence.list_line", customer=lead.customer_name, lead=lead.title, lead_id=lead.lead_id,
                           owner=owner.name if owner else ctx.t("silence.no_owner"),
                           days=f"{(now_ms - lead.basis_at) / 86_400_000:.1f}", last=fmt_time(ctx, lead.basis_at),
                           alerted=ctx.t("silence.alerted") if lead.alerted_at else ""))
    if total > len(rows):
        lines.append(ctx.t("silence.list_more", n=total - len(rows)))
    return "\n".join(lines)


@router.command("silent")
def on_silent(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    scope = scope_for(ctx, event.actor)
    if scope is None:
        ctx.reply(ctx.t("core.permission_denied"))
        return
    ctx.reply(silent_text(ctx, scope, ctx.clock.now_ms()))
