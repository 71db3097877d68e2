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
        with pytest.raises(DatabaseError, match="锁定"):
            open_store(path, busy_timeout_ms=50)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_not_a_database_file(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("这不是数据库 " * 200, encoding="utf-8")
    with pytest.raises(DatabaseError, match="这不是一个可用的 SQLite 数据库") as err:
        open_store(path)
    assert "not a usable SQLite database" in err.value.in_locale("en")


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(DatabaseError, match="数据库路径不是文件"):
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
    with pytest.raises(DatabaseError) as err:
        open_store(blocker / "sub" / "db.sqlite")  # a parent that is a file
    assert "路径中有一段不是文件夹" in str(err.value) and "Not a directory" not in str(err.value)  # the OS's English
    assert "a part of the path is not a folder" in err.value.in_locale("en")


@pytest.mark.parametrize("sqlite_text,zh,en", [("database or disk is full", "磁盘满了", "is full"),
                                               ("disk I/O error", "磁盘出错", "input/output error")])
def test_disk_trouble_is_said_in_the_admins_language(tmp_path, monkeypatch, sqlite_text, zh, en):
    import store.db as db

    def failing(*_a, **_k):
        raise sqlite3.OperationalError(sqlite_text)

    monkeypatch.setattr(db, "_connect", failing)
    with pytest.raises(DatabaseError) as err:
        open_store(tmp_path / "x.db")
    assert zh in str(err.value) and sqlite_text not in str(err.value) and en in err.value.in_locale("en")


def _seed_lead(store, lead_id: str = "L1") -> None:
    from store import customers as customer_store
    from store import leads as lead_store

    with store.transaction():
        customer_store.upsert(store, "c1", "华鑫精密", owner_id=None, created_at=1_000)
        lead_store.upsert(store, lead_id, "c1", None, "项目", 1_000)


def _activity(store, lead_id: str = "L1") -> tuple:
    return tuple(store.conn.execute("SELECT first_touch_at, last_activity_at FROM leads WHERE id = ?",
                                    (lead_id,)).fetchone())


def test_deferred_writes_follow_savepoints_and_commit(store):
    from store import leads as lead_store

    _seed_lead(store)
    with store.transaction():
        lead_store.touch_later(store, "L1", 5_000)
        with pytest.raises(RuntimeError), store.transaction():  # a failing row: its deferred touch goes with it
            lead_store.touch_later(store, "L1", 9_000)
            raise RuntimeError
        with store.transaction():
            lead_store.touch_later(store, "L1", 3_000)
        assert _activity(store) == (None, None)  # nothing ran yet
        with pytest.raises(RuntimeError), store.transaction():  # a flush inside a rolled-back savepoint re-queues
            store.flush()
            assert _activity(store) == (3_000, 5_000)
            raise RuntimeError
        assert _activity(store) == (None, None)
        lead_store.touch_later(store, "L1", 4_000)
    assert _activity(store) == (3_000, 5_000)  # merged: earliest first touch, latest activity
    with pytest.raises(RuntimeError), store.transaction():  # the outer rollback drops the queue
        lead_store.touch_later(store, "L1", 99_000)
        raise RuntimeError
    with store.transaction():
        pass
    assert _activity(store) == (3_000, 5_000)
    lead_store.touch_later(store, "L1", 6_000)  # outside a transaction: at once
    assert _activity(store) == (3_000, 6_000)


def test_merged_touches_leave_the_same_silence_state_as_one_by_one(tmp_path):
    from store import leads as lead_store

    times = [7_000, 2_000, 9_000, 9_000, 4_000]
    results = []
    for i, deferred in enumerate((False, True)):
        store = open_store(tmp_path / f"t{i}.db")
        _seed_lead(store)
        with store.transaction():
            for t in times:
                (lead_store.touch_later if deferred else lead_store.touch)(store, "L1", t)
        results.append((_activity(store), tuple(store.conn.execute(
            "SELECT basis_at, deadline_at, alerted_at FROM lead_silence WHERE lead_id = 'L1'").fetchone())))
        store.close()
    assert results[0] == results[1] == (((2_000, 9_000), (9_000, None, None)))


def test_inbox_handoff_only_for_its_own_row(store, clock):
    ev = Message(event_id="console:1", platform="console", occurred_at=1, actor=Actor(platform_id="u"), text="hi")
    with store.transaction():
        assert inbox_store.accept(store, "console", "1", {"t": 1}, ev.to_dict(), clock.now_ms(), handoff=ev)
        assert not inbox_store.accept(store, "console", "1", {"t": 1}, ev.to_dict(), clock.now_ms(), handoff="dup")
    (row,) = inbox_store.pending(store, 10)
    assert inbox_store.take_handoff(store, row) is ev
    assert inbox_store.take_handoff(store, row) is None  # taken once
    # a stale entry (its insert was rolled back and the row id reused by another key) is ignored
    store.handoff[row.id + 1] = ("console", "other", ev)
    with store.transaction():
        inbox_store.put(store, "console", "3", "{}", "{}", clock.now_ms())
    three = next(r for r in inbox_store.pending(store, 10) if r.external_id == "3")
    assert three.id == row.id + 1
    assert inbox_store.take_handoff(store, three) is None


def test_rollback_listeners_run_only_when_written_rows_are_undone(tmp_path):
    store = open_store(tmp_path / "r.db")
    calls: list[str] = []
    store.on_rollback(lambda: calls.append("reset"))
    with store.transaction():
        with pytest.raises(ValueError), store.transaction():
            raise ValueError("nothing written in this savepoint")
        assert calls == []
        with pytest.raises(ValueError), store.transaction():
            kv.put(store, "k", "v")
            raise ValueError("a savepoint that wrote")
        assert calls == ["reset"]
        kv.put(store, "k2", "v2")
    assert calls == ["reset"]  # committed: no reset
    with pytest.raises(ValueError), store.transaction():
        kv.put(store, "k3", "v3")
        raise ValueError("the whole transaction")
    assert calls == ["reset", "reset"]
    assert kv.get(store, "k") is None and kv.get(store, "k2") == "v2" and kv.get(store, "k3") is None
    store.close()


def test_independent_deferred_rows_do_not_split_the_merged_runs_around_them(store):
    """The labelling observer's rows (independent) interleave with tagging's lead touches (merged per lead): the
    touches still collapse into one UPDATE and the independent rows go out in one executemany."""
    from store import conversation as conv_store
    from store import leads as lead_store

    _seed_lead(store)
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    with store.transaction():
        for i, t in enumerate((5_000, 3_000, 8_000)):
            lead_store.touch_later(store, "L1", t)
            conv_store.insert_later(store, (f"e{i}", "L1", "c1", "r1", "customer", "", t, None))
    store.conn.set_trace_callback(None)
    assert _activity(store) == (3_000, 8_000)
    updates = {s for s in statements if s.startswith("UPDATE leads")}  # one merged row (8000 latest, 3000 first)
    assert len(updates) == 1 and "8000" in next(iter(updates)) and "5000" not in next(iter(updates)), updates
    assert store.conn.execute("SELECT COUNT(*) FROM conversation_labels").fetchone()[0] == 3
    with store.transaction():  # a replay of the same turn is ignored, as with the immediate insert
        conv_store.insert_later(store, ("e0", "L1", "c1", "r1", "rep", "x", 1, None))
    assert store.conn.execute("SELECT role FROM conversation_labels WHERE event_id = 'e0'").fetchone()[0] == "customer"
