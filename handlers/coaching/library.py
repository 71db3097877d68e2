"""The snippet library: filing extracted snippets, outcomes and their weights, and the read API other capabilities
use (debriefs answer with one matching snippet, the practice sandbox draws customer objections from here).

Public API (keep these names): `Snippet`, `best_snippets`, `objection_examples`, `add_debrief_snippet`.
Everything shown outside the team that owns a snippet is masked (masking.py): customer names, amounts, surnames
in forms of address. `team` is the viewer's team id; None means a viewer without a team, who sees everything
masked. `reveal=True` is for admins.

Why weights are precomputed per family: a live push must rank 100,000 snippets within milliseconds. A snippet's
estimate is its family's — its rep's record with that (objection, strategy) cell, shrunk toward the cell — so
`refresh_rank` (run by the sweep whenever outcomes arrive) recomputes a few thousand family rows, never the
snippets, and `best_snippets` walks the objection's best families, reads their newest successful snippets from a
partial index (overall and in the customer's industry) and re-ranks those few dozen for the scene (ranking.py).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

from handlers.coaching.masking import Masker
from handlers.coaching.outcomes import Estimate, OutcomeModel, beta_estimate, lead_outcome
from handlers.coaching.ranking import RankWeights, Scene, score, top
from handlers.coaching.snippets import Extracted
from handlers.conversation.labels import OBJECTIONS, STRATEGIES
from prompts import Prompts
from store import coaching as coach_store
from store import org as org_store
from store.db import Store

_STRATEGY_ORDER = {s: i for i, s in enumerate(STRATEGIES)}


@dataclass(frozen=True)
class CoachParams:
    """The [coaching] settings the library needs (handlers build it from the config; defaults for other callers)."""

    outcome_days: int = 14
    stages: tuple[str, ...] = ("初步接触", "需求确认", "方案报价", "商务谈判")
    prior_strength: float = 4.0
    shrink_strength: float = 10.0
    interval: float = 0.9
    weights: RankWeights = field(default_factory=RankWeights)

    @staticmethod
    def from_config(cfg) -> CoachParams:
        return CoachParams(cfg.outcome_days, tuple(cfg.stages), cfg.prior_strength, cfg.shrink_strength,
                           cfg.interval, RankWeights(cfg.rank_industry, cfg.rank_size, cfg.rank_product,
                                                     cfg.rank_recency, cfg.rank_half_life_days, cfg.rank_star,
                                                     cfg.rank_candidates))


@dataclass(frozen=True)
class Snippet:
    id: int
    lead_id: str | None
    rep_id: str
    team_id: str
    objections: tuple[str, ...]
    objection_text: str
    response_text: str
    strategies: tuple[str, ...]
    turning_sentence: str
    context: tuple[tuple[str, str, float], ...]
    latency_s: float | None
    estimate: Estimate
    industry: str
    size: str
    product_line: str
    starred: bool
    outcome: str
    occurred_at: int
    source: str
    silence_action: str = ""
    masked: bool = False

    @property
    def person_id(self) -> str:
        return self.rep_id


def primary_strategy(strategies: Sequence[str]) -> str:
    """The strategy a snippet counts under in the matrix: the first in the fixed label order ('' for none)."""
    known = [s for s in strategies if s in _STRATEGY_ORDER]
    return min(known, key=_STRATEGY_ORDER.__getitem__) if known else ""


def cells_of(objections: Sequence[str], strategies: Sequence[str]) -> list[tuple[str, str]]:
    s = primary_strategy(strategies)
    return [(o, s) for o in dict.fromkeys(objections) if o in OBJECTIONS]


# ---------------------------------------------------------------- masking

_maskers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def masker(store: Store, prompts: Prompts | None = None) -> Masker:
    """The store's masker, rebuilt when customers change."""
    p = prompts or Prompts()
    sig = (*coach_store.customers_signature(store), p.locale)
    cached = _maskers.get(store)
    if cached is None or cached[0] != sig:
        cached = (sig, Masker(coach_store.customer_names(store), p.t("coaching.mask_customer"),
                              p.t("coaching.mask_amount")))
        _maskers[store] = cached
    return cached[1]


def _to_snippet(row: coach_store.SnippetRow, estimate: Estimate, mask: Masker | None) -> Snippet:
    m = mask or (lambda t: t)
    context = tuple((r, m(t), float(o)) for r, t, o in json.loads(row.context or "[]"))
    return Snippet(row.id, row.lead_id, row.rep_id, row.team_id, tuple(row.objections.split()), m(row.objection_text),
                   m(row.response_text), tuple(row.strategies.split()), m(row.turning_sentence), context,
                   row.latency_s, estimate, row.industry, row.size, row.product_line, bool(row.starred), row.outcome,
                   row.occurred_at, row.source, row.silence_action, mask is not None)


def needs_mask(row: coach_store.SnippetRow, team: str | None, reveal: bool) -> bool:
    return not reveal and (team is None or row.team_id != team)


# ---------------------------------------------------------------- reading


