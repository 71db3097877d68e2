"""Stored facts: normalised events and the behaviour tags rules put on them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from store.db import Store

EVENT_COLS = ("event_id", "type", "platform", "occurred_at", "actor_id", "person_id", "role", "customer_id", "lead_id",
              "kind", "text", "conversation_id", "data")
_INSERT = f"INSERT OR IGNORE INTO events ({', '.join(EVENT_COLS)}) VALUES ({', '.join('?' for _ in EVENT_COLS)})"
_TAG_COLS = ("event_rowid", "tag", "category", "weight", "rule_id", "lead_id", "occurred_at")
_INSERT_TAG = f"INSERT OR IGNORE INTO event_tags ({', '.join(_TAG_COLS)}) VALUES ({', '.join('?' for _ in _TAG_COLS)})"


def insert(store: Store, row: Sequence) -> int | None:
    """Insert one event row (EVENT_COLS order); returns its rowid, or None when the event_id was already stored."""
    cur = store.conn.execute(_INSERT, row)
    return cur.lastrowid if cur.rowcount == 1 else None


def insert_tags(store: Store, rows: Iterable[Sequence]) -> None:
    """Tag rows in _TAG_COLS order."""
    store.conn.executemany(_INSERT_TAG, rows)


def insert_many_floor(conn, event_rows: list[Sequence], tag_rows_by_index: list[list[Sequence]]) -> None:
    """The storage floor for the ingest benchmark: plain executemany of the same rows into the same tables."""
    conn.executemany(_INSERT, event_rows)
    flat = [t for tags in tag_rows_by_index for t in tags]
    conn.executemany(_INSERT_TAG, flat)


def count(store: Store) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]


def count_distinct_ids(store: Store) -> tuple[int, int]:
    r = store.conn.execute("SELECT COUNT(*), COUNT(DISTINCT event_id) FROM events").fetchone()
    return r[0], r[1]


def tags_for_lead(store: Store, lead_id: str, since_ms: int = 0) -> list[tuple[str, str, float, int]]:
    return [tuple(r) for r in store.conn.execute(
        "SELECT tag, category, weight, occurred_at FROM event_tags WHERE lead_id = ? AND occurred_at >= ? ORDER BY occurred_at",
        (lead_id, since_ms))]


def tag_counts(store: Store) -> list[tuple[str, int]]:
    return [tuple(r) for r in store.conn.execute("SELECT tag, COUNT(*) FROM event_tags GROUP BY tag ORDER BY 2 DESC")]


def rebind_customer(store: Store, match_kind_value: tuple[str, str], customer_id: str, lead_id: str | None) -> int:
    """Late binding: events that could not be tied to a customer, recorded under match key "kind:value" (events.
    match_key, migration 0010), get the customer and lead now, with their tags and remembered values."""
    kind, value = match_kind_value
    key = f"{kind}:{value}"
    ids = [r[0] for r in store.conn.execute(
        "SELECT id FROM events WHERE customer_id IS NULL AND match_key = ?", (key,))]
    if not ids:
        return 0
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        store.conn.execute(f"UPDATE events SET customer_id = ?, lead_id = ? WHERE id IN ({marks})",
                           (customer_id, lead_id, *chunk))
        store.conn.execute(f"UPDATE event_tags SET lead_id = ? WHERE event_rowid IN ({marks})", (lead_id, *chunk))
        store.conn.execute(f"UPDATE event_values SET lead_id = ? WHERE event_rowid IN ({marks})", (lead_id, *chunk))
    return len(ids)
