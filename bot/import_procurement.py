"""`salespulse import procurement FILE.ics|FILE.csv`: customers' buying windows and budget events."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.support import config_from, store_from
from handlers.forecast.calendar import import_file


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="ICS, or CSV with name,start,end[,customer][,industry][,kind]")
    p.add_argument("--db", default=None)


def run(args: argparse.Namespace) -> int:
    store = store_from(config_from(args), args.db)
    n = import_file(store, args.file)
    print(f"imported {n} procurement windows from {args.file}")
    return 0
