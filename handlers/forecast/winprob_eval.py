"""How good are the win probabilities `/deal` shows? Scored at past as-of dates, on what happened next.

At each as-of date the win model is fitted exactly as the bot fits it (engine.fit_models with the deals known
then, the open ones censored at their age, blended with the base rate as far as calibration.py measured it
right on the months before), and every deal open at that date that closes later gets the probability `/deal`
would have shown for it then (engine.deal_probabilities: the same rep attainment, the same vectorised path). Its
later outcome (won = 1, lost = 0) is the truth; deals still open at the export's end are not scored (no outcome).

Scores: Brier, log loss, AUC (the chance a later-won deal was ranked above a later-lost one) and a 10-bin
reliability table, pooled over all as-of dates and per date. Two yardsticks: `brier_base_rate`, the Brier score of
saying the base rate known at the as-of date (won ÷ closed among the deals closed before it: what a forecaster
without a model would say) to every scored deal; and `brier_scored_share`, that of saying the scored deals' own
win share — a base rate that knows the future share, which no honest model can be expected to beat at every date
(a date whose scored deals were all lost scores 0).

Leak guard: at an as-of date every later close is erased (status open, no close date, no won value: the list
amount), so the inputs are what was known then; tests/test_winprob_eval.py redraws the future and checks that
the probabilities do not move. What the export cannot tell is kept as it is in the file: the deal details (an
export has no history of them) and responsiveness (an export has no chat behaviour: 0 for every deal).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np

from bot.config import ForecastSection
from handlers.forecast import calibration, engine
from handlers.forecast.dealfile import ParsedDeal
from store.deals import Deal, Details

BINS = 10
_EPS = 1e-6


def deals_of(parsed: Sequence[ParsedDeal], source: str = "import") -> list[Deal]:
    """Parsed rows as the store would hold them after `salespulse import deals` (importer.import_deals)."""
    out = []
    for pd in parsed:
        if not pd.has_created:
            continue
        r = pd.row
        details = Details(industry=r.industry, customer_known=bool(r.customer), source=source, **pd.details)
        out.append(Deal(id=r.id, title=pd.title, customer_id=r.customer or "", customer_name=r.customer,
                        customer_industry=r.industry, owner_id=r.owner or None, status=r.status, stage=r.stage,
                        product=r.product, amount=r.amount if r.status == "won" else (r.list_amount or r.amount),
                        created_at=r.created_at, expected_close_at=r.expected_close_at, closed_at=r.closed_at,
                        last_activity_at=None, details=details))
    return out


def as_known_at(deals: Sequence[Deal], t: int, list_amount: dict[str, float]) -> list[Deal]:
    """The deals created before `t` as they stood at `t` (calibration.as_known_at: the model's own past refits
    erase the future the same way)."""
    return calibration.as_known_at(deals, t, list_amount)


def probabilities_at(deals: Sequence[Deal], t: int, cfg: ForecastSection, tz: ZoneInfo,
                     list_amount: dict[str, float]) -> tuple[list[Deal], np.ndarray]:
    """The deals open at `t` and the win probability `/deal` would have shown for each at `t`."""
    open_deals, p, _ = _shown_at(deals, t, cfg, tz, list_amount)
    return open_deals, p


def _shown_at(deals: Sequence[Deal], t: int, cfg: ForecastSection, tz: ZoneInfo,
              list_amount: dict[str, float]) -> tuple[list[Deal], np.ndarray, calibration.Calibration | None]:
    known = as_known_at(deals, t, list_amount)
    models = engine.fit_models(known, cfg, t, tz)
    open_deals = [d for d in known if d.status == "open"]
    many = engine.deal_probabilities(models, open_deals)
    return open_deals, many.probability, models.calibration


def evaluate(deals: Sequence[Deal], as_of: Sequence[int], cfg: ForecastSection, tz: ZoneInfo,
             list_amount: dict[str, float] | None = None, labels: Sequence[str] | None = None) -> dict:
    """Scores pooled over all as-of dates and per date (`labels` name them, e.g. the backtest's periods)."""
    list_amount = list_amount or {}
    final = {d.id: d for d in deals}
    all_p, all_y, all_b, per = [], [], [], []
    for i, t in enumerate(as_of):
        open_deals, p, cal = _shown_at(deals, t, cfg, tz, list_amount)
        keep = np.array([final[d.id].status != "open" and (final[d.id].closed_at or 0) >= t for d in open_deals],
                        dtype=bool)
        y = np.array([final[d.id].status == "won" for d, k in zip(open_deals, keep, strict=True) if k], dtype=float)
        p = p[keep] if len(p) else p
        row = scores(p, y, base_rate_at(deals, t))
        row = {"as_of": labels[i] if labels else str(t), **row, **_trust(cal)}
        per.append(row)
        all_p.append(p)
        all_y.append(y)
        all_b.append(np.full(len(y), base_rate_at(deals, t)))
    pooled = scores(np.concatenate(all_p) if all_p else np.zeros(0), np.concatenate(all_y) if all_y else np.zeros(0),
                    np.concatenate(all_b) if all_b else np.zeros(0))
    pooled["reliability"] = reliability(np.concatenate(all_p) if all_p else np.zeros(0),
                                        np.concatenate(all_y) if all_y else np.zeros(0))
    pooled["by_as_of"] = per
    pooled["beats_base_rate_every_as_of"] = all(r["beats_base_rate"] for r in per if r["n"]) if per else None
    return pooled


def _trust(cal: calibration.Calibration | None) -> dict:
    """How far the model was trusted at a date (calibration.py): the blend shown, and the measured slope with its
    standard error it was shrunk from (None when not measured: too little history)."""
    if cal is None or not cal.pairs:
        return {"blend": 1.0 if cal is not None else None, "slope": None, "slope_se": None}
    return {"blend": _r(cal.blend), "slope": _r(cal.slope), "slope_se": _r(cal.slope_se)}


def base_rate_at(deals: Sequence[Deal], t: int) -> float:
    """Won ÷ closed among the deals closed before `t` (0.5 before any close): the base rate the model is blended
    toward (calibration.base_rate)."""
    return calibration.base_rate(deals, t)


def for_periods(parsed: Sequence[ParsedDeal], kind: str, start: date, end: date, tz: ZoneInfo,
                cfg: ForecastSection) -> dict:
    """`evaluate` at the start of every backtest period (what `salespulse backtest` adds as `win_probability`)."""
    from handlers.forecast.backtest import period_range

    periods = period_range(kind, start, end)
    list_amount = {pd.row.id: pd.row.list_amount for pd in parsed if pd.row.list_amount is not None}
    return evaluate(deals_of(parsed), [p.ms(tz)[0] for p in periods], cfg, tz, list_amount, [p.label for p in periods])


def scores(p: np.ndarray, y: np.ndarray, base: np.ndarray | float) -> dict:
    """Brier (and its two yardsticks), log loss and AUC of probabilities `p` for outcomes `y` (1 = won)."""
    n = int(len(y))
    if n == 0:
        return {"n": 0, "won_share": None, "brier": None, "brier_base_rate": None, "beats_base_rate": None,
                "brier_scored_share": None, "log_loss": None, "auc": None}
    share = float(y.mean())
    pc = np.clip(p, _EPS, 1 - _EPS)
    brier, brier_base = float(np.mean((p - y) ** 2)), float(np.mean((base - y) ** 2))
    # compared before rounding: at four decimals two different scores can print alike
    return {"n": n, "won_share": _r(share), "brier": _r(brier), "brier_base_rate": _r(brier_base),
            "beats_base_rate": brier < brier_base, "brier_scored_share": _r(share * (1 - share)),
            "log_loss": _r(float(-np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc)))), "auc": _r(auc(p, y))}


def auc(p: np.ndarray, y: np.ndarray) -> float | None:
    """Mann–Whitney: P(a won deal's probability > a lost one's), ties counting half."""
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    if pos == 0 or neg == 0:
        return None
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    sp = p[order]
    i = 0
    while i < len(sp):  # average ranks over ties
        j = i
        while j + 1 < len(sp) and sp[j + 1] == sp[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def reliability(p: np.ndarray, y: np.ndarray) -> list[dict]:
    """Ten equal-width probability bins: how many deals, the mean probability said, the share that was won."""
    out = []
    idx = np.minimum((p * BINS).astype(int), BINS - 1) if len(p) else np.zeros(0, dtype=int)
    for b in range(BINS):
        sel = idx == b
        n = int(sel.sum())
        out.append({"bin": f"{b / BINS:.1f}-{(b + 1) / BINS:.1f}", "n": n,
                    "mean_probability": _r(float(p[sel].mean())) if n else None,
                    "won_share": _r(float(y[sel].mean())) if n else None})
    return out


def _r(v: float | None) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(v, 4)
