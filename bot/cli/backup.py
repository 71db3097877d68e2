"""`salespulse export backup.zip` and `salespulse restore backup.zip` (the work is in bot/backup.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.backup import export_backup, restore_backup
from bot.backup_schedule import verify_backup
from bot.cli.support import config_from, existing_db, progress
from bot.clock import SystemClock
from prompts import Prompts


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="back up the database, bot.toml (secrets removed) and rule packs into a zip")
    p.add_argument("file", type=Path, help="the zip to write, e.g. backup.zip")
    p.add_argument("--db", default=None, help="database file (default: bot.database from config)")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("restore", help="restore a backup zip written by `salespulse export`")
    p.add_argument("file", type=Path)
    p.add_argument("--db", default=None, help="database file to write (default: bot.database from config)")
    p.add_argument("--force", action="store_true", help="replace a database that already holds data")
    p.add_argument("--verify", action="store_true",
                   help="only check the backup: restore it into a temporary file and run an integrity check; the "
                        "live database is not touched")
    p.add_argument("--files-to", type=Path, default=None,
                   help="where to unpack bot.toml and rule packs for review (default: salespulse-restored/ next to "
                        "the database)")
    p.set_defaults(handler=cmd_restore)


def _bar(description: str):
    bar = progress()
    task = bar.add_task(description, total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, update


def cmd_export(args: argparse.Namespace) -> int:
    config = config_from(args)
    t = Prompts(config.bot.locale).t
    bar, update = _bar(t("ops.export_progress"))
    with bar:
        result = export_backup(config, existing_db(config, args.db), args.file, SystemClock(), update, t)
    m = result.manifest
    print(t("ops.export_done", path=result.path, schema=m["schema_version"], rows=sum(m["tables"].values()),
            files=len(m["files"]) - 1))
    if config.source.startswith("<"):
        print(t("ops.export_no_config"))
    elif m["secrets_removed"]:
        print(t("ops.export_secrets", keys=", ".join(m["secrets_removed"])))
    else:
        print(t("ops.export_no_secrets"))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    config = config_from(args)
    t = Prompts(config.bot.locale).t
    if args.verify:
        verified = verify_backup(args.file, t)
        print(t("operations.verify_ok", path=verified.path, rows=verified.rows, schema=verified.schema))
        return 0
    bar, update = _bar(t("ops.restore_progress"))
    with bar:
        result = restore_backup(args.file, args.db or config.bot.database, force=args.force,
                                files_dir=args.files_to, progress=update, t=t)
    m = result.manifest
    if result.resumed:
        print(t("ops.restore_resumed", archive=args.file))
    print(t("ops.restore_done", path=result.db_path, rows=sum(m["tables"].values()), created_at=m["created_at"],
            schema=m["schema_version"]))
    if result.migrated:
        from store.migrate import available

        print(t("ops.restore_migrated", schema=available()[-1][0]))
    if result.files_dir is not None:
        print(t("ops.restore_files", dir=result.files_dir))
    return 0
