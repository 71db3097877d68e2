"""Wi-Fi dwell benchmark on the real sample: one week of probe records at one facility.

    python -m bench.wifi --json [--data DIR] [--stores K] [--runs N]

Reads every kitokito_market_*.csv of ../shared/data/wifi_probe_sample (timed apart as read_seconds: parsing
CSV is the import's cost, not the pipeline's), then times handlers.stores.wifi.compute_visits + dwell_by_store_day
over all records (median of `runs`), pinned to one core. Opening hours 09:00-17:00 Asia/Tokyo: the facility's
records thin out outside them (the README's hourly profile). `--stores K` copies the week under K store ids to
measure a chain-sized batch (K × 105,601 records); `records_per_s` = records / seconds. Target ≥ 500,000.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import time as dtime
from pathlib import Path

import numpy as np

from handlers.stores import wifi

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wifi_probe_sample"
HOURS = (dtime(9, 0), dtime(17, 0))
TZ = "Asia/Tokyo"


def load(folder: Path, stores: int) -> tuple[wifi.ProbeRecords, float, int]:
    files = sorted(folder.glob("kitokito_market_*.csv"))
    if not files:
        raise SystemExit(f"no kitokito_market_*.csv in {folder}")
    t0 = time.perf_counter()
    parts = [wifi.read_probe_csv(f, tz=TZ) for f in files]
    read_s = time.perf_counter() - t0
    errors = sum(len(p.errors) for p in parts)
    ts = np.concatenate([p.records.ts_ms for p in parts])
    dev = np.concatenate([np.asarray(p.records.devices, dtype=object)[p.records.device_code] for p in parts])
    st = np.concatenate([np.asarray(p.records.stores, dtype=object)[p.records.store_code] for p in parts])
    if stores > 1:
        ts = np.tile(ts, stores)
        dev = np.tile(dev, stores)
        st = np.concatenate([np.char.add(st.astype(str), f"-{k}") for k in range(stores)])
    return wifi.ProbeRecords.from_arrays(ts, st.tolist(), dev.tolist()), read_s, errors


def run(folder: Path, stores: int = 1, runs: int = 5) -> dict:
    recs, read_s, errors = load(folder, stores)
    times = []
    visits: list[wifi.Visit] = []
    days: dict = {}
    for _ in range(runs):
        t0 = time.perf_counter()
        visits = wifi.compute_visits(recs, opening_hours=HOURS, tz=TZ)
        days = wifi.dwell_by_store_day(visits, TZ)
        times.append(time.perf_counter() - t0)
    sec = statistics.median(times)
    avg = [round(v, 2) for k, v in days.items() if stores == 1 or k[0].endswith("-0")]
    return {"records": len(recs), "visits": len(visits), "seconds": round(sec, 4),
            "records_per_s": round(len(recs) / sec), "read_seconds": round(read_s, 3), "bad_rows": errors,
            "avg_dwell_min_per_day": avg}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--stores", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    out = run(args.data, args.stores, args.runs)
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
