"""Scheduled digests for managers.

- Daily (`daily_digest` tick): the team's day — tagged actions by category, most frequent tags, leads touched,
  leads now silent and missed calls still open.
- Weekly (`weekly_digest` tick, Monday morning by default): the seven days before the due day against the seven
  before those — actions per category with last week's number beside it, most frequent tags, leads touched,
  forecast changes by preset reason, silent leads and open missed calls now, and the team's /baseline self-check
  (销售日均有效动作数 and 线索平均跟进时长 against the industry mean and the healthy threshold).

Each manager gets their teams' digest; a team with `digest_chat = "<platform>:<chat id>"` in [[org.teams]] (e.g.
"wecom:robot" for the group robot, "feishu:oc_…", "dingtalk:cid…") also gets its own digest in that group chat.
They read what the other capabilities already stored (event_tags, lead silence state, missed calls, deal
revisions); they keep no state of their own. One digest per manager per due time (the idempotency key carries the
due time), so a replayed tick never sends twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot import pushes
from bot.clock import to_ms
from bot.context import Context
from bot.events import Role, Tick
from bot.replies import Reply, Target
from bot.router import F, Router
from handlers import baseline
from handlers.coaching import reports as coaching_reports
from handlers.debrief import rate as debrief_rate
from handlers.workcal import is_workday
from store import calls as calls_store
from store import digests as digest_store
from store import silence as silence_store

router = Router("digests")

CATEGORIES = ("销售动作", "客户响应", "跨部门协作")


def _team_reps(ctx: Context, team_ids: list[str]) -> list[str]:
    return [p.id for tid in team_ids for p in ctx.directory.team_members(tid) if p.role == Role.REP]


def _team_sales(ctx: Context, team_ids: list[str]) -> list[str]:
    """Reps and managers: both meet customers, and both debrief."""
    return [p.id for tid in team_ids for p in ctx.directory.team_members(tid) if p.role in (Role.REP, Role.MANAGER)]


def _join(ctx: Context, items) -> str:
    return ctx.t("core.list_sep").join(items)


def _date(ctx: Context, day: datetime) -> str:
    return day.strftime(ctx.t("digests.date_format"))


def _day_window(due_ms: int, tz: str) -> tuple[int, int, datetime]:
    local = datetime.fromtimestamp(due_ms / 1000, ZoneInfo(tz))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return to_ms(start), to_ms(start + timedelta(days=1)), start


def team_digest(ctx: Context, team_ids: list[str], due_ms: int) -> Reply | None:
    reps = _team_reps(ctx, team_ids)
    if not reps:
        return None
    start, end, day = _day_window(due_ms, ctx.config.bot.timezone)
    by_cat = digest_store.tag_counts_by_category(ctx.store, reps, start, end)
    tops = digest_store.top_tags(ctx.store, reps, start, end)
    touched = digest_store.active_leads(ctx.store, reps, start, end)
    silent_total, silent_rows = silence_store.silent(ctx.store, due_ms, reps, limit=3)
    missed = calls_store.open_list(ctx.store, reps, limit=100)
    team_names = _join(ctx, (ctx.directory.teams[t][0] for t in team_ids))
    fields = [(c, str(by_cat.get(c, 0))) for c in CATEGORIES]
    fields.append((ctx.t("digests.touched"), str(touched)))
    fields.append((ctx.t("digests.silent"), str(silent_total)))
    fields.append((ctx.t("digests.missed"), str(len(missed))))
    lines = []
    if tops:
        lines.append(ctx.t("digests.top_tags", tags=_join(ctx, (f"{t}×{n}" for t, n in tops))))
    else:
        lines.append(ctx.t("digests.no_tags"))
    if silent_rows:
        lines.append(ctx.t("digests.silent_hint"))
    return Reply.card(ctx.t("digests.title", team=team_names, day=_date(ctx, day)), "\n".join(lines), fields)


def _week_window(due_ms: int, tz: str) -> tuple[int, int, int, tuple[datetime, datetime]]:
    """(previous week's start, this week's start, end, (first day, last day)): the 7 local days before the due day."""
    local = datetime.fromtimestamp(due_ms / 1000, ZoneInfo(tz))
    end = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start, before = end - timedelta(days=7), end - timedelta(days=14)
    return to_ms(before), to_ms(start), to_ms(end), (start, end - timedelta(days=1))


def _with_last_week(ctx: Context, now: int, before: int) -> str:
    if before == 0:
        return ctx.t("digests.week_value_new", n=now)
    change = round((now - before) * 100 / before)
    return ctx.t("digests.week_value", n=now, last=before, change=f"{change:+d}%")


def team_weekly(ctx: Context, team_ids: list[str], due_ms: int) -> Reply | None:
    reps = _team_reps(ctx, team_ids)
    if not reps:
        return None
    before, start, end, (first, last) = _week_window(due_ms, ctx.config.bot.timezone)
    this_week = digest_store.tag_counts_by_category(ctx.store, reps, start, end)
    last_week = digest_store.tag_counts_by_category(ctx.store, reps, before, start)
    fields = [(c, _with_last_week(ctx, this_week.get(c, 0), last_week.get(c, 0))) for c in CATEGORIES]
    fields.append((ctx.t("digests.week_touched"), str(digest_store.active_leads(ctx.store, reps, start, end))))
    silent_total, _rows = silence_store.silent(ctx.store, due_ms, reps, limit=1)
    fields.append((ctx.t("digests.silent"), str(silent_total)))
    fields.append((ctx.t("digests.missed"), str(len(calls_store.open_list(ctx.store, reps, limit=100)))))
    lines = []
    tops = digest_store.top_tags(ctx.store, reps, start, end)
    lines.append(ctx.t("digests.week_top_tags", tags=_join(ctx, (f"{t}×{n}" for t, n in tops))) if tops
                 else ctx.t("digests.week_no_tags"))
    reasons = digest_store.revision_reasons(ctx.store, reps, start, end)
    if reasons:
        lines.append(ctx.t("digests.week_revisions", n=sum(n for _r, n in reasons),
                           reasons=_join(ctx, (f"{r}×{n}" for r, n in reasons[:3]))))
    else:
        lines.append(ctx.t("digests.week_no_revisions"))
    lines.extend(coaching_reports.digest_lines(ctx, reps, start, end))
    window, rows = baseline.compute(ctx, due_ms, [], team_ids, company=False)
    cfg = ctx.config.baseline
    for row in rows:
        lines.append(ctx.t(
            "digests.week_baseline", label=row.label, days=window.days,
            actions="—" if row.actions_per_day is None else f"{row.actions_per_day:.1f}",
            act_ok=cfg.actions_healthy, act_mean=cfg.actions_industry,
            follow_up="—" if row.follow_up_days is None else f"{row.follow_up_days:.1f}",
            fu_ok=cfg.follow_up_healthy_days, fu_mean=cfg.follow_up_industry_days))
    debriefs = debrief_rate.digest_line(ctx, _team_sales(ctx, team_ids), start, end)
    if debriefs:
        lines.append(debriefs)
    lines.append(ctx.t("digests.week_hint"))
    team_names = _join(ctx, (ctx.directory.teams[t][0] for t in team_ids))
    span = ctx.t("digests.span", first=_date(ctx, first), last=_date(ctx, last))
    return Reply.card(ctx.t("digests.week_title", team=team_names, span=span), "\n".join(lines), fields)


def _send(ctx: Context, build: Callable[[Context, list[str], int], Reply | None], kind: str, due_ms: int) -> None:
    """Each manager gets their teams' digest; a team with `digest_chat` in [[org.teams]] also gets its own in
    that group chat. Keys carry the due time, so a replayed tick sends nothing twice. Alerts held back by the
    hourly budget (bot/pushes.py) ride along: in the manager's digest, in a summary card for anyone else."""
    key = f"digest:{kind}:{due_ms}"
    got: set[str] = set()
    for person in ctx.directory.with_role(Role.MANAGER):
        reply = build(ctx, ctx.directory.teams_managed_by(person.id), due_ms)
        if reply is not None:
            ctx.notify(person.id, pushes.with_held(ctx, person.id, reply, f"{key}:{person.id}"), key=key)
            got.add(person.id)
    pushes.send_held(ctx, key, got)  # alerts held back by the hourly budget reach everyone else too
    by_name = {name: tid for tid, (name, _manager) in ctx.directory.teams.items()}
    for team in ctx.config.org.teams:
        tid = by_name.get(team.name)
        if not team.digest_chat or tid is None:
            continue
        reply = build(ctx, [tid], due_ms)
        if reply is not None:
            platform, _, chat = team.digest_chat.partition(":")
            ctx.send(Target(platform=platform, chat_id=chat), reply, f"digest:{kind}:{due_ms}:team:{tid}")


