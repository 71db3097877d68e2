"""Answers arriving for a debrief: which debrief a note or a text belongs to, how it fills the three questions,
and finishing (understand → apply → echo).

Why it is built this way:
- Any mix is allowed: three short notes, one long note, typed text, or a note then a text. Each piece is split
  against the questions still open (handlers/debrief/understand.split): a piece with cues fills the answers it
  names; a piece without structure answers the next open question, in the order the card asked them.
- Offline capture: a note recorded without network arrives late with its own `recorded_at`. It belongs to the rep's
  debrief whose meeting ended last before it was recorded, open or expired (an expired one reopens), as long as it
  was recorded within [debrief] offline_days of that meeting — never to whatever is newest when it arrives.
- Typed text goes to the debrief the rep is busy with: one being corrected, one partly answered, one whose card
  button they pressed, else the latest open one.
- Relative dates ("下周三") are read from the day the answer was spoken or typed, not the day it arrived.
"""

from __future__ import annotations

import json

from bot.context import Context
from handlers.debrief import apply as apply_mod
from handlers.debrief import peers
from handlers.debrief.triggers import DAY
from handlers.debrief.understand import QUESTIONS, clean, split, understand
from store import debrief as store

_QUESTION_KEYS = {"worry": "debrief.q_worry", "evidence": "debrief.q_evidence", "next_step": "debrief.q_next_step"}


def current(ctx: Context, person_id: str) -> store.Debrief | None:
    """The debrief a typed answer belongs to, or None."""
    fixing = store.correcting_of(ctx.store, person_id)
    if fixing is not None:
        return fixing
    candidates = store.open_of(ctx.store, person_id, ctx.clock.now_ms())
    if not candidates:
        return None
    return sorted(candidates, key=lambda d: (d.status != "answering", d.mode == "", -d.meeting_at))[0]


def for_recording(ctx: Context, person_id: str, recorded_at: int) -> store.Debrief | None:
    """The debrief a voice note belongs to, by the note's own timestamp (offline capture)."""
    fixing = store.correcting_of(ctx.store, person_id)
    if fixing is not None:
        return fixing
    now = ctx.clock.now_ms()
    at = recorded_at or now
    since = at - ctx.config.debrief.offline_days * DAY
    for d in store.reopen_candidates(ctx.store, person_id, at, since):
        return d
    # recorded before the meeting ended (the rep spoke in the car park as the calendar said it still ran):
    # the open debrief nearest in time
    open_now = store.open_of(ctx.store, person_id, max(now, at) + ctx.config.debrief.same_meeting_minutes * 60_000)
    return min(open_now, key=lambda d: abs(d.meeting_at - at)) if open_now else None


def take(ctx: Context, d: store.Debrief, text: str, *, kind: str, event_id: str, recorded_at: int,
         duration_ms: int = 0, audio_ref: str = "") -> None:
    """One answer (a transcript or a text) for debrief `d`; finishes it when all three questions are answered."""
    now = ctx.clock.now_ms()
    if not store.add_answer(ctx.store, d.id, event_id, kind, text, recorded_at, now, duration_ms, audio_ref):
        return  # the same note twice
    if d.status == "expired":
        store.reopen(ctx.store, d.id)
    answers = dict(d.answers)
    if d.correcting:
        answers[d.correcting] = clean(text) or answers.get(d.correcting, "")
        finish(ctx, d, answers, recorded_at or now)
        return
    wanted = tuple(q for q in QUESTIONS if q not in answers)
    if not wanted:  # everything answered already (a fourth note): treat it as a correction of the whole debrief
        wanted = QUESTIONS
        answers = {}
    parts, _leftover = split(text, wanted)
    answers.update(parts)
    if all(q in answers for q in QUESTIONS):
        finish(ctx, d, answers, recorded_at or now, leftover=_leftover)
        return
    store.save_answers(ctx.store, d.id, answers, "answering")
    got = ctx.t("core.list_sep").join(ctx.t(_QUESTION_KEYS[q]) for q in QUESTIONS if q in parts)
    missing = [q for q in QUESTIONS if q not in answers]
    ctx.reply(ctx.t("debrief.progress", got=got or "—", next=ctx.t(f"{_QUESTION_KEYS[missing[0]]}_n"),
                    left=len(missing)))


def finish(ctx: Context, d: store.Debrief, answers: dict[str, str], spoken_at: int,
           leftover: list[str] | None = None) -> None:
    now = ctx.clock.now_ms()
    store.save_answers(ctx.store, d.id, answers, "answering" if d.status != "done" else "done")
    u = understand(answers, apply_mod.today_for(ctx, spoken_at), peers.classifier(ctx.services), leftover or ())
    fresh = store.get(ctx.store, d.id) or d
    done, record = apply_mod.apply(ctx, fresh, u, now)
    store.finish(ctx.store, d.id, json.dumps(u.to_json(), ensure_ascii=False), json.dumps(record, ensure_ascii=False),
                 now)
    snippet = apply_mod.matching_snippet(ctx, fresh, u)
    ctx.reply(apply_mod.echo(ctx, fresh, u, done, snippet))
