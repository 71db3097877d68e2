"""/baseline (/基线): the spec's self-check — 线索平均跟进时长 and 销售日均有效动作数 per rep and per team,
against the industry mean and the healthy threshold (11.3 天 / ≤ 7.2 天; 4.7 / ≥ 8.1, all in [baseline]).

Definitions (also printed under the table, because a number without its definition starts arguments):
- Window: the last [baseline] window_days calendar days in the bot's timezone, today included.
- 线索平均跟进时长 (days): on each lead, the follow-up points are its creation and every event tagged 销售动作;
  a gap is the time between two consecutive points, and an open lead's current wait (last point → now) is a gap
  too, so a neglected lead counts instead of vanishing. Gaps that end inside the window are averaged (pooled
  over the rep's leads; over the team's leads for a team).
- 销售日均有效动作数: distinct events tagged 销售动作 done by the rep in the window ÷ Chinese working days in the
  window (public holidays skipped, make-up days counted); for a team, the team's total ÷ (working days × reps).
Visibility: a rep sees their own row and their team's; a manager their teams and each of their reps; an admin
every team, every rep and the company.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from bot.clock import from_ms, to_ms
from bot.context import Context, Services
from bot.errors import ConfigError
from bot.events import Command, Role
from bot.router import Router
from handlers.coaching import reports as coaching_reports
from handlers.timeline import CATEGORIES, scope_for, tz
from handlers.workcal import WorkCalendar
from prompts import Keyed
from store import baseline as baseline_store

router = Router("baseline")
SALES = CATEGORIES[0]  # 销售动作
DAY_MS = 86_400_000


def setup(services: Services) -> None:
    if services.config.baseline.window_days < 1:
        raise ConfigError(Keyed("config_errors.setting_at_least", field="baseline.window_days", least=1,
                                got=services.config.baseline.window_days))


@dataclass(frozen=True)
class Window:
    since_ms: int
    until_ms: int
    working_days: int
    days: int


@dataclass(frozen=True)
class Row:
    label: str
    follow_up_days: float | None  # None: no gap in the window
    gaps: int
    actions_per_day: float | None  # None: no working day or no rep
    actions: int


def window_for(ctx: Context, now_ms: int) -> Window:
    zone = tz(ctx)
    days = max(1, ctx.config.baseline.window_days)
    today = from_ms(now_ms).astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    since = to_ms(datetime.combine(first, time(0), tzinfo=zone))
    working = WorkCalendar(ctx.config.bot.timezone).working_days(first, today)
    return Window(since, now_ms, working, days)


def follow_up_gaps(lead: baseline_store.LeadPoints, since_ms: int, now_ms: int) -> list[int]:
    """Gaps (ms) between consecutive follow-up points of one lead that end inside [since, now]."""
    points = [lead.created_at, *(t for t in lead.actions if t >= lead.created_at)]
    if lead.status == "open":
        points.append(now_ms)
    gaps = []
    for a, b in zip(points, points[1:], strict=False):
        if since_ms <= b <= now_ms and b > a:
            gaps.append(b - a)
    return gaps


def mean_days(gaps: Sequence[int]) -> float | None:
    return sum(gaps) / len(gaps) / DAY_MS if gaps else None


def make_row(label: str, gaps: Sequence[int], actions: int, reps: int, window: Window) -> Row:
    per_day = actions / (window.working_days * reps) if window.working_days and reps else None
    return Row(label, mean_days(gaps), len(gaps), per_day, actions)


def compute(ctx: Context, now_ms: int, reps: Iterable[str], teams: Iterable[str], company: bool) -> tuple[Window, list[Row]]:
    """Rows for the given rep ids and team ids (+ the company when asked), in that order: team, its reps."""
    window = window_for(ctx, now_ms)
    reps, teams = list(dict.fromkeys(reps)), list(dict.fromkeys(teams))
    owners = set(reps)
    for team in teams:
        owners.update(p.id for p in ctx.directory.team_members(team))
    leads = baseline_store.lead_points(ctx.store, None if company else owners, SALES, window.since_ms, now_ms)
    gaps_by_owner: dict[str, list[int]] = {}
    for lead in leads:
        gaps_by_owner.setdefault(lead.owner_id, []).extend(follow_up_gaps(lead, window.since_ms, now_ms))
    actions = baseline_store.action_counts(ctx.store, SALES, window.since_ms, now_ms)
    rows: list[Row] = []

    def rep_row(pid: str) -> Row:
        person = ctx.directory.person(pid)
        return make_row(person.name if person else pid, gaps_by_owner.get(pid, []), actions.get(pid, 0), 1, window)

    def group_row(label: str, members: list[str]) -> Row:
        gaps = [g for pid in members for g in gaps_by_owner.get(pid, [])]
        team_reps = [pid for pid in members if _is_rep(ctx, pid)]
        return make_row(label, gaps, sum(actions.get(pid, 0) for pid in team_reps), len(team_reps), window)

    if company:
        everyone = [p.id for p in ctx.directory.people.values()]
        rows.append(group_row(ctx.t("baseline.company"), everyone))
    shown: set[str] = set()
    for team in teams:
        members = sorted(p.id for p in ctx.directory.team_members(team))
        rows.append(group_row(ctx.t("baseline.team", team=ctx.directory.teams.get(team, (team, None))[0]), members))
        for pid in members:
            if pid in reps and pid not in shown:
                rows.append(rep_row(pid))
                shown.add(pid)
    rows.extend(rep_row(pid) for pid in reps if pid not in shown)
    return window, rows


def _is_rep(ctx: Context, pid: str) -> bool:
    person = ctx.directory.person(pid)
    return person is not None and person.role == Role.REP


def _mark(ok: bool | None) -> str:
    return "—" if ok is None else ("✓" if ok else "✗")


def render(ctx: Context, window: Window, rows: list[Row], extra: Sequence[str] = ()) -> str:
    cfg = ctx.config.baseline
    lines = [ctx.t("baseline.title", days=window.days, working_days=window.working_days,
                   end=from_ms(window.until_ms).astimezone(tz(ctx)).strftime("%Y-%m-%d")),
             ctx.t("baseline.reference", fu_mean=cfg.follow_up_industry_days, fu_ok=cfg.follow_up_healthy_days,
                   act_mean=cfg.actions_industry, act_ok=cfg.actions_healthy)]
    for row in rows:
        fu_ok = None if row.follow_up_days is None else row.follow_up_days <= cfg.follow_up_healthy_days
        act_ok = None if row.actions_per_day is None else row.actions_per_day >= cfg.actions_healthy
        lines.append(ctx.t(
            "baseline.row", label=row.label,
            follow_up="—" if row.follow_up_days is None else f"{row.follow_up_days:.1f}", fu_mark=_mark(fu_ok),
            gaps=row.gaps, actions="—" if row.actions_per_day is None else f"{row.actions_per_day:.1f}",
            act_mark=_mark(act_ok), count=row.actions))
    lines.extend(extra)  # other capabilities' self-checks (coaching: case after hesitation)
    lines.append(ctx.t("baseline.definitions", days=window.days))
    return "\n".join(lines)


@router.command("baseline")
def on_baseline(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    scope = scope_for(ctx, event.actor)
    person = ctx.directory.person(event.actor.person_id) if scope else None
    if scope is None or person is None:
        ctx.reply(ctx.t("core.permission_denied"))
        return
    now = ctx.clock.now_ms()
    if scope.everyone:
        teams = sorted(ctx.directory.teams)
        reps = sorted(p.id for p in ctx.directory.with_role(Role.REP))
        window, rows = compute(ctx, now, reps, teams, company=True)
    elif person.role == Role.MANAGER:
        teams = ctx.directory.teams_managed_by(person.id)
        reps = sorted(p.id for t in teams for p in ctx.directory.team_members(t) if p.role == Role.REP)
        window, rows = compute(ctx, now, reps, teams, company=False)
    else:
        teams = [person.team_id] if person.team_id else []
        reps = [person.id]
        window, rows = compute(ctx, now, reps, teams, company=False)
    groups: list[tuple[str, list[str] | None]] = [(ctx.t("baseline.company"), None)] if scope.everyone else []
    for team in teams:
        groups.append((ctx.directory.teams.get(team, (team, None))[0],
                       [p.id for p in ctx.directory.team_members(team) if p.role == Role.REP]))
    for pid in reps:
        rep = ctx.directory.person(pid)
        groups.append((rep.name if rep else pid, [pid]))
    text = render(ctx, window, rows, coaching_reports.baseline_lines(ctx, groups, window.since_ms, window.until_ms))
    from handlers.stores.commands import store_baseline_line  # late: the stores package imports much

    store_line = store_baseline_line(ctx, event.actor, window.days)
    ctx.reply(text + ("\n" + store_line if store_line else ""))
