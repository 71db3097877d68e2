"""The SQLite connection: WAL, foreign keys on, a busy timeout, numbered migrations, explicit transactions.

One connection per process, used from the event loop thread. Transactions are explicit (`with store.transaction()`)
and re-entrant through savepoints, so a handler's writes and the dispatcher's "inbox row done" land together.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from bot.errors import DatabaseError
from store.migrate import NewerSchema, migrate

log = logging.getLogger("salespulse.store")

# Page cache per connection (KiB): a bound on each connection's memory, reached in every long-running process (any
# database larger than the cache fills it). SQLite's default (2 MiB) no longer holds the index pages that every
# event insert touches (events, event_tags, inbox and their indexes) once the database has a few hundred thousand
# events; 32 MiB, tried before, mostly held overflow pages of large raw payloads written once and never read again
# — `serve` grew by 36 MB under bench.fuzz — and ingest was no faster with it than with 12 MiB (bench.ingest,
# 100,000 events: 1,975 vs 1,939 events per CPU second, peak RSS 227 vs 205 MB).
CACHE_KIB = 12 * 1024
WAL_AUTOCHECKPOINT_PAGES = 10_000


class Store:
    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self.utils = sqlite_utils.Database(conn)
        self._savepoint = 0
        # In-process handoff (store.inbox.accept → the dispatcher): inbox row id → (platform, external_id, object).
        # Only a shortcut past re-parsing the row's JSON; the row itself stays the source of truth.
        self.handoff: dict[int, tuple[str, str, object]] = {}
        # Deferred writes of the open transaction (see `later`): statements, how many already ran, savepoint marks.
        self._later: list[tuple[str, tuple]] = []
        self._later_done = 0
        self._later_marks: list[tuple[int, int]] = []
        self._mergers: dict[str, Callable[[list[tuple]], list[tuple]]] = {}
        self._independent: set[str] = set()
        self._rollback_listeners: list[Callable[[], None]] = []

    def transaction(self) -> _Transaction:
        """BEGIN IMMEDIATE … COMMIT, or a SAVEPOINT when already inside a transaction (`with store.transaction():`,
        `as conn` gives the connection).

        Deferred writes (`later`) follow the transaction: a rolled-back savepoint drops those queued inside it (and
        queues again those queued before it but run inside it), the outermost COMMIT runs what is still queued first.
        """
        return _Transaction(self)

    # -- deferred writes: statements whose effect nobody reads before the transaction ends (or `flush()`)
    def later(self, sql: str, params: tuple) -> None:
        """Run `sql` with `params` at the end of the current transaction (or at the next `flush()`), in order with
        the other deferred writes; at once when no transaction is open. Runs of the same statement go through one
        executemany, first through the merger registered for it (`merge_later`)."""
        if not self.conn.in_transaction:
            self.conn.execute(sql, params)
            return
        self._later.append((sql, params))

    def merge_later(self, sql: str, merger: Callable[[list[tuple]], list[tuple]]) -> None:
        """Register how a run of deferred `sql` rows collapses into fewer rows with the same end state."""
        self._mergers[sql] = merger

    def independent_later(self, sql: str) -> None:
        """Declare that deferred `sql` commutes with every other deferred statement (its table is written by no other
        deferred statement and no trigger ties it to one): `flush` then runs all its rows in one executemany after
        the others, instead of splitting the log into short runs wherever it is interleaved with them (which also
        kept the other statements' runs from merging)."""
        self._independent.add(sql)

    def flush(self) -> None:
        """Run the deferred writes now (inside the current transaction or savepoint; a rollback re-queues them)."""
        log, start = self._later, self._later_done
        end = len(log)
        if start >= end:
            return
        independent = self._independent
        apart: dict[str, list[tuple]] = {}
        i = start
        while i < end:
            sql = log[i][0]
            if sql in independent:
                apart.setdefault(sql, []).append(log[i][1])
                i += 1
                continue
            j = i + 1
            rows = [log[i][1]]
            while j < end and (log[j][0] == sql or log[j][0] in independent):
                if log[j][0] == sql:
                    rows.append(log[j][1])
                else:
                    apart.setdefault(log[j][0], []).append(log[j][1])
                j += 1
            merger = self._mergers.get(sql)
            self.conn.executemany(sql, merger(rows) if merger is not None else rows)
            i = j
        for sql, rows in apart.items():
            merger = self._mergers.get(sql)
            self.conn.executemany(sql, merger(rows) if merger is not None else rows)
        self._later_done = end

    def on_rollback(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after a transaction or savepoint that had written something is rolled back.

        Why: in-memory caches (the directory's resolved actors, lead association) may hold answers read from rows
        that the rollback just removed — e.g. a /bind whose handler failed after remembering the new key."""
        self._rollback_listeners.append(listener)

    def _rolled_back(self) -> None:
        for listener in self._rollback_listeners:
            try:
                listener()
            except Exception:  # a cache that cannot reset must not turn one failed row into a failed batch
                log.exception("rollback listener %r failed", listener)

    def _forget_later(self) -> None:
        self._later.clear()
        self._later_done = 0
        self._later_marks.clear()

    def close(self) -> None:
        self.conn.close()


def _connect(path: str, busy_timeout_ms: int = 5000) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    if path != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
    return conn


def open_store(path: str | Path, *, run_migrations: bool = True, busy_timeout_ms: int = 5000) -> Store:
    """Open (and migrate) the database, turning every low-level failure into one clear sentence.

    Migrating also writes PRAGMA user_version, so a database another process holds locked is detected here, at
    start, after `busy_timeout_ms`, instead of at the first event.
    """
    spath = str(path)
    if spath != ":memory:":
        p = Path(spath)
        if p.parent and not p.parent.exists():
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError("no_folder", str(p.parent), exc) from None
        if p.exists() and not p.is_file():
            raise DatabaseError("not_file", str(p))
    try:
        conn = _connect(spath, busy_timeout_ms)
        if run_migrations:
            migrate(conn)
    except NewerSchema as exc:
        raise DatabaseError("too_new", spath, str(exc)) from None
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise DatabaseError("locked", spath) from None
        if "not a database" in text or "malformed" in text:
            raise DatabaseError("not_database", spath) from None
        if "unable to open" in text or "readonly" in text:
            raise DatabaseError("cannot_open", spath) from None
        if "disk is full" in text:
            raise DatabaseError("disk_full", spath) from None
        if "disk I/O error" in text:
            raise DatabaseError("io_error", spath) from None
        raise DatabaseError("other", spath, text) from None
    return Store(conn, spath)


class _Transaction:
    """Store.transaction's context manager (a class, not a generator: it wraps every dispatched row)."""

    __slots__ = ("store", "name", "changes")

    def __init__(self, store: Store) -> None:
        self.store = store
        self.name = ""
        self.changes = 0

    def __enter__(self) -> sqlite3.Connection:
        store = self.store
        conn = store.conn
        self.changes = conn.total_changes
        if not conn.in_transaction:
            conn.execute("BEGIN IMMEDIATE")
            return conn
        store._savepoint += 1
        self.name = name = f"sp{store._savepoint}"
        try:
            conn.execute(f"SAVEPOINT {name}")
        except BaseException:
            store._savepoint -= 1
            raise
        store._later_marks.append((len(store._later), store._later_done))
        return conn

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        store = self.store
        conn = store.conn
        name = self.name
        if name:  # a savepoint
            try:
                queued, done = store._later_marks.pop()
                if exc_type is None:
                    conn.execute(f"RELEASE {name}")
                else:
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
                    del store._later[queued:]
                    store._later_done = done
                    if conn.total_changes != self.changes:
                        store._rolled_back()
            finally:
                store._savepoint -= 1
            return False
        if exc_type is None:
            try:
                store.flush()
            except BaseException:
                store._forget_later()
                conn.rollback()
                store._rolled_back()
                raise
            store._forget_later()
            conn.commit()
        else:
            store._forget_later()
            conn.rollback()
            if conn.total_changes != self.changes:
                store._rolled_back()
        return False
