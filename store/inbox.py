"""The inbox: every platform payload, persisted before we ack, processed in order, marked done with its facts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from store.db import Store


@dataclass(frozen=True, slots=True)
class InboxRow:
    id: int
    platform: str
    external_id: str
    event: str | None
    attempts: int


# json.dumps builds a new encoder per call whenever an option is set; these are built once (same output).
_encode_payload = json.JSONEncoder(ensure_ascii=False, default=str).encode
_encode_event = json.JSONEncoder(ensure_ascii=False).encode
HANDOFF_MAX = 20_000  # objects kept for the dispatcher at most; beyond that it parses the stored JSON


def put(store: Store, platform: str, external_id: str, payload: str, event_json: str | None, received_at: int,
        *, status: str = "pending", error: str | None = None) -> bool:
    """Insert one payload; False when (platform, external_id) was already there (a platform retry)."""
    return _put(store, platform, external_id, payload, event_json, received_at, status, error) is not None


def _put(store: Store, platform: str, external_id: str, payload: str, event_json: str | None, received_at: int,
         status: str = "pending", error: str | None = None) -> int | None:
    cur = store.conn.execute(
        "INSERT OR IGNORE INTO inbox (platform, external_id, received_at, payload, event, status, error)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (platform, external_id, received_at, payload, event_json, status, error),
    )
    return cur.lastrowid if cur.rowcount == 1 else None


def take_handoff(store: Store, row: InboxRow) -> object | None:
    """The object `accept(..., handoff=obj)` left for this row in this process, or None (after a restart, another
    process, or a stale entry whose row id was reused after a rollback: the key must match)."""
    entry = store.handoff.pop(row.id, None)
    if entry is None or entry[0] != row.platform or entry[1] != row.external_id or row.event is None:
        return None
    return entry[2]


def put_many(store: Store, rows: Iterable[tuple[str, str, str, str | None, int]]) -> int:
    """Bulk insert (platform, external_id, payload, event_json, received_at); returns how many were new."""
    before = store.conn.total_changes
    store.conn.executemany(
        "INSERT OR IGNORE INTO inbox (platform, external_id, payload, event, received_at) VALUES (?, ?, ?, ?, ?)",
        rows,
    )
    return store.conn.total_changes - before


def pending(store: Store, limit: int) -> list[InboxRow]:
    rows = store.conn.execute(
        "SELECT id, platform, external_id, event, attempts FROM inbox WHERE status = 'pending' ORDER BY id LIMIT ?",
        (limit,),
    ).fetchall()
    return [InboxRow(r[0], r[1], r[2], r[3], r[4]) for r in rows]


_DONE_CHUNK = 500


def mark_done(store: Store, ids: list[int], now_ms: int) -> None:
    """One UPDATE per up to 500 rows (a batch), not one per row."""
    for start in range(0, len(ids), _DONE_CHUNK):
        chunk = ids[start:start + _DONE_CHUNK]
        store.conn.execute(
            "UPDATE inbox SET status = 'done', processed_at = ?, attempts = attempts + 1"
            f" WHERE id IN ({', '.join('?' * len(chunk))})",
            (now_ms, *chunk),
        )


def mark(store: Store, inbox_id: int, status: str, error: str | None, now_ms: int) -> None:
    store.conn.execute(
        "UPDATE inbox SET status = ?, error = ?, processed_at = ?, attempts = attempts + 1 WHERE id = ?",
        (status, error, now_ms, inbox_id),
    )


def mark_by_key(store: Store, platform: str, external_id: str, status: str, error: str | None, now_ms: int) -> None:
    """Settle a row kept aside (e.g. `failed` while waiting for a key) once its content was processed another way."""
    store.conn.execute(
        "UPDATE inbox SET status = ?, error = ?, processed_at = ? WHERE platform = ? AND external_id = ?",
        (status, error, now_ms, platform, external_id),
    )


def bump_attempt(store: Store, inbox_id: int, error: str) -> int:
    store.conn.execute("UPDATE inbox SET attempts = attempts + 1, error = ? WHERE id = ?", (error, inbox_id))
    return store.conn.execute("SELECT attempts FROM inbox WHERE id = ?", (inbox_id,)).fetchone()[0]


def counts(store: Store) -> dict[str, int]:
    return {r[0]: r[1] for r in store.conn.execute("SELECT status, COUNT(*) FROM inbox GROUP BY status")}


def payload_of(store: Store, platform: str, external_id: str) -> dict | None:
    row = store.conn.execute(
        "SELECT payload FROM inbox WHERE platform = ? AND external_id = ?", (platform, external_id)
    ).fetchone()
    return json.loads(row[0]) if row else None


def prune(store: Store, older_than_ms: int, limit: int | None = None) -> int:
    """Retention: drop raw payloads processed (or set aside as unsupported) before the cut-off; returns how many.

    Pending rows are never dropped, and neither are `failed` ones (an admin still has to look at them). The age
    counts from processing, as bot.toml's `inbox_retention_days` says, so a backlog processed late keeps its full
    retention. `limit` deletes at most that many rows, so the serve loop can prune in small steps.
    """
    # Rows arrive in id order, so everything received before the cut-off sits below the first id received at or
    # after it. Bounding the scan by that id keeps an hourly prune from reading millions of recent rows (inbox has
    # no time index, on purpose: every ingested event would pay for it).
    first_new = store.conn.execute(
        "SELECT id FROM inbox WHERE received_at >= ? ORDER BY id LIMIT 1", (older_than_ms,)).fetchone()
    below = first_new[0] if first_new else (store.conn.execute("SELECT MAX(id) FROM inbox").fetchone()[0] or 0) + 1
    where = "id < ? AND status IN ('done', 'unsupported') AND COALESCE(processed_at, received_at) < ?"
    if limit is None:
        return store.conn.execute(f"DELETE FROM inbox WHERE {where}", (below, older_than_ms)).rowcount
    cur = store.conn.execute(
        f"DELETE FROM inbox WHERE id IN (SELECT id FROM inbox WHERE {where} ORDER BY id LIMIT ?)",
        (below, older_than_ms, limit),
    )
    return cur.rowcount


def list_by_status(store: Store, status: str, limit: int = 50) -> list[dict]:
    return [
        dict(r)
        for r in store.conn.execute(
            "SELECT id, platform, external_id, received_at, status, attempts, error FROM inbox WHERE status = ?"
            " ORDER BY id DESC LIMIT ?",
            (status, limit),
        )
    ]


def accept(store: Store, platform: str, external_id: str, payload: object, event: dict | None, received_at: int,
           *, unsupported_reason: str | None = None, handoff: object = None, status: str = "unsupported") -> bool:
    """What an adapter calls after verifying a payload: persist it (dedupe on the platform's id) before acking.

    `event` is the normalised event dict (Event.to_dict()); None with a reason keeps the payload as `unsupported`
    (or as `status`, e.g. `failed`, which retention never drops).
    `handoff` (the already-built event object) is kept in memory for this process's dispatcher, keyed by the new
    row's id, so it need not parse back what was just serialised; the stored JSON stays the source of truth.
    """
    raw = payload if isinstance(payload, str) else _encode_payload(payload)
    if event is None:  # kept aside: `unsupported`, or `failed` for payloads that must outlive retention
        return put(store, platform, external_id, raw, None, received_at, status=status,
                   error=unsupported_reason or "unsupported")
    rowid = _put(store, platform, external_id, raw, _encode_event(event), received_at)
    if rowid is None:
        return False
    if handoff is not None:
        if len(store.handoff) >= HANDOFF_MAX:
            store.handoff.clear()  # nobody is draining (or rows were rolled back): fall back to the JSON
        store.handoff[rowid] = (platform, external_id, handoff)
    return True
