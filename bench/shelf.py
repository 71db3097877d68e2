"""Shelf-photo benchmark: generated 12-megapixel shelf photos with known truth through the real check.

    python -m bench.shelf --json [--shelves 6] [--photos 6] [--size 4000x3000]

Every shelf, product image, neighbouring shelf and camera comes from handlers/stores/shelf/generate.py with seeds
from SEED_BASE on: shelf seeds ≥ 100,000 (so product images ≥ 100,000,000), photo seeds ≥ 10,000,000. The method
was developed and its thresholds set on shelves 0-99 and photo seeds below 10,000 (tests use the same range), so
the bench scores it on shelves, products and photos it has never seen.

Per shelf: a planogram folder written to a temporary directory and loaded, `photos` photos to judge (perspective
±30°, roll ±15°, scale 0.6-1.4×, brightness ±40 %, blur, glare, occluders; key products missing, moved, swapped)
and three bad photos (another shelf, too dark, too blurred). Timed: check_photo with the annotated PNG, pinned to
one core with OpenCV single-threaded. Machine load (other processes) only makes seconds_per_photo pessimistic.

precision = reported problems that are real (same product and kind) / reported problems;
recall = real problems reported / real problems (a good photo refused counts all its problems as missed);
bad_photo_refusals = bad photos refused / bad photos (bad_reason_right: with the right reason).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

from handlers.stores.shelf import check_photo, load_planogram
from handlers.stores.shelf import generate as gen

SEED_BASE = 100_000
PHOTO_SEED_BASE = 10_000_000


def run(shelves: int, photos: int, size: tuple[int, int], verbose: bool = False) -> dict:
    tp = fp = fn = 0
    times: list[float] = []
    good = good_refused = bad = bad_refused = bad_right = 0
    misses: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for s in range(shelves):
            shelf = gen.make_shelf(SEED_BASE + s)
            folder = gen.write_planogram(shelf, Path(tmp) / f"shelf{s}")
            planogram = load_planogram(folder)
            other = gen.make_shelf(SEED_BASE + 50_000 + s)
            kinds = [""] * photos + ["not_this_shelf", "too_dark", "too_blurry"]
            for k, kind in enumerate(kinds):
                ph = gen.photo(shelf, PHOTO_SEED_BASE + s * 1000 + k, size=size, bad=kind, other=other)
                t0 = time.perf_counter()
                r = check_photo(ph.jpeg, planogram)
                times.append(time.perf_counter() - t0)
                if kind:
                    bad += 1
                    bad_refused += not r.registered
                    bad_right += r.reason == kind
                    if r.reason != kind:
                        misses.append({"shelf": s, "photo": k, "expected": kind, "got": r.reason or "judged"})
                    continue
                good += 1
                truth = set(ph.truth.items())
                if not r.registered:
                    good_refused += 1
                    fn += len(truth)
                    misses.append({"shelf": s, "photo": k, "refused": r.reason, "params": ph.params})
                    continue
                got = {(p.product, p.kind) for p in r.problems}
                tp += len(got & truth)
                fp += len(got - truth)
                fn += len(truth - got)
                if got != truth:
                    misses.append({"shelf": s, "photo": k, "false": sorted(got - truth), "missed": sorted(truth - got),
                                   "params": ph.params})
                if verbose:
                    print(s, k, f"{times[-1]:.2f}s", sorted(truth), sorted(got), file=sys.stderr)
    out = {"photos": len(times),
           "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
           "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
           "bad_photo_refusals": round(bad_refused / bad, 4) if bad else None,
           "seconds_per_photo": round(statistics.mean(times), 3),
           "seconds_p95": round(sorted(times)[int(0.95 * (len(times) - 1))], 3),
           "bad_reason_right": round(bad_right / bad, 4) if bad else None,
           "good_photos_refused": good_refused, "good_photos": good, "problems_true": tp + fn,
           "problems_reported": tp + fp, "size": f"{size[0]}x{size[1]}",
           "load_avg_1min": round(os.getloadavg()[0], 2), "misses": misses[:20]}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shelves", type=int, default=6)
    ap.add_argument("--photos", type=int, default=6, help="photos to judge per shelf (plus 3 bad ones)")
    ap.add_argument("--size", default="4000x3000")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cv2.setNumThreads(1)
    out = run(args.shelves, args.photos, (w, h), args.verbose)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
