"""Outcome weights (B4): what happened next on a snippet's lead, and Beta-Binomial success estimates per
(objection, strategy) cell and per snippet.

Why it is built this way:
- An outcome is read off the lead, never typed by anyone: within [coaching] outcome_days after the exchange the
  lead was won (won), lost (lost), moved to a later stage (advanced), or none of these (stalled, once the window
  has passed). Success = advanced or won. Any writer of leads (CRM import, the demo, /adjust) counts, because the
  sweep compares the lead's stage now with the stage recorded when the snippet was filed.
- Shrinkage has two levels. A cell (objection o, strategy s) is Beta(m·p_o + successes, m·(1-p_o) + failures),
  p_o being the objection's overall success rate and m [coaching] prior_strength, so a cell seen twice is not
  100 %. A snippet is judged by its rep's record with that cell (the rep's way of answering that objection),
  shrunk toward the cell with strength k ([coaching] shrink_strength): Beta(k·p_cell + s_rep, k·(1-p_cell) +
  f_rep). Three lucky wins (3/3) of a rep then rank below thirty steady ones (24/30) of another, while 30/30
  beats both: evidence moves the estimate in proportion to how much of it there is.
- Intervals are the central [coaching] interval credible interval of that Beta (scipy's betaincinv), shown with
  their evidence: "交付 → 案例佐证：23 次中 15 次推进（65%，区间 48–79%）".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SUCCESS = frozenset({"advanced", "won"})
OUTCOMES = ("advanced", "won", "lost", "stalled")
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Estimate:
    """A success estimate with its evidence: posterior mean and central interval, and the raw counts."""

    mean: float
    low: float
    high: float
    n_success: int
    n: int

    @property
    def pct(self) -> int:
        return round(self.mean * 100)


def beta_estimate(alpha: float, beta: float, successes: int, n: int, level: float = 0.9) -> Estimate:
    from scipy.special import betaincinv  # imported on first use: scipy.special costs ~1 s at start-up

    a, b = alpha + successes, beta + (n - successes)
    tail = (1.0 - level) / 2
    low, high = betaincinv(a, b, [tail, 1.0 - tail])
    return Estimate(a / (a + b), float(low), float(high), successes, n)


def lead_outcome(*, occurred_at: int, stage_at: str, status: str | None, stage: str, closed_at: int | None,
                 now_ms: int, days: int, stages: Sequence[str]) -> tuple[str, int] | None:
    """(outcome, when) for one snippet, or None while it is still open. `stages` orders the open stages (empty:
    any stage change counts as advancing). A lead closed after the window counts as stalled within it."""
    deadline = occurred_at + days * DAY_MS
    if status in ("won", "lost"):
        at = closed_at if closed_at is not None else now_ms
        if at <= deadline:
            return status, max(at, occurred_at)
        return "stalled", deadline
    if status is not None and stage and stage != stage_at:
        order = {name: i for i, name in enumerate(stages)}
        if not stages or stage_at not in order or stage not in order or order[stage] > order[stage_at]:
            return "advanced", min(now_ms, deadline)
    if now_ms >= deadline:
        return "stalled", deadline
    return None


@dataclass
class OutcomeModel:
    """Cell and family (rep × cell) counts with the shrinkage parameters; estimates on demand."""

    cells: dict[tuple[str, str], tuple[int, int]]  # (objection, strategy) → (n, successes)
    families: dict[tuple[str, str, str], tuple[int, int]]  # (rep, objection, strategy) → (n, successes)
    prior_strength: float = 4.0
    shrink_strength: float = 10.0
    level: float = 0.9

    def __post_init__(self) -> None:
        per_objection: dict[str, list[int]] = {}
        for (objection, _s), (n, k) in self.cells.items():
            acc = per_objection.setdefault(objection, [0, 0])
            acc[0] += n
            acc[1] += k
        total_n = sum(v[0] for v in per_objection.values())
        total_k = sum(v[1] for v in per_objection.values())
        overall = (total_k + 1) / (total_n + 2)  # Laplace: an empty library is 50 %
        m = self.prior_strength
        # the objection's rate, itself shrunk toward the overall rate
        self.base = {o: (m * overall + k) / (m + n) for o, (n, k) in per_objection.items()}
        self.overall = overall

    @classmethod
    def build(cls, cells: Iterable[tuple[str, str, int, int]], families: Iterable[tuple[str, str, str, int, int]],
              prior_strength: float = 4.0, shrink_strength: float = 10.0, level: float = 0.9) -> OutcomeModel:
        return cls({(o, s): (n, k) for o, s, n, k in cells},
                   {(r, o, s): (n, k) for r, o, s, n, k in families}, prior_strength, shrink_strength, level)

    def cell(self, objection: str, strategy: str) -> Estimate:
        p = self.base.get(objection, self.overall)
        n, k = self.cells.get((objection, strategy), (0, 0))
        m = max(self.prior_strength, 1e-6)
        return beta_estimate(m * p, m * (1 - p), k, n, self.level)

    def cell_mean(self, objection: str, strategy: str) -> float:
        p = self.base.get(objection, self.overall)
        n, k = self.cells.get((objection, strategy), (0, 0))
        return (self.prior_strength * p + k) / (self.prior_strength + n)

    def snippet(self, rep_id: str, objection: str, strategy: str) -> Estimate:
        p = self.cell_mean(objection, strategy)
        n, k = self.families.get((rep_id, objection, strategy), (0, 0))
        s = max(self.shrink_strength, 1e-6)
        return beta_estimate(s * p, s * (1 - p), k, n, self.level)

    def snippet_mean(self, rep_id: str, objection: str, strategy: str) -> float:
        p = self.cell_mean(objection, strategy)
        n, k = self.families.get((rep_id, objection, strategy), (0, 0))
        return (self.shrink_strength * p + k) / (self.shrink_strength + n)
