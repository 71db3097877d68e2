"""/陪练 (/practice), /结束 (/end), the answers of a running session (text or voice), and its idle end."""

from __future__ import annotations

import json

from bot.context import Context
from bot.errors import UserInputError
from bot.events import Command, Event, Message, MessageKind, Role, Tick, VoiceTranscript
from bot.router import F, Router
from handlers.debrief import peers
from handlers.practice import sandbox, scoring
from store import customers as customer_store
from store import practice as store

router = Router("practice")

SWEEP_JOB = "debrief_sweep"  # one five-minute sweep serves debriefs and practice sessions
_SALES = (Role.REP, Role.MANAGER)


def _session_of(event: Event, ctx: Context) -> dict | bool:
    if event.is_group or event.actor.role not in _SALES or not event.actor.person_id:
        return False
    if isinstance(event, Message) and not (event.to_bot and event.kind == MessageKind.TEXT and event.text.strip()):
        return False
    s = store.active(ctx.store, event.actor.person_id)
    return {"session": s} if s is not None else False


@router.command("practice")
def on_practice(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    person = ctx.directory.person(event.actor.person_id) if event.actor.person_id else None
    if person is None or person.role not in _SALES:
        raise UserInputError(ctx.t("practice.sales_only"))
    if event.is_group:
        raise UserInputError(ctx.t("practice.private_only"))
    if store.active(ctx.store, person.id) is not None:
        raise UserInputError(ctx.t("practice.already"))
    objection, industry = "", ""
    words = list(args)
    if words:
        objection = sandbox.objection_by_name(ctx, words[0]) or ""
        if objection:
            words.pop(0)
        industry = " ".join(words).strip()
        if not objection and len(words) > 1:  # "/陪练 太贵 制造业": the first word had to be a type
            raise UserInputError(_usage(ctx, args[0]))
        known = customer_store.industries(ctx.store)
        if industry and industry not in known:  # "行业：xyz" would promise a scene nobody has
            if not objection and len(args) == 1:  # one unknown word: a type or an industry, say both
                raise UserInputError(_usage(ctx, args[0]) + ("\n" + _industries(ctx, industry, known) if known else ""))
            if known:  # with no industry on record, a named one gets the general scenes and says so
                raise UserInputError(_industries(ctx, industry, known))
    now = ctx.clock.now_ms()
    cfg = ctx.config.practice
    steps = sandbox.plan(ctx, event.event_id, objection, person.team_id or None, max(1, cfg.rounds), industry)
    if not steps:
        raise UserInputError(ctx.t("practice.no_examples"))
    session_id = store.start(ctx.store, person_id=person.id, team=person.team_id, objection=objection,
                             industry=industry, rounds=len(steps), plan=json.dumps(steps, ensure_ascii=False), now=now)
    if session_id is None:
        raise UserInputError(ctx.t("practice.already"))
    s = store.get(ctx.store, session_id)
    source = ctx.t(f"practice.source_{steps[0][2]}")
    ctx.reply(ctx.t("practice.intro", n=len(steps), industry=industry or ctx.t("practice.any_industry"),
                    objection=peers.label_name(ctx.prompts, objection) if objection else ctx.t("practice.mixed"),
                    source=source, idle=cfg.idle_minutes))
    ctx.reply(sandbox.ask(ctx, s, 1, now))


def _industries(ctx: Context, word: str, known: list[str]) -> str:
    return ctx.t("practice.unknown_industry", word=word, names=ctx.t("core.list_sep").join(known[:12]), first=known[0])


def _usage(ctx: Context, word: str) -> str:
    names = ctx.t("core.list_sep").join(peers.label_name(ctx.prompts, k) for k in sandbox.PRACTISED)
    return ctx.t("practice.usage", word=word, names=names)


@router.command("end")
def on_end(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    s = store.active(ctx.store, event.actor.person_id) if event.actor.person_id else None
    if s is None:
        raise UserInputError(ctx.t("practice.nothing_to_end"))
    sandbox.finish(ctx, s, "end", ctx.clock.now_ms(), reply=True)


@router.on(Message, F(_session_of))
def on_text(event: Message, ctx: Context, session: store.Session) -> None:
    sandbox.answer(ctx, session, event.text.strip(), kind="text", at=event.occurred_at, voice=None)


@router.on(VoiceTranscript, F(_session_of))
def on_voice(event: VoiceTranscript, ctx: Context, session: store.Session) -> None:
    if event.status != "ok" or not event.text.strip():
        ctx.reply(ctx.t(f"practice.voice_{event.status}" if event.status in ("too_long", "undecodable",
                                                                            "no_recogniser") else "practice.voice_silent",
                        long=ctx.config.asr.max_single_note_s))
        return
    sandbox.answer(ctx, session, event.text.strip(), kind="voice", at=event.recorded_at or event.occurred_at,
                   voice=scoring.Voice(event.speech_ms or event.duration_ms, tuple(event.pauses_ms)))


@router.observe(Tick, F(lambda event, ctx: event.job == SWEEP_JOB))
def on_sweep(event: Tick, ctx: Context) -> None:
    now = max(ctx.clock.now_ms(), event.due_at)
    for s in store.idle(ctx.store, now - ctx.config.practice.idle_minutes * 60_000, 200):
        sandbox.finish(ctx, s, "idle", now, reply=False)
