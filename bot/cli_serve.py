"""`salespulse serve`."""

from __future__ import annotations

import argparse
import dataclasses
import logging

from bot.cli_support import config_from
from bot.server import serve


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the bot: HTTP callbacks, enabled platform adapters, scheduler, sender")
    p.add_argument("--host", default=None, help="override server.host")
    p.add_argument("--port", type=int, default=None, help="override server.port")
    p.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    config = config_from(args)
    server = config.server
    if args.host or args.port:
        server = dataclasses.replace(server, host=args.host or server.host, port=args.port or server.port)
        config = dataclasses.replace(config, server=server)
    logging.getLogger("salespulse").setLevel(logging.INFO)
    return serve(config)
