"""`salespulse import wifi FILE.csv [--store 门店]`: Wi-Fi probe records (time, store or sensor, device hash, RSSI);
visits and each store-day's average dwell (场效) are computed at once."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.support import config_from, store_from
from bot.clock import SystemClock
from bot.import_stores import report
from handlers.stores.importer import import_wifi
from prompts import Prompts


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="probe records CSV: time, store, device, rssi (common Chinese, English and"
                                           " Japanese headers are recognised)")
    p.add_argument("--store", default=None, help="the store (id or name) of a single-store export without a store column")
    p.add_argument("--db", default=None)


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    prompts = Prompts(config.bot.locale)
    n, days, errors = import_wifi(store_from(config, args.db), args.file, SystemClock().now_ms(),
                                  default_store=args.store, prompts=prompts, settings=config.stores.wifi)
    report(errors, prompts.t)
    print(prompts.t("stores_cli.wifi_done", n=n, days=days, skipped=len(errors)))
    return 0 if not errors else 1
