"""Win probability = base × customer × project × rep coefficients, each explained.

- base: the win rate of the deal's industry × product line among closed deals, shrunk toward the industry rate,
  then the company rate, then the configured prior (empirical Bayes: `prior_strength` pseudo-deals), so a new
  company with no history still gets a sensible number and says so.
- coefficients: a logistic regression (statsmodels GLM, binomial, base as offset) over the deal features, fitted
  on closed deals that carry details; each coefficient is shrunk toward an expert prior by n / (n + strength),
  and with fewer than `min_fit_deals` closed deals the priors are used as they are.
- the three coefficients are sequential ratios (base → +customer → +project → +rep), so their product is exactly
  the probability; contributions of single features are "probability with it ÷ probability without it".
- an intent letter lacking any of 公章 / 明确预算范围 / 指定对接人 / 约定下次会议时间 caps the result.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from store.deals import Deal

log = logging.getLogger("salespulse.forecast.model")

# feature name → (group, prior coefficient in logit units, reference value meaning "no information")
FEATURES: dict[str, tuple[str, float]] = {
    "payment_punctuality": ("customer", 1.2),  # 0..1, reference 0.8
    "years_cooperation": ("customer", 0.15),  # years, capped at 5, reference 0
    "budget_share": ("customer", 0.8),  # 0..1, reference 0.2
    "approver_met": ("project", 0.9),  # +1 met, -1 not met, 0 unknown
    "decision_rank": ("project", 0.15),  # 1..5, reference 3
    "rank_change": ("project", 0.4),  # -1 / 0 / +1
    "competitors": ("project", -0.25),  # count, capped at 4
    "competitor_move": ("project", -0.5),
    "tech_validation": ("project", 1.0),  # 0..1, reference 0.5
    "disputed_clauses": ("project", -0.2),  # count, capped at 5
    "legal_review": ("project", 0.5),  # +1 passed, -1 failed, 0 none/pending
    "intent_force": ("project", 0.35),  # 法律约束 +1, 框架共识 0.5, 初步探讨 0, none 0
    "sentiment": ("project", 0.35),  # notes: +1 好转, -1 受阻
    "responsiveness": ("project", 0.3),  # behaviour tags: +1 customer active lately, -1 silent, 0 unknown
    "rep_attainment": ("rep", 1.0),  # rep's won share of last 3 similar deals minus the base rate
}
NAMES = tuple(FEATURES)
GROUPS = ("customer", "project", "rep")


def features(deal: Deal, rep_attainment: float = 0.0, responsiveness: float = 0.0) -> np.ndarray:
    """The deal's feature vector, centred so that 0 means "no information / typical"."""
    d = deal.details
    am = 0.0 if d.approver_met is None else (1.0 if d.approver_met else -1.0)
    return np.array([
        0.0 if d.payment_punctuality is None else d.payment_punctuality - 0.8,
        min(d.years_cooperation, 5.0),
        0.0 if d.budget_share is None else d.budget_share - 0.2,
        am,
        0.0 if not d.decision_rank else d.decision_rank - 3,
        float(max(-1, min(1, d.rank_change))),
        float(min(d.competitors, 4)),
        1.0 if d.competitor_move else 0.0,
        0.0 if d.tech_validation is None else d.tech_validation - 0.5,
        float(min(d.disputed_clauses, 5)),
        {"passed": 1.0, "failed": -1.0}.get(d.legal_review, 0.0),
        {"法律约束": 1.0, "框架共识": 0.5}.get(d.intent_force, 0.0),
        float(max(-1, min(1, d.sentiment))),
        responsiveness,
        rep_attainment,
    ])


_DETAIL_ATTRS = ("payment_punctuality", "years_cooperation", "budget_share", "approver_met", "decision_rank",
                 "rank_change", "competitors", "competitor_move", "tech_validation", "disputed_clauses", "legal_review",
                 "intent_force", "sentiment")


