"""The labelling observer: every customer and rep turn of a conversation with a customer gets its objection ×
strategy labels stored (store/conversation.py), from chat text, a voice note's platform transcript, or a
VoiceTranscript the speech pipeline delivers later.

Why an observer after tagging: tagging has already tied the message to its customer and lead (the associator's
cache answers again here for free: the same event's answer is kept) and stored the event's text, so this adds one
classification and one deferred row per message (written with the batch's other turns in one executemany) — the
hot path budget (bench.ingest may lose at most 15 %). Colleagues' internal chats, commands to the bot
and the bot's own messages are not turns of a sales conversation and are skipped.

Role: the customer (also an unknown sender a customer key identifies) is "customer"; a rep, manager or customer
service person writing in a conversation with a customer is "rep" (they speak for the seller).

The classifier is built once (`setup`) from the shipped pack and `[conversation]` admin packs and kept in
`services.extras["classifier"]`; a broken admin pack is logged with its line and the shipped pack is used alone,
so a typo never stops labelling.
"""

from __future__ import annotations

import logging

from bot.context import Context, Services
from bot.events import Message, MessageKind, Role, VoiceTranscript
from bot.router import Router
from handlers.conversation.classifier import Classifier
from handlers.conversation.lexicon import PackErrors
from store import conversation as conv_store

log = logging.getLogger("salespulse.conversation")
router = Router("conversation")

EXTRA = "classifier"
RECENT = "conversation.recent"
_RECENT_MAX = 4096  # turns remembered for observers after this one (one dispatcher batch is far fewer)
_REP_SIDE = frozenset({Role.REP, Role.MANAGER, Role.CS})
_SKIP_KINDS = frozenset({MessageKind.RECALL, MessageKind.IMAGE})


def build(services: Services) -> Classifier:
    config = services.config
    try:
        return Classifier.from_config(config)
    except PackErrors as exc:
        t = services.prompts.t  # the admin reads the log in the configured language
        log.error("%s\n%s", t("conversation.pack.fallback"), "\n".join(e.render(t) for e in exc.errors))
        return Classifier.default(with_model=config.conversation.use_model)


def setup(services: Services) -> None:
    services.extras[EXTRA] = build(services)
    services.extras[RECENT] = {}


def remember(services: Services, event_id: str, labels: tuple[str, ...]) -> None:
    """Keep a turn's labels in memory for the observers after this one (live coaching reads them at once).

    Why: the row itself is written with the batch's executemany; reading it back would force that write early
    (a flush per customer message) and a SELECT — more than the classification it saves."""
    recent = services.extras.get(RECENT)
    if recent is None:
        return
    if len(recent) >= _RECENT_MAX:
        del recent[next(iter(recent))]
    recent[event_id] = labels


def recent_labels(services: Services, event_id: str) -> tuple[str, ...] | None:
    """The labels this process gave the turn a moment ago, or None when it did not label it (then read the store)."""
    recent = services.extras.get(RECENT)
    return recent.get(event_id) if recent else None


def _turn_text(event: Message) -> str:
    if event.kind is MessageKind.VOICE:
        return event.transcript or event.text
    if event.kind is MessageKind.FILE:  # a document sent in the chat is material; its name says which
        return f"附件:{event.file_name}" if event.file_name else event.text
    return event.text


@router.observe(Message)
def on_message(event: Message, ctx: Context) -> None:
    services = ctx.services
    if not services.config.conversation.enabled or event.to_bot or event.kind in _SKIP_KINDS:
        return
    role = event.actor.role
    if role is Role.BOT or role is Role.COLLEAGUE:
        return
    tagger = services.extras.get("tagging")
    if tagger is None:
        return
    assoc = tagger.associator.for_message(event)
    if role is Role.CUSTOMER or assoc.actor_is_customer:
        side = "customer"
    elif role in _REP_SIDE and (assoc.customer_id is not None or assoc.match_key is not None):
        side = "rep"
    else:
        return
    text = _turn_text(event)
    labels = services.extras[EXTRA].classify(text, side).labels if text else ()
    remember(services, event.event_id, labels)
    conv_store.insert_later(ctx.store, (event.event_id, assoc.lead_id, assoc.customer_id, event.actor.person_id, side,
                                  ",".join(labels), event.occurred_at, None))


@router.observe(VoiceTranscript)
def on_transcript(event: VoiceTranscript, ctx: Context) -> None:
    """The words of a voice note arrived: label the voice turn (stored under the voice Message's event id)."""
    services = ctx.services
    if not services.config.conversation.enabled or event.status != "ok" or not event.text:
        return
    turn = conv_store.turn_of(ctx.store, event.message_event_id)
    if turn is None:
        return
    lead_id, customer_id, person_id, role = turn
    side = role if role in ("customer", "rep") else ("rep" if role in ("manager", "cs") else None)
    if side is None or (side == "rep" and customer_id is None):
        return
    labels = services.extras[EXTRA].classify(event.text, side).labels
    conv_store.upsert(ctx.store, (event.message_event_id, lead_id, customer_id, person_id, side, ",".join(labels),
                                  event.recorded_at or event.occurred_at, event.text))
