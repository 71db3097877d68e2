"""Walk-forward backtest: forecast each period from what was known at its start (and, with `every="week"`, from
every Monday before and inside it), compare with the actual, beside simple baselines on the same periods.

Leakage guard: the data has no stage history, so "open at the as-of date" is rebuilt from the creation and close
dates — created before it and not closed before it. Outcomes and won values of deals that close later are
invisible (timing.fit masks them; the won ÷ list ratio and the baselines use only deals won and periods ended
before the as-of date), and no attribute that only the final export knows is used — the account, say, which Maven
lacks exactly on the deals still open at its end (Book does not even carry it). tests/test_backtest_maven.py
redraws everything after the as-of date and checks that neither the forecast nor any baseline moves.

Scoring: accuracy (1 − |P50 − actual| / actual) is scored on the forecast from each period's start, like every
baseline (each from the same snapshot; a baseline lacking the history it needs is not scored on that period, and
`ours_mean_accuracy` is our score on exactly the periods it was scored on). The P10–P90 coverage counts every
forecast of the run, and is also split by how many periods of history the forecast had.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from handlers.forecast import baselines
from handlers.forecast.book import Book
from handlers.forecast.periods import Period, date_ms, of_kind, shift
from handlers.forecast.projection import Params, Projector

HISTORY_BUCKETS = ((0, 2), (3, 5), (6, 11), (12, 10**6))


@dataclass(frozen=True)
class Settings:
    draws: int = 10_000
    prior_strength: float = 20.0
    base_rate: float = 0.25
    month_sd_prior: float = 0.15
    history_periods: int = 12
    seed: int = 20170601

    def params(self) -> Params:
        return Params(prior_strength=self.prior_strength, base_rate=self.base_rate,
                      history_periods=self.history_periods, month_sd_prior=self.month_sd_prior)


def period_range(kind: str, start: date, end: date) -> list[Period]:
    out, p = [], of_kind(kind, start)
    last = of_kind(kind, end)
    while p.start <= last.start:
        out.append(p)
        p = shift(p, 1)
    return out


def mondays(period: Period) -> list[date]:
    """The Monday on or before the period's first day, then every Monday inside it."""
    d = period.start - timedelta(days=period.start.weekday())
    out = []
    while d < period.end:
        out.append(d)
        d += timedelta(days=7)
    return out


def accuracy(forecast: float, actual: float) -> float | None:
    return None if actual <= 0 else 1.0 - abs(forecast - actual) / actual


def _r(v: float | None, nd: int = 4) -> float | None:
    return None if v is None else round(v, nd)


def _mean(vals: list[float]) -> float | None:
    return round(statistics.fmean(vals), 4) if vals else None


def _interval(p10: float, p90: float, actual: float) -> tuple[bool | None, float | None]:
    # nothing won in the period: P10 is then usually 0 too, and "0 is inside [0, P90]" says nothing about the
    # interval, so the forecast is not scored (like accuracy, which is undefined without an actual)
    if actual <= 0:
        return None, None
    return bool(p10 <= actual <= p90), (p90 - p10) / actual


