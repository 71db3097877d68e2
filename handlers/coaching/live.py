"""Live coaching on every chat message tied to a lead: the similar-scene push (B3) and the "再比较一下" check (B7).

Push: a customer message that carries an objection, arriving while the conversation is live (at most [coaching]
live_minutes old — a bulk import of old archive records coaches nobody), sends the lead's rep up to
[coaching] push_limit past successful snippets for that objection, ranked for this customer's industry, size
and product line (library.best_snippets), each with its turning sentence marked. At most one push per lead and
objection type per [coaching] push_every_hours, none in quiet hours (they are dropped, not queued: advice for a
conversation that is over is noise), none for someone who said `/教练 关`.

Check: a customer's hesitation opens a check on the lead; the rep's first or second message afterwards either
gives a concrete case (handlers.conversation.cases.is_concrete_case) — tag 犹豫后举案例 — or the second one
does not — tag 犹豫后未举案例 and, while live, a private nudge with a matching case from the library. A rep who
sends fewer than two messages within [coaching] hesitation_wait_hours is settled by the sweep (sweep.py).

Why it is cheap enough for the hot path: per message it costs the cached lead association, the message's
labels (kept in memory by the classifier's observer that ran just before; classified here only when they are
missing) and, for a rep
message, one partial-index read of open checks. The ranking reads two short index ranges of coach_rank.
"""

from __future__ import annotations

import logging

from bot.context import Context
from bot.events import Message, MessageKind, Role, VoiceTranscript
from bot.replies import Reply
from bot.router import Router
from handlers.coaching import library
from handlers.coaching.runtime import EXTRA, coach, label_name
from handlers.coaching.texts import short, snippet_block
from handlers.conversation.cases import is_concrete_case
from handlers.conversation.labels import OBJECTIONS
from handlers.conversation.observe import recent_labels
from store import coaching as coach_store
from store import conversation as conversation_store
from store import events as events_store

log = logging.getLogger("salespulse.coaching")
router = Router("coaching.live")

HOUR_MS = 3_600_000
TAG_CASE = "犹豫后举案例"
TAG_NO_CASE = "犹豫后未举案例"
TAG_CATEGORY = "销售动作"
TAG_RULE = "coaching.hesitation_case"
_TEXT_KINDS = frozenset({MessageKind.TEXT, MessageKind.VOICE})
_OBJECTIONS = frozenset(OBJECTIONS)
_STAFF = frozenset({Role.REP, Role.MANAGER})


def _side(event: Message, ctx: Context) -> tuple[str, str | None]:
    """('customer' | 'rep' | '', lead id) of a chat message, from the tagging observer's cached association."""
    tagger = ctx.services.extras.get("tagging")
    if tagger is None:
        return "", None
    assoc = tagger.associator.for_message(event)
    if not assoc.lead_id:
        return "", None
    role = event.actor.role
    if assoc.actor_is_customer or role == Role.CUSTOMER:
        return "customer", assoc.lead_id
    if role in _STAFF:
        return "rep", assoc.lead_id
    return "", assoc.lead_id


def labels_of(ctx: Context, event: Message, text: str, side: str) -> tuple[str, ...]:
    """The labels the classifier's observer gave this message a moment ago (kept in memory: its row is written
    with the batch), or — when labelling is off or the observer is not loaded — a classification here."""
    known = recent_labels(ctx.services, event.event_id)
    if known is not None:
        return known
    from handlers.coaching.runtime import classify
    return classify(ctx, text, side)


def is_live(ctx: Context, event: Message) -> bool:
    return ctx.clock.now_ms() - event.occurred_at <= ctx.config.coaching.live_minutes * 60_000


def may_coach(ctx: Context, person_id: str | None, now_ms: int) -> bool:
    if not person_id or not ctx.config.coaching.enabled or ctx.directory.person(person_id) is None:
        return False
    quiet = coach(ctx).quiet
    if quiet is not None and quiet.holds(now_ms):
        return False
    return not coach_store.is_muted(ctx.store, person_id)


@router.observe(Message)
def on_message(event: Message, ctx: Context) -> None:
    if event.to_bot or event.kind not in _TEXT_KINDS or not is_live(ctx, event):
        return  # history (imports, a backlog) is filed and checked by the sweep, which nudges nobody
    text = event.text or event.transcript
    if not text:
        return
    role = event.actor.role
    if role in _STAFF:
        checks = coach(ctx).open_checks
        if not checks:
            return
        side, lead_id = _side(event, ctx)
        if side == "rep" and lead_id in checks:
            check_rep_message(ctx, event, lead_id, text)
        return
    side, lead_id = _side(event, ctx)
    if side != "customer" or lead_id is None:
        return
    labels = labels_of(ctx, event, text, side)
    if not labels:
        return
    facts = None
    if "hesitation" in labels:
        facts = coach_store.lead_facts(ctx.store, lead_id)
        open_check(ctx, event.event_id, lead_id, facts, event.occurred_at, text)
    objections = [lb for lb in labels if lb in _OBJECTIONS]
    if objections:
        push(ctx, event, lead_id, objections, facts, text)


@router.observe(VoiceTranscript)
def on_transcript(event: VoiceTranscript, ctx: Context) -> None:
    """A customer's voice note was heard: the same push as for a chat line (its words were unknown until now)."""
    if event.status != "ok" or not event.text:
        return
    at = event.recorded_at or event.occurred_at
    if ctx.clock.now_ms() - at > ctx.config.coaching.live_minutes * 60_000:
        return
    turn = conversation_store.turn_of(ctx.store, event.message_event_id)
    if turn is None or turn[0] is None or turn[3] != "customer":
        return
    from handlers.coaching.runtime import classify
    objections = [lb for lb in classify(ctx, event.text, "customer") if lb in _OBJECTIONS]
    if objections:
        push(ctx, event, turn[0], objections, None, event.text)


