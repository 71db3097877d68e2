"""Monte Carlo over outcomes: which open deals are won inside the period, plus deals not yet in the pipeline.

Uncertainty has three layers, all in the draws (no fixed ±%):
1. a common shock per draw — rates wander from period to period (log-normal, sd learned from history + prior);
2. each deal won or not (Bernoulli with its probability × the shock);
3. revenue from deals created and won inside the period (gamma around the learned rate).

Why it is fast: the deals that carry most of the variance (the largest p(1-p)·amount²) are drawn one by one in
chunks of draws (bounded memory); the long tail is summed per draw with its exact conditional mean and variance
(normal by the central limit theorem, since no single tail deal matters).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Outcome:
    samples: np.ndarray  # total per draw
    pipeline: np.ndarray  # pipeline part per draw
    new: np.ndarray  # new-deal part per draw
    p10: float
    p50: float
    p90: float
    mean: float
    confidence: float  # P(outcome within ±band of P50)
    prob_target: float | None
    target: float | None
    variance_parts: dict[str, float] = field(default_factory=dict)  # share of variance: shock, deals, new


def simulate(p: np.ndarray, amount: np.ndarray, *, common_sd: float, new_mu: float, new_sd: float, draws: int,
             rng: np.random.Generator, band: float = 0.15, target: float | None = None, exact_max: int = 1000,
             chunk: int = 1000) -> Outcome:
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    amount = np.asarray(amount, dtype=np.float64)
    shock = np.exp(rng.standard_normal(draws) * common_sd - common_sd ** 2 / 2)
    var_weight = p * (1 - p) * amount ** 2
    if p.size > exact_max:
        order = np.argpartition(var_weight, -exact_max)[-exact_max:]
        exact = np.zeros(p.size, dtype=bool)
        exact[order] = True
    else:
        exact = np.ones(p.size, dtype=bool)
    pe, ae = p[exact].astype(np.float32), amount[exact].astype(np.float32)
    pt, at = p[~exact], amount[~exact]
    s1, s2, s3 = float((pt * at).sum()), float((pt * at * at).sum()), float((pt * pt * at * at).sum())
    pipeline = np.empty(draws)
    for i in range(0, draws, chunk):
        m = shock[i:i + chunk].astype(np.float32)
        if pe.size:
            u = rng.random((m.size, pe.size), dtype=np.float32)
            wins = u < np.minimum(pe[None, :] * m[:, None], 1.0)
            part = wins.astype(np.float32) @ ae
        else:
            part = np.zeros(m.size, dtype=np.float32)
        mm = m.astype(np.float64)
        tail_mean = mm * s1
        tail_sd = np.sqrt(np.maximum(mm * s2 - mm * mm * s3, 0.0))
        pipeline[i:i + chunk] = part + np.maximum(tail_mean + tail_sd * rng.standard_normal(m.size), 0.0)
    if new_mu > 0 and new_sd > 0:  # gamma: non-negative, mean new_mu, coefficient of variation new_sd
        shape = 1.0 / new_sd ** 2
        new = rng.gamma(shape, new_mu / shape, draws)
    elif new_mu > 0:
        new = np.full(draws, new_mu)
    else:
        new = np.zeros(draws)
    total = pipeline + new
    p10, p50, p90 = (float(v) for v in np.percentile(total, [10, 50, 90]))
    conf = float(np.mean(np.abs(total - p50) <= band * max(p50, 1e-9))) if p50 > 0 else 0.0
    prob = float(np.mean(total >= target)) if target else None
    # variance decomposition (law of total variance, approximately): shock part, deal-by-deal part, new deals
    mean_pipe = float((p * amount).sum())
    v_shock = (np.exp(common_sd ** 2) - 1) * mean_pipe ** 2
    v_deals = float(var_weight.sum())
    v_new = float(new.var())
    tot = v_shock + v_deals + v_new or 1.0
    return Outcome(total, pipeline, new, p10, p50, p90, float(total.mean()), conf, prob, target,
                   {"shock": v_shock / tot, "deals": v_deals / tot, "new": v_new / tot})