def features_matrix(deals: Sequence[Deal], rep_att: np.ndarray, resp: np.ndarray) -> np.ndarray:
    """`features()` for many deals at once (same centring), column by column: the forecast path for 100 k deals."""
    n = len(deals)
    X = np.zeros((n, len(NAMES)))
    if n == 0:
        return X
    details = [d.details for d in deals]
    nan = float("nan")

    def num(attr: str, none: float = nan) -> np.ndarray:
        return np.array([none if (v := getattr(x, attr)) is None else v for x in details], dtype=float)

    col = {a: num(a, 0.0) for a in ("years_cooperation", "decision_rank", "rank_change", "competitors",
                                     "competitor_move", "disputed_clauses", "sentiment")}
    col.update({a: num(a) for a in ("payment_punctuality", "budget_share", "approver_met", "tech_validation")})
    legal = [x.legal_review for x in details]
    force = [x.intent_force for x in details]

    pp = col["payment_punctuality"]
    X[:, 0] = np.where(np.isnan(pp), 0.0, pp - 0.8)
    X[:, 1] = np.minimum(col["years_cooperation"], 5.0)
    bs = col["budget_share"]
    X[:, 2] = np.where(np.isnan(bs), 0.0, bs - 0.2)
    am = col["approver_met"]
    X[:, 3] = np.where(np.isnan(am), 0.0, 2 * am - 1)
    dr = col["decision_rank"]
    X[:, 4] = np.where(dr == 0, 0.0, dr - 3)
    X[:, 5] = np.clip(col["rank_change"], -1, 1)
    X[:, 6] = np.minimum(col["competitors"], 4)
    X[:, 7] = col["competitor_move"]
    tv = col["tech_validation"]
    X[:, 8] = np.where(np.isnan(tv), 0.0, tv - 0.5)
    X[:, 9] = np.minimum(col["disputed_clauses"], 5)
    X[:, 10] = [1.0 if v == "passed" else -1.0 if v == "failed" else 0.0 for v in legal]
    X[:, 11] = [1.0 if v == "法律约束" else 0.5 if v == "框架共识" else 0.0 for v in force]
    X[:, 12] = np.clip(col["sentiment"], -1, 1)
    X[:, 13] = resp
    X[:, 14] = rep_att
    return X


def logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def intent_incomplete(deal: Deal) -> list[str]:
    """Which hard conditions an intent letter lacks (empty: no letter, or a valid one)."""
    d = deal.details
    if not d.intent_letter:
        return []
    return [k for k, ok in (("seal", d.has_seal), ("budget_range", d.has_budget_range),
                            ("named_contact", d.has_named_contact), ("next_meeting", d.has_next_meeting)) if not ok]


@dataclass
class BaseRates:
    company: float
    by_industry: dict[str, float]
    by_cell: dict[tuple[str, str], float]
    closed: int

    def of(self, industry: str, product: str) -> float:
        return self.by_cell.get((industry, product), self.by_industry.get(industry, self.company))


@dataclass
class Explained:
    probability: float
    base: float
    coefficients: dict[str, float]  # customer / project / rep → multiplier
    contributions: list[tuple[str, float]]  # feature → relative change of the probability (−0.18 = −18%)
    capped: bool = False
    missing_conditions: list[str] = field(default_factory=list)
    override: bool = False
    fallback: bool = False  # no (or too little) history: base rates and prior coefficients
    model: float = 0.0  # base × coefficients before any cap or manual override (what the product equals)


@dataclass
class Many:
    probability: np.ndarray
    base: np.ndarray
    contributions: np.ndarray  # deals × NAMES: relative change of the probability from each feature
    capped: np.ndarray


