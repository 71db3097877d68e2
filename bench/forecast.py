"""`python -m bench.forecast --deals 100000 --draws 10000 --json`: one /forecast over N open deals.

Times the whole forecast computation of a /forecast (handlers/forecast/engine.compute): fitting the win model on
the closed history, per-deal win probabilities with their contributions, the timing model, the procurement
calendar, the won ÷ list value ratios, the Monte Carlo with `draws` draws and the combination with the top-down
view and its calibrated draws (handlers/forecast/projection.py) — on synthetic deals with realistic amounts and
details held in memory. `seconds` is a /forecast in the running bot (models fitted on the closed history, and the
past periods' forecasts the combination is weighed and calibrated on, are cached until the history changes);
`first_forecast_seconds` includes computing them (and importing statsmodels) once, with the win model's
refits at the six past month starts its calibration is measured on (handlers/forecast/calibration.py).
`cpu_seconds` is this process's CPU time for the same call (less sensitive to other load on a shared machine).
Targets: seconds ≤ 1.0, peak_rss_mb ≤ 500.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import threading
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import psutil

from bot.clock import to_ms
from bot.config import ForecastSection
from handlers.forecast import engine
from handlers.forecast.periods import quarter_of
from store import open_store
from store.deals import Deal, Details

DAY = 86_400_000


def synthetic(n_open: int, n_closed: int, now: int, rng: np.random.Generator) -> list[Deal]:
    industries = ("制造", "教育", "医疗", "零售", "能源", "物流")
    products = ("GW-300", "QC-8", "EMS-2", "MES-Pro", "PM-5", "POS-5")
    owners = [f"r{i}" for i in range(200)]
    out: list[Deal] = []
    total = n_open + n_closed
    amounts = np.exp(rng.normal(11.5, 0.9, total))
    created = now - rng.integers(1, 540, total) * DAY
    for i in range(total):
        is_open = i < n_open
        won = (not is_open) and rng.random() < 0.4
        closed = None if is_open else int(min(now - DAY, created[i] + rng.integers(10, 150) * DAY))
        details = Details(
            industry=industries[i % 6], approver_met=bool(rng.random() < 0.5 + 0.2 * won),
            competitors=int(rng.integers(0, 4)), tech_validation=float(rng.random()),
            disputed_clauses=int(rng.integers(0, 3)), payment_punctuality=float(rng.uniform(0.5, 1.0)),
            intent_letter=bool(rng.random() < 0.3), has_seal=bool(rng.random() < 0.7), has_budget_range=True,
            has_named_contact=True, has_next_meeting=bool(rng.random() < 0.8))
        out.append(Deal(id=f"D{i}", title=f"商机{i}", customer_id=f"c{i % 5000}", customer_name="", customer_industry="",
                        owner_id=owners[i % 200], status="open" if is_open else ("won" if won else "lost"), stage="",
                        product=products[i % 6], amount=float(amounts[i]), created_at=int(created[i]),
                        expected_close_at=int(now + rng.integers(-20, 120) * DAY) if is_open else None,
                        closed_at=closed, last_activity_at=None, details=details))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.forecast")
    ap.add_argument("--deals", type=int, default=100_000, help="open deals in the forecast's scope")
    ap.add_argument("--closed", type=int, default=20_000, help="closed deals of history")
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(7)
    now = to_ms(datetime(2026, 5, 10, 2, 0, tzinfo=UTC))
    deals = synthetic(args.deals, args.closed, now, rng)
    store = open_store(":memory:")
    cfg = dataclasses.replace(ForecastSection(), draws=args.draws)
    tz = ZoneInfo("Asia/Shanghai")
    period = quarter_of(datetime(2026, 5, 10).date())
    proc = psutil.Process()
    peak = [proc.memory_info().rss]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            stop.wait(0.005)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    t0 = time.perf_counter()
    engine.compute(store, deals, cfg, tz, now, period, None, 5e8)  # first /forecast: fits and caches the models
    cold = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    fc = engine.compute(store, deals, cfg, tz, now, period, None, 5e8, seed=1)  # every /forecast after it
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    stop.set()
    watcher.join()
    peak[0] = max(peak[0], proc.memory_info().rss)
    o = fc.outcome
    result = {"deals": fc.n_deals, "draws": args.draws, "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
              "peak_rss_mb": round(peak[0] / 2**20, 1), "first_forecast_seconds": round(cold, 3),
              "closed_history": args.closed,
              "p10": round(o.p10), "p50": round(o.p50), "p90": round(o.p90)}
    print(json.dumps(result) if args.json else result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
