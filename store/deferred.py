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


def pending(store: Store, limit: int = 10) -> list[DeferredRow]:
    rows = store.conn.execute(
        "SELECT id, job, payload, target, source_event_id, attempts FROM deferred WHERE status = 'pending' ORDER BY id LIMIT ?",
        (limit,),
    )
    return [DeferredRow(r[0], r[1], json.loads(r[2]), json.loads(r[3]), r[4], r[5]) for r in rows]


def finish(store: Store, job_id: int, status: str, error: str | None = None) -> None:
    store.conn.execute(
        "UPDATE deferred SET status = ?, error = ?, attempts = attempts + 1 WHERE id = ?", (status, error, job_id)
    )


def count_pending(store: Store) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM deferred WHERE status = 'pending'").fetchone()[0]