_families_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def families(store: Store, objection: str) -> list[coach_store.Family]:
    """The objection's families, best first; cached until the family table is rewritten (one kv read per call)."""
    version = coach_store.families_version(store)
    cached = _families_cache.get(store)
    if cached is None or cached[0] != version:
        cached = (version, {})
        _families_cache[store] = cached
    found = cached[1].get(objection)
    if found is None:
        found = cached[1][objection] = coach_store.families(store, objection, 200)
    return found


def candidates(store: Store, objection: str, industry: str, want: int) -> dict[int, coach_store.Family]:
    """Snippet id → its family, for the objection's best families (by weight) and their newest recommendable
    snippets, overall and in `industry`, plus recently starred ones. Short index ranges only."""
    fams = families(store, objection)
    found: dict[int, coach_store.Family] = {}
    overall = in_industry = 0
    for f in fams:
        if overall < want:
            for sid in coach_store.family_snippets(store, objection, f.rep_id, f.strategy, None, 4):
                overall += sid not in found
                found.setdefault(sid, f)
        if industry and in_industry < want:
            for sid in coach_store.family_snippets(store, objection, f.rep_id, f.strategy, industry, 4):
                in_industry += sid not in found
                found.setdefault(sid, f)
        if overall >= want and (not industry or in_industry >= want):
            break
    by_key = {(f.rep_id, f.strategy): f for f in fams}
    for sid, rep, strategy in coach_store.starred_snippets(store, objection, 20):
        f = by_key.get((rep, strategy)) or coach_store.family_of(store, objection, rep, strategy)
        if f is not None:
            found.setdefault(sid, f)
    return found


def _estimate(f: coach_store.Family) -> Estimate:
    return Estimate(f.mean, f.low, f.high, f.k, f.n)


