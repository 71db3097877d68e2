"""`salespulse import deals FILE --map mapping.toml`: deals from CSV or XLSX through a column mapping."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.support import config_from, store_from
from bot.clock import SystemClock
from handlers.forecast import dealfile
from handlers.forecast.importer import import_deals
from prompts import Prompts


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="deals file (.csv or .xlsx)")
    p.add_argument("--map", dest="mapping", type=Path, required=True,
                   help="column mapping TOML (mappings/maven_crm.toml, mappings/generic.toml)")
    p.add_argument("--db", default=None)


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    t = Prompts(config.bot.locale).t
    mapping = dealfile.load_mapping(args.mapping, t)
    result = dealfile.read(args.file, mapping)
    store = store_from(config, args.db)  # after the file and mapping were read: a wrong --map leaves no database
    for note in result.notes:
        print(note, file=sys.stderr)
    for err in result.errors[:50]:
        print(err, file=sys.stderr)
    if len(result.errors) > 50:
        print(t("deal_import.more_errors", n=len(result.errors) - 50), file=sys.stderr)
    counts = import_deals(store, result.deals, SystemClock().now_ms(), str(args.file))
    print(t("deal_import.imported", **counts, skipped=len(result.errors)))
    return 0 if not result.errors else 1