def run(book: Book, kind: str, start: date, end: date, tz: ZoneInfo, settings: Settings = Settings(),
        every: str = "period") -> dict:
    proj = Projector(book, kind, tz, settings.params())
    rows, scored = [], []  # scored: (history periods, inside, width) of every forecast
    for per in period_range(kind, start, end):
        t0, t1 = per.ms(tz)
        actual = proj.won(per, t1)
        fc = proj.forecast(per, t0, seed=settings.seed, draws=settings.draws)
        inside, width = _interval(fc.p10, fc.p90, actual)
        ts = baselines.time_series(baselines.actuals(book, per, t0, tz), kind)
        ts["stage_weighted"] = baselines.stage_weighted(book, per, t0, tz)
        row = {"period": per.label, "p50": round(fc.p50, 2), "p10": round(fc.p10, 2), "p90": round(fc.p90, 2),
               "actual": round(actual, 2), "accuracy": _r(accuracy(fc.p50, actual)), "inside_p10_p90": inside,
               "width_ratio": _r(width), "open_deals": int(fc.bu.p.size),
               "pipeline_expected": round(fc.bu.expected - fc.bu.new_mu, 2), "new_expected": round(fc.bu.new_mu, 2),
               "history_periods": fc.history_periods, "bottom_up": round(fc.bottom_up, 2),
               "top_down": None if fc.top_down is None else round(fc.top_down, 2), "top_down_method": fc.top_down_method,
               "weight_bottom_up": round(fc.weight_bottom_up, 4), "errors_measured": fc.errors_measured,
               "baselines": {k: {"forecast": None if v is None else round(v, 2),
                                 "accuracy": None if v is None else _r(accuracy(v, actual))} for k, v in ts.items()}}
        forecasts = [(t0, fc)]
        if every == "week":
            forecasts += [(date_ms(d, tz), None) for d in mondays(per) if date_ms(d, tz) != t0]
            row["as_of"] = []
        for at, f in forecasts:
            f = f or proj.forecast(per, at, seed=settings.seed, draws=settings.draws)
            ins, wid = _interval(f.p10, f.p90, actual)
            scored.append((f.history_periods, ins, wid))
            if every == "week":
                row["as_of"].append({"as_of": at, "p10": round(f.p10, 2), "p50": round(f.p50, 2),
                                     "p90": round(f.p90, 2), "inside_p10_p90": ins, "width_ratio": _r(wid),
                                     "history_periods": f.history_periods})
        rows.append(row)
    return {"periods": rows, "summary": _summary(rows, scored), "baselines": _baselines(rows, kind),
            "coverage_by_history": _by_history(scored), "every": every, "seed": settings.seed}


def _summary(rows: list[dict], scored: list) -> dict:
    accs = [r["accuracy"] for r in rows if r["accuracy"] is not None]
    inside = [s[1] for s in scored if s[1] is not None]
    widths = [s[2] for s in scored if s[2] is not None]
    return {"mean_accuracy": _mean(accs), "median_accuracy": round(statistics.median(accs), 4) if accs else None,
            "coverage_p10_p90": _mean([float(v) for v in inside]), "mean_interval_width_ratio": _mean(widths)}


def _baselines(rows: list[dict], kind: str) -> dict:
    """Each baseline's mean accuracy on the periods it could forecast, and ours on the same periods."""

    def score(name: str) -> dict:
        pairs = [(r["baselines"][name]["accuracy"], r["accuracy"]) for r in rows
                 if r["baselines"][name]["accuracy"] is not None and r["accuracy"] is not None]
        return {"mean_accuracy": _mean([b for b, _o in pairs]),
                "median_accuracy": round(statistics.median([b for b, _o in pairs]), 4) if pairs else None,
                "periods": len(pairs), "ours_mean_accuracy": _mean([o for _b, o in pairs])}

    out = {}
    variants = {v.removeprefix("seasonal_naive_"): score(v) for v in baselines.SEASONAL_LAGS[kind]}
    scoredv = {k: v for k, v in variants.items() if v["mean_accuracy"] is not None}
    best = max(scoredv, key=lambda k: scoredv[k]["mean_accuracy"]) if scoredv else next(iter(variants))
    out["seasonal_naive"] = dict(variants[best], variant=best)
    for name in baselines.NAMES[1:]:
        out[name] = score(name)
    return out


def _by_history(scored: list) -> dict:
    out = {}
    for lo, hi in HISTORY_BUCKETS:
        sel = [(i, w) for h, i, w in scored if lo <= h <= hi and i is not None]
        label = f"{lo}+" if hi >= 10**6 else f"{lo}-{hi}"
        out[label] = {"forecasts": len(sel), "coverage_p10_p90": _mean([float(i) for i, _w in sel]),
                      "mean_interval_width_ratio": _mean([w for _i, w in sel])}
    return out
