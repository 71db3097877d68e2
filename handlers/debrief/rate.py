"""The debrief rate: per rep and team, the share of customer meetings debriefed within [debrief] within_hours
(24 h by default) — for /复盘率 and a line in the managers' digests — with each rep's practice sessions beside it.

Why per meeting and not per debrief: a meeting nobody debriefed is exactly what a manager wants to see, so the
denominator is every customer meeting that started a debrief (answered or not); /复盘 typed without a meeting
does not count either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import from_ms, to_ms
from bot.context import Context
from bot.errors import UserInputError
from bot.events import Role
from handlers.timeline import Scope
from store import debrief as store
from store import practice as practice_store

DAY = 86_400_000
_WEEK = ("本周", "周", "week", "this week")
_MONTH = ("本月", "月", "month", "this month")


@dataclass(frozen=True)
class Window:
    """The period /复盘率 covers: since `since` (ms), named in the title as `label`."""

    since: int
    label: str


def parse_window(ctx: Context, args: tuple[str, ...], now: int) -> Window:
    """No argument: the last [debrief] rate_days days; a number: that many days; 本周 / 本月: the calendar week
    (from Monday 00:00) or month (from the 1st) in the bot's time zone — what a manager means by "this week" on a
    Monday is not the seven days that reach back into last week."""
    if len(args) > 1:
        raise UserInputError(ctx.t("debrief.rate_usage"))
    if not args:
        return _last_days(ctx, ctx.config.debrief.rate_days, now)
    word = args[0].strip().lower().removesuffix("天").removesuffix("days").strip()
    if word in _WEEK or word in _MONTH:
        today = from_ms(now).astimezone(ZoneInfo(ctx.config.bot.timezone)).date()
        first = today - timedelta(days=today.weekday()) if word in _WEEK else today.replace(day=1)
        since = to_ms(datetime.combine(first, time(0), tzinfo=ZoneInfo(ctx.config.bot.timezone)))
        key = "debrief.rate_this_week" if word in _WEEK else "debrief.rate_this_month"
        return Window(since, ctx.t(key, first=f"{first:%m-%d}"))
    if word.isdigit() and 1 <= int(word) <= 365:
        return _last_days(ctx, int(word), now)
    raise UserInputError(ctx.t("debrief.rate_usage"))


def _last_days(ctx: Context, days: int, now: int) -> Window:
    return Window(now - days * DAY, ctx.t("debrief.rate_last_days", days=days))


def _pct(n: int, ok: int) -> str:
    return f"{round(100 * ok / n)}%" if n else "—"


def people_in(ctx: Context, scope: Scope) -> dict[str, list[str]]:
    """team name → sales people the scope covers (reps and managers who meet customers)."""
    teams: dict[str, list[str]] = {}
    for p in ctx.directory.people.values():
        if p.role not in (Role.REP, Role.MANAGER):
            continue
        if scope.everyone or p.id in scope.owner_ids:
            teams.setdefault(p.team_name or ctx.t("core.no_team"), []).append(p.id)
    return teams


def rate_text(ctx: Context, scope: Scope, window: Window, now: int) -> str:
    within = ctx.config.debrief.within_hours
    since = window.since
    teams = people_in(ctx, scope)
    everyone = [p for ids in teams.values() for p in ids]
    counts = store.rate(ctx.store, everyone, since, now, within * 3_600_000)
    practice = practice_store.counts(ctx.store, everyone, since, now)
    lines = [ctx.t("debrief.rate_title", window=window.label, hours=within)]
    shown = 0
    for team, ids in sorted(teams.items()):
        team_n = sum(counts.get(p, (0, 0))[0] for p in ids)
        team_ok = sum(counts.get(p, (0, 0))[1] for p in ids)
        rows = [p for p in ids if counts.get(p, (0, 0))[0] or practice.get(p, (0, None))[0]]
        if not rows:
            continue
        if len(teams) > 1 or not scope.owner_ids or len(ids) > 1:
            lines.append(ctx.t("debrief.rate_team", team=team, ok=team_ok, n=team_n, pct=_pct(team_n, team_ok)))
        for pid in sorted(rows, key=lambda p: ctx.directory.people[p].name):
            n, ok = counts.get(pid, (0, 0))
            sessions, avg = practice.get(pid, (0, None))
            lines.append(ctx.t("debrief.rate_line", name=ctx.directory.people[pid].name, ok=ok, n=n, pct=_pct(n, ok),
                               practice=ctx.t("debrief.rate_practice", n=sessions,
                                              avg="—" if avg is None else round(avg)) if sessions else ""))
            shown += 1
    if not shown:
        return ctx.t("debrief.rate_none", window=window.label)
    return "\n".join(lines)


def digest_line(ctx: Context, person_ids: list[str], since: int, until: int) -> str:
    """One line for a manager's digest: the team's meetings in the window and how many were debriefed in time."""
    counts = store.rate(ctx.store, person_ids, since, until, ctx.config.debrief.within_hours * 3_600_000)
    n = sum(c[0] for c in counts.values())
    ok = sum(c[1] for c in counts.values())
    practice = practice_store.counts(ctx.store, person_ids, since, until)
    sessions = sum(c[0] for c in practice.values())
    if not n and not sessions:
        return ""
    missed = [ctx.directory.people[p].name for p, (m, k) in counts.items() if m > k and p in ctx.directory.people]
    return ctx.t("debrief.digest_line", ok=ok, n=n, pct=_pct(n, ok), hours=ctx.config.debrief.within_hours,
                 sessions=sessions,
                 missed=ctx.t("debrief.digest_missed", names=ctx.t("core.list_sep").join(sorted(missed))) if missed else "")
