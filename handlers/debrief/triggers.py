"""When a debrief starts, and the sweep that asks, reminds, expires and prunes.

Why it is built this way:
- A customer meeting is what the rules already recognise: a calendar event or a call whose stored event carries one
  of [debrief] trigger_tags (客户会议 = a calendar event with an external attendee), or an answered customer call of
  at least min_call_minutes. The tagging observer runs first (bot/app.py order), so the stored event already has its
  customer, lead and tags; nothing is matched twice.
- One debrief per meeting: the meeting's event id is a UNIQUE key, and a second trigger for the same rep and lead
  within same_meeting_minutes (a calendar update, the call made from the visit, /复盘 typed right after the card)
  joins the open debrief instead of opening another.
- The card waits until the meeting has ended (+ ask_after_minutes): a calendar event usually arrives before the
  meeting. The sweep (Tick "debrief_sweep", every minute) sends due cards, the one reminder (held in quiet hours,
  like silence alerts), expires what was never answered, and applies [debrief] keep_days to stored answers.
- Old meetings (an import of last month's calendar) start no debrief: nobody remembers a meeting from weeks ago.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.context import Context
from bot.events import Actor, CalendarEvent, CallRecord, Event, Role
from bot.replies import Button, Reply
from handlers.timeline import fmt_time
from store import debrief as store

log = logging.getLogger("salespulse.debrief")

MINUTE = 60_000
DAY = 86_400_000
SWEEP_BATCH = 500


def meeting_end(event: Event) -> int:
    if isinstance(event, CalendarEvent):
        return event.ends_at or event.starts_at or event.occurred_at
    if isinstance(event, CallRecord):
        return event.occurred_at + max(0, event.duration_s) * 1000
    return event.occurred_at


def is_customer_meeting(ctx: Context, event: Event, tags: list[str]) -> bool:
    cfg = ctx.config.debrief
    if set(tags) & set(cfg.trigger_tags):
        return True
    return (isinstance(event, CallRecord) and cfg.min_call_minutes > 0 and event.answered
            and event.duration_s >= cfg.min_call_minutes * 60)


def rep_of(ctx: Context, event: Event, owner_id: str | None) -> str | None:
    """Who debriefs: the organiser or caller when they are in sales, else an internal attendee in sales, else the
    lead's owner."""
    sales = (Role.REP, Role.MANAGER)
    person = ctx.directory.person(event.actor.person_id) if event.actor.person_id else None
    if person and person.role in sales:
        return person.id
    for platform_id in getattr(event, "attendees", ()):
        resolved = ctx.directory.resolve(event.platform, Actor(platform_id=platform_id))
        attendee = ctx.directory.person(resolved.person_id) if resolved.person_id else None
        if attendee and attendee.role in sales:
            return attendee.id
    owner = ctx.directory.person(owner_id or "")
    return owner.id if owner else None


def on_meeting(event: Event, ctx: Context) -> None:
    """Observer for calendar events and calls: start a debrief when a customer meeting ended (or will end)."""
    cfg = ctx.config.debrief
    if not cfg.enabled:
        return
    stored = store.stored_event(ctx.store, event.event_id)
    if stored is None:
        return
    customer_id, lead_id, tags = stored
    if customer_id is None or not is_customer_meeting(ctx, event, tags):
        return
    now = ctx.clock.now_ms()
    end = meeting_end(event)
    if end < now - cfg.expire_days * DAY:
        return  # an old meeting (an import): nobody debriefs last month
    owner = store.lead_owner(ctx.store, lead_id) if lead_id else None
    person_id = rep_of(ctx, event, owner[0] if owner else None)
    if person_id is None:
        return
    if store.open_near(ctx.store, person_id, lead_id, end, cfg.same_meeting_minutes * MINUTE) is not None:
        return
    title = getattr(event, "title", "") or ""
    source = "calendar" if isinstance(event, CalendarEvent) else "call"
    debrief_id = store.create(ctx.store, meeting_key=event.event_id, person_id=person_id, lead_id=lead_id,
                              customer_id=customer_id, title=title, source=source, meeting_at=end,
                              due_at=end + cfg.ask_after_minutes * MINUTE, now=now)
    if debrief_id is not None and end + cfg.ask_after_minutes * MINUTE <= now:
        ask(ctx, debrief_id, now)


# ---------------------------------------------------------------- the card


def label(ctx: Context, d: store.Debrief) -> str:
    parts = [p for p in (d.customer_name, d.lead_title or d.title) if p]
    return "·".join(parts) or ctx.t("debrief.no_customer")


def card(ctx: Context, d: store.Debrief, *, reminder: bool = False) -> Reply:
    body = [ctx.t("debrief.card_reminder" if reminder else "debrief.card_intro", when=fmt_time(ctx, d.meeting_at)),
            ctx.t("debrief.q_worry_n"), ctx.t("debrief.q_evidence_n"), ctx.t("debrief.q_next_step_n"),
            ctx.t("debrief.card_how", short=ctx.config.asr.max_note_s, long=ctx.config.asr.max_single_note_s)]
    value = {"id": d.id}
    return Reply.card(ctx.t("debrief.card_title", label=label(ctx, d)), "\n".join(body), buttons=(
        Button(ctx.t("debrief.button_voice"), "debrief.voice", value, "primary"),
        Button(ctx.t("debrief.button_text"), "debrief.text", value),
        Button(ctx.t("debrief.button_later"), "debrief.later", value)))


def ask(ctx: Context, debrief_id: int, now: int, *, in_reply: bool = False) -> None:
    """Send the card (once per debrief) and plan the one reminder. `in_reply`: the rep asked for it (/复盘), so it
    answers their message where they typed it."""
    d = store.get(ctx.store, debrief_id)
    if d is None:
        return
    store.mark_asked(ctx.store, d.id, now, now + ctx.config.debrief.remind_after_minutes * MINUTE)
    if in_reply:
        ctx.reply(card(ctx, d))
        return
    ctx.notify(d.person_id, card(ctx, d), f"debrief:{d.id}:ask")


# ---------------------------------------------------------------- the sweep


def sweep(ctx: Context, now: int) -> int:
    cfg = ctx.config.debrief
    sent = 0
    for d in store.due_to_ask(ctx.store, now, SWEEP_BATCH):
        ask(ctx, d.id, now)
        sent += 1
    quiet = ctx.services.extras.get("silence.quiet")
    if quiet is None or not quiet.holds(now):
        for d in store.due_reminders(ctx.store, now, SWEEP_BATCH):
            if store.mark_reminded(ctx.store, d.id, now):
                ctx.notify(d.person_id, card(ctx, d, reminder=True), f"debrief:{d.id}:remind")
                sent += 1
    store.expire(ctx.store, now - cfg.expire_days * DAY)
    if cfg.keep_days > 0:
        prune(ctx, now - cfg.keep_days * DAY)
    return sent


def prune(ctx: Context, before: int) -> int:
    """[debrief] keep_days: answers' transcripts and audio go; what was understood stays on the debrief."""
    rows = store.expired_answers(ctx.store, before, SWEEP_BATCH)
    data_dir = Path(ctx.config.bot.data_dir).resolve()
    for _id, ref in rows:
        if not ref:
            continue
        path = Path(ref) if Path(ref).is_absolute() else data_dir / ref
        try:
            if path.resolve().is_relative_to(data_dir):  # never delete outside the data dir
                path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not delete debrief audio %s: %s", path, exc)
    store.prune_answers(ctx.store, [i for i, _ref in rows])
    return len(rows)
