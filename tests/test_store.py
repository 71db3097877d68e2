"""The store: migrations from an empty file, transactions and savepoints, inbox dedupe, and the clear sentence a
broken, locked or foreign database file gets at start."""

from __future__ import annotations

import os
import sqlite3

import pytest

from bot.errors import DatabaseError
from bot.events import Actor, Message
from store import events as events_store
from store import inbox as inbox_store
from store import kv, open_store
from store.migrate import available, migrate


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_migrations_from_an_empty_file(tmp_path):
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    store = open_store(path)
    shipped = available()
    top = shipped[-1][0]
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == top
    applied = [tuple(r) for r in store.conn.execute("SELECT id, name FROM schema_migrations ORDER BY id")]
    assert applied == [(n, name) for n, name, _sql in shipped]
    assert {"inbox", "events", "event_tags", "people", "teams", "identities", "customers", "leads", "outbox",
            "scheduler_runs", "scheduler_jobs", "kv", "deferred"} <= _tables(store.conn)
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    store.close()


def test_migrations_are_idempotent(tmp_path):
    path = tmp_path / "twice.db"
    open_store(path).close()
    store = open_store(path)  # second start: nothing to apply, nothing duplicated
    assert migrate(store.conn) == []
    n = store.conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0]
    assert n == len(available())
    store.close()


def test_nested_transaction_rolls_back_only_the_savepoint(store):
    with store.transaction():
        kv.put(store, "outer", "1")
        with pytest.raises(RuntimeError), store.transaction():
            kv.put(store, "inner", "1")
            raise RuntimeError("boom")
        kv.put(store, "after", "1")
    assert kv.get(store, "outer") == "1" and kv.get(store, "after") == "1"
    assert kv.get(store, "inner") is None


def test_outer_failure_rolls_back_everything(store):
    with pytest.raises(ValueError), store.transaction():
        kv.put(store, "a", "1")
        with store.transaction():
            kv.put(store, "b", "1")
        raise ValueError("crash before commit")
    assert kv.get(store, "a") is None and kv.get(store, "b") is None


def test_inbox_dedupes_on_platform_and_external_id(store, clock):
    ev = Message(event_id="wecom:m1", platform="wecom", occurred_at=clock.now_ms(), actor=Actor(platform_id="u"))
    got = [inbox_store.accept(store, "wecom", "m1", {"MsgId": "m1"}, ev.to_dict(), clock.now_ms()) for _ in range(3)]
    assert got == [True, False, False]
    # the same id on another platform is another message
    assert inbox_store.accept(store, "feishu", "m1", {}, ev.to_dict(), clock.now_ms()) is True
    assert inbox_store.counts(store) == {"pending": 2}


def test_event_insert_is_idempotent(store):
    row = ("wecom:x", "message", "wecom", 1, "u", "", "rep", None, None, "text", "hi", "c", "{}")
    first = events_store.insert(store, row)
    assert first is not None
    assert events_store.insert(store, row) is None
    assert events_store.count_distinct_ids(store) == (1, 1)


def test_locked_database_stops_the_start_with_a_sentence(tmp_path):
    path = tmp_path / "locked.db"
    open_store(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseError) as err:
            open_store(path, busy_timeout_ms=50)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    message = str(err.value)
    assert "locked" in message and str(path) in message and "\n" not in message


def test_locked_fresh_database_in_rollback_mode(tmp_path):
    """A file another tool created (rollback journal) and holds exclusively: still one sentence, no traceback."""
    path = tmp_path / "foreign-lock.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO t VALUES (1)")
    try:
        with pytest.raises(DatabaseError, match="locked"):
            open_store(path, busy_timeout_ms=50)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_not_a_database_file(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("这不是数据库 " * 200, encoding="utf-8")
    with pytest.raises(DatabaseError, match="not a usable SQLite database"):
        open_store(path)


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(DatabaseError, match="not a file"):
        open_store(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.db"
    open_store(path).close()
    path.chmod(0)
    try:
        with pytest.raises(DatabaseError):
            open_store(path)
    finally:
        path.chmod(0o600)


def test_unopenable_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DatabaseError):
        open_store(blocker / "sub" / "db.sqlite")  # a parent that is a file