def best_snippets(store: Store, objection: str, *, team: str | None = None, industry: str = "", size: str = "",
                  product_line: str = "", limit: int = 3, now_ms: int | None = None, reveal: bool = False,
                  params: CoachParams | None = None, prompts: Prompts | None = None,
                  exclude_lead: str | None = None) -> list[Snippet]:
    """The best past successful (or starred) snippets for `objection`, ranked for the scene, masked outside `team`."""
    params = params or CoachParams()
    w = params.weights
    found = candidates(store, objection, industry, max(w.candidates // 2, limit))
    light = [r for r in coach_store.score_rows(store, list(found)) if not exclude_lead or r.lead_id != exclude_lead]
    scene = Scene(industry, size, product_line, now_ms or 0)
    scored = [(score(weight=found[r.id].weight, industry=r.industry, size=r.size, product_line=r.product_line,
                     occurred_at=r.occurred_at, starred=bool(r.starred), scene=scene, w=w), r.id) for r in light]
    picked = top(scored, limit)
    rows = {r.id: r for r in coach_store.many(store, picked)}
    mask = None
    out = []
    for i in picked:
        r = rows[i]
        hidden = needs_mask(r, team, reveal)
        if hidden and mask is None:
            mask = masker(store, prompts)
        out.append(_to_snippet(r, _estimate(found[i]), mask if hidden else None))
    return out


def objection_examples(store: Store, objection: str, *, team: str | None = None, limit: int = 20,
                       prompts: Prompts | None = None, industry: str | None = None) -> list[str]:
    """Customers' objection texts for `objection`, newest first, distinct, always anonymised (the practice sandbox
    plays them back to reps of any team). `team` limits them to that team's reps' conversations, `industry` to
    customers of that industry."""
    reps = None
    if team is not None:
        reps = org_store.team_member_ids(store, team)
    mask = masker(store, prompts)
    out: list[str] = []
    for _cid, text in coach_store.objection_texts(store, objection, reps, limit * 3, industry):
        t = mask(" ".join(text.split()))
        if t and t not in out:
            out.append(t)
        if len(out) >= limit:
            break
    return out


def model(store: Store, params: CoachParams | None = None) -> OutcomeModel:
    params = params or CoachParams()
    return OutcomeModel.build(coach_store.cell_counts(store), coach_store.family_counts(store),
                              params.prior_strength, params.shrink_strength, params.interval)


def snippets_by_id(store: Store, ids: Sequence[int], *, team: str | None, reveal: bool = False,
                   params: CoachParams | None = None, prompts: Prompts | None = None,
                   outcome_model: OutcomeModel | None = None) -> list[Snippet]:
    """Snippets with their estimates (their family's, else computed), masked outside `team`."""
    om = outcome_model
    out = []
    for row in coach_store.many(store, list(ids)):
        objection = row.objections.split()[0] if row.objections else ""
        strategy = primary_strategy(row.strategies.split())
        fam = coach_store.family_of(store, objection, row.rep_id, strategy)
        if fam is not None:
            est = _estimate(fam)
        else:
            om = om or model(store, params)
            est = om.snippet(row.rep_id, objection, strategy)
        mask = masker(store, prompts) if needs_mask(row, team, reveal) else None
        out.append(_to_snippet(row, est, mask))
    return out


# ---------------------------------------------------------------- writing


def file_extracted(store: Store, ex: Extracted, facts: coach_store.LeadFacts | None, *, source: str, now_ms: int,
                   key_prefix: str = "chat", team_of=None) -> int:
    """Store (or refresh) one extracted snippet with its lead's industry, size and product line."""
    rep_team = team_of(ex.rep_id) if team_of else ""
    row = (f"{key_prefix}:{ex.key}", source, facts.lead_id if facts else None, facts.customer_id if facts else None,
           rep_team or (facts.team_id if facts else ""), ex.rep_id, " ".join(ex.objections), " ".join(ex.strategies),
           ex.objection_text, ex.response_text, ex.turning_sentence,
           json.dumps([list(c) for c in ex.context], ensure_ascii=False), ex.latency_s, ex.silence_action,
           facts.industry if facts else "", facts.size if facts else "", facts.product if facts else "",
           ex.at_ms, facts.stage if facts else "", now_ms)
    return coach_store.upsert_snippet(store, row, cells_of(ex.objections, ex.strategies))


def add_debrief_snippet(store: Store, *, lead_id: str, person_id: str, objection_labels: Sequence[str],
                        worry_text: str, evidence_text: str, strategy_labels: Sequence[str], occurred_at: int) -> int | None:
    """A voice debrief's "客户最担心什么 / 我用了哪条证据回应" filed as a snippet of that lead (source 'debrief'),
    so its outcome is followed like any other. None when no objection label is known."""
    objections = tuple(o for o in dict.fromkeys(objection_labels) if o in OBJECTIONS)
    if not objections:
        return None
    facts = coach_store.lead_facts(store, lead_id)
    team = org_store.team_of(store, person_id)
    ex = Extracted(f"{lead_id}:{person_id}:{occurred_at}", objections,
                   tuple(s for s in dict.fromkeys(strategy_labels) if s in STRATEGIES), worry_text, evidence_text,
                   "", (("customer", worry_text, 0.0), ("rep", evidence_text, 0.0)), None, "", occurred_at, person_id)
    return file_extracted(store, ex, facts, source="debrief", now_ms=occurred_at, key_prefix="debrief",
                          team_of=lambda _p: team or "")


# ---------------------------------------------------------------- outcomes and weights


def resolve_outcomes(store: Store, now_ms: int, params: CoachParams | None = None, batch: int = 5000) -> int:
    """Give every pending snippet whose lead moved (or whose window passed) its outcome; returns how many."""
    params = params or CoachParams()
    done = 0
    offset_rows = coach_store.pending(store, batch)
    updates = []
    for p in offset_rows:
        got = lead_outcome(occurred_at=p.occurred_at, stage_at=p.stage_at, status=p.status, stage=p.stage,
                           closed_at=p.closed_at, now_ms=now_ms, days=params.outcome_days, stages=params.stages)
        if got is not None:
            updates.append((got[0], got[1], p.snippet_id))
    coach_store.set_outcomes(store, updates)
    done += len(updates)
    return done


def _family_row(om: OutcomeModel, rep: str, objection: str, strategy: str) -> tuple:
    est = om.snippet(rep, objection, strategy)
    return (objection, rep, strategy, est.low, est.mean, est.low, est.high, est.n, est.n_success)


def refresh_rank(store: Store, params: CoachParams | None = None) -> int:
    """Recompute every family's shrunk estimate (the weight its snippets rank by); returns how many families.
    A few thousand rows whatever the library's size: snippets themselves are never rewritten."""
    om = model(store, params)
    rows = [_family_row(om, rep, o, s) for rep, o, s in coach_store.families_with_candidates(store)]
    coach_store.replace_families(store, rows)
    return len(rows)


def cell_estimates(store: Store, rep_ids: Sequence[str] | None, params: CoachParams | None = None,
                   since: int = 0) -> dict[tuple[str, str], Estimate]:
    """(objection, strategy) → estimate over these reps' snippets (None: everyone's), each cell shrunk toward
    its objection's rate."""
    params = params or CoachParams()
    cells = coach_store.cell_counts(store, rep_ids, since)
    om = OutcomeModel.build(cells, [], params.prior_strength, params.shrink_strength, params.interval)
    return {(o, s): om.cell(o, s) for o, s, _n, _k in cells}


__all__ = ["CoachParams", "Estimate", "Snippet", "add_debrief_snippet", "best_snippets", "beta_estimate",
           "objection_examples"]


def restar(store: Store, snippet_id: int, starred: bool, person_id: str, params: CoachParams | None = None) -> None:
    """Star or unstar a snippet; its families get their estimate at once, so a starred snippet is recommended
    even before its outcome is known (an unstarred one only once it succeeded)."""
    coach_store.set_starred(store, snippet_id, starred, person_id)
    row = coach_store.get(store, snippet_id)
    if row is None or not starred:
        return
    om = model(store, params)
    for objection in row.objections.split():
        cell = coach_store.cell_of(store, snippet_id, objection)
        if cell is not None:
            coach_store.put_family(store, _family_row(om, cell[0], objection, cell[1]))
