"""The coaching sweep (Tick job "coach_sweep", every 30 minutes by default; it rereads pending snippets, so not more
often): file new snippets, give pending ones their outcome, recompute the weights, and settle "再比较一下" checks the rep never answered.

Why a sweep and not the message observer: a snippet needs the rep's answer and the customer's replies after it
(the turning sentence), which arrive later; outcomes arrive with CRM changes from any writer. The sweep reads
only what changed: chat events after a watermark (kv coach.extract_rowid), pending snippets (a partial index),
open checks older than the wait. Re-extracting a lead is idempotent: a snippet is keyed by its objection turn,
so a later sweep refreshes it (a turning sentence found later) and keeps its outcome and star.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from bot.context import Context
from bot.events import Tick
from bot.router import F, Router
from handlers.coaching import library
from handlers.coaching.live import TAG_NO_CASE, is_concrete_case, nudge, tag_event
from handlers.coaching.runtime import EXTRA, coach
from handlers.coaching.snippets import Turn, extract
from store import coaching as coach_store
from store import conversation as conversation_store
from store import kv

log = logging.getLogger("salespulse.coaching")
router = Router("coaching.sweep")

JOB = "coach_sweep"
WATERMARK = "coach.extract_rowid"
DIRTY = "coach.rank_dirty"
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
CONTEXT_DAYS = 3  # turns this long before the first new message are re-read for context and answers


_POSITIVE = ("不错", "挺好", "很好", "满意", "放心", "期待", "谢谢", "感谢", "靠谱", "合适", "感兴趣", "有意思", "可以",
             "好的", "没问题", "👍", "太好了", "划算", "值", "认可", "喜欢")
_NEGATIVE = ("贵", "不行", "担心", "麻烦", "算了", "再说", "考虑", "太慢", "差", "不放心", "失望", "顾虑", "不划算",
             "不满意", "没用", "拖", "不靠谱", "犹豫", "不合适", "没预算")


@lru_cache(maxsize=4096)
def lexicon_sentiment(text: str) -> float:
    """A small sentiment lexicon (0 negative … 1 positive): cheap, and enough next to the agree / next-step
    patterns that decide most turns (snippets._is_turn)."""
    pos = sum(text.count(w) for w in _POSITIVE)
    neg = sum(text.count(w) for w in _NEGATIVE)
    return max(0.0, min(1.0, 0.5 + 0.15 * (pos - neg)))


@lru_cache(maxsize=4096)
def snownlp_sentiment(text: str) -> float:
    """snownlp's naive-Bayes sentiment. Importing snownlp loads all its models (~15 s on a busy 2-core VM), so it
    is used only when [coaching] sentiment = "snownlp", and first imported by the sweep that needs it."""
    from snownlp import SnowNLP
    try:
        return float(SnowNLP(text[:200]).sentiments) if text.strip() else 0.5
    except (ValueError, ZeroDivisionError):
        return 0.5


def sentiment_for(name: str):
    return snownlp_sentiment if name == "snownlp" else lexicon_sentiment


def extract_new(ctx: Context, limit: int) -> int:
    """File the snippets of leads that got chat messages since the watermark; returns snippets filed."""
    store = ctx.store
    after = int(kv.get(store, WATERMARK, "0") or 0)
    last, leads = coach_store.new_message_leads(store, after, limit)
    cfg = ctx.config.coaching
    now = ctx.clock.now_ms()
    from handlers.coaching.runtime import classify

    def classify_rep(sentence: str) -> tuple[str, ...]:
        return classify(ctx, sentence, "rep")

    def team_of(person_id: str) -> str:
        p = ctx.directory.person(person_id)
        return (p.team_id or "") if p else ""

    filed = 0
    for lead_id, since in leads.items():
        facts = coach_store.lead_facts(store, lead_id)
        turns = [Turn.of(t) for t in conversation_store.labelled_turns(store, lead_id, since - CONTEXT_DAYS * DAY_MS)]
        check_turns(ctx, lead_id, turns, facts)
        for ex in extract(turns, classify_rep=classify_rep, sentiment=sentiment_for(cfg.sentiment), context_turns=cfg.context_turns,
                          answer_window_s=cfg.answer_window_hours * 3600, silence_gap_s=cfg.silence_gap_s):
            library.file_extracted(store, ex, facts, source="chat", now_ms=now, team_of=team_of)
            filed += 1
    if last != after:
        kv.put(store, WATERMARK, str(last))
    return filed


def check_turns(ctx: Context, lead_id: str, turns: list[Turn], facts) -> int:
    """The "再比较一下" check over stored turns (history the live observer did not see: imports, a backlog, a
    restart): the same rule — a case in the rep's first or second message after the hesitation — without nudges.
    Checks the live path already settled are left alone. Returns how many were settled here."""
    from handlers.coaching.live import TAG_CASE, open_check
    settled = 0
    for i, turn in enumerate(turns):
        if turn.role != "customer" or "hesitation" not in turn.labels:
            continue
        open_check(ctx, turn.event_id, lead_id, facts, turn.at_ms, turn.text)
        replies = [t for t in turns[i + 1:] if t.role == "rep"][:2]
        case = next((t for t in replies if is_concrete_case(t.text)), None)
        if case is not None:
            result, by = "case", case
        elif len(replies) == 2:
            result, by = "no_case", replies[1]
        else:
            continue
        if coach_store.resolve_hesitation(ctx.store, turn.event_id, result, by.at_ms, by.event_id):
            tag_event(ctx, by.event_id, TAG_CASE if result == "case" else TAG_NO_CASE, by.at_ms)
            settled += 1
    return settled


def settle_checks(ctx: Context, now_ms: int, limit: int) -> int:
    """Checks whose rep did not send two messages within the wait count as missed (tag on the hesitation turn,
    weight 0: a missed chance is not an action); a recent one still gets its nudge."""
    wait = ctx.config.coaching.hesitation_wait_hours * HOUR_MS
    done = 0
    for h in coach_store.stale_hesitations(ctx.store, now_ms - wait, limit):
        if coach_store.resolve_hesitation(ctx.store, h.event_id, "no_case", now_ms, ""):
            tag_event(ctx, h.event_id, TAG_NO_CASE, h.at, weight=0.0)
            if now_ms - h.at <= wait + 2 * HOUR_MS:
                nudge(ctx, h, "")
            done += 1
    return done


def sweep(ctx: Context, now_ms: int) -> dict[str, int]:
    store = ctx.store
    params = coach(ctx).params
    batch = ctx.config.coaching.sweep_batch
    filed = extract_new(ctx, batch)
    resolved = library.resolve_outcomes(store, now_ms, params, batch)
    ranked = -1
    if resolved or kv.get(store, DIRTY) == "1" or filed and coach_store.family_count(store) == 0:
        ranked = library.refresh_rank(store, params)
        kv.put(store, DIRTY, "0")
    settled = settle_checks(ctx, now_ms, batch)
    if filed or resolved or settled:
        log.info("coach sweep: %d snippets filed, %d outcomes, %d checks settled, rank %d", filed, resolved,
                 settled, ranked)
    return {"filed": filed, "resolved": resolved, "settled": settled, "ranked": ranked}


@router.on(Tick, F(lambda event, ctx: event.job == JOB))
def on_sweep(event: Tick, ctx: Context) -> None:
    sweep(ctx, max(ctx.clock.now_ms(), event.due_at))


__all__ = ["EXTRA", "is_concrete_case", "router", "sweep"]
