"""`salespulse serve`.

The two ways a first `serve` usually fails are said here in one sentence each instead of a traceback: nothing to
serve (no platform enabled — often because there is no bot.toml in this folder at all), and a port that another
process (typically a `serve` already running) holds.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno

from bot import logsetup
from bot.cli.support import config_from
from bot.config import Config, missing_platform_keys
from bot.errors import ConfigError
from bot.server import PLATFORMS, serve
from prompts import Prompts
from prompts.library import os_reason


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the bot: HTTP callbacks, enabled platform adapters, scheduler, sender",
                       description="Run the bot: HTTP callbacks, the platforms enabled in bot.toml, the scheduler and "
                                   "the outbox sender, until Ctrl-C / SIGTERM. Check the set-up first with "
                                   "`salespulse doctor`.")
    p.add_argument("--host", default=None, help="override server.host")
    p.add_argument("--port", type=int, default=None, help="override server.port")
    p.set_defaults(handler=cmd_serve)


def _check_something_to_serve(config: Config) -> None:
    if config.source.startswith("<") and not any(getattr(config, p).enabled for p in PLATFORMS):
        # serve() would name "<defaults>" as the file: say instead that no bot.toml was found at all
        raise ConfigError(Prompts(config.bot.locale).t("core.no_platform_no_config"))


def _check_enabled_platforms_work(config: Config) -> None:
    """An enabled platform without its credentials would start and then fail at the first message: stop here."""
    missing = missing_platform_keys(config)
    if not missing:
        return
    t = Prompts(config.bot.locale).t
    parts = []
    for platform, keys in missing.items():
        named = t("core.list_sep").join(t("cli.serve_key_env", name=k, env=env) if env else k for k, env in keys)
        parts.append(t("cli.serve_missing_one", platform=platform, keys=named))
    raise ConfigError(t("cli.serve_missing", source=config.source, parts=t("core.clause_sep").join(parts)))


def cmd_serve(args: argparse.Namespace) -> int:
    config = config_from(args)
    _check_something_to_serve(config)
    _check_enabled_platforms_work(config)
    server = config.server
    if args.host or args.port:
        server = dataclasses.replace(server, host=args.host or server.host, port=args.port or server.port)
        config = dataclasses.replace(config, server=server)
    logsetup.configure(config.logging.format, "debug" if args.verbose else config.logging.level, config.bot.locale)
    try:
        return serve(config)
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        key = "core.cannot_listen_in_use" if exc.errno == errno.EADDRINUSE else "core.cannot_listen"
        t = Prompts(config.bot.locale).t
        raise ConfigError(t(key, host=server.host, port=server.port, error=os_reason(exc, t))) from None
