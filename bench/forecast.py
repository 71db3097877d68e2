"""`python -m bench.forecast --deals 100000 --draws 10000 --json`: one /forecast's simulation over N open deals.

Measures the Monte Carlo (handlers/forecast/simulate.py) on synthetic open deals with realistic amounts and
probabilities; prints {deals, draws, seconds, peak_rss_mb}. Targets: seconds ≤ 1.0, peak_rss_mb ≤ 500.
"""

from __future__ import annotations

import argparse
import json
import threading
import time

import numpy as np
import psutil

from handlers.forecast.simulate import simulate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.forecast")
    ap.add_argument("--deals", type=int, default=100_000)
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(7)
    p = rng.beta(2, 5, args.deals)
    amounts = np.exp(rng.normal(10.5, 1.2, args.deals))  # log-normal deal sizes around 36k 元
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
    out = simulate(p, amounts, common_sd=0.12, new_mu=float(amounts.mean() * 50), new_sd=0.3, draws=args.draws,
                   rng=rng, target=float((p * amounts).sum()))
    seconds = time.perf_counter() - t0
    stop.set()
    watcher.join()
    peak[0] = max(peak[0], proc.memory_info().rss)
    result = {"deals": args.deals, "draws": args.draws, "seconds": round(seconds, 3),
              "peak_rss_mb": round(peak[0] / 2**20, 1), "p50": round(out.p50), "p10": round(out.p10),
              "p90": round(out.p90)}
    print(json.dumps(result) if args.json else result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
