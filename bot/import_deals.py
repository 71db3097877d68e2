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
    store = store_from(config, args.db)
    mapping = dealfile.load_mapping(args.mapping, Prompts(config.bot.locale).t)
    result = dealfile.read(args.file, mapping)
    for err in result.errors[:50]:
        print(err, file=sys.stderr)
    if len(result.errors) > 50:
        print(f"… and {len(result.errors) - 50} more bad rows", file=sys.stderr)
    counts = import_deals(store, result.deals, SystemClock().now_ms(), str(args.file))
    print(f"imported {counts['deals']} deals ({counts['customers']} customers, {counts['new_people']} new reps);"
          f" {len(result.errors)} rows skipped")
    return 0 if not result.errors else 1
