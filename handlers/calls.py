"""Missed calls: a customer's call that nobody answered and nobody returned within the window (default 30 min)
alerts the responsible rep, their manager and customer service — once.

Why a stored episode and a sweep rather than a timer: the database is the source of truth for time-based work,
so a restart neither loses nor repeats an alert. When an unanswered inbound call arrives we open an episode
(store/calls.py) due at missed_at + window; the every-minute "missed_call_sweep" Tick escalates the due ones that
still show no return. "Returned" means, within the window: any outbound call attempt to that number by anyone
(an unanswered callback still counts: someone tried), an answered inbound call from the same number, or a message
from staff to that customer. The sweep checks the call log and the stored events itself, so records that arrive
out of order (a CSV export) are judged on their times, not on their arrival.

The alert is a card with "我来回电" / "已处理"; the first press wins and the other recipients are told.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.context import Context, Services
from bot.events import CallRecord, CardAction, Command, Message, Role, Tick
from bot.replies import Button, Reply
from bot.router import F, Router
from store import calls as calls_store
from store import customers as customer_store
from store import leads as lead_store
from store import org as org_store

log = logging.getLogger("salespulse.calls")

router = Router("calls")

SWEEP_JOB = "missed_call_sweep"
ACTION_CLAIM = "calls.claim"
ACTION_DONE = "calls.done"
_STAFF = (Role.REP, Role.MANAGER, Role.CS)
_MINUTE = 60_000


def setup(services: Services) -> None:
    """Teach the directory who is who on the phone: person id, name, phone and PBX extension → person.

    The dispatcher then resolves a call record's `rep` column like any other platform identity.
    """
    store = services.store
    with store.transaction():
        for person in org_store.all_people(store):
            for key in {person.id, person.name, calls_store.normalise_phone(person.phone)}:
                if key:
                    org_store.add_identity(store, "telephony", key, person.id)
        for extension, person_id in services.config.calls.extensions.items():
            if services.directory.person(person_id):
                org_store.add_identity(store, "telephony", extension, person_id)
            else:
                log.warning("[calls] extensions: %s → %s: no such person; ignored", extension, person_id)
    services.directory.refresh()
    calls_store.watch_open(store)


# ---------------------------------------------------------------- who and whom


def _rep_of(event: CallRecord, ctx: Context) -> str:
    """The staff member on our side of the call, from the resolved actor or, for people added since start-up,
    from the raw value (person id, name, phone, extension)."""
    actor = event.actor
    if actor.person_id and actor.role in _STAFF:
        return actor.person_id
    raw = actor.platform_id
    if not raw:
        return ""
    pid = ctx.config.calls.extensions.get(raw, "")
    person = ctx.directory.person(pid or raw) or ctx.directory.by_name(raw)
    if person is None:
        phone = calls_store.normalise_phone(raw)
        found = org_store.person_by_phone(ctx.store, phone) if phone else None
        return found.id if found else ""
    return person.id


def _customer_of(phone: str, ctx: Context) -> str | None:
    for value in (phone, "+86" + phone, "86" + phone):
        cid = ctx.directory.customer_for("phone", value)
        if cid:
            return cid
    return None


def _responsible(ctx: Context, lead_id: str | None, customer_id: str | None, rep_id: str) -> str:
    """Owner of the lead, else of the customer, else whoever's extension was called."""
    if lead_id:
        lead = lead_store.get(ctx.store, lead_id)
        if lead and lead.owner_id:
            return lead.owner_id
    if customer_id:
        customer = customer_store.get(ctx.store, customer_id)
        if customer and customer.owner_id:
            return customer.owner_id
    return rep_id


def _recipients(ctx: Context, owner: str) -> list[str]:
    """Rep, their manager, every 客服; the admins stand in when no rep is known."""
    out: list[str] = []
    if owner:
        out.append(owner)
        manager = ctx.directory.manager_of(owner)
        if manager:
            out.append(manager.id)
    if ctx.config.calls.alert_customer_service:
        out += [p.id for p in sorted(ctx.directory.with_role(Role.CS), key=lambda p: p.id)]
    if not owner:
        out += [p.id for p in sorted(ctx.directory.people.values(), key=lambda p: p.id) if p.is_admin]
    return list(dict.fromkeys(out))


# ---------------------------------------------------------------- facts


@router.observe(CallRecord)
def on_call(event: CallRecord, ctx: Context) -> None:
    phone = event.customer_phone
    if not phone:
        return
    rep_id = _rep_of(event, ctx)
    customer_id = _customer_of(phone, ctx)
    if not calls_store.log_call(ctx.store, event.event_id, event.occurred_at, event.direction, phone, event.answered,
                                event.duration_s, rep_id, customer_id):
        return
    if org_store.person_by_phone(ctx.store, phone) is not None:
        return  # a colleague's number: an internal call, not a customer's
    if event.direction == "inbound" and not event.answered:
        _open_episode(event, ctx, rep_id, customer_id)
    else:
        _returned(ctx, phone, customer_id, event.occurred_at, rep_id)


