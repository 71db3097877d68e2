"""The virtual customer: which objections a session raises, one round at a time, and the score card.

Why it is built this way:
- Real objections first: the team's own customers' words from the snippet library (anonymised by the coaching
  capability, since reps of any team hear them), once the team has [practice] min_library of them for that type;
  before that, the classifier packs' customer examples and the scenes written for practice (prompts), so a new
  team can practise on day one.
- All state is in SQLite (store/practice.py): a restart continues the session where it was; one active session per
  person; the sweep tick ends a session idle for [practice] idle_minutes and sends its score card.
- The order of objections is seeded by the session, so a replayed event asks the same things.
"""

from __future__ import annotations

import json
import random
from typing import Any

from bot.context import Context
from bot.replies import Reply
from handlers.conversation.labels import OBJECTIONS, STRATEGIES
from handlers.debrief import peers
from handlers.practice import scoring
from store import practice as store

PRACTISED = tuple(o for o in OBJECTIONS if o != "price_inquiry")  # a price question is not an objection to handle


def objection_by_name(ctx: Context, word: str) -> str | None:
    """An objection label from what a rep types: its key, its Chinese/English name, a part of the name, or the
    worry in a customer's words ("太贵", "交期太长") when the conversation classifier reads exactly one practised
    objection in it."""
    w = word.strip().lower()
    for key in OBJECTIONS:
        name = peers.label_name(ctx.prompts, key).lower()
        if w in (key, name) or (len(w) >= 2 and (w in name or name in w)) or w in name.split("/"):
            return key
    said = [k for k in peers.classifier(ctx.services).classify(word, "customer").labels if k in PRACTISED]
    return said[0] if len(said) == 1 else None


def examples(ctx: Context, objection: str, team: str | None, industry: str = "") -> tuple[list[str], str]:
    """(customer lines, source) for an objection: the team's library (that industry's customers when one is asked
    for) when it has enough, else the written scenes — plus, without an industry, the classifier packs' examples,
    which come from any trade (a flat's price, a parcel's delivery) and so cannot stand for a named industry."""
    cfg = ctx.config.practice
    real = peers.objection_examples(ctx.store, objection, team=team, limit=20, industry=industry or None)
    if len(real) >= cfg.min_library:
        return real, "library"
    written = ctx.prompts.raw(f"practice.scenes.{objection}")
    lines = [*([] if industry else peers.pack_examples(ctx.services, objection)),
             *(written if isinstance(written, list) else [])]
    return list(dict.fromkeys([*real, *lines])), "scenes" if industry else "examples"


def plan(ctx: Context, seed: str, objection: str, team: str | None, rounds: int,
         industry: str = "") -> list[list[str]]:
    rng = random.Random(seed)
    kinds = [objection] if objection else rng.sample(PRACTISED, len(PRACTISED))
    out: list[list[str]] = []
    pools = {k: examples(ctx, k, team, industry) for k in kinds}
    i = 0
    while len(out) < rounds and any(pools[k][0] for k in kinds):
        k = kinds[i % len(kinds)]
        lines, source = pools[k]
        if lines:
            out.append([k, lines.pop(rng.randrange(len(lines))), source])
        i += 1
        if i > rounds * len(kinds) * 3:
            break
    return out


def ask(ctx: Context, s: store.Session, n: int, now: int) -> Reply | None:
    steps = json.loads(s.plan)
    if n > len(steps):
        return None
    objection, text, _source = steps[n - 1]
    store.add_round(ctx.store, s.id, n, objection, text, now)
    return Reply.plain(ctx.t("practice.customer_says", n=n, total=len(steps), text=text,
                             objection=peers.label_name(ctx.prompts, objection)))


