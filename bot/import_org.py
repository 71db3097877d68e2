"""`salespulse import org FILE.csv`: load people and teams into the org directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.support import config_from, store_from
from bot.org import import_org_csv
from prompts import Prompts


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path)
    p.add_argument("--db", default=None)


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    t = Prompts(config.bot.locale).t
    store = store_from(config, args.db)
    n = import_org_csv(store, args.file, t)
    print(t("ops.import_org_done", n=n, file=args.file))
    return 0
