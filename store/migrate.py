"""Numbered migrations: store/migrations/NNNN_name.sql, applied in order, each in its own transaction.

Applied ids are recorded in `schema_migrations` (so ranges reserved per capability may leave gaps) and the highest
id is mirrored into PRAGMA user_version for tools that look there.
"""

from __future__ import annotations

import re
import sqlite3
from importlib import resources

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def available() -> list[tuple[int, str, str]]:
    """(id, file name, sql) of every shipped migration, in order."""
    out = []
    for entry in resources.files("store.migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            out.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    out.sort()
    ids = [m[0] for m in out]
    if len(ids) != len(set(ids)):
        raise RuntimeError(f"duplicate migration numbers: {ids}")
    return out


class NewerSchema(Exception):
    """The database has migrations this code does not ship: a newer SalesPulse wrote it. Starting anyway would run
    old code against a schema it does not know (and a later downgrade-migrate would be guesswork), so we stop."""

    def __init__(self, unknown: list[int]) -> None:
        super().__init__(", ".join(f"{n:04d}" for n in unknown))
        self.unknown = unknown


def applied_ids(conn: sqlite3.Connection) -> set[int]:
    try:
        return {row[0] for row in conn.execute("SELECT id FROM schema_migrations")}
    except sqlite3.OperationalError:  # a new, empty file
        return set()


def pending(conn: sqlite3.Connection) -> list[str]:
    """File names of the shipped migrations this database has not had yet (`salespulse migrate --dry-run`)."""
    done = applied_ids(conn)
    return [name for number, name, _sql in available() if number not in done]


def check_not_newer(conn: sqlite3.Connection) -> None:
    shipped = {number for number, _name, _sql in available()}
    unknown = sorted(applied_ids(conn) - shipped)
    if unknown:
        raise NewerSchema(unknown)


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply what is missing; return the names applied. A database from a newer version raises NewerSchema."""
    check_not_newer(conn)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    done = {row[0] for row in conn.execute("SELECT id FROM schema_migrations")}
    applied = []
    for number, name, sql in available():
        if number in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _split(sql):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations (id, name) VALUES (?, ?)", (number, name))
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        applied.append(name)
    top = conn.execute("SELECT COALESCE(MAX(id), 0) FROM schema_migrations").fetchone()[0]
    conn.execute(f"PRAGMA user_version = {int(top)}")
    return applied


def _split(sql: str) -> list[str]:
    """Split a migration file into complete statements.

    sqlite3.complete_statement knows about comments, string literals and trigger bodies (BEGIN … END), so a ';'
    inside any of them does not cut a statement in two.
    """
    parts: list[str] = []
    buffer: list[str] = []
    for line in sql.splitlines():
        if not buffer and (not line.strip() or line.strip().startswith("--")):
            continue
        buffer.append(line)
        text = "\n".join(buffer)
        if sqlite3.complete_statement(text):
            stmt = text.strip().rstrip(";").strip()
            if stmt:
                parts.append(stmt)
            buffer = []
    rest = "\n".join(ln for ln in buffer if not ln.strip().startswith("--")).strip()
    if rest:
        parts.append(rest)
    return parts
