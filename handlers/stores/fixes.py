"""Fix tasks (整改): every red dimension of a store's day (orange too with [stores] fix_on_orange) opens one task
with a card to the store manager — the issue list and the buttons 已整改 / 需要支持 / 不适用.

Why it is built this way:
- One open task per store and dimension: a shelf that stays wrong for three days is one task, not three cards.
- 货效 is confirmed only by a new shelf photo that passes the check (exposure at/above the healthy line and no
  missing or misplaced key product); pressing 已整改 on a 货效 card asks for that photo. The other dimensions are
  confirmed by the button; a photo sent afterwards is kept as evidence in the audit trail.
- 需要支持 goes to the area manager at once; an open task not fixed within [stores] escalate_after_hours goes to
  the area manager once (the sweep checks every ten minutes; `escalated_at` makes it once).
- Every step is audited (store_fix_audit: who, when, what); /整改 lists the open tasks.
- The card after a press is sent again with its new state and without buttons: on WeCom it replaces the pressed
  card (the press's task id), on DingTalk and Feishu the adapters show the press on the card itself and the new
  state arrives as a message.
"""

from __future__ import annotations

from bot.context import Context
from bot.events import CardAction
from bot.replies import Button, Reply
from handlers.stores import health
from store import stores as stores_store

ACTION = "stores.fix"
CHOICES = ("fixed", "support", "na")


def wants_fix(colour: str, ctx: Context) -> bool:
    return colour == health.RED or (colour == health.ORANGE and ctx.config.stores.fix_on_orange)


def issues_for(ctx: Context, dim: health.Dim, row: stores_store.StoreRow, day: str) -> list[str]:
    issues = [reason_text(ctx, dim)]
    if dim.dimension == "shelf":
        check = stores_store.latest_shelf(ctx.store, row.id, day, day).get(day)
        if check:
            from handlers.stores.actions import shelf_problem_lines

            issues.extend(shelf_problem_lines(ctx, check.problems))
    elif dim.dimension == "conversion":
        _m, _c, overdue = health.conversion_counts(ctx.store, row, day, ctx.config.stores)
        issues.extend(ctx.t("stores.issue_overdue", customer=e.customer or e.phone or "—",
                            at=health.local_day(e.at, row.timezone)) for e in overdue)
    return issues


def reason_text(ctx: Context, dim: health.Dim) -> str:
    return ctx.t(f"stores.reason_{dim.reason}", **dim.values)


def dim_name(ctx: Context, dimension: str) -> str:
    return ctx.t(f"stores.dim_{dimension}")


def card(ctx: Context, fix: stores_store.Fix, row: stores_store.StoreRow, *, buttons: bool = True) -> Reply:
    lines = [ctx.t("stores.fix_issues")]
    lines.extend(f"• {line}" for line in fix.issues)
    lines.append(ctx.t(f"stores.fix_status_{fix.status}"))
    if fix.status in ("open", "support"):
        if fix.dimension == "shelf":
            lines.append(ctx.t("stores.fix_shelf_photo_hint"))
        lines.append(ctx.t("stores.fix_hint", id=fix.id))  # the command, where a platform's button may not call back
    btns = ()
    if buttons and fix.status in ("open", "support"):
        btns = (Button(ctx.t("stores.button_fixed"), ACTION, {"fix": fix.id, "do": "fixed"}, "primary"),
                Button(ctx.t("stores.button_support"), ACTION, {"fix": fix.id, "do": "support"}),
                Button(ctx.t("stores.button_na"), ACTION, {"fix": fix.id, "do": "na"}))
    title = ctx.t("stores.fix_title", store=row.name, dimension=dim_name(ctx, fix.dimension),
                  colour=ctx.t(f"stores.colour_{fix.colour}"), day=fix.day)
    return Reply.card(title, "\n".join(lines), buttons=btns)


def open_for_day(ctx: Context, row: stores_store.StoreRow, day_health: health.DayHealth, now_ms: int) -> list[int]:
    """Open a task for every red (orange) dimension; send its card and the dimension's actions to the manager."""
    from handlers.stores import actions

    opened = []
    due = now_ms + ctx.config.stores.escalate_after_hours * health.HOUR_MS
    for dim in day_health.dims.values():
        if not wants_fix(dim.colour, ctx):
            continue
        fix_id = stores_store.open_fix(ctx.store, row.id, day_health.day, dim.dimension, dim.colour,
                                       issues_for(ctx, dim, row, day_health.day), now_ms, due)
        if fix_id is None:
            continue
        stores_store.audit(ctx.store, fix_id, now_ms, "", "opened", f"{dim.dimension}:{dim.colour}")
        opened.append(fix_id)
        fix = stores_store.get_fix(ctx.store, fix_id)
        assert fix is not None
        for pid in recipients(ctx, row):
            ctx.notify(pid, card(ctx, fix, row), f"stores:fix:{fix_id}")
            for n, reply in enumerate(actions.for_dimension(ctx, dim.dimension, row, day_health.day)):
                ctx.notify(pid, reply, f"stores:fix:{fix_id}:action:{n}")
    return opened