def answer(ctx: Context, s: store.Session, text: str, *, kind: str, at: int, voice: scoring.Voice | None) -> None:
    """Score the open round, advise, then the next objection or the score card."""
    rnd = store.open_round(ctx.store, s.id)
    if rnd is None:
        return
    cfg = ctx.config.practice
    strategies = tuple(peers.classifier(ctx.services).classify(text, "rep").labels)
    snippets = peers.best_snippets(ctx.store, rnd.objection, team=s.team or None, industry=s.industry, limit=3)
    result = scoring.score(answer=text, strategies=strategies, snippets=snippets,
                           response_s=max(0, at - rnd.asked_at) / 1000, quick_s=cfg.quick_answer_s,
                           good_rate=tuple(cfg.good_rate_cpm), max_fillers=cfg.max_fillers, voice=voice)
    if not store.answer(ctx.store, rnd.id, text, kind, at, result.total, json.dumps(result.to_json(), ensure_ascii=False)):
        return
    now = ctx.clock.now_ms()
    store.touch(ctx.store, s.id, now)
    lines = [ctx.t("practice.round_score", n=rnd.n, score=result.total, detail=detail_text(ctx, result))]
    lines.extend("· " + ctx.t(key, **_named(ctx, values)) for key, values in result.advice)
    nxt = ask(ctx, s, rnd.n + 1, now)
    ctx.reply("\n".join(lines))
    if nxt is not None:
        ctx.reply(nxt)
    else:
        finish(ctx, s, "done", now, reply=True)


def _named(ctx: Context, values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    out.setdefault("names", ctx.t("core.list_sep").join(peers.label_name(ctx.prompts, k) for k in STRATEGIES))
    if out.get("strategy"):
        out["strategy"] = peers.label_name(ctx.prompts, out["strategy"])
    return out


def detail_text(ctx: Context, r: scoring.Score) -> str:
    sep = ctx.t("practice.d_sep")
    parts = [ctx.t("practice.d_strategy", used=ctx.t("core.list_sep").join(peers.label_name(ctx.prompts, k) for k in r.strategies) or "—")]
    if r.coverage is not None:
        parts.append(ctx.t("practice.d_coverage", pct=round(r.coverage * 100)))
    parts.append(ctx.t("practice.d_time", s=round(r.response_s)))
    if r.rate_cpm is not None:
        parts.append(ctx.t("practice.d_rate", rate=round(r.rate_cpm)))
    if r.long_pauses is not None:
        parts.append(ctx.t("practice.d_pauses", n=r.long_pauses))
    if r.fillers is not None:
        parts.append(ctx.t("practice.d_fillers", n=r.fillers))
    return sep.join(parts)


def score_card(ctx: Context, s: store.Session, ended_by: str) -> Reply:
    rounds = [r for r in store.rounds_of(ctx.store, s.id) if r.score is not None]
    if not rounds:
        return Reply.plain(ctx.t(f"practice.ended_empty_{ended_by}"))
    details = [json.loads(r.detail) for r in rounds]
    avg = round(sum(r.score for r in rounds) / len(rounds))
    covs = [d["coverage"] for d in details if d.get("coverage") is not None]
    with_strategy = sum(1 for d in details if d.get("strategies"))
    fields = [(ctx.t("practice.f_rounds"), str(len(rounds))), (ctx.t("practice.f_average"), str(avg)),
              (ctx.t("practice.f_strategy"), f"{with_strategy}/{len(rounds)}"),
              (ctx.t("practice.f_coverage"), f"{round(100 * sum(covs) / len(covs))}%" if covs else "—"),
              (ctx.t("practice.f_time"), ctx.t("practice.seconds", s=round(sum(d["response_s"] for d in details) /
                                                                       len(details))))]
    rates = [d["rate_cpm"] for d in details if d.get("rate_cpm")]
    if rates:
        fields.append((ctx.t("practice.f_voice"), ctx.t("practice.voice_summary", rate=round(sum(rates) / len(rates)),
                                                         pauses=sum(d.get("long_pauses") or 0 for d in details),
                                                         fillers=sum(d.get("fillers") or 0 for d in details))))
    worst = min(rounds, key=lambda r: r.score)
    lines = [ctx.t("practice.card_rounds_line", n=r.n, objection=peers.label_name(ctx.prompts, r.objection),
                   score=r.score) for r in rounds]
    lines.append(ctx.t("practice.card_focus", objection=peers.label_name(ctx.prompts, worst.objection)))
    return Reply.card(ctx.t(f"practice.card_title_{ended_by}"), "\n".join(lines), fields=fields)


def finish(ctx: Context, s: store.Session, by: str, now: int, *, reply: bool) -> bool:
    if not store.end(ctx.store, s.id, by, now):
        return False
    card = score_card(ctx, s, by)
    if reply:
        ctx.reply(card)
    else:
        ctx.notify(s.person_id, card, f"practice:{s.id}:end")
    return True
