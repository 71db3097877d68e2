"""`salespulse import stores FILE.csv|.xlsx [--map mapping.toml]`: stores, their staff and area managers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.support import config_from, store_from
from bot.clock import SystemClock
from handlers.stores.importer import import_stores
from prompts import Prompts


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="stores file (.csv or .xlsx): id, name, area, type, manager, clerks, "
                                           "opens, closes, city, timezone, latitude, longitude, video_url, area_manager")
    p.add_argument("--map", dest="mapping", type=Path, default=None, help="column mapping TOML ([columns] field = \"列名\")")
    p.add_argument("--db", default=None)


def report(errors: list[str], t) -> None:
    for err in errors[:50]:
        print(err, file=sys.stderr)
    if len(errors) > 50:
        print(t("stores_cli.more_errors", n=len(errors) - 50), file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    t = Prompts(config.bot.locale).t
    store = store_from(config, args.db)
    n, created, errors = import_stores(store, args.file, args.mapping, SystemClock().now_ms(),
                                      t)
    report(errors, t)
    print(t("stores_cli.stores_done", n=n, people=len(created), skipped=len(errors)))
    return 0 if not errors else 1
