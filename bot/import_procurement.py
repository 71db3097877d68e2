"""`salespulse import procurement FILE.ics|FILE.csv`: customers' buying windows and budget events."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.support import config_from, store_from
from handlers.forecast.calendar import import_file
from prompts import Prompts


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="ICS, or CSV with name,start,end[,customer][,industry][,kind]")
    p.add_argument("--db", default=None)


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    t = Prompts(config.bot.locale).t
    store = store_from(config, args.db)
    n = import_file(store, args.file, t)
    print(t("forecast.procurement_done", n=n, file=args.file))
    return 0