@dataclass
class WinModel:
    base: BaseRates
    beta: np.ndarray
    fitted_on: int
    fallback: bool
    intent_cap: float = 0.35
    intercept: float = 0.0  # fitted correction of the base (logit units): base rates are marginal rates

    def bases(self, deals: Sequence[Deal]) -> list[float]:
        """Raw base rates (before the fitted intercept), looked up once per (industry, product)."""
        cache: dict[tuple[str, str], float] = {}
        out = []
        for d in deals:
            key = (d.industry, d.product)
            b = cache.get(key)
            if b is None:
                b = cache[key] = self.base.of(*key)
            out.append(b)
        return out

    def base_of(self, deal: Deal) -> float:
        return sigmoid(logit(self.base.of(deal.industry, deal.product)) + self.intercept)

    def explain(self, deal: Deal, rep_attainment: float = 0.0, responsiveness: float = 0.0) -> Explained:
        x = features(deal, rep_attainment, responsiveness)
        base = self.base_of(deal)
        lb = logit(base)
        steps, acc = {}, lb
        prev = base
        for g in GROUPS:
            idx = [i for i, n in enumerate(NAMES) if FEATURES[n][0] == g]
            acc += float(x[idx] @ self.beta[idx])
            p = sigmoid(acc)
            steps[g] = p / prev if prev > 0 else 1.0
            prev = p
        p_all = prev
        contribs = []
        for i, n in enumerate(NAMES):
            if x[i] == 0:
                continue
            without = sigmoid(acc - x[i] * self.beta[i])
            contribs.append((n, p_all / without - 1.0))
        contribs.sort(key=lambda kv: -abs(kv[1]))
        missing = intent_incomplete(deal)
        capped = False
        if missing and p_all > self.intent_cap:
            p_all, capped = self.intent_cap, True
        override = deal.details.probability_override is not None
        if override:
            p_all = float(deal.details.probability_override)
            if missing and p_all > self.intent_cap:
                p_all, capped = self.intent_cap, True
        return Explained(p_all, base, steps, contribs, capped, missing, override, self.fallback, prev)

    def explain_many(self, deals: Sequence[Deal], rep_att: np.ndarray, resp: np.ndarray,
                     raw_base: np.ndarray | None = None) -> Many:
        """Probabilities, bases, per-feature relative contributions and caps for many deals (vectorised)."""
        X = features_matrix(deals, rep_att, resp)
        b = np.clip(np.array(self.bases(deals), dtype=float) if raw_base is None else raw_base, 1e-4, 1 - 1e-4)
        lb = np.log(b / (1 - b)) + self.intercept
        total = lb + X @ self.beta
        p = 1 / (1 + np.exp(-total))
        without = 1 / (1 + np.exp(-(total[:, None] - X * self.beta[None, :])))
        contrib = np.where(X != 0, p[:, None] / without - 1.0, 0.0)
        missing = np.array([d.details.intent_letter and not (d.details.has_seal and d.details.has_budget_range
                                                             and d.details.has_named_contact
                                                             and d.details.has_next_meeting) for d in deals], dtype=bool)
        override = np.array([np.nan if d.details.probability_override is None else d.details.probability_override
                             for d in deals], dtype=float)
        p = np.where(np.isnan(override), p, override)
        capped = missing & (p > self.intent_cap)
        p = np.where(capped, self.intent_cap, p)
        return Many(p, 1 / (1 + np.exp(-lb)), contrib, capped)

    def probability(self, deal: Deal, rep_attainment: float = 0.0, responsiveness: float = 0.0) -> float:
        return self.explain(deal, rep_attainment, responsiveness).probability


def base_rates(closed: Sequence[Deal], prior: float, strength: float) -> BaseRates:
    won = [d.status == "won" for d in closed]
    n = len(closed)
    company = (sum(won) + strength * prior) / (n + strength)
    ind: dict[str, list[int]] = {}
    cell: dict[tuple[str, str], list[int]] = {}
    for d, w in zip(closed, won, strict=True):
        ind.setdefault(d.industry, [0, 0])
        ind[d.industry][0] += w
        ind[d.industry][1] += 1
        cell.setdefault((d.industry, d.product), [0, 0])
        cell[(d.industry, d.product)][0] += w
        cell[(d.industry, d.product)][1] += 1
    by_ind = {k: (w + strength * company) / (m + strength) for k, (w, m) in ind.items()}
    by_cell = {k: (w + strength * by_ind[k[0]]) / (m + strength) for k, (w, m) in cell.items()}
    return BaseRates(company, by_ind, by_cell, n)


