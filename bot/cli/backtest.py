"""`salespulse backtest --deals FILE --map mapping.toml --period month [--start 2017-06 --end 2017-12]
[--every period|week] [--seed N] [--json]`.

Walks period by period using only what was known at each as-of date (handlers/forecast/backtest.py) and prints
per period P10, P50, P90, actual and accuracy beside each baseline's accuracy, a summary, each baseline's mean,
and the interval coverage per length of history. `--every week` also forecasts each period from every Monday
before and inside it (all of them count in the coverage).
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
from handlers.forecast import backtest, baselines, dealfile, winprob_eval
from handlers.forecast.book import Book
from prompts import Prompts


def _month(text: str, t) -> date:
    try:
        y, m = text.split("-")
        return date(int(y), int(m), 1)
    except ValueError:
        raise BadPayload(t("cli.backtest_bad_month", text=text)) from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backtest", help="walk-forward backtest of the forecast on a deals file")
    p.add_argument("--deals", type=Path, required=True)
    p.add_argument("--map", dest="mapping", type=Path, required=True)
    p.add_argument("--period", choices=["month", "quarter"], default="month")
    p.add_argument("--start", default=None, help="first period, YYYY-MM (default: 6 periods before the last close)")
    p.add_argument("--end", default=None, help="last period, YYYY-MM (default: the period of the last close)")
    p.add_argument("--draws", type=int, default=None)
    p.add_argument("--every", choices=["period", "week"], default="period",
                   help="period: forecast from each period's first day only; week: also from every Monday before and "
                        "inside it (all count in the coverage)")
    p.add_argument("--seed", type=int, default=backtest.Settings.seed,
                   help="random seed of the draws (fixed by default: results are reproducible)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_backtest)


def cmd_backtest(args: argparse.Namespace) -> int:
    config = config_from(args)
    cfg = config.forecast
    prompts = Prompts(config.bot.locale)
    t = prompts.t
    mapping = dealfile.load_mapping(args.mapping, t)
    result = dealfile.read(args.deals, mapping)
    for note in result.notes:
        print(note, file=sys.stderr)
    for err in result.errors[:20]:
        print(err, file=sys.stderr)
    rows = [d.row for d in result.deals if d.has_created]
    book = Book.from_rows(rows)
    if not len(book) or not (book.won | book.lost).any():
        raise BadPayload(t("cli.backtest_no_closed", file=args.deals))
    tz = mapping.tz
    closed = book.closed[book.won | book.lost]
    first = date.fromtimestamp(int(book.created.min()) / 1000)
    last = date.fromtimestamp(int(closed.max()) / 1000)
    end = _month(args.end, t) if args.end else date(last.year, last.month, 1)
    start = _month(args.start, t) if args.start else date(end.year - (end.month <= 6), (end.month - 7) % 12 + 1, 1)
    span = {"first": f"{first:%Y-%m}", "last": f"{last:%Y-%m}"}
    if start > date(last.year, last.month, 1) or end < date(first.year, first.month, 1):
        raise BadPayload(t("cli.backtest_outside", start=f"{start:%Y-%m}", end=f"{end:%Y-%m}", file=args.deals,
                           **span))
    if start > end:
        raise BadPayload(t("cli.backtest_start_after_end", start=f"{start:%Y-%m}", end=f"{end:%Y-%m}"))
    settings = backtest.Settings(draws=args.draws or cfg.draws, prior_strength=cfg.prior_strength,
                                 base_rate=cfg.base_rate_prior, month_sd_prior=cfg.month_sd_prior,
                                 history_periods=cfg.history_periods, seed=args.seed)
    out = backtest.run(book, args.period, start, end, ZoneInfo(str(tz)), settings, every=args.every)
    out["win_probability"] = winprob_eval.for_periods(result.deals, args.period, start, end, ZoneInfo(str(tz)), cfg)
    out["skipped_rows"] = len(result.errors) + sum(1 for d in result.deals if not d.has_created)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    _print_table(out, prompts)
    _print_win_probability(t, out["win_probability"])
    if out["skipped_rows"]:
        print(t("cli.backtest_skipped", n=out["skipped_rows"]))
    return 0


def _print_win_probability(t, w: dict) -> None:
    """The per-deal win probabilities' scores: one pooled line, then one line per as-of date."""
    if not w["n"]:
        print(t("cli.backtest_winprob_none"))
        return
    better = sum(1 for r in w["by_as_of"] if r["n"] and r["beats_base_rate"])
    print(t("cli.backtest_winprob", n=w["n"], brier=_f(w["brier"]), base=_f(w["brier_base_rate"]),
            share=_f(w["brier_scored_share"]), log_loss=_f(w["log_loss"]), auc=_f(w["auc"]), better=better,
            dates=sum(1 for r in w["by_as_of"] if r["n"])))
    for r in w["by_as_of"]:
        if r["n"]:
            print(t("cli.backtest_winprob_date", date=r["as_of"], n=r["n"], brier=_f(r["brier"], 4),
                    base=_f(r["brier_base_rate"], 4), auc=_f(r["auc"]), blend=_f(r.get("blend"), 2)))


_WIDTHS = (12, 12, 12, 12, 8, 6) + (8,) * len(baselines.NAMES)


def _print_table(out: dict, prompts: Prompts) -> None:
    t = prompts.t
    head = prompts.raw("cli.backtest_head")
    print(_row(head[:1], 9) + "".join(_cell(h, w) for h, w in zip(head[1:], _WIDTHS, strict=True)))
    variant = "seasonal_naive_" + out["baselines"]["seasonal_naive"]["variant"]
    for r in out["periods"]:
        b = r["baselines"]
        inside = {True: "✓", False: "✗", None: "—"}[r["inside_p10_p90"]]
        cells = [f"{r['p10']:,.0f}", f"{r['p50']:,.0f}", f"{r['p90']:,.0f}", f"{r['actual']:,.0f}", _f(r["accuracy"]),
                 inside] + [_f(b[variant if n == "seasonal_naive" else n]["accuracy"]) for n in baselines.NAMES]
        print(_row([r["period"]], 9) + "".join(_cell(c, w) for c, w in zip(cells, _WIDTHS, strict=True)))
    s = out["summary"]
    coverage = "—" if s["coverage_p10_p90"] is None else f"{s['coverage_p10_p90']:.0%}"
    n = sum(len(r.get("as_of", [])) or 1 for r in out["periods"])
    print("\n" + t("cli.backtest_summary", mean=_f(s["mean_accuracy"]), median=_f(s["median_accuracy"]),
                   coverage=coverage, width=_f(s["mean_interval_width_ratio"]), n=n))
    for name, b in out["baselines"].items():
        print(t("cli.backtest_baseline", name=t(f"cli.backtest_{name}"), mean=_f(b["mean_accuracy"]),
                median=_f(b["median_accuracy"]), n=b["periods"], ours=_f(b["ours_mean_accuracy"])))
    for bucket, c in out["coverage_by_history"].items():
        if c["forecasts"]:
            print(t("cli.backtest_by_history", bucket=bucket, n=c["forecasts"],
                    coverage=f"{c['coverage_p10_p90']:.0%}", width=_f(c["mean_interval_width_ratio"])))


def _width(text: str) -> int:
    """Terminal columns: a CJK character takes two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _cell(text: str, width: int) -> str:
    return " " * max(1, width - _width(text)) + text


def _row(cells: list[str], width: int) -> str:
    return cells[0] + " " * max(1, width - _width(cells[0]))


def _f(v, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"
