"""Queries behind /readyz and /metrics: each answers from an index (partial indexes on pending rows), so a scrape
every few seconds costs nothing measurable even with millions of rows kept.
"""

from __future__ import annotations

from store.db import Store


def oldest_pending_inbox_ms(store: Store) -> int | None:
    """received_at of the oldest pending inbox row (inbox_pending index: id order ≈ arrival order)."""
    row = store.conn.execute("SELECT received_at FROM inbox WHERE status = 'pending' ORDER BY id LIMIT 1").fetchone()
    return row[0] if row else None


def pending_inbox_count(store: Store) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM inbox WHERE status = 'pending'").fetchone()[0]


def outbox_backlog(store: Store, now_ms: int) -> int:
    """Replies due now or earlier and not yet sent (outbox_due index)."""
    return store.conn.execute(
        "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?", (now_ms,)).fetchone()[0]


def outbox_by_platform(store: Store) -> dict[tuple[str, str], int]:
    """(platform, status) → rows, for pending and dead only (sent rows are counted in-process)."""
    rows = store.conn.execute(
        "SELECT platform, 'pending', COUNT(*) FROM outbox WHERE status = 'pending' GROUP BY platform "
        "UNION ALL SELECT platform, 'dead', COUNT(*) FROM outbox WHERE status = 'dead' GROUP BY platform")
    return {(r[0], r[1]): r[2] for r in rows}


def deferred_pending_by_job(store: Store) -> dict[str, int]:
    """Waiting deferred jobs per job name (the speech queue is the voice transcription job's count)."""
    return dict(store.conn.execute("SELECT job, COUNT(*) FROM deferred WHERE status = 'pending' GROUP BY job"))


def deferred_pending(store: Store) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM deferred WHERE status = 'pending'").fetchone()[0]


def applied_migration_ids(store: Store) -> set[int]:
    return {r[0] for r in store.conn.execute("SELECT id FROM schema_migrations")}
