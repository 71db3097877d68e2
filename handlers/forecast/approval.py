"""Manager approval of a rep's large forecast changes (C4 with a second pair of eyes).

Why: a rep could raise their own deal to 90 % and it entered the manager's forecast at once. Now an /adjust by a
rep that makes the forecast bigger or sooner by more than a step ([forecast] approval_step_pct points of win
probability, approval_amount_pct % of the amount, approval_close_days days earlier) is not applied: it waits in
store/approvals.py, so no forecast counts it, and the rep's manager (the admins when the rep has none) gets a card
with who / what / old / new / reason and 批准 / 驳回 on whichever platform reaches them. The rep is told it waits,
and told the outcome. An approved change is written exactly like a manager's own /adjust (the revision row names
the approver); a rejected one changes nothing. Every request and decision stays in forecast_approvals.

Changes in the other direction (smaller, later, less likely) make the forecast more careful and need nobody's
approval; they are audited like any /adjust. Managers' and admins' own changes apply at once.
"""

from __future__ import annotations

from bot.context import Context
from bot.events import Actor, CardAction, Command, Role
from bot.replies import Button, Reply
from bot.router import F, Router
from store import approvals as approval_store
from store import deals as deal_store
from store.deals import Deal

router = Router("forecast_approval")

APPROVE, REJECT = "forecast_approve", "forecast_reject"
DAY_MS = 86_400_000


def needed(ctx: Context, actor: Actor, deal: Deal, field: str, value: float, p_old: float) -> bool:
    """Does this /adjust by `actor` wait for a manager? Only a rep's, only upwards, only past the step."""
    if actor.role != Role.REP or actor.is_admin:
        return False
    cfg = ctx.config.forecast
    if field == "probability":
        old = deal.details.probability_override
        old = p_old if old is None else old
        return cfg.approval_step_pct > 0 and (value - old) * 100 > cfg.approval_step_pct + 1e-9
    if field == "amount":
        if cfg.approval_amount_pct <= 0 or value <= deal.amount:
            return False
        return deal.amount <= 0 or (value - deal.amount) * 100 / deal.amount > cfg.approval_amount_pct + 1e-9
    if cfg.approval_close_days <= 0 or deal.expected_close_at is None:
        return False
    return (deal.expected_close_at - value) > cfg.approval_close_days * DAY_MS


def approvers(ctx: Context, rep_id: str) -> list[str]:
    manager = ctx.directory.manager_of(rep_id)
    if manager is not None:
        return [manager.id]
    return sorted(p.id for p in ctx.directory.people.values() if p.is_admin and p.id != rep_id)


def _name(ctx: Context, person_id: str) -> str:
    person = ctx.directory.person(person_id)
    return person.name if person else person_id


def card(ctx: Context, a: approval_store.Approval, title: str) -> Reply:
    field = ctx.t(f"forecast.field_{a.field}")
    fields = [(ctx.t("approval.who"), _name(ctx, a.requester_id)), (ctx.t("approval.what"), f"{title} · {field}"),
              (ctx.t("approval.old"), a.old_text), (ctx.t("approval.new"), a.new_text),
              (ctx.t("approval.reason"), a.reason)]
    buttons = (Button(ctx.t("approval.approve"), APPROVE, {"approval_id": a.id}, "primary"),
               Button(ctx.t("approval.reject"), REJECT, {"approval_id": a.id}, "danger"))
    return Reply.card(ctx.t("approval.card_title", deal=title), ctx.t("approval.card_text"), fields, buttons)


def request(ctx: Context, event: Command, deal: Deal, field: str, value: float, old: str, new: str,
            reason: str) -> bool:
    """Keep the change pending, send the card to the approvers and tell the rep. False when nobody can approve
    (no manager, no admin): the caller then applies the change as before."""
    rep = event.actor.person_id
    deciders = approvers(ctx, rep)
    if not deciders:
        return False
    now = ctx.clock.now_ms()
    aid, withdrawn = approval_store.add(ctx.store, deal.id, field, float(value), old, new, reason, rep, deciders,
                                        now, event.event_id)
    a = approval_store.get(ctx.store, aid)
    for pid in deciders:
        ctx.notify(pid, card(ctx, a, deal.title), f"approval:{aid}")
    names = ctx.t("core.list_sep").join(_name(ctx, p) for p in deciders)
    text = ctx.t("approval.requested", deal=deal.title, field=ctx.t(f"forecast.field_{field}"), old=old, new=new,
                 who=names)
    if withdrawn:
        text += "\n" + ctx.t("approval.replaces")
    ctx.reply(text)
    return True


