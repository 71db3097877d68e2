"""`salespulse` command line. Each area registers its subcommands from its own module (bot/cli/*.py), listed in
CLI_MODULES; this file only builds the parser, loads config and turns typed errors into one clear line.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable

from bot.errors import DatabaseError, SalesPulseError
from prompts.library import os_reason

CLI_MODULES: tuple[str, ...] = (
    "bot.cli.init",
    "bot.cli.core",
    "bot.cli.imports",
    "bot.cli.serve",
    "bot.cli.demo",
    "bot.cli.backup",
    "bot.cli.doctor",
    "bot.cli.backtest",
    "bot.cli.forecast",
    "bot.cli.rules",
    "bot.cli.classify",
    "bot.cli.inbox",
    "bot.cli.transcribe",
    "bot.cli.shelf",
    "bot.cli.deploy",
    "bot.cli.migrate",
    "bot.cli.debrief",
    "bot.cli.report",
    "bot.cli.forget",
)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line, its help and argparse's own words in the configured locale (bot/cli/localise.py)."""
    from bot.cli.localise import install_argparse_words, locale_for, localise
    from prompts import Prompts

    prompts = Prompts(locale_for(sys.argv[1:] if argv is None else argv))
    install_argparse_words(prompts)
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
    localise(parser, prompts)
    return parser


def _log_to_terminal(level: int) -> None:
    """Warnings (and with -v debug lines) on stderr in the locale the command line speaks (build_parser read it
    from the config); like basicConfig, nothing changes when the root logger already has a handler."""
    from bot.cli.localise import current_prompts
    from bot.logsetup import TextFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(TextFormatter(current_prompts().locale))
    logging.basicConfig(level=level, handlers=[handler])


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    _log_to_terminal(logging.DEBUG if args.verbose else logging.WARNING)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        return int(handler(args) or 0)
    except DatabaseError as exc:  # raised by store/, which knows no locale
        from bot.cli.localise import locale_for

        print(f"salespulse: {exc.in_locale(locale_for(sys.argv[1:] if argv is None else argv))}", file=sys.stderr)
        return 2
    except SalesPulseError as exc:  # a Keyed reason (handlers raise them without a locale) in the admin's language
        from bot.cli.localise import locale_for
        from prompts import Prompts, render

        t = Prompts(locale_for(sys.argv[1:] if argv is None else argv)).t
        print(f"salespulse: {render(exc, t)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `salespulse outbox | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return 0
    except (UnicodeDecodeError, OSError) as exc:
        # An input file a command could not read (missing, a folder, saved as GBK by Excel …): one sentence naming
        # the file, never a traceback. Anything else (say, a port already in use) is not ours to reword.
        message = _file_error(exc, args)
        if message is None:
            raise
        print(f"salespulse: {message}", file=sys.stderr)
        return 2


def _file_error(exc: UnicodeDecodeError | OSError, args: argparse.Namespace) -> str | None:
    from prompts import Prompts

    if isinstance(exc, UnicodeDecodeError) and not getattr(args, "file", None):
        return None
    if isinstance(exc, OSError) and not exc.filename:
        return None
    try:
        from bot.cli.support import config_from

        t = Prompts(config_from(args).bot.locale).t
    except SalesPulseError:
        t = Prompts().t
    if isinstance(exc, UnicodeDecodeError):
        return t("core.file_not_utf8", path=getattr(args, "file", None) or "?", byte=f"0x{exc.object[exc.start]:02x}",
                 offset=exc.start)
    path = exc.filename or getattr(args, "file", None) or "?"
    if isinstance(exc, FileNotFoundError):
        return t("core.file_missing", path=path)
    if isinstance(exc, IsADirectoryError):
        return t("core.file_is_folder", path=path)
    return t("core.file_unreadable", path=path, error=os_reason(exc, t))


if __name__ == "__main__":
    sys.exit(main())
