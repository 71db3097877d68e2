"""`salespulse import store-daily FILE.csv|.xlsx [--map mapping.toml]`: POS daily figures per store and date
(receptions with people on duty for 人效; optionally the day's average dwell for 场效)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.support import config_from, store_from
from bot.clock import SystemClock
from bot.import_stores import report
from handlers.stores.importer import import_daily
from prompts import Prompts


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="daily figures (.csv or .xlsx): store, date, receptions, staff, dwell_min, visits")
    p.add_argument("--map", dest="mapping", type=Path, default=None, help="column mapping TOML ([columns] field = \"列名\")")
    p.add_argument("--db", default=None)


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    t = Prompts(config.bot.locale).t
    n, errors = import_daily(store_from(config, args.db), args.file, args.mapping, SystemClock().now_ms(),
                             t)
    report(errors, t)
    print(t("stores_cli.daily_done", n=n, skipped=len(errors)))
    return 0 if not errors else 1