def _open_episode(event: CallRecord, ctx: Context, rep_id: str, customer_id: str | None) -> None:
    store, section = ctx.store, ctx.config.calls
    missed_at = event.occurred_at
    due_at = missed_at + section.return_window_minutes * _MINUTE
    current = calls_store.pending_for_phone(store, event.customer_phone)
    if current is not None:
        calls_store.add_attempt(store, current.id, missed_at, due_at)
        return
    lead_id = lead_store.open_for_customer(store, customer_id) if customer_id else None
    owner = _responsible(ctx, lead_id, customer_id, rep_id)
    stale = ctx.clock.now_ms() - missed_at > section.max_age_hours * 60 * _MINUTE
    mid = calls_store.add_missed(store, event.event_id, event.customer_phone, customer_id, lead_id, owner, missed_at,
                                 due_at, "stale" if stale else "pending")
    if mid is None or stale:
        return
    back = calls_store.first_return(store, event.customer_phone, customer_id, missed_at, due_at, event.event_id)
    if back is not None:  # the callback's record arrived first (unsorted export)
        calls_store.mark_returned(store, mid, back[0], back[1])


def _returned(ctx: Context, phone: str, customer_id: str | None, at_ms: int, by: str) -> None:
    """Someone attended to the customer: close pending episodes; for alerted ones, tell who was alerted."""
    for missed in calls_store.open_matching(ctx.store, phone, customer_id, at_ms):
        if missed.status == "pending":
            calls_store.mark_returned(ctx.store, missed.id, at_ms, by)
        elif calls_store.finish(ctx.store, missed.id, by, at_ms, returned=True):
            who = _name(ctx, by) or ctx.t("calls.someone")
            text = ctx.t("calls.returned_after_alert", who=who, customer=_customer_label(ctx, missed),
                         time=_hm(ctx, at_ms))
            for pid in missed.recipients:
                ctx.notify(pid, Reply.plain(text), f"missed-call:{missed.id}:returned")


def _is_staff_message(event, ctx) -> bool:
    return isinstance(event, Message) and not event.to_bot and event.actor.role in _STAFF


@router.observe(Message, F(_is_staff_message))
def on_staff_message(event: Message, ctx: Context) -> None:
    """A rep writing to the customer (1:1 or in the customer's bound group) counts as a return."""
    if not calls_store.any_open(ctx.store):  # nothing to return (exact: see store.calls.watch_open)
        return
    customers = {ctx.directory.customer_for("external_id", r) for r in event.recipients}
    if event.conversation_id:
        customers.add(ctx.directory.customer_for("chat", event.conversation_id))
    for customer_id in sorted(c for c in customers if c):
        _returned(ctx, "", customer_id, event.occurred_at, event.actor.person_id)


# ---------------------------------------------------------------- the sweep


def _is_sweep(event, ctx) -> bool:
    return isinstance(event, Tick) and event.job == SWEEP_JOB


@router.on(Tick, F(_is_sweep))
def on_sweep(event: Tick, ctx: Context) -> None:
    now = event.due_at or ctx.clock.now_ms()
    max_age = ctx.config.calls.max_age_hours * 60 * _MINUTE
    for missed in calls_store.due(ctx.store, now):
        back = calls_store.first_return(ctx.store, missed.phone, missed.customer_id, missed.missed_at, missed.due_at,
                                        missed.event_id)
        if back is not None:
            calls_store.mark_returned(ctx.store, missed.id, back[0], back[1])
        elif now - missed.missed_at > max_age:
            log.warning("missed call %s is older than [calls] max_age_hours; not escalated", missed.event_id)
            calls_store.mark_stale(ctx.store, missed.id)
        else:
            escalate(ctx, missed, now)


def escalate(ctx: Context, missed: calls_store.MissedCall, now: int) -> list[str]:
    recipients = _recipients(ctx, missed.rep_id)
    if not calls_store.mark_escalated(ctx.store, missed.id, now, recipients):
        return []
    if not recipients:
        log.warning("missed call %s: nobody to alert (no rep, no 客服, no admin)", missed.event_id)
    card = alert_card(ctx, missed, now)
    for pid in recipients:
        ctx.notify(pid, card, f"missed-call:{missed.id}")
    return recipients