def pending_lines(ctx: Context, lead_id: str) -> list[str]:
    """/deal's lines for changes of this deal still waiting for approval (not in the figures above them)."""
    return [ctx.t("approval.pending_line", who=_name(ctx, a.requester_id), field=ctx.t(f"forecast.field_{a.field}"),
                  old=a.old_text, new=a.new_text, reason=a.reason,
                  approvers=ctx.t("core.list_sep").join(_name(ctx, p) for p in a.approvers))
            for a in approval_store.pending_for(ctx.store, lead_id)]


def _approval(event: CardAction, ctx: Context) -> approval_store.Approval | None:
    try:
        aid = int(event.value.get("approval_id", 0))
    except (TypeError, ValueError):
        aid = 0
    a = approval_store.get(ctx.store, aid) if aid else None
    if a is None:
        ctx.reply(ctx.t("approval.unknown"))
        return None
    me = event.actor.person_id
    if not me or (me not in a.approvers and not event.actor.is_admin):
        # not "你没有权限查看这些内容": the presser saw the card; say who decides it
        ctx.reply(ctx.t("approval.not_approver", approvers="、".join(_name(ctx, pid) for pid in a.approvers)))
        return None
    if a.status != "pending":
        ctx.reply(ctx.t(f"approval.already_{a.status}", who=_name(ctx, a.decided_by or "")))
        return None
    return a


def _tell(ctx: Context, a: approval_store.Approval, me: str, title: str, outcome: str, extra: str = "") -> None:
    """The rep learns the outcome; other approvers (several admins) learn it was handled."""
    field = ctx.t(f"forecast.field_{a.field}")
    text = ctx.t(f"approval.rep_{outcome}", deal=title, field=field, old=a.old_text, new=a.new_text,
                 who=_name(ctx, me))
    ctx.notify(a.requester_id, Reply.plain("\n".join(x for x in (text, extra) if x)), f"approval:{a.id}:{outcome}")
    for pid in a.approvers:
        if pid != me:
            ctx.notify(pid, Reply.plain(ctx.t("approval.other_decided", who=_name(ctx, me), deal=title,
                                              outcome=ctx.t(f"approval.outcome_{outcome}"))),
                       f"approval:{a.id}:{outcome}:others")


@router.on(CardAction, F(lambda event, ctx: event.action == APPROVE))
def on_approve(event: CardAction, ctx: Context) -> None:
    from handlers.forecast.commands import apply_adjustment  # commands imports this module

    a = _approval(event, ctx)
    if a is None:
        return
    me = event.actor.person_id
    deal = deal_store.get(ctx.store, a.lead_id)
    if deal is None or deal.status != "open":
        approval_store.decide(ctx.store, a.id, "withdrawn", me, ctx.clock.now_ms())
        ctx.reply(ctx.t("approval.deal_closed"))
        return
    approval_store.decide(ctx.store, a.id, "approved", me, ctx.clock.now_ms())
    value = a.value if a.field == "probability" else (int(a.value) if a.field == "close_date" else a.value)
    text, revision_id = apply_adjustment(ctx, deal, a.field, value, a.reason, a.requester_id, event.event_id)
    approval_store.link_revision(ctx.store, a.id, revision_id, me)
    ctx.reply(ctx.t("approval.approved_you", deal=deal.title) + "\n" + text)
    _tell(ctx, a, me, deal.title, "approved", text)


@router.on(CardAction, F(lambda event, ctx: event.action == REJECT))
def on_reject(event: CardAction, ctx: Context) -> None:
    a = _approval(event, ctx)
    if a is None:
        return
    me = event.actor.person_id
    approval_store.decide(ctx.store, a.id, "rejected", me, ctx.clock.now_ms())
    deal = deal_store.get(ctx.store, a.lead_id)
    title = deal.title if deal else a.lead_id
    ctx.reply(ctx.t("approval.rejected_you", deal=title))
    _tell(ctx, a, me, title, "rejected")
