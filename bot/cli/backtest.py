"""`salespulse backtest --deals FILE --map mapping.toml --period month [--start 2017-06 --end 2017-12] [--json]`.

Walks period by period using only what was known at each period's start (handlers/forecast/backtest.py) and
prints per period P50, P10, P90, actual and accuracy, a summary, and the two baselines.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.cli.support import config_from
from bot.errors import BadPayload
from handlers.forecast import backtest, dealfile
from handlers.forecast.book import Book


def _month(text: str) -> date:
    try:
        y, m = text.split("-")
        return date(int(y), int(m), 1)
    except ValueError:
        raise BadPayload(f"--start/--end must look like 2017-06, not {text!r}") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backtest", help="walk-forward backtest of the forecast on a deals file")
    p.add_argument("--deals", type=Path, required=True)
    p.add_argument("--map", dest="mapping", type=Path, required=True)
    p.add_argument("--period", choices=["month", "quarter"], default="month")
    p.add_argument("--start", default=None, help="first period, YYYY-MM (default: 6 periods before the last close)")
    p.add_argument("--end", default=None, help="last period, YYYY-MM (default: the period of the last close)")
    p.add_argument("--draws", type=int, default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_backtest)


def cmd_backtest(args: argparse.Namespace) -> int:
    cfg = config_from(args).forecast
    mapping = dealfile.load_mapping(args.mapping)
    result = dealfile.read(args.deals, mapping)
    for err in result.errors[:20]:
        print(err, file=sys.stderr)
    rows = [d.row for d in result.deals if d.has_created]
    book = Book.from_rows(rows)
    if not len(book) or not (book.won | book.lost).any():
        raise BadPayload(f"{args.deals}: no closed deals to backtest on")
    tz = mapping.tz
    last = date.fromtimestamp(int(book.closed[book.won | book.lost].max()) / 1000)
    end = _month(args.end) if args.end else date(last.year, last.month, 1)
    start = _month(args.start) if args.start else date(end.year - (end.month <= 6), (end.month - 7) % 12 + 1, 1)
    settings = backtest.Settings(draws=args.draws or cfg.draws, prior_strength=cfg.prior_strength,
                                 base_rate=cfg.base_rate_prior, month_sd_prior=cfg.month_sd_prior,
                                 history_periods=cfg.history_periods)
    out = backtest.run(book, args.period, start, end, ZoneInfo(str(tz)), settings)
    out["skipped_rows"] = len(result.errors) + sum(1 for d in result.deals if not d.has_created)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(f"{'period':<9}{'P10':>12}{'P50':>12}{'P90':>12}{'actual':>12}{'acc':>8}  in  "
          f"{'stage-wtd':>12}{'acc':>8}{'last':>12}{'acc':>8}")
    for r in out["periods"]:
        b = r["baselines"]
        print(f"{r['period']:<9}{r['p10']:>12,.0f}{r['p50']:>12,.0f}{r['p90']:>12,.0f}{r['actual']:>12,.0f}"
              f"{_f(r['accuracy']):>8}  {'✓' if r['inside_p10_p90'] else '✗'}   "
              f"{b['stage_weighted']['forecast']:>12,.0f}{_f(b['stage_weighted']['accuracy']):>8}"
              f"{b['last_period']['forecast']:>12,.0f}{_f(b['last_period']['accuracy']):>8}")
    s = out["summary"]
    print(f"\nforecast:       mean accuracy {_f(s['mean_accuracy'])}, median {_f(s['median_accuracy'])}, "
          f"actual inside P10–P90 {s['coverage_p10_p90']:.0%}, mean interval width {_f(s['mean_interval_width_ratio'])} × actual")
    for name, b in out["baselines"].items():
        print(f"{name + ':':<16}mean accuracy {_f(b['mean_accuracy'])}, median {_f(b['median_accuracy'])}")
    return 0


def _f(v) -> str:
    return "—" if v is None else f"{v:.3f}"
