"""Win probability = base × customer × project × rep coefficients, each explained.

- base: the win rate of the deal's industry × product line among closed deals, shrunk toward the industry rate,
  then the company rate, then the configured prior (empirical Bayes: `prior_strength` pseudo-deals), so a new
  company with no history still gets a sensible number and says so — and then moved by the deal's age. Why the
  age: closed deals alone overstate the chance of an open one. A deal still open after long is evidence (most
  deals that win do so early), and deals still open are not missing data but censored ones. `AgeCurve` learns,
  from every deal known at the as-of date (closed ones at the age they closed, open ones censored at their age
  today), the chance per age band of being won or lost (discrete-time competing risks); the base of an open deal
  is the chance that a deal of its age, still open, is won at all, shifted by its cell's odds.
- coefficients: a logistic regression (statsmodels GLM, binomial, base as offset) over the deal features, fitted
  on closed deals; each coefficient is shrunk toward an expert prior by n / (n + strength). Detail coefficients
  learn only from deals that really carry details (an imported row with no detail column has none, whatever its
  source), and with fewer than `min_fit_deals` such deals the detail priors are used as they are. A deal without
  an owner has no rep: its rep coefficient is 1, and ownerless deals are never pooled into a pseudo-rep.
- the three coefficients are sequential ratios (base → +customer → +project → +rep), so their product is exactly
  the probability; contributions of single features are "probability with it ÷ probability without it".
- an intent letter lacking any of 公章 / 明确预算范围 / 指定对接人 / 约定下次会议时间 caps the result.
- what is shown is blended with the base rate as far as the model's departures from it came true on past
  dates (`WinModel.blend`, measured by calibration.py; applied to every step, so the coefficients still multiply
  to the result).
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from handlers.forecast.periods import date_ms, local_date
from store.deals import Deal, Details

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
    """Which hard conditions an intent letter lacks (empty: no letter, a valid one, or one the customer has gone
    beyond — a deposit paid or a tender won, `Details.committed`: the letter is no longer the deal's evidence)."""
    d = deal.details
    if not d.intent_letter or d.committed:
        return []
    return [k for k, ok in (("seal", d.has_seal), ("budget_range", d.has_budget_range),
                            ("named_contact", d.has_named_contact), ("next_meeting", d.has_next_meeting)) if not ok]


DAY_MS = 86_400_000
# a deal its own rep called off in a note (Details.called_off): "项目取消了" kept at 98 % by a model that read only
# "progress stalled" would count a lost deal in /预测 until the next CRM import; a note can be wrong, so not 0 either
CALLED_OFF_CAP = 0.10
AGE_EDGES_DAYS = np.array([0, 7, 14, 30, 45, 60, 90, 120, 150, 180, 270, 365, 545, 730], dtype=float)
MAX_AGE_DAYS = 1095  # older deals are taken as this old
HORIZON_DAYS = 730  # how far ahead a deal's future is walked
CURVE_STRENGTH = 5.0  # pseudo-deals pulling an age band's rates toward the band before it
POSITION_STRENGTH = 20.0  # pseudo-events keeping a month position's multiplier near 1 until history shows more


def _positions(first_ms: int, days: int, tz: ZoneInfo) -> np.ndarray:
    """Month position inside its quarter (0, 1, 2) of each of `days` local days from the day of `first_ms`."""
    d0 = local_date(first_ms, tz)
    return np.array([((d0 + timedelta(days=j)).month - 1) % 3 for j in range(days)], dtype=np.int8)


@dataclass
class AgeCurve:
    """P(won | still open at age a on the as-of date), learned with censoring (discrete-time competing risks).

    Per age band: the share of deals open at its start (actuarial: a deal censored inside counts half) that are
    won, and that are lost, inside it; bands with thin history are shrunk toward the band before. Per month
    position in the quarter: how much more (or less) often than its age predicts a deal is won, or lost, in such
    a month — B2B books wins at quarter end (Maven: about 80 % of the deals decided in March, June, September and
    December are won, about half in the other months), shrunk toward 1 where history shows no difference — and
    per age band within each position (shrunk toward the position's factor), since young and old deals need not
    follow the same rhythm (`_position_factors`).

    An open deal's future is then walked day by day from the as-of date (its age growing, the calendar moving):
    W and L are its chances of being won and lost; the probability is W / (W + L), the chance of a win once it is
    decided. A deal that lingers where losses come early gains; one near a loss deadline ("lost after 180 days")
    loses; deals that never close at all (abandoned, open at every export) enter only as censored time, never as
    losses nobody recorded. The table holds the answer for every whole-day age at the as-of date."""

    win_h: np.ndarray
    lose_h: np.ndarray
    deals: int  # how many deals (closed and open) it was learned from
    pos_w: np.ndarray = field(default_factory=lambda: np.ones((len(AGE_EDGES_DAYS), 3)))  # age band × position
    pos_l: np.ndarray = field(default_factory=lambda: np.ones((len(AGE_EDGES_DAYS), 3)))
    table: np.ndarray = field(default_factory=lambda: np.zeros(0))  # by age in days at the as-of date
    walk_inputs: tuple = ()  # (daily win rates, daily loss rates, as-of, tz, fallback): to re-walk a shorter future

    @staticmethod
    def learn(created: np.ndarray, exit_ms: np.ndarray, won: np.ndarray, lost: np.ndarray, as_of: int,
              tz: ZoneInfo, fallback: float) -> AgeCurve:
        edges = AGE_EDGES_DAYS
        k = len(edges)
        exit_days = (exit_ms - created) / DAY_MS
        band = np.clip(np.searchsorted(edges, exit_days, side="right") - 1, 0, k - 1)
        censored = ~(won | lost)
        entering = np.array([(exit_days >= e).sum() for e in edges], dtype=float)
        w = np.bincount(band[won], minlength=k).astype(float)
        ls = np.bincount(band[lost], minlength=k).astype(float)
        c = np.bincount(band[censored], minlength=k).astype(float)
        at_risk = np.maximum(entering - 0.5 * c, 0.0)
        total_r = max(at_risk.sum(), 1e-9)
        prev_w, prev_l = w.sum() / total_r, ls.sum() / total_r
        win_h, lose_h = np.zeros(k), np.zeros(k)
        for i in range(k):
            win_h[i] = (w[i] + CURVE_STRENGTH * prev_w) / (at_risk[i] + CURVE_STRENGTH)
            lose_h[i] = (ls[i] + CURVE_STRENGTH * prev_l) / (at_risk[i] + CURVE_STRENGTH)
            scale = win_h[i] + lose_h[i]
            if scale > 1:
                win_h[i], lose_h[i] = win_h[i] / scale, lose_h[i] / scale
            prev_w, prev_l = win_h[i], lose_h[i]
        # daily rates by age in days (a band's chance spread evenly over its days)
        ages = np.arange(MAX_AGE_DAYS + 1)
        b = np.clip(np.searchsorted(edges, ages, side="right") - 1, 0, k - 1)
        width = np.append(np.diff(edges), 365.0)[b]
        dw, dl = win_h[b] / width, lose_h[b] / width
        curve = AgeCurve(win_h, lose_h, int(len(created)))
        curve.pos_w, curve.pos_l = _position_factors(created, exit_ms, won, lost, dw, dl, as_of, tz)
        curve.walk_inputs = (dw, dl, as_of, tz, fallback)
        curve.table = curve._walk(dw, dl, as_of, tz, fallback)
        return curve

    def within(self, days: int) -> AgeCurve:
        """The same curve answering P(won | decided within `days` of the as-of date): what can be checked against
        outcomes known `days` later (calibration.py scores past dates this way, not against the deals' whole future,
        which is still censored then)."""
        return dataclasses.replace(self, table=self._walk(*self.walk_inputs, days=days))

    def _walk(self, dw: np.ndarray, dl: np.ndarray, as_of: int, tz: ZoneInfo, fallback: float,
              days: int = HORIZON_DAYS) -> np.ndarray:
        start = np.arange(MAX_AGE_DAYS + 1)
        alive = np.ones(len(start))
        won, lost = np.zeros(len(start)), np.zeros(len(start))
        pos = _positions(as_of, HORIZON_DAYS, tz)
        band = np.clip(np.searchsorted(AGE_EDGES_DAYS, np.arange(MAX_AGE_DAYS + 1), side="right") - 1, 0,
                       len(AGE_EDGES_DAYS) - 1)
        for j in range(min(days, HORIZON_DAYS)):
            age = np.minimum(start + j, MAX_AGE_DAYS)
            pw, pl = dw[age] * self.pos_w[band[age], pos[j]], dl[age] * self.pos_l[band[age], pos[j]]
            over = np.maximum(pw + pl, 1.0)
            pw, pl = pw / over, pl / over
            won += alive * pw
            lost += alive * pl
            alive *= 1 - pw - pl
        decided = won + lost
        return np.where(decided > 1e-9, won / np.maximum(decided, 1e-12), fallback)

    def win_given_open(self, age_days: np.ndarray) -> np.ndarray:
        """P(won | open at these ages in days on the as-of date)."""
        i = np.clip(np.floor(np.asarray(age_days, dtype=float)), 0, MAX_AGE_DAYS).astype(int)
        return self.table[i]


def _position_factors(created: np.ndarray, exit_ms: np.ndarray, won: np.ndarray, lost: np.ndarray,
                      dw: np.ndarray, dl: np.ndarray, as_of: int, tz: ZoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """Observed ÷ expected wins (and losses) in the months of each quarter position, per age band, over the
    history's months; expected from the age rates alone. Returns (bands × 3) multipliers for wins and losses.

    The overall factor of a position is shrunk toward 1, and a band's toward its position's overall factor, by
    POSITION_STRENGTH pseudo-events each. Why per band: the quarter-end rhythm need not be the same for young and
    old deals — quick deals may be decided in any month while long cycles wait for the quarter's last one (Maven:
    deals decided in a quarter's first month are about a week old, the others about ten weeks) — and a single
    multiplier per month then sends old deals to the quarter end too often."""
    k_bands = len(AGE_EDGES_DAYS)
    obs_w, obs_l = np.zeros((k_bands, 3)), np.zeros((k_bands, 3))
    exp_w, exp_l = np.zeros((k_bands, 3)), np.zeros((k_bands, 3))
    if not len(created):
        return np.ones((k_bands, 3)), np.ones((k_bands, 3))
    # a band's daily rates are constant: expected events = rate × days of exposure inside the band (ages past
    # MAX_AGE_DAYS + 1 count no more, as in the walk's table)
    lo_edge = AGE_EDGES_DAYS
    hi_edge = np.append(AGE_EDGES_DAYS[1:], MAX_AGE_DAYS + 1.0)
    rate_w, rate_l = dw[lo_edge.astype(int)], dl[lo_edge.astype(int)]
    exit_band = np.clip(np.searchsorted(AGE_EDGES_DAYS, (exit_ms - created) / DAY_MS, side="right") - 1, 0,
                        k_bands - 1)
    month = local_date(int(created.min()), tz).replace(day=1)
    end = local_date(as_of, tz)
    while month <= end:
        nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        m0, m1 = date_ms(month, tz), min(date_ms(nxt, tz), as_of)
        lo, hi = np.maximum(created, m0), np.minimum(exit_ms, m1)
        on = hi > lo
        if on.any():
            pos = (month.month - 1) % 3
            a0, a1 = (lo[on] - created[on]) / DAY_MS, (hi[on] - created[on]) / DAY_MS
            days = (np.clip(a1[:, None], lo_edge, hi_edge) - np.clip(a0[:, None], lo_edge, hi_edge)).sum(axis=0)
            exp_w[:, pos] += rate_w * days
            exp_l[:, pos] += rate_l * days
            inside = (exit_ms >= m0) & (exit_ms < m1)
            np.add.at(obs_w[:, pos], exit_band[won & inside], 1.0)
            np.add.at(obs_l[:, pos], exit_band[lost & inside], 1.0)
        month = nxt
    k = POSITION_STRENGTH
    all_w = (obs_w.sum(axis=0) + k) / (exp_w.sum(axis=0) + k)
    all_l = (obs_l.sum(axis=0) + k) / (exp_l.sum(axis=0) + k)
    return (obs_w + k * all_w) / (exp_w + k), (obs_l + k * all_l) / (exp_l + k)


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
    ages: AgeCurve | None = None  # None: no as-of date given (closed-deal rates only)
    as_of: int = 0  # the date open deals' ages are measured at (UTC ms)
    strength: float = 20.0
    blend: float = 1.0  # weight of the model against the base rate, measured on past dates (calibration.py)
    blend_to: float = 0.5  # that base rate: won ÷ closed among the deals closed before the as-of date

    def shown(self, logit_p: np.ndarray | float) -> np.ndarray | float:
        """The probability shown for a model logit: blend × model + (1 − blend) × base rate. Applied to every
        cumulative step (base, +customer, +project, +rep), so the coefficients still multiply to the result."""
        p = 1 / (1 + np.exp(-np.asarray(logit_p, dtype=float)))
        out = self.blend * p + (1 - self.blend) * self.blend_to
        return float(out) if np.ndim(out) == 0 else out

    def age_shift(self, deals: Sequence[Deal]) -> np.ndarray:
        """Logit shift of each deal's base for its age: log-odds of P(won | open at its age) minus those of the
        company's closed-deal win rate. Closed deals (and a model without an as-of date) get 0. With little
        history the curve is shrunk toward the company rate by `strength` pseudo-deals."""
        out = np.zeros(len(deals))
        if self.ages is None or not deals:
            return out
        is_open = np.array([d.status == "open" for d in deals], dtype=bool)
        if not is_open.any():
            return out
        ages = np.array([(self.as_of - d.created_at) / DAY_MS for d in deals], dtype=float)
        m, company = self.ages.deals, self.base.company
        curve = (m * self.ages.win_given_open(ages) + self.strength * company) / (m + self.strength)
        curve = np.clip(curve, 1e-4, 1 - 1e-4)
        return np.where(is_open, np.log(curve / (1 - curve)) - logit(company), 0.0)

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
        lb = logit(self.base_of(deal)) + float(self.age_shift([deal])[0])
        base = self.shown(lb)
        steps, acc = {}, lb
        prev = base
        for g in GROUPS:
            idx = [i for i, n in enumerate(NAMES) if FEATURES[n][0] == g]
            acc += float(x[idx] @ self.beta[idx])
            p = self.shown(acc)
            steps[g] = p / prev if prev > 0 else 1.0
            prev = p
        p_all = prev
        contribs = []
        for i, n in enumerate(NAMES):
            if x[i] == 0:
                continue
            without = self.shown(acc - x[i] * self.beta[i])
            contribs.append((n, p_all / without - 1.0))
        contribs.sort(key=lambda kv: -abs(kv[1]))
        missing = intent_incomplete(deal)
        capped = False
        if missing and p_all > self.intent_cap:
            p_all, capped = self.intent_cap, True
        override = deal.details.probability_override is not None
        if deal.details.called_off and not override and p_all > CALLED_OFF_CAP:  # a /调整 after the note wins
            p_all, capped = CALLED_OFF_CAP, True
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
        lb = np.log(b / (1 - b)) + self.intercept + self.age_shift(deals)
        total = lb + X @ self.beta
        p = self.shown(total)
        without = self.shown(total[:, None] - X * self.beta[None, :])
        contrib = np.where(X != 0, p[:, None] / without - 1.0, 0.0)
        missing = np.array([d.details.intent_letter and not d.details.committed
                            and not (d.details.has_seal and d.details.has_budget_range and d.details.has_named_contact
                                     and d.details.has_next_meeting) for d in deals], dtype=bool)
        override = np.array([np.nan if d.details.probability_override is None else d.details.probability_override
                             for d in deals], dtype=float)
        called_off = np.array([d.details.called_off for d in deals], dtype=bool) & np.isnan(override)
        p = np.where(called_off, np.minimum(p, CALLED_OFF_CAP), p)
        p = np.where(np.isnan(override), p, override)
        capped = missing & (p > self.intent_cap)
        p = np.where(capped, self.intent_cap, p)
        return Many(p, self.shown(lb), contrib, capped)  # capped: by the intent letter (/预测 names those)

    def probability(self, deal: Deal, rep_attainment: float = 0.0, responsiveness: float = 0.0) -> float:
        return self.explain(deal, rep_attainment, responsiveness).probability


def eb_strength(groups: Sequence[tuple[float, float, float]], floor: float) -> float:
    """Empirical-Bayes pseudo-deals for shrinking groups (wins, deals, parent rate) toward their parent: the
    binomial noise p(1-p) over the spread of true rates between groups (method of moments), never below `floor`.

    Why: a fixed strength trusts a 300-deal cell's rate whether or not cells really differ. When the groups
    spread no more than chance would make them (the Maven data: its products and sectors do not differ), the
    strength grows without bound and every group takes its parent's rate instead of its noise."""
    big = [(w, n, q) for w, n, q in groups if n >= 5]
    if len(big) < 2:
        return floor
    noise = sum(n * q * (1 - q) / n for _w, n, q in big) / len(big)  # mean p(1-p): binomial variance × n
    spread = sum(n * (w / n - q) ** 2 for w, n, q in big) / sum(n for _w, n, _q in big)  # n-weighted, ≈ noise/n̄ + τ²
    n_bar = sum(n for _w, n, _q in big) / len(big)
    tau2 = spread - noise / n_bar
    if tau2 <= 1e-9:
        return 1e9
    return max(floor, noise / tau2)


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
    k_ind = eb_strength([(w, m, company) for w, m in ind.values()], strength)
    by_ind = {k: (w + k_ind * company) / (m + k_ind) for k, (w, m) in ind.items()}
    k_cell = eb_strength([(w, m, by_ind[k[0]]) for k, (w, m) in cell.items()], strength)
    by_cell = {k: (w + k_cell * by_ind[k[0]]) / (m + k_cell) for k, (w, m) in cell.items()}
    return BaseRates(company, by_ind, by_cell, n)


class RepHistory:
    """Each rep's last three closed deals, overall and per product, indexed once for many lookups.

    Deals without an owner belong to no rep: they are not indexed, and an ownerless deal's attainment is 0."""

    def __init__(self, closed_sorted: Sequence[Deal]) -> None:
        self.by_rep: dict[str, list[Deal]] = {}
        self.by_rep_product: dict[tuple[str, str], list[Deal]] = {}
        for d in closed_sorted:
            if not d.owner_id:
                continue
            self.by_rep.setdefault(d.owner_id, []).append(d)
            self.by_rep_product.setdefault((d.owner_id, d.product), []).append(d)
        self._times = {k: [d.closed_at or d.created_at for d in v] for k, v in self.by_rep.items()}
        self._times_p = {k: [d.closed_at or d.created_at for d in v] for k, v in self.by_rep_product.items()}

    def attainment(self, deal: Deal, base: float, before: int | None = None) -> float:
        """The rep's won share over their last three closed deals of the same product (any product when fewer),
        minus `base`; only deals closed before `before` when given."""
        if not deal.owner_id:
            return 0.0

        def last3(ds: list[Deal], times: list[int]) -> list[Deal]:
            end = len(ds) if before is None else bisect.bisect_left(times, before)
            return [d for d in ds[max(0, end - 4):end] if d.id != deal.id][-3:]

        key = (deal.owner_id, deal.product)
        similar = last3(self.by_rep_product.get(key, []), self._times_p.get(key, []))
        pick = similar if len(similar) == 3 else \
            last3(self.by_rep.get(deal.owner_id, []), self._times.get(deal.owner_id, []))
        if not pick:
            return 0.0
        return sum(d.status == "won" for d in pick) / len(pick) - base


def rep_attainment(closed_sorted: Sequence[Deal], deal: Deal, base: float) -> float:
    """The rep's won share over their last three closed deals of the same product (any product when fewer)."""
    if not deal.owner_id:
        return 0.0
    mine = [d for d in closed_sorted if d.owner_id == deal.owner_id and d.id != deal.id]
    similar = [d for d in mine if d.product == deal.product][-3:]
    pick = similar if len(similar) == 3 else mine[-3:]
    if not pick:
        return 0.0
    return sum(d.status == "won" for d in pick) / len(pick) - base


_NO_DETAILS = dataclasses.replace(Details(), industry="", customer_known=True, source="")
_MODEL_DETAILS = ("intent_letter", "has_seal", "has_budget_range", "has_named_contact", "has_next_meeting",
                  "intent_force", "decision_people", "decision_rank", "rank_change", "approver_met", "competitors",
                  "competitor_move", "tech_validation", "disputed_clauses", "legal_review", "payment_punctuality",
                  "years_cooperation", "budget_share", "sentiment")


def has_details(deal: Deal) -> bool:
    """Whether anyone recorded something about the deal beyond its spine: a detail that differs from "unknown".

    Why not "has a details row": every imported deal has one (industry, source), which made a CRM export without a
    single detail column look like a fully documented history to the fit."""
    d = deal.details
    return any(getattr(d, name) != getattr(_NO_DETAILS, name) for name in _MODEL_DETAILS)


def age_curve(closed: Sequence[Deal], open_deals: Sequence[Deal], as_of: int, tz: ZoneInfo,
              fallback: float) -> AgeCurve:
    """The censoring-aware age curve from what was known at `as_of` (deals created later are not looked at)."""
    known_closed = [d for d in closed if d.created_at < as_of and (d.closed_at or d.created_at) < as_of]
    known_open = [d for d in open_deals if d.created_at < as_of]
    created = np.array([d.created_at for d in known_closed] + [d.created_at for d in known_open], dtype=np.int64)
    exit_ms = np.array([d.closed_at or d.created_at for d in known_closed] + [as_of] * len(known_open), dtype=np.int64)
    won = np.array([d.status == "won" for d in known_closed] + [False] * len(known_open), dtype=bool)
    lost = np.array([d.status == "lost" for d in known_closed] + [False] * len(known_open), dtype=bool)
    return AgeCurve.learn(created, exit_ms, won, lost, as_of, tz, fallback)


def fit(closed: Sequence[Deal], *, prior: float = 0.25, strength: float = 20.0, min_fit: int = 30,
        intent_cap: float = 0.35, open_deals: Sequence[Deal] = (), as_of: int | None = None,
        tz: ZoneInfo | None = None) -> WinModel:
    """Fit on closed deals (won/lost). Empty or thin history → base rates and prior coefficients (fallback).

    With `as_of`, open deals (censored at their age then) and closed ones teach the age curve, and open deals'
    probabilities are conditioned on their age at `as_of` (see AgeCurve)."""
    closed = sorted(closed, key=lambda d: (d.closed_at or d.created_at, d.id))
    rates = base_rates(closed, prior, strength)
    ages = age_curve(closed, open_deals, as_of, tz or ZoneInfo("Asia/Shanghai"), rates.company) \
        if as_of is not None and (closed or open_deals) else None
    prior_beta = np.array([FEATURES[n][1] for n in NAMES])
    detailed = np.array([has_details(d) for d in closed], dtype=bool)
    n_detailed = int(detailed.sum())
    few_details = n_detailed < min_fit  # detail coefficients stay at their priors
    done = WinModel(rates, prior_beta, n_detailed, len(closed) < min_fit, intent_cap, 0.0, ages, as_of or 0, strength)
    if len(closed) < min_fit:
        return done
    # the rep's attainment as it was known while the deal was open: their last three deals closed before it was
    # created (what a forecast at any date of its life could see at least). Closes during its own life would tie
    # it to the same weeks' luck — a hot month makes both the rep's record and this deal win — which the fit
    # would mistake for skill. Ownerless deals have no rep: attainment 0, and they add to nobody's record.
    reps = RepHistory(closed)
    att = np.zeros(len(closed))
    for i, d in enumerate(closed):
        att[i] = reps.attainment(d, rates.of(d.industry, d.product), before=d.created_at)
    X = features_matrix(closed, att, np.zeros(len(closed)))
    y = np.array([d.status == "won" for d in closed], dtype=float)
    offset = np.array([logit(rates.of(d.industry, d.product)) for d in closed])
    is_rep = np.array([FEATURES[n][0] == "rep" for n in NAMES])
    # a detail coefficient is fitted only from deals that carry details, and only from enough of them
    active = (X.std(axis=0) > 0) & (is_rep | (not few_details))
    if not few_details:
        active &= is_rep | (X[detailed].std(axis=0) > 0)
    try:
        import statsmodels.api as sm

        design = np.column_stack([np.ones(len(y)), X[:, active]])
        glm = sm.GLM(y, design, family=sm.families.Binomial(), offset=offset)
        res = glm.fit_regularized(alpha=1.0 / len(y), L1_wt=0.0, maxiter=200)
        params = np.asarray(res.params)
        fitted = prior_beta.copy()
        fitted[active] = params[1:]
        n_used = np.where(is_rep, len(y), n_detailed).astype(float)
        w = n_used / (n_used + strength * 5)
        done.beta = np.where(active, w * fitted + (1 - w) * prior_beta, prior_beta)
        done.intercept = len(y) / (len(y) + strength * 5) * float(params[0])
    except (ValueError, np.linalg.LinAlgError) as exc:  # separation, singular designs: keep the priors
        log.warning("win model fit failed, keeping prior coefficients: %s", exc)
    return done