class RepHistory:
    """Each rep's last three closed deals, overall and per product, indexed once for many lookups."""

    def __init__(self, closed_sorted: Sequence[Deal]) -> None:
        self.by_rep: dict[str, list[Deal]] = {}
        self.by_rep_product: dict[tuple[str, str], list[Deal]] = {}
        for d in closed_sorted:
            self.by_rep.setdefault(d.owner_id or "", []).append(d)
            self.by_rep_product.setdefault((d.owner_id or "", d.product), []).append(d)

    def attainment(self, deal: Deal, base: float) -> float:
        similar = [d for d in self.by_rep_product.get((deal.owner_id or "", deal.product), []) if d.id != deal.id][-3:]
        pick = similar if len(similar) == 3 else \
            [d for d in self.by_rep.get(deal.owner_id or "", []) if d.id != deal.id][-3:]
        if not pick:
            return 0.0
        return sum(d.status == "won" for d in pick) / len(pick) - base


def rep_attainment(closed_sorted: Sequence[Deal], deal: Deal, base: float) -> float:
    """The rep's won share over their last three closed deals of the same product (any product when fewer)."""
    mine = [d for d in closed_sorted if d.owner_id == deal.owner_id and d.id != deal.id]
    similar = [d for d in mine if d.product == deal.product][-3:]
    pick = similar if len(similar) == 3 else mine[-3:]
    if not pick:
        return 0.0
    return sum(d.status == "won" for d in pick) / len(pick) - base


def fit(closed: Sequence[Deal], *, prior: float = 0.25, strength: float = 20.0, min_fit: int = 30,
        intent_cap: float = 0.35) -> WinModel:
    """Fit on closed deals (won/lost). Empty or thin history → base rates and prior coefficients (fallback)."""
    closed = sorted(closed, key=lambda d: (d.closed_at or d.created_at, d.id))
    rates = base_rates(closed, prior, strength)
    prior_beta = np.array([FEATURES[n][1] for n in NAMES])
    with_details = [d for d in closed if d.details != type(d.details)()]
    if len(with_details) < min_fit:
        return WinModel(rates, prior_beta, len(with_details), True, intent_cap)
    # the rep's attainment on their three previous closed deals (as known when this one closed: no peeking)
    last_by_rep: dict[str, list[bool]] = {}
    last_by_rp: dict[tuple[str, str], list[bool]] = {}
    att: dict[str, float] = {}
    for d in closed:
        rp = last_by_rp.setdefault((d.owner_id or "", d.product), [])
        r = last_by_rep.setdefault(d.owner_id or "", [])
        pick = rp[-3:] if len(rp) >= 3 else r[-3:]
        att[d.id] = (sum(pick) / len(pick) - rates.of(d.industry, d.product)) if pick else 0.0
        rp.append(d.status == "won")
        r.append(d.status == "won")
    resp0 = np.zeros(len(with_details))
    X = features_matrix(with_details, np.array([att[d.id] for d in with_details]), resp0)
    y = np.array([d.status == "won" for d in with_details], dtype=float)
    offset = np.array([logit(rates.of(d.industry, d.product)) for d in with_details])
    beta, intercept = prior_beta, 0.0
    try:
        import statsmodels.api as sm

        active = X.std(axis=0) > 0
        design = np.column_stack([np.ones(len(y)), X[:, active]])
        glm = sm.GLM(y, design, family=sm.families.Binomial(), offset=offset)
        res = glm.fit_regularized(alpha=1.0 / len(y), L1_wt=0.0, maxiter=200)
        params = np.asarray(res.params)
        fitted = prior_beta.copy()
        fitted[active] = params[1:]
        w = len(y) / (len(y) + strength * 5)
        beta = w * fitted + (1 - w) * prior_beta
        intercept = w * float(params[0])
    except (ValueError, np.linalg.LinAlgError) as exc:  # separation, singular designs: keep the priors
        log.warning("win model fit failed, keeping prior coefficients: %s", exc)
    return WinModel(rates, beta, len(with_details), False, intent_cap, intercept)
