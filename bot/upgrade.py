"""Safe upgrades: what a start would migrate, a verified backup before it does, and a refusal of newer databases.

Why a backup before migrating: a migration is the one moment the bot rewrites its own schema; if it (or the new
version's code) turns out wrong, the admin needs the database exactly as the old version left it. The backup is
the same verified archive as the scheduled ones (bot/backup_schedule.py), written next to them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.backup_schedule import Verified, write_verified_backup
from bot.clock import Clock
from bot.config import Config
from bot.errors import DatabaseError
from store import migrate as migrations
from store.db import open_store


def pending_migrations(db_path: str | Path) -> list[str]:
    """Migrations a start would apply (empty for a current database; all of them for a new file).

    Raises DatabaseError("too_new") for a database written by a newer version."""
    path = Path(db_path)
    if str(db_path) == ":memory:" or not path.exists():
        return [name for _n, name, _sql in migrations.available()]
    store = open_store(path, run_migrations=False)
    try:
        try:
            migrations.check_not_newer(store.conn)
        except migrations.NewerSchema as exc:
            raise DatabaseError("too_new", str(path), str(exc)) from None
        return migrations.pending(store.conn)
    finally:
        store.close()


def _has_data(path: Path) -> bool:
    if not path.is_file() or path.stat().st_size == 0:
        return False
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'schema_migrations'").fetchone()[0] > 0
    finally:
        conn.close()


def backup_before_migrations(config: Config, clock: Clock, t=None) -> tuple[list[str], Verified | None]:
    """Before a start migrates an existing database: (what will be applied, the verified backup or None)."""
    db_path = Path(config.bot.database)
    todo = pending_migrations(db_path)
    if not todo or not config.backup.before_migrations or not _has_data(db_path):
        return todo, None
    return todo, write_verified_backup(config, db_path, clock, t=t)
