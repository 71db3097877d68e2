"""Deferred jobs: heavy work a handler asked for, persisted with the facts so a crash never loses it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from store.db import Store


@dataclass(frozen=True, slots=True)
class DeferredRow:
    id: int
    job: str
    payload: dict
    target: dict
    source_event_id: str
    attempts: int


def add(store: Store, job: str, payload: dict, target: dict, source_event_id: str, now_ms: int) -> int:
    cur = store.conn.execute(
        "INSERT INTO deferred (job, payload, target, source_event_id, created_at) VALUES (?, ?, ?, ?, ?)",
        (job, json.dumps(payload, ensure_ascii=False), json.dumps(target, ensure_ascii=False), source_event_id, now_ms),
    )
    return cur.lastrowid


def pending(store: Store, limit: int = 10, skip: tuple[int, ...] = (), skip_jobs: tuple[str, ...] = ()
            ) -> list[DeferredRow]:
    """Pending jobs in order, leaving out the ids in `skip` (jobs waiting out a retry delay or already running) and
    the job names in `skip_jobs` (a lane that is full), so jobs that keep failing or wait for their lane never hide
    the ones behind them."""
    sql = "SELECT id, job, payload, target, source_event_id, attempts FROM deferred WHERE status = 'pending'"
    params: list = []
    if skip:
        sql += f" AND id NOT IN ({','.join('?' * len(skip))})"
        params.extend(skip)
    if skip_jobs:
        sql += f" AND job NOT IN ({','.join('?' * len(skip_jobs))})"
        params.extend(skip_jobs)
    rows = store.conn.execute(sql + " ORDER BY id LIMIT ?", (*params, limit))
    return [DeferredRow(r[0], r[1], json.loads(r[2]), json.loads(r[3]), r[4], r[5]) for r in rows]


def retry(store: Store, job_id: int, error: str) -> int:
    """Count a failed attempt and leave the job pending; returns the attempts so far."""
    store.conn.execute("UPDATE deferred SET attempts = attempts + 1, error = ? WHERE id = ?", (error[:500], job_id))
    return store.conn.execute("SELECT attempts FROM deferred WHERE id = ?", (job_id,)).fetchone()[0]


def finish(store: Store, job_id: int, status: str, error: str | None = None) -> None:
    store.conn.execute(
        "UPDATE deferred SET status = ?, error = ?, attempts = attempts + 1 WHERE id = ?",
        (status, error[:500] if error else error, job_id)
    )


def count_pending(store: Store) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM deferred WHERE status = 'pending'").fetchone()[0]
