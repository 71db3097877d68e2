"""The daily digest: at the `daily_digest` tick each manager gets one message about their team's day —
tagged actions by category, most frequent tags, leads touched, leads now silent and missed calls still open.

It reads what the other capabilities already stored (event_tags, lead silence state, missed calls); it keeps no
state of its own. One digest per manager per due time (the idempotency key carries the due time).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import to_ms
from bot.context import Context
from bot.events import Role, Tick
from bot.replies import Reply
from bot.router import F, Router
from store import calls as calls_store
from store import digests as digest_store
from store import silence as silence_store

router = Router("digests")

CATEGORIES = ("销售动作", "客户响应", "跨部门协作")


def _day_window(due_ms: int, tz: str) -> tuple[int, int, str]:
    local = datetime.fromtimestamp(due_ms / 1000, ZoneInfo(tz))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return to_ms(start), to_ms(start + timedelta(days=1)), start.strftime("%m月%d日")


def team_digest(ctx: Context, manager_id: str, due_ms: int) -> Reply | None:
    team_ids = ctx.directory.teams_managed_by(manager_id)
    reps = [p.id for tid in team_ids for p in ctx.directory.team_members(tid) if p.role == Role.REP]
    if not reps:
        return None
    start, end, day = _day_window(due_ms, ctx.config.bot.timezone)
    by_cat = digest_store.tag_counts_by_category(ctx.store, reps, start, end)
    tops = digest_store.top_tags(ctx.store, reps, start, end)
    touched = digest_store.active_leads(ctx.store, reps, start, end)
    silent_total, silent_rows = silence_store.silent(ctx.store, due_ms, reps, limit=3)
    missed = calls_store.open_list(ctx.store, reps, limit=100)
    team_names = "、".join(ctx.directory.teams[t][0] for t in team_ids)
    fields = [(c, str(by_cat.get(c, 0))) for c in CATEGORIES]
    fields.append((ctx.t("digests.touched"), str(touched)))
    fields.append((ctx.t("digests.silent"), str(silent_total)))
    fields.append((ctx.t("digests.missed"), str(len(missed))))
    lines = []
    if tops:
        lines.append(ctx.t("digests.top_tags", tags="、".join(f"{t}×{n}" for t, n in tops)))
    else:
        lines.append(ctx.t("digests.no_tags"))
    if silent_rows:
        lines.append(ctx.t("digests.silent_hint"))
    return Reply.card(ctx.t("digests.title", team=team_names, day=day), "\n".join(lines), fields)


@router.on(Tick, F(lambda event, ctx: event.job == "daily_digest"))
def on_daily_digest(event: Tick, ctx: Context) -> None:
    for person in ctx.directory.with_role(Role.MANAGER):
        reply = team_digest(ctx, person.id, event.due_at)
        if reply is not None:
            ctx.notify(person.id, reply, key=f"digest:daily:{event.due_at}")
