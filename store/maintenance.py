"""Database-level checks used by backup, restore and doctor: schema version, row counts, integrity, lock probe.

These take a plain sqlite3 connection because they inspect copies and files the bot has not opened as its store.
"""

from __future__ import annotations

import sqlite3


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows per table (sqlite's own tables excluded), by table name."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {name: conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names}


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def applied_migrations(conn: sqlite3.Connection) -> list[int]:
    """Ids of applied migrations; empty for a file that never saw one."""
    try:
        return [r[0] for r in conn.execute("SELECT id FROM schema_migrations ORDER BY id")]
    except sqlite3.OperationalError:
        return []


def integrity(conn: sqlite3.Connection) -> str:
    """'ok' or SQLite's first complaint."""
    return conn.execute("PRAGMA integrity_check").fetchone()[0]


def probe_write_lock(conn: sqlite3.Connection) -> None:
    """Raise sqlite3.OperationalError ('database is locked') when another process holds the write lock."""
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("ROLLBACK")
