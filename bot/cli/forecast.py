"""`salespulse forecast --deals FILE --map MAP --as-of DATE --period month|quarter [--seed N] [--json]
[--deals-out FILE.csv]`: the forecast the bot would have given on DATE, from a CRM export.

Why: a manager checking a number ("what did the model say on 15 September?") or a backtest of one date needs the
forecast at any date, not only at period starts. The export is cut at DATE exactly as the win-probability
backtest cuts it (winprob_eval.as_known_at: every later close erased, open deals valued at their list amount),
and the forecast is the chat's (engine.compute: the same win model, timing, combination and seeded draws as
/forecast) for the month or quarter containing DATE, with what was won in it before DATE included.
`--deals-out` writes each open deal's win probability, its chance of being won in the rest of the period and its
expected value (CSV, UTF-8 with BOM so Excel opens it).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
from datetime import date, datetime
from pathlib import Path

from bot.cli.support import config_from
from bot.errors import UserInputError
from handlers.forecast import backtest, dealfile, engine, winprob_eval
from handlers.forecast.periods import date_ms, of_kind
from prompts import Prompts
from store import open_store


def register(sub: argparse._SubParsersAction) -> None:
    """Arguments are checked in cmd_forecast, not by argparse: a wrong one gets one sentence in the admin's
    language instead of argparse's usage dump in English."""
    t = Prompts().t  # help is read before any bot.toml is: Chinese first
    p = sub.add_parser("forecast", help=t("cli.forecast_help"), description=t("cli.forecast_help"))
    p.add_argument("--deals", type=Path, default=None, help=t("cli.forecast_help_deals"))
    p.add_argument("--map", dest="mapping", type=Path, default=None, help=t("cli.forecast_help_map"))
    p.add_argument("--as-of", dest="as_of", default=None, help=t("cli.forecast_help_as_of"))
    p.add_argument("--period", default="month", help=t("cli.forecast_help_period"))
    p.add_argument("--seed", default=str(backtest.Settings().seed), help=t("cli.forecast_help_seed"))
    p.add_argument("--draws", default=None, help=t("cli.forecast_help_draws"))
    p.add_argument("--deals-out", dest="deals_out", type=Path, default=None, help=t("cli.forecast_help_deals_out"))
    p.add_argument("--json", action="store_true", help=t("cli.forecast_help_json"))
    p.set_defaults(handler=cmd_forecast)


def _check(args: argparse.Namespace, t) -> tuple[date, int, int | None]:
    """(as-of day, seed, draws or None) — or one sentence saying which argument is wrong and how to write it."""
    for flag, value in (("--deals", args.deals), ("--map", args.mapping), ("--as-of", args.as_of)):
        if value is None:
            raise UserInputError(t("cli.forecast_missing", flag=flag))
    if args.period not in ("month", "quarter"):
        raise UserInputError(t("cli.forecast_bad_period", text=args.period))
    try:
        seed = int(args.seed)
    except ValueError:
        raise UserInputError(t("cli.forecast_bad_seed", text=args.seed)) from None
    draws = None
    if args.draws is not None:
        try:
            draws = int(args.draws)
        except ValueError:
            draws = 0
        if draws < 100:
            raise UserInputError(t("cli.forecast_bad_draws", n=args.draws))
    return _as_of(args.as_of, t), seed, draws


def _as_of(text: str, t) -> date:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise UserInputError(t("cli.forecast_bad_as_of", text=text)) from None


def cmd_forecast(args: argparse.Namespace) -> int:
    config = config_from(args)
    prompts = Prompts(config.bot.locale)
    t = prompts.t
    day, seed, draws = _check(args, t)
    cfg = config.forecast if draws is None else dataclasses.replace(config.forecast, draws=draws)
    mapping = dealfile.load_mapping(args.mapping, t)
    result = dealfile.read(args.deals, mapping)
    for note in result.notes:
        print(note, file=sys.stderr)
    for err in result.errors[:20]:
        print(err, file=sys.stderr)
    tz = mapping.tz
    as_of = date_ms(day, tz)
    deals = winprob_eval.deals_of(result.deals)
    if not deals:
        raise UserInputError(t("cli.forecast_no_deals", file=args.deals))
    first = min(d.created_at for d in deals)
    if as_of <= first:
        raise UserInputError(t("cli.forecast_too_early", as_of=day.isoformat(), file=args.deals,
                               first=datetime.fromtimestamp(first / 1000, tz).date().isoformat()))
    list_amount = {pd.row.id: pd.row.list_amount for pd in result.deals if pd.row.list_amount is not None}
    known = winprob_eval.as_known_at(deals, as_of, list_amount)
    period = of_kind(args.period, day)
    store = open_store(":memory:")
    try:
        fc = engine.compute(store, known, cfg, tz, as_of, period, None, None, seed=seed)
    finally:
        store.close()
    o = fc.outcome
    if args.deals_out:
        _write_deals(args.deals_out, fc.per_deal, prompts)
    out = {"as_of": day.isoformat(), "period": period.label, "p10": round(o.p10, 2), "p50": round(o.p50, 2),
           "p90": round(o.p90, 2), "mean": round(o.mean, 2), "won_to_date": round(fc.won_to_date, 2),
           "open_deals": fc.n_deals, "history_periods": fc.history_periods, "fallback": fc.fallback,
           "seed": seed, "draws": cfg.draws,
           "skipped_rows": len(result.errors) + sum(1 for d in result.deals if not d.has_created)}
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(t("cli.forecast_line", period=period.label, as_of=out["as_of"], p50=_money(o.p50), p10=_money(o.p10),
            p90=_money(o.p90), won=_money(fc.won_to_date), n=fc.n_deals, seed=seed))
    if args.deals_out:
        print(t("cli.forecast_deals_written", n=fc.n_deals, path=args.deals_out))
    return 0


def _write_deals(path: Path, per: engine.PerDeal | None, prompts: Prompts) -> None:
    head = prompts.raw("cli.forecast_deals_head")
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(head)
        if per is None:
            return
        for i, deal_id in enumerate(per.ids):
            amount = float(per.amount[i])
            w.writerow([deal_id, per.titles[i], f"{per.win_probability[i]:.4f}", f"{per.in_period[i]:.4f}",
                        f"{amount:.2f}", f"{per.in_period[i] * amount:.2f}"])


def _money(v: float) -> str:
    return f"{v:,.0f}"
