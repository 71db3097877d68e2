"""The chat face of debriefs: /复盘 (/debrief), /复盘 列表, /复盘率 (/debrief_rate), the card's buttons, voice notes
and texts that answer a debrief, and the sweep tick. Domain logic lives in the modules beside this one.
"""

from __future__ import annotations

import json

from bot.context import Context
from bot.errors import UserInputError
from bot.events import (
    CalendarEvent,
    CallRecord,
    CardAction,
    Command,
    Event,
    Message,
    MessageKind,
    Role,
    Tick,
    VoiceTranscript,
)
from bot.replies import Button, Reply
from bot.router import F, Router
from handlers.debrief import rate, session, triggers
from handlers.debrief.triggers import MINUTE, label
from handlers.timeline import find_lead, fmt_time, lead_label, scope_for
from store import debrief as store

router = Router("debrief")

JOB = "debrief_sweep"
_SALES = (Role.REP, Role.MANAGER)
LIST_WORDS = ("列表", "list", "清单")


# ---------------------------------------------------------------- triggers and sweep


@router.observe(CalendarEvent)
def on_calendar(event: CalendarEvent, ctx: Context) -> None:
    triggers.on_meeting(event, ctx)


@router.observe(CallRecord)
def on_call(event: CallRecord, ctx: Context) -> None:
    triggers.on_meeting(event, ctx)


@router.on(Tick, F(lambda event, ctx: event.job == JOB))
def on_sweep(event: Tick, ctx: Context) -> None:
    triggers.sweep(ctx, max(ctx.clock.now_ms(), event.due_at))


# ---------------------------------------------------------------- answers


def _private_sales(event: Event) -> bool:
    return not event.is_group and event.actor.role in _SALES and bool(event.actor.person_id)


def _voice_target(event: VoiceTranscript, ctx: Context) -> dict | bool:
    if not _private_sales(event):
        return False
    d = session.for_recording(ctx, event.actor.person_id, event.recorded_at or event.occurred_at)
    return {"debrief": d} if d is not None else False


@router.on(VoiceTranscript, F(_voice_target))
def on_voice(event: VoiceTranscript, ctx: Context, debrief: store.Debrief) -> None:
    asr = ctx.config.asr  # the voice limits are [asr]'s: one setting for the recogniser and the debrief
    if event.status == "too_long" or event.duration_ms > asr.max_single_note_s * 1000:
        ctx.reply(ctx.t("debrief.voice_too_long", short=asr.max_note_s, long=asr.max_single_note_s))
        return
    if event.status in ("empty", "silent") or (event.status == "ok" and not event.text.strip()):
        ctx.reply(ctx.t("debrief.voice_silent"))
        return
    if event.status == "undecodable":
        ctx.reply(ctx.t("debrief.voice_undecodable"))
        return
    if event.status != "ok":  # no_recogniser: the audio is kept by the speech pipeline; ask for text
        store.add_answer(ctx.store, debrief.id, event.event_id, "voice", "", event.recorded_at or event.occurred_at,
                         ctx.clock.now_ms(), event.duration_ms, event.audio_ref)
        ctx.reply(ctx.t("debrief.voice_no_asr"))
        return
    session.take(ctx, debrief, event.text, kind="voice", event_id=event.event_id,
                 recorded_at=event.recorded_at or event.occurred_at, duration_ms=event.duration_ms,
                 audio_ref=event.audio_ref)


def _text_target(event: Message, ctx: Context) -> dict | bool:
    if not (event.to_bot and event.kind == MessageKind.TEXT and event.text.strip() and _private_sales(event)):
        return False
    d = session.current(ctx, event.actor.person_id)
    return {"debrief": d} if d is not None else False


@router.on(Message, F(_text_target))
def on_text(event: Message, ctx: Context, debrief: store.Debrief) -> None:
    session.take(ctx, debrief, event.text, kind="text", event_id=event.event_id, recorded_at=event.occurred_at)


# ---------------------------------------------------------------- buttons


def _own(event: CardAction, ctx: Context) -> store.Debrief:
    try:
        d = store.get(ctx.store, int(event.value.get("id", 0)))
    except (TypeError, ValueError):
        d = None
    if d is None or d.person_id != event.actor.person_id:
        raise UserInputError(ctx.t("debrief.not_yours"))
    return d