def alert_card(ctx: Context, missed: calls_store.MissedCall, now: int) -> Reply:
    lead = lead_store.get(ctx.store, missed.lead_id) if missed.lead_id else None
    fields = [
        (ctx.t("calls.field_customer"), _customer_label(ctx, missed)),
        (ctx.t("calls.field_phone"), missed.phone),
        (ctx.t("calls.field_time"), ctx.t("calls.time_value", time=_hm(ctx, missed.missed_at),
                                          attempts=missed.attempts)),
        (ctx.t("calls.field_rep"), _name(ctx, missed.rep_id) or ctx.t("calls.nobody")),
        (ctx.t("calls.field_waiting"), ctx.t("calls.minutes", n=max(0, (now - missed.missed_at) // _MINUTE))),
    ]
    if lead is not None:
        fields.append((ctx.t("calls.field_lead"), lead.title))
    buttons = (
        Button(ctx.t("calls.btn_claim"), ACTION_CLAIM, {"missed_id": missed.id}, "primary"),
        Button(ctx.t("calls.btn_done"), ACTION_DONE, {"missed_id": missed.id}),
    )
    text = ctx.t("calls.alert_text", minutes=ctx.config.calls.return_window_minutes)
    return Reply.card(ctx.t("calls.alert_title", customer=_customer_label(ctx, missed)), text, fields, buttons)


# ---------------------------------------------------------------- card buttons


def _action(name: str) -> F:
    return F(lambda event, ctx: isinstance(event, CardAction) and event.action == name)


def _card_target(event: CardAction, ctx: Context) -> calls_store.MissedCall | None:
    try:
        missed_id = int(event.value.get("missed_id", 0))
    except (TypeError, ValueError):
        missed_id = 0
    missed = calls_store.get(ctx.store, missed_id) if missed_id else None
    if missed is None:
        ctx.reply(ctx.t("calls.unknown_alert"))
        return None
    person = event.actor.person_id
    if not person or (person not in missed.recipients and not event.actor.is_admin):
        ctx.reply(ctx.t("core.permission_denied"))
        return None
    return missed


def _already(ctx: Context, missed: calls_store.MissedCall) -> str:
    who = _name(ctx, missed.handled_by or missed.returned_by) or ctx.t("calls.someone")
    return ctx.t(f"calls.already_{missed.status}", who=who)


def _tell_others(ctx: Context, missed: calls_store.MissedCall, actor_id: str, key: str, text: str) -> None:
    for pid in missed.recipients:
        if pid != actor_id:
            ctx.notify(pid, Reply.plain(text), f"missed-call:{missed.id}:{key}")


@router.on(CardAction, _action(ACTION_CLAIM))
def on_claim(event: CardAction, ctx: Context) -> None:
    missed = _card_target(event, ctx)
    if missed is None:
        return
    me = event.actor.person_id
    if not calls_store.claim(ctx.store, missed.id, me, event.occurred_at):
        ctx.reply(_already(ctx, missed) if missed.handled_by != me else ctx.t("calls.claimed_you", phone=missed.phone))
        return
    ctx.reply(ctx.t("calls.claimed_you", phone=missed.phone))
    _tell_others(ctx, missed, me, "claimed", ctx.t("calls.claimed_other", who=_name(ctx, me),
                                                   customer=_customer_label(ctx, missed)))


@router.on(CardAction, _action(ACTION_DONE))
def on_done(event: CardAction, ctx: Context) -> None:
    missed = _card_target(event, ctx)
    if missed is None:
        return
    me = event.actor.person_id
    if not calls_store.finish(ctx.store, missed.id, me, event.occurred_at):
        ctx.reply(_already(ctx, missed))
        return
    ctx.reply(ctx.t("calls.done_you"))
    _tell_others(ctx, missed, me, "handled", ctx.t("calls.done_other", who=_name(ctx, me),
                                                   customer=_customer_label(ctx, missed)))


# ---------------------------------------------------------------- /missed


@router.command("missed")
def on_missed(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    actor = event.actor
    if actor.is_admin or actor.role == Role.CS:
        scope: list[str] | None = None
    elif actor.role == Role.MANAGER:
        scope = [actor.person_id] + [p.id for t in ctx.directory.teams_managed_by(actor.person_id)
                                     for p in ctx.directory.team_members(t)]
    elif actor.role == Role.REP:
        scope = [actor.person_id]
    else:
        ctx.reply(ctx.t("core.permission_denied"))
        return
    rows = calls_store.open_list(ctx.store, scope)
    if not rows:
        ctx.reply(ctx.t("calls.none_open"))
        return
    lines = [ctx.t("calls.list_title", n=len(rows))]
    for m in rows:
        lines.append(ctx.t("calls.list_line", time=_hm(ctx, m.missed_at), customer=_customer_label(ctx, m),
                           phone=m.phone, rep=_name(ctx, m.rep_id) or ctx.t("calls.nobody"),
                           status=ctx.t(f"calls.status_{m.status}"), attempts=m.attempts))
    ctx.reply("\n".join(lines))


# ---------------------------------------------------------------- text helpers


def _name(ctx: Context, person_id: str) -> str:
    person = ctx.directory.person(person_id) if person_id else None
    return person.name if person else ""


def _customer_label(ctx: Context, missed: calls_store.MissedCall) -> str:
    customer = customer_store.get(ctx.store, missed.customer_id) if missed.customer_id else None
    return customer.name if customer else ctx.t("calls.unknown_customer", phone=missed.phone)


def _hm(ctx: Context, ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(ctx.config.bot.timezone)).strftime("%m-%d %H:%M")
