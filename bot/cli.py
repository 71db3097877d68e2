"""`salespulse` command line. Each area registers its subcommands from its own module (bot/cli_*.py), listed in
CLI_MODULES; this file only builds the parser, loads config and turns typed errors into one clear line.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable

from bot.errors import SalesPulseError

CLI_MODULES: tuple[str, ...] = (
    "bot.cli_core",
    "bot.cli_import",
    "bot.cli_serve",
    "bot.cli_demo",
    "bot.cli_backup",
    "bot.cli_doctor",
    "bot.cli_backtest",
    "bot.cli_rules",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salespulse",
        description="SalesPulse — 企业微信 / 钉钉 / 飞书里的销售管理机器人 (sales-management chat-ops bot).",
    )
    parser.add_argument("-c", "--config", default=None,
                        help="path to bot.toml (default: ./bot.toml if present, else built-in defaults)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in CLI_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        return int(handler(args) or 0)
    except SalesPulseError as exc:
        print(f"salespulse: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