@router.on(CardAction, F(lambda event, ctx: event.action in ("debrief.voice", "debrief.text", "debrief.later")))
def on_card(event: CardAction, ctx: Context) -> None:
    d = _own(event, ctx)
    if d.status not in store.OPEN:
        ctx.reply(ctx.t("debrief.already", status=ctx.t(f"debrief.status_{d.status}")))
        return
    if event.action == "debrief.later":
        now = ctx.clock.now_ms()
        if d.reminded_at is None:
            at = now + ctx.config.debrief.remind_after_minutes * MINUTE
            store.set_remind_at(ctx.store, d.id, at)
            ctx.reply(ctx.t("debrief.later", when=fmt_time(ctx, at)))
        else:
            ctx.reply(ctx.t("debrief.later_no_more"))
        return
    mode = "voice" if event.action == "debrief.voice" else "text"
    store.set_mode(ctx.store, d.id, mode)
    missing = [q for q in ("worry", "evidence", "next_step") if q not in d.answers]
    ctx.reply(ctx.t(f"debrief.start_{mode}", short=ctx.config.asr.max_note_s, long=ctx.config.asr.max_single_note_s,
                    first=ctx.t(f"debrief.q_{missing[0]}_n") if missing else ""))


@router.on(CardAction, F(lambda event, ctx: event.action == "debrief.fix"))
def on_fix(event: CardAction, ctx: Context) -> None:
    d = _own(event, ctx)
    buttons = tuple(Button(ctx.t(f"debrief.fix_{q}"), "debrief.fix_field", {"id": d.id, "q": q})
                    for q in ("worry", "evidence", "next_step"))
    ctx.reply(Reply.card(ctx.t("debrief.fix_title", label=label(ctx, d)), ctx.t("debrief.fix_body"), buttons=buttons))


@router.on(CardAction, F(lambda event, ctx: event.action == "debrief.fix_field"))
def on_fix_field(event: CardAction, ctx: Context) -> None:
    d = _own(event, ctx)
    question = str(event.value.get("q", ""))
    if question not in ("worry", "evidence", "next_step") or d.status != "done":
        raise UserInputError(ctx.t("debrief.not_yours"))
    store.set_correcting(ctx.store, d.id, question)
    ctx.reply(ctx.t("debrief.fix_prompt", question=ctx.t(f"debrief.q_{question}"), old=getattr(d, question) or "—"))


# ---------------------------------------------------------------- commands


def _sales_person(event: Command, ctx: Context) -> str:
    person = ctx.directory.person(event.actor.person_id) if event.actor.person_id else None
    if person is None or person.role not in _SALES:
        raise UserInputError(ctx.t("debrief.sales_only"))
    return person.id


@router.command("debrief")
def on_debrief(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    person_id = _sales_person(event, ctx)
    now = ctx.clock.now_ms()
    text = " ".join(args).strip()
    if text.lower() in LIST_WORDS:
        ctx.reply(list_text(ctx, person_id))
        return
    if not text:
        open_now = store.open_of(ctx.store, person_id, now)
        if not open_now:
            raise UserInputError(ctx.t("debrief.usage"))
        triggers.ask(ctx, open_now[0].id, now, in_reply=True)
        return
    scope = scope_for(ctx, event.actor)
    found = find_lead(ctx, scope, text) if scope is not None else None
    if found is None or found.lead is None:
        names = ctx.t("core.list_sep").join(f"{lead_label(x)}（{x.lead_id}）" for x in (found.suggestions if found else ())[:5])
        raise UserInputError(ctx.t("debrief.lead_not_found", text=text) + (ctx.t("debrief.did_you_mean", names=names)
                                                                           if names else ""))
    lead = found.lead
    existing = store.open_near(ctx.store, person_id, lead.lead_id, now, ctx.config.debrief.expire_days * 86_400_000)
    if existing is not None:
        triggers.ask(ctx, existing.id, now, in_reply=True)
        return
    debrief_id = store.create(ctx.store, meeting_key=f"manual:{event.event_id}", person_id=person_id,
                              lead_id=lead.lead_id, customer_id=lead.customer_id, title=lead.title, source="command",
                              meeting_at=now, due_at=now, now=now)
    if debrief_id is not None:
        triggers.ask(ctx, debrief_id, now, in_reply=True)


def list_text(ctx: Context, person_id: str) -> str:
    rows = store.listing(ctx.store, person_id, ctx.config.debrief.list_limit)
    if not rows:
        return ctx.t("debrief.list_empty")
    lines = [ctx.t("debrief.list_title", n=len(rows))]
    for d in rows:
        understood = json.loads(d.understood or "{}").get("next_step") or {}
        nxt = " ".join(x for x in (understood.get("action") or d.next_step, understood.get("date") or "") if x)
        lines.append(ctx.t("debrief.list_line", when=fmt_time(ctx, d.meeting_at), label=label(ctx, d),
                           status=ctx.t(f"debrief.status_{d.status}"), next=nxt or "—"))
    return "\n".join(lines)


@router.command("debrief_rate")
def on_rate(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    scope = scope_for(ctx, event.actor)
    if scope is None:
        raise UserInputError(ctx.t("core.permission_denied"))
    now = ctx.clock.now_ms()
    ctx.reply(rate.rate_text(ctx, scope, rate.parse_window(ctx, args, now), now))