def recipients(ctx: Context, row: stores_store.StoreRow) -> list[str]:
    """The store manager; a store without one: its area manager; else the admins (someone must know)."""
    if row.manager_id:
        return [row.manager_id]
    area = area_manager(ctx, row)
    if area:
        return [area]
    return sorted(p.id for p in ctx.directory.people.values() if p.is_admin)


def area_manager(ctx: Context, row: stores_store.StoreRow) -> str | None:
    return stores_store.areas(ctx.store).get(row.area, (None, ""))[0]


def escalate(ctx: Context, fix: stores_store.Fix, now_ms: int, why: str) -> bool:
    """Tell the area manager (admins when the area has none) about a task, once per task."""
    row = stores_store.get_store(ctx.store, fix.store_id)
    if row is None or not stores_store.mark_escalated(ctx.store, fix.id, now_ms):
        return False
    people = [area_manager(ctx, row)] if area_manager(ctx, row) else sorted(
        p.id for p in ctx.directory.people.values() if p.is_admin)
    manager = ctx.directory.person(row.manager_id or "")
    text = ctx.t(f"stores.escalation_{why}", store=row.name, dimension=dim_name(ctx, fix.dimension),
                 manager=manager.name if manager else "—", hours=ctx.config.stores.escalate_after_hours, day=fix.day)
    body = "\n".join([text, *(f"• {line}" for line in fix.issues)])
    for pid in people:
        if pid:
            ctx.notify(pid, Reply.card(ctx.t("stores.escalation_title", store=row.name), body),
                       f"stores:fix:{fix.id}:escalation")
    stores_store.audit(ctx.store, fix.id, now_ms, "", "escalated", why)
    return True


def escalate_due(ctx: Context, now_ms: int) -> int:
    return sum(escalate(ctx, fix, now_ms, "late") for fix in stores_store.due_escalations(ctx.store, now_ms))


def may_act(ctx: Context, actor_person: str, is_admin: bool, row: stores_store.StoreRow) -> bool:
    if is_admin or actor_person == row.manager_id or actor_person == area_manager(ctx, row):
        return True
    return any(pid == actor_person for pid, _role in stores_store.staff_of(ctx.store, row.id))


def on_press(event: CardAction, ctx: Context) -> None:
    try:
        fix_id = int(event.value.get("fix", 0))
    except (TypeError, ValueError):
        fix_id = 0
    choice = str(event.value.get("do", ""))
    fix = stores_store.get_fix(ctx.store, fix_id) if fix_id else None
    if fix is None or choice not in CHOICES:
        ctx.reply(ctx.t("stores.fix_unknown"))
        return
    row = stores_store.get_store(ctx.store, fix.store_id)
    me = event.actor.person_id
    if row is None or not me or not may_act(ctx, me, event.actor.is_admin, row):
        ctx.reply(ctx.t("core.permission_denied"))
        return
    press(ctx, fix, row, choice, me, event.occurred_at)


def press(ctx: Context, fix: stores_store.Fix, row: stores_store.StoreRow, choice: str, me: str, at: int) -> None:
    """One button on a fix card (or `/整改 <编号> 已整改|需要支持|不适用`)."""
    if fix.status in ("fixed", "not_applicable"):
        ctx.reply(ctx.t("stores.fix_already", id=fix.id, status=ctx.t(f"stores.fix_status_{fix.status}")))
        return
    stores_store.audit(ctx.store, fix.id, at, me, "pressed", choice)
    if choice == "fixed" and fix.dimension == "shelf":
        ctx.reply(ctx.t("stores.fix_need_photo", store=row.name))
        return
    status = {"fixed": "fixed", "support": "support", "na": "not_applicable"}[choice]
    if status == fix.status or not stores_store.set_fix_status(ctx.store, fix.id, status, at, me):
        ctx.reply(card(ctx, fix, row, buttons=False))
        return
    if status == "fixed" and fix.dimension == "conversion":
        _m, _c, overdue = health.conversion_counts(ctx.store, row, fix.day, ctx.config.stores)
        stores_store.mark_cared(ctx.store, [e.id for e in overdue], at)
    updated = stores_store.get_fix(ctx.store, fix.id)
    assert updated is not None
    ctx.reply(card(ctx, updated, row, buttons=status == "support"))
    if status == "support":
        escalate(ctx, updated, at, "support")


def confirm_by_photo(ctx: Context, row: stores_store.StoreRow, passed: bool, person: str, at: int,
                     check_id: int) -> stores_store.Fix | None:
    """A shelf check of this store: closes its open 货效 task when the photo passed; for another open task a photo
    is evidence. Returns the task closed, if any."""
    fix = stores_store.open_fix_for(ctx.store, row.id, "shelf")
    if fix is not None:
        stores_store.audit(ctx.store, fix.id, at, person, "photo", f"check {check_id}: {'pass' if passed else 'fail'}")
        if passed and stores_store.set_fix_status(ctx.store, fix.id, "fixed", at, person):
            return stores_store.get_fix(ctx.store, fix.id)
        return None
    for other in stores_store.open_fixes(ctx.store, [row.id]):
        stores_store.audit(ctx.store, other.id, at, person, "photo", f"check {check_id}")
    return None