def weekly_due(due_ms: int, tz_name: str) -> int | None:
    """When this week's digest is due, if a weekly tick at `due_ms` should send it; None otherwise.

    The weekly digest goes out on the week's first working day: on Monday normally, on the day after 清明 or 劳动节
    when Monday is a public holiday (it used to go out on the holiday itself). The tick may run every weekday
    (default cron "0 9 * * 1-5"); only the first working day's tick sends. The digest is always about last week
    (Monday to Sunday) and keyed by this week's Monday, so it is the same digest whichever day carries it."""
    tz = ZoneInfo(tz_name)
    local = datetime.fromtimestamp(due_ms / 1000, tz)
    day = local.date()
    if not is_workday(day):
        return None
    monday = day - timedelta(days=day.weekday())
    if any(is_workday(monday + timedelta(days=i)) for i in range(day.weekday())):
        return None  # an earlier working day this week carried it
    return to_ms(datetime.combine(monday, local.time(), tzinfo=tz))


@router.on(Tick, F(lambda event, ctx: event.job == "weekly_digest"))
def on_weekly_digest(event: Tick, ctx: Context) -> None:
    due = weekly_due(event.due_at, ctx.config.bot.timezone)
    if due is not None:
        _send(ctx, team_weekly, "weekly", due)


@router.on(Tick, F(lambda event, ctx: event.job == "daily_digest"))
def on_daily_digest(event: Tick, ctx: Context) -> None:
    if not ctx.config.digests.daily_on_days_off:
        day = datetime.fromtimestamp(event.due_at / 1000, ZoneInfo(ctx.config.bot.timezone)).date()
        if not is_workday(day):
            return  # a Sunday or 国庆 digest of an empty day is noise
    _send(ctx, team_digest, "daily", event.due_at)
