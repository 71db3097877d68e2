"""The outbox: replies waiting to be sent, with an idempotency key, attempts, backoff and a dead-letter state."""

from __future__ import annotations

import json
from dataclasses import dataclass

from store.db import Store


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    idempotency_key: str
    platform: str
    target: dict
    reply: dict
    status: str
    attempts: int
    next_attempt_at: int
    last_error: str | None
    created_at: int
    sent_at: int | None
    source_event_id: str


_COLS = "id, idempotency_key, platform, target, reply, status, attempts, next_attempt_at, last_error, created_at, sent_at, source_event_id"


def _row(r) -> OutboxRow:
    return OutboxRow(r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4]), r[5], r[6], r[7], r[8], r[9], r[10], r[11])


def enqueue(store: Store, key: str, platform: str, target: dict, reply: dict, now_ms: int, source_event_id: str = "") -> bool:
    """Queue a reply; a second enqueue with the same key is ignored (replay after a crash)."""
    cur = store.conn.execute(
        "INSERT OR IGNORE INTO outbox (idempotency_key, platform, target, reply, next_attempt_at, created_at, source_event_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (key, platform, json.dumps(target, ensure_ascii=False), json.dumps(reply, ensure_ascii=False), now_ms, now_ms,
         source_event_id),
    )
    return cur.rowcount == 1


def due(store: Store, now_ms: int, limit: int = 50, platforms: tuple[str, ...] | None = None) -> list[OutboxRow]:
    if platforms is not None:
        marks = ",".join("?" for _ in platforms) or "''"
        sql = (f"SELECT {_COLS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? AND platform IN ({marks})"
               " ORDER BY next_attempt_at, id LIMIT ?")
        return [_row(r) for r in store.conn.execute(sql, (now_ms, *platforms, limit))]
    sql = f"SELECT {_COLS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?"
    return [_row(r) for r in store.conn.execute(sql, (now_ms, limit))]


def waiting_elsewhere(store: Store, now_ms: int, platforms: tuple[str, ...]) -> dict[str, int]:
    """Due pending replies per platform outside `platforms` (those nobody here can send): platform → count."""
    marks = ",".join("?" for _ in platforms) or "''"
    sql = (f"SELECT platform, COUNT(*) FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
           f" AND platform NOT IN ({marks}) GROUP BY platform ORDER BY platform")
    return {r[0]: r[1] for r in store.conn.execute(sql, (now_ms, *platforms))}


def next_due_at(store: Store) -> int | None:
    row = store.conn.execute("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'").fetchone()
    return row[0]


def mark_sent(store: Store, row_id: int, now_ms: int, platform_ref: str = "") -> None:
    store.conn.execute(
        "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL, platform_ref = ?"
        " WHERE id = ?",
        (now_ms, platform_ref, row_id),
    )


def mark_retry(store: Store, row_id: int, next_attempt_at: int, error: str) -> None:
    store.conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
        (next_attempt_at, error[:500], row_id),
    )


def mark_dead(store: Store, row_id: int, error: str) -> None:
    store.conn.execute(
        "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ? WHERE id = ?", (error[:500], row_id)
    )


def resend(store: Store, row_ids: list[int] | None, now_ms: int) -> int:
    """Put dead rows back in the queue (all dead rows when `row_ids` is None)."""
    if row_ids is None:
        cur = store.conn.execute(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ? WHERE status = 'dead'", (now_ms,)
        )
        return cur.rowcount
    n = 0
    for row_id in row_ids:
        n += store.conn.execute(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ? WHERE id = ? AND status = 'dead'",
            (now_ms, row_id),
        ).rowcount
    return n


def listing(store: Store, status: str | None = None, limit: int = 50) -> list[OutboxRow]:
    if status:
        sql = f"SELECT {_COLS} FROM outbox WHERE status = ? ORDER BY id DESC LIMIT ?"
        return [_row(r) for r in store.conn.execute(sql, (status, limit))]
    return [_row(r) for r in store.conn.execute(f"SELECT {_COLS} FROM outbox ORDER BY id DESC LIMIT ?", (limit,))]


def all_in_order(store: Store, after_id: int = 0) -> list[OutboxRow]:
    return [_row(r) for r in store.conn.execute(f"SELECT {_COLS} FROM outbox WHERE id > ? ORDER BY id", (after_id,))]


def counts(store: Store) -> dict[str, int]:
    return {r[0]: r[1] for r in store.conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status")}


def platform_ref(store: Store, key: str) -> str:
    row = store.conn.execute("SELECT platform_ref FROM outbox WHERE idempotency_key = ?", (key,)).fetchone()
    return row[0] if row else ""
