"""`salespulse migrate [--dry-run]`: bring the database to this version's schema, after a verified backup.

`serve` migrates by itself at start (with the same backup first); this command lets an admin (or systemd's
ExecStartPre, deploy/salespulse.service) see and do it on purpose.
"""

from __future__ import annotations

import argparse
import dataclasses

from bot.cli.support import config_from
from bot.clock import SystemClock
from bot.upgrade import backup_before_migrations, pending_migrations
from prompts import Prompts
from store import open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="upgrade the database schema (a verified backup is written first)")
    p.add_argument("--db", default=None, help="database file (default: bot.database from config)")
    p.add_argument("--dry-run", action="store_true", help="only list the migrations that would be applied")
    p.set_defaults(handler=cmd_migrate)


def cmd_migrate(args: argparse.Namespace) -> int:
    config = config_from(args)
    if args.db:
        config = dataclasses.replace(config, bot=dataclasses.replace(config.bot, database=args.db))
    t = Prompts(config.bot.locale).t
    db = config.bot.database
    if args.dry_run:
        todo = pending_migrations(db)
        if not todo:
            print(t("operations.migrate_none", path=db))
            return 0
        print(t("operations.migrate_would", path=db, n=len(todo)))
        for name in todo:
            print(f"  {name}")
        return 0
    todo, backup = backup_before_migrations(config, SystemClock(), t)
    if backup is not None:
        print(t("operations.backup_before_migrate", n=len(todo), path=backup.path))
    open_store(db).close()
    print(t("operations.migrate_done", path=db, n=len(todo)) if todo else t("operations.migrate_none", path=db))
    return 0
