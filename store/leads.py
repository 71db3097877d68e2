"""Leads (商机): one customer's sales opportunity, its owner, status and activity timestamps."""

from __future__ import annotations

from dataclasses import dataclass

from store import like
from store.db import Store


@dataclass(frozen=True, slots=True)
class Lead:
    id: str
    customer_id: str
    owner_id: str | None
    title: str
    status: str
    stage: str
    product: str
    amount: float
    created_at: int
    expected_close_at: int | None
    closed_at: int | None
    last_activity_at: int | None


_L = "id, customer_id, owner_id, title, status, stage, product, amount, created_at, expected_close_at, closed_at, last_activity_at"


def _lead(r) -> Lead:
    return Lead(*r)


def upsert(store: Store, lead_id: str, customer_id: str, owner_id: str | None, title: str, created_at: int, *,
           status: str = "open", stage: str = "", product: str = "", amount: float = 0.0,
           expected_close_at: int | None = None, closed_at: int | None = None) -> None:
    store.conn.execute(
        f"INSERT INTO leads ({_L}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)"
        " ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, owner_id = excluded.owner_id,"
        " title = excluded.title, status = excluded.status, stage = excluded.stage, product = excluded.product,"
        " amount = excluded.amount, expected_close_at = excluded.expected_close_at, closed_at = excluded.closed_at",
        (lead_id, customer_id, owner_id, title, status, stage, product, amount, created_at, expected_close_at, closed_at),
    )


def get(store: Store, lead_id: str) -> Lead | None:
    r = store.conn.execute(f"SELECT {_L} FROM leads WHERE id = ?", (lead_id,)).fetchone()
    return _lead(r) if r else None


def open_for_customer(store: Store, customer_id: str) -> str | None:
    """The customer's open lead; the most recently created one when there are several."""
    row = store.conn.execute(
        "SELECT id FROM leads WHERE customer_id = ? AND status = 'open' ORDER BY created_at DESC LIMIT 1", (customer_id,)
    ).fetchone()
    return row[0] if row else None


_TOUCH = ("UPDATE leads SET last_activity_at = MAX(COALESCE(last_activity_at, 0), ?),"
          " first_touch_at = MIN(COALESCE(first_touch_at, ?), ?) WHERE id = ?")


def touch(store: Store, lead_id: str, at_ms: int) -> None:
    """Record activity on a lead (keeps the latest; first_touch_at keeps the earliest)."""
    store.conn.execute(_TOUCH, (at_ms, at_ms, at_ms, lead_id))


def _merge_touches(rows: list[tuple]) -> list[tuple]:
    """Touches of one lead collapse into one: the latest time for last_activity_at, the earliest for first_touch_at
    (MAX / MIN are order-free, and the silence trigger only looks at the final last_activity_at)."""
    merged: dict[str, list[int]] = {}
    for latest, earliest, _same, lead_id in rows:
        span = merged.get(lead_id)
        if span is None:
            merged[lead_id] = [latest, earliest]
        else:
            if latest > span[0]:
                span[0] = latest
            if earliest < span[1]:
                span[1] = earliest
    return [(hi, lo, lo, lead_id) for lead_id, (hi, lo) in merged.items()]


def touch_later(store: Store, lead_id: str, at_ms: int) -> None:
    """`touch` at the end of the transaction (or the next `store.flush()`): a batch's touches of one lead become one
    UPDATE. For the dispatcher's observers of chat messages, whose batch nobody reads lead activity in before it
    ends: the dispatcher flushes before routing any other event (commands, ticks, calls, …)."""
    store.merge_later(_TOUCH, _merge_touches)
    store.later(_TOUCH, (at_ms, at_ms, at_ms, lead_id))


def for_owner(store: Store, owner_id: str, status: str = "open") -> list[Lead]:
    return [_lead(r) for r in store.conn.execute(
        f"SELECT {_L} FROM leads WHERE owner_id = ? AND status = ? ORDER BY id", (owner_id, status))]


def search(store: Store, text: str, limit: int = 10) -> list[Lead]:
    rows = store.conn.execute(
        f"SELECT {_L} FROM leads WHERE id = ? OR title LIKE ?{like.ESCAPE} OR customer_id IN"
        f" (SELECT id FROM customers WHERE name LIKE ?{like.ESCAPE}) ORDER BY status = 'open' DESC, created_at DESC"
        " LIMIT ?",
        (text, like.contains(text), like.contains(text), limit),
    )
    return [_lead(r) for r in rows]


def count(store: Store, status: str | None = None) -> int:
    if status:
        return store.conn.execute("SELECT COUNT(*) FROM leads WHERE status = ?", (status,)).fetchone()[0]
    return store.conn.execute("SELECT COUNT(*) FROM leads").fetchone()[0]
