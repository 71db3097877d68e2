"""SQL for conversation labels: one row per customer / rep turn with its objection × strategy labels.

Written by handlers/conversation/observe.py on every message (hot path: one INSERT); read by snippets, coaching,
debriefs and the case check. A turn's text comes from `events.text` (stored by tagging) unless the row carries
its own (voice notes transcribed later).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from store.db import Store

_INSERT = ("INSERT OR IGNORE INTO conversation_labels (event_id, lead_id, customer_id, person_id, role, labels, "
           "occurred_at, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
_UPSERT = ("INSERT INTO conversation_labels (event_id, lead_id, customer_id, person_id, role, labels, occurred_at, "
           "text) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO UPDATE SET labels = excluded.labels, "
           "text = excluded.text")


@dataclass(frozen=True, slots=True)
class Turn:
    event_id: str
    role: str  # customer | rep
    person_id: str
    text: str
    labels: tuple[str, ...]
    ts: int  # occurred_at, UTC ms


def split_labels(joined: str) -> tuple[str, ...]:
    return tuple(joined.split(",")) if joined else ()


def insert(store: Store, row: Sequence) -> bool:
    """(event_id, lead_id, customer_id, person_id, role, labels joined by ',', occurred_at, text or None); False when
    the turn was already stored (a replay)."""
    return store.conn.execute(_INSERT, row).rowcount == 1


def insert_later(store: Store, row: tuple) -> None:
    """Like insert, at the end of the dispatcher's batch (Store.later: one executemany for the batch's turns).

    Why: the labelling observer runs on every archived message; one INSERT statement per message was a third of
    its cost. Readers inside the batch call `store.flush()` first (the dispatcher does before any event that is
    not a chat message; coaching's labels_of before it reads a turn's labels)."""
    store.independent_later(_INSERT)  # conversation_labels: no trigger, no other deferred writer
    store.later(_INSERT, row)


def upsert(store: Store, row: Sequence) -> None:
    """Like insert, but a later hearing of the same turn (a voice transcript) replaces its labels and text."""
    store.conn.execute(_UPSERT, row)


def turn_of(store: Store, event_id: str) -> tuple[str | None, str | None, str, str] | None:
    """(lead_id, customer_id, person_id, role) of a stored turn or of a stored event (for voice transcripts)."""
    row = store.conn.execute("SELECT lead_id, customer_id, person_id, role FROM conversation_labels "
                             "WHERE event_id = ?", (event_id,)).fetchone()
    if row is not None:
        return row[0], row[1], row[2], row[3]
    row = store.conn.execute("SELECT lead_id, customer_id, person_id, role FROM events WHERE event_id = ?",
                             (event_id,)).fetchone()
    return (row[0], row[1], row[2], row[3]) if row is not None else None


def labels_for_events(store: Store, event_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """event_id → labels for the given events that are stored turns (others are absent)."""
    ids = list(dict.fromkeys(event_ids))
    out: dict[str, tuple[str, ...]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        marks = ",".join("?" for _ in chunk)
        for event_id, labels in store.conn.execute(
                f"SELECT event_id, labels FROM conversation_labels WHERE event_id IN ({marks})", chunk):
            out[event_id] = split_labels(labels)
    return out


_TURNS = ("SELECT c.event_id, c.role, c.person_id, COALESCE(c.text, e.text, ''), c.labels, c.occurred_at "
          "FROM conversation_labels c LEFT JOIN events e ON e.event_id = c.event_id ")


def labelled_turns(store: Store, lead_id: str, since_ms: int | None = None, until_ms: int | None = None) -> list[Turn]:
    """The lead's customer and rep turns in time order (labelled or not), optionally within [since, until)."""
    sql = _TURNS + "WHERE c.lead_id = ?"
    args: list = [lead_id]
    if since_ms is not None:
        sql += " AND c.occurred_at >= ?"
        args.append(since_ms)
    if until_ms is not None:
        sql += " AND c.occurred_at < ?"
        args.append(until_ms)
    sql += " ORDER BY c.occurred_at, c.rowid"
    return [Turn(r[0], r[1], r[2], r[3], split_labels(r[4]), r[5]) for r in store.conn.execute(sql, args)]


def customer_turns(store: Store, customer_id: str, limit: int = 500) -> list[Turn]:
    """A customer's turns (any lead, or none yet) in time order, the newest `limit`."""
    rows = store.conn.execute(_TURNS + "WHERE c.customer_id = ? ORDER BY c.occurred_at DESC, c.rowid DESC LIMIT ?",
                              (customer_id, limit)).fetchall()
    return [Turn(r[0], r[1], r[2], r[3], split_labels(r[4]), r[5]) for r in reversed(rows)]
