"""Scheduler state: per job, the last due time already emitted; per run, a unique (job, due_at) row."""

from __future__ import annotations

from store.db import Store


def last_due(store: Store, job: str) -> int | None:
    row = store.conn.execute("SELECT last_due_at FROM scheduler_jobs WHERE job = ?", (job,)).fetchone()
    return row[0] if row else None


def record_run(store: Store, job: str, cron: str, due_at: int, emitted_at: int) -> bool:
    """Record that `job` fired for `due_at`; False if it already had (so a restart never repeats it)."""
    cur = store.conn.execute(
        "INSERT OR IGNORE INTO scheduler_runs (job, due_at, emitted_at) VALUES (?, ?, ?)", (job, due_at, emitted_at)
    )
    store.conn.execute(
        "INSERT INTO scheduler_jobs (job, cron, last_due_at) VALUES (?, ?, ?)"
        " ON CONFLICT (job) DO UPDATE SET cron = excluded.cron, last_due_at = MAX(last_due_at, excluded.last_due_at)",
        (job, cron, due_at),
    )
    return cur.rowcount == 1


def set_start(store: Store, job: str, cron: str, start_ms: int) -> None:
    """First sight of a job: it starts counting from now, it does not replay history."""
    store.conn.execute(
        "INSERT OR IGNORE INTO scheduler_jobs (job, cron, last_due_at) VALUES (?, ?, ?)", (job, cron, start_ms)
    )


def runs(store: Store, job: str) -> list[int]:
    return [r[0] for r in store.conn.execute("SELECT due_at FROM scheduler_runs WHERE job = ? ORDER BY due_at", (job,))]