def open_check(ctx: Context, event_id: str, lead_id: str, facts: coach_store.LeadFacts | None, at: int,
               text: str) -> None:
    coach_store.add_hesitation(ctx.store, event_id, lead_id, (facts.owner_id or "") if facts else "",
                               facts.team_id if facts else "", at, text)
    coach(ctx).open_checks.add(lead_id)


# ---------------------------------------------------------------- B3 push


def push(ctx: Context, event: Message | VoiceTranscript, lead_id: str, objections: list[str],
         facts: coach_store.LeadFacts | None = None, said: str = "") -> bool:
    """Send the lead's rep the best snippets for the first objection not pushed on this lead lately."""
    now = ctx.clock.now_ms()
    facts = facts or coach_store.lead_facts(ctx.store, lead_id)
    if facts is None or not may_coach(ctx, facts.owner_id, now):
        return False
    cfg = ctx.config.coaching
    params = coach(ctx).params
    every = cfg.push_every_hours * HOUR_MS
    key_id = getattr(event, "message_event_id", "") or event.event_id
    for objection in objections:
        last = coach_store.last_push_at(ctx.store, lead_id, objection)
        if last is not None and now - last < every:
            continue
        snippets = library.best_snippets(ctx.store, objection, team=facts.team_id or None, industry=facts.industry,
                                         size=facts.size, product_line=facts.product, limit=cfg.push_limit,
                                         now_ms=now, params=params, prompts=ctx.prompts, exclude_lead=lead_id)
        if not snippets:
            continue
        for covered in objections:  # one coaching moment covers every objection the message raised
            coach_store.add_push(ctx.store, lead_id, covered, now, facts.owner_id or "", key_id,
                                 [s.id for s in snippets])
        ctx.notify(facts.owner_id or "", push_reply(ctx, facts, objection, said or event.text, snippets),
                   f"coach:{lead_id}:{objection}:{key_id}")
        return True
    return False


def push_reply(ctx: Context, facts: coach_store.LeadFacts, objection: str, said: str,
               snippets: list[library.Snippet]) -> Reply:
    lines = [ctx.t("coaching.push_said", customer=facts.customer_name, text=short(said, 60))]
    for i, s in enumerate(snippets, 1):
        lines.append(snippet_block(ctx, s, i, objection))
    lines.append(ctx.t("coaching.push_hint"))
    return Reply.card(ctx.t("coaching.push_title", objection=label_name(ctx, objection)), "\n\n".join(lines))


# ---------------------------------------------------------------- B7 check


def tag_event(ctx: Context, event_id: str, tag: str, at: int, weight: float = 1.0) -> None:
    found = coach_store.event_rowid(ctx.store, event_id)
    if found is not None:
        events_store.insert_tags(ctx.store, [(found[0], tag, TAG_CATEGORY, weight, TAG_RULE, found[1], at)])


def check_rep_message(ctx: Context, event: Message, lead_id: str, text: str) -> None:
    found = coach_store.open_hesitations(ctx.store, lead_id, event.occurred_at)
    if not found:
        coach(ctx).open_checks.discard(lead_id)
    for h in found:
        if is_concrete_case(text):
            if coach_store.resolve_hesitation(ctx.store, h.event_id, "case", event.occurred_at, event.event_id):
                tag_event(ctx, event.event_id, TAG_CASE, event.occurred_at)
        elif h.rep_msgs + 1 >= 2:
            if coach_store.resolve_hesitation(ctx.store, h.event_id, "no_case", event.occurred_at, event.event_id):
                tag_event(ctx, event.event_id, TAG_NO_CASE, event.occurred_at)
                if is_live(ctx, event):
                    nudge(ctx, h, event.event_id)
        else:
            coach_store.bump_hesitation(ctx.store, h.event_id)


def matching_case(ctx: Context, facts: coach_store.LeadFacts | None, exclude_lead: str) -> library.Snippet | None:
    """A library answer to hesitation that tells a concrete case; else any concrete-case answer (social proof)."""
    params = coach(ctx).params
    scene = dict(team=facts.team_id or None if facts else None, industry=facts.industry if facts else "",
                 size=facts.size if facts else "", product_line=facts.product if facts else "")
    for objection in ("hesitation", *[o for o in OBJECTIONS if o != "hesitation"]):
        for s in library.best_snippets(ctx.store, objection, limit=10, now_ms=ctx.clock.now_ms(), params=params,
                                       prompts=ctx.prompts, exclude_lead=exclude_lead, **scene):
            if is_concrete_case(s.response_text) or "social_proof" in s.strategies:
                return s
    return None


def nudge(ctx: Context, h: coach_store.Hesitation, by_event_id: str) -> bool:
    now = ctx.clock.now_ms()
    facts = coach_store.lead_facts(ctx.store, h.lead_id)
    rep = (facts.owner_id if facts else None) or h.rep_id
    if not may_coach(ctx, rep, now):
        return False
    case = matching_case(ctx, facts, h.lead_id)
    lines = [ctx.t("coaching.nudge_body", customer=facts.customer_name if facts else "", text=short(h.text, 60))]
    if case is not None:
        lines.append(snippet_block(ctx, case, 1, "hesitation"))
    else:
        lines.append(ctx.t("coaching.nudge_no_case"))
    reply = Reply.card(ctx.t("coaching.nudge_title"), "\n\n".join(lines))
    return ctx.notify(rep, reply, f"coach-b7:{h.event_id}")


__all__ = ["EXTRA", "router"]
