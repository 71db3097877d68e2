"""A person's to-do for today (/今日) in one card: leads gone silent, missed calls to return, debriefs to answer,
store fixes due, deals whose next step is today (or overdue).

Why one card: each of these already alerts on its own when it happens; in the morning a rep wants the list, not
five separate reminders. A rep gets their own; a manager their teams' (each line names its owner) plus their own;
an admin the company's. The same card is sent each working morning when [today] enabled (commands.py, Tick).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.context import Context
from bot.events import Role
from bot.replies import Reply
from handlers.forecast import periods
from handlers.stores import fixes as store_fixes
from handlers.timeline import tz
from store import calls as calls_store
from store import customers as customer_store
from store import debrief as debrief_store
from store import silence as silence_store
from store import stores as stores_store
from store import today as today_store

DAY_MS = 86_400_000
PARTS = ("silent", "calls", "debriefs", "fixes", "steps")


@dataclass
class ToDo:
    """Lines per part (already worded) and how many each part has in all (lines are capped)."""

    lines: dict[str, list[str]] = field(default_factory=lambda: {p: [] for p in PARTS})
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PARTS, 0))

    @property
    def empty(self) -> bool:
        return not any(self.totals.values())


def people_for(ctx: Context, person_id: str) -> tuple[list[str] | None, bool]:
    """(whose to-dos this person sees, whether to name the owner on each line). None: everyone (admins)."""
    person = ctx.directory.person(person_id)
    if person is None:
        return [], False
    if person.is_admin:
        return None, True
    teams = ctx.directory.teams_managed_by(person.id)
    if person.role == Role.MANAGER and teams:
        members = {person.id, *(p.id for t in teams for p in ctx.directory.team_members(t))}
        return sorted(members), True
    return [person.id], False


def _owner(ctx: Context, owner_id: str | None, named: bool) -> str:
    if not named or not owner_id:
        return ""
    person = ctx.directory.person(owner_id)
    return ctx.t("views.today_owner", name=person.name if person else owner_id)


def _store_ids(ctx: Context, people: list[str] | None) -> list[str] | None:
    if people is None:
        return None
    ids: set[str] = set()
    everyone = stores_store.all_stores(ctx.store)
    for pid in people:
        ids.update(row.id for row, _role in stores_store.stores_of_person(ctx.store, pid))
        areas = set(stores_store.areas_managed_by(ctx.store, pid))
        ids.update(r.id for r in everyone if r.area in areas or r.manager_id == pid)
    return sorted(ids)


def keeps_stores(ctx: Context, person_id: str) -> bool:
    """Whether the person works in, manages or oversees a store: their to-do holds its fixes even when they have no
    deals (a store manager is a colleague, not a rep, in the org chart)."""
    return person_id in stores_store.people_with_stores(ctx.store)


def gather(ctx: Context, person_id: str, now_ms: int) -> ToDo:
    people, named = people_for(ctx, person_id)
    cap = max(1, ctx.config.today.max_lines)
    zone = tz(ctx)
    today = periods.local_date(now_ms, zone)
    todo = ToDo()

    total, silent = silence_store.silent(ctx.store, now_ms, people, limit=cap)
    todo.totals["silent"] = total
    for lead in silent:
        todo.lines["silent"].append(ctx.t("views.today_silent", owner=_owner(ctx, lead.owner_id, named),
                                          title=lead.title, customer=lead.customer_name,
                                          days=max(0, (now_ms - lead.basis_at) // DAY_MS)))

    missed = calls_store.open_list(ctx.store, people, limit=500)
    todo.totals["calls"] = len(missed)
    for m in missed[:cap]:
        customer = customer_store.get(ctx.store, m.customer_id) if m.customer_id else None
        when = periods.local_date(m.missed_at, zone)
        todo.lines["calls"].append(ctx.t(
            "views.today_call", owner=_owner(ctx, m.rep_id, named), phone=m.phone,
            customer=customer.name if customer else ctx.t("views.today_unknown_caller"),
            when=ctx.t("views.today_yesterday") if when < today else ctx.t("views.today_today"), attempts=m.attempts))

    debriefs = []
    for pid in (people if people is not None else [p.id for p in ctx.directory.people.values()]):
        debriefs.extend(debrief_store.open_of(ctx.store, pid, now_ms))
    debriefs.sort(key=lambda d: d.meeting_at)
    todo.totals["debriefs"] = len(debriefs)
    for d in debriefs[:cap]:
        todo.lines["debriefs"].append(ctx.t("views.today_debrief", owner=_owner(ctx, d.person_id, named),
                                            meeting=d.title or d.lead_title or d.customer_name,
                                            day=periods.local_date(d.meeting_at, zone).isoformat()))

    store_ids = _store_ids(ctx, people)
    open_fixes = stores_store.open_fixes(ctx.store, store_ids, limit=500)
    todo.totals["fixes"] = len(open_fixes)
    names = {r.id: r.name for r in stores_store.all_stores(ctx.store)} if open_fixes else {}
    for fix in open_fixes[:cap]:
        key = "views.today_fix_overdue" if fix.due_at <= now_ms else "views.today_fix"
        todo.lines["fixes"].append(ctx.t(key, store=names.get(fix.store_id, fix.store_id),
                                         dimension=store_fixes.dim_name(ctx, fix.dimension), day=fix.day))

    steps = today_store.next_steps_due(ctx.store, people, today.isoformat(), limit=500)
    todo.totals["steps"] = len(steps)
    for s in steps[:cap]:
        key = "views.today_step" if s.due_date == today.isoformat() else "views.today_step_overdue"
        todo.lines["steps"].append(ctx.t(key, owner=_owner(ctx, s.owner_id, named), title=s.title,
                                         action=s.action, due=s.due_date,
                                         person=ctx.t("views.today_step_person", person=s.person) if s.person else ""))
    return todo


def card(ctx: Context, person_id: str, todo: ToDo, now_ms: int) -> Reply:
    people, _named = people_for(ctx, person_id)
    day = periods.local_date(now_ms, tz(ctx))
    whose = ctx.t("views.today_whose_company") if people is None else (
        ctx.t("views.today_whose_team") if len(people) > 1 else ctx.t("views.today_whose_own"))
    title = ctx.t("views.today_title", day=day.isoformat(), weekday=ctx.t(f"views.weekday_{day.weekday()}"),
                  whose=whose)
    if todo.empty:
        return Reply.card(title, ctx.t("views.today_empty"))
    summary = ctx.t("core.list_sep").join(ctx.t(f"views.today_count_{p}", n=todo.totals[p]) for p in PARTS
                                          if todo.totals[p])
    lines = [summary]
    for part in PARTS:
        if not todo.totals[part]:
            continue
        lines.append(ctx.t(f"views.today_part_{part}", n=todo.totals[part]))
        lines.extend(f"· {x}" for x in todo.lines[part])
        more = todo.totals[part] - len(todo.lines[part])
        if more > 0:
            lines.append(ctx.t("views.today_more", n=more))
    return Reply.card(title, "\n".join(lines))
