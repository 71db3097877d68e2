"""SQL for tagging and lead association: event rows with their match key, remembered values, the history window
rules ask about (SqlHistory), unmatched keys, lead-bound keys and late binding.

Stored event layout (type → text / kind / data), read by timeline, silence, calls and baseline:
- message: text = text or voice transcript or file name; kind = text|file|image|voice|recall;
  data = {"file": name, "duration_ms": n, "recalled_id": id, "name": sender display name, "group": 1}
  (only what is set; "group" marks a group chat — rows stored before it was kept fall back to the chat id's prefix)
- call: text = ""; kind = inbound|outbound; data = {"phone", "answered", "duration_s", "direction"}
- calendar: text = title; data = {"starts_at", "ends_at", "attendees": [...]}
- document_open: text = document name; data = {"link_code", "opener_hash"}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from store.db import Store
from store.events import EVENT_COLS

_COLS = (*EVENT_COLS, "match_key")
_INSERT = f"INSERT OR IGNORE INTO events ({', '.join(_COLS)}) VALUES ({', '.join('?' for _ in _COLS)})"
_INSERT_VALUE = "INSERT OR IGNORE INTO event_values (event_rowid, key, value, lead_id, occurred_at) VALUES (?, ?, ?, ?, ?)"


def insert_event(store: Store, row: Sequence) -> int | None:
    """Insert one event row (EVENT_COLS order + match_key); its rowid, or None when the event was already stored."""
    cur = store.conn.execute(_INSERT, row)
    return cur.lastrowid if cur.rowcount == 1 else None


def insert_values(store: Store, rows: Iterable[Sequence]) -> None:
    """(event_rowid, key, value, lead_id, occurred_at) rows for distinct-value windows."""
    store.conn.executemany(_INSERT_VALUE, rows)


class SqlHistory:
    """rules.history.HistoryView over the events, event_tags and event_values tables (all index ranges).

    `exclude_rowid` leaves one stored event out of every answer: re-evaluating an event that is already stored
    (after /bind) must see the lead's history without that event, exactly as it was first evaluated."""

    def __init__(self, store: Store, exclude_rowid: int | None = None) -> None:
        self._conn = store.conn
        self._skip = -1 if exclude_rowid is None else exclude_rowid

    def count_tag_since(self, lead: str, tag: str, since: int, until: int) -> int:
        if self._skip < 0:
            return self._conn.execute(
                "SELECT COUNT(*) FROM event_tags WHERE lead_id = ? AND tag = ? AND occurred_at BETWEEN ? AND ?",
                (lead, tag, since, until)).fetchone()[0]
        return self._conn.execute(
            "SELECT COUNT(*) FROM event_tags WHERE lead_id = ? AND tag = ? AND occurred_at BETWEEN ? AND ?"
            " AND event_rowid <> ?", (lead, tag, since, until, self._skip)).fetchone()[0]

    def distinct_values(self, lead: str, key: str, since: int, until: int) -> set[str]:
        return {r[0] for r in self._conn.execute(
            "SELECT DISTINCT value FROM event_values WHERE lead_id = ? AND key = ? AND occurred_at BETWEEN ? AND ?"
            " AND event_rowid <> ?", (lead, key, since, until, self._skip))}

    def count_opens(self, lead: str, doc: str, since: int, until: int) -> int:
        return self._conn.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'document_open' AND lead_id = ? AND text = ?"
            " AND occurred_at BETWEEN ? AND ? AND id <> ?", (lead, doc, since, until, self._skip)).fetchone()[0]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """What re-tagging needs of a stored event (see the layout at the top of this module)."""

    rowid: int
    type: str
    role: str
    person_id: str
    kind: str
    text: str
    conversation_id: str
    data: str
    occurred_at: int


def lead_events_since(store: Store, lead_id: str, since_ms: int, limit: int) -> list[StoredEvent]:
    """The lead's stored events from `since_ms` on, oldest first (ties in storage order)."""
    return [StoredEvent(*r) for r in store.conn.execute(
        "SELECT id, type, role, person_id, kind, text, conversation_id, data, occurred_at FROM events"
        " WHERE lead_id = ? AND occurred_at >= ? ORDER BY occurred_at, id LIMIT ?", (lead_id, since_ms, limit))]


def drop_rule_results(store: Store, rowids: Sequence[int], rule_ids: Sequence[str]) -> None:
    """Remove the tags and remembered values that rules `rule_ids` gave events `rowids`, before /bind evaluates
    those events again over their new history (handlers.tagging.Tagger.retag_lead)."""
    if not rowids or not rule_ids:
        return
    rule_marks = ", ".join("?" for _ in rule_ids)
    for start in range(0, len(rowids), 500):
        chunk = list(rowids[start:start + 500])
        marks = ", ".join("?" for _ in chunk)
        store.conn.execute(f"DELETE FROM event_tags WHERE event_rowid IN ({marks}) AND rule_id IN ({rule_marks})",
                           (*chunk, *rule_ids))
        store.conn.execute(f"DELETE FROM event_values WHERE event_rowid IN ({marks}) AND key IN ({rule_marks})",
                           (*chunk, *rule_ids))


def tag_counts_of(store: Store, lead_id: str) -> dict[str, int]:
    """tag → how many of the lead's events carry it."""
    return {r[0]: r[1] for r in store.conn.execute(
        "SELECT tag, COUNT(*) FROM event_tags WHERE lead_id = ? GROUP BY tag", (lead_id,))}


# ---------------------------------------------------------------- keys


def customer_for_key(store: Store, kind: str, value: str) -> str | None:
    row = store.conn.execute("SELECT customer_id FROM customer_keys WHERE kind = ? AND value = ?", (kind, value)).fetchone()
    return row[0] if row else None


def lead_for_key(store: Store, kind: str, value: str) -> str | None:
    row = store.conn.execute("SELECT lead_id FROM lead_keys WHERE kind = ? AND value = ?", (kind, value)).fetchone()
    return row[0] if row else None


def bind_lead_key(store: Store, kind: str, value: str, lead_id: str) -> None:
    store.conn.execute(
        "INSERT INTO lead_keys (kind, value, lead_id) VALUES (?, ?, ?)"
        " ON CONFLICT (kind, value) DO UPDATE SET lead_id = excluded.lead_id", (kind, value, lead_id))


def staff_with_identity(store: Store, value: str) -> str | None:
    """The colleague who uses `value` on any platform (a WeCom id, a personal WeChat, a phone for telephony)."""
    row = store.conn.execute("SELECT identities.person_id FROM identities JOIN people ON people.id = identities.person_id"
                             " WHERE platform_user_id = ? AND people.active = 1 LIMIT 1", (value,)).fetchone()
    return row[0] if row else None


def lead_brief(store: Store, lead_id: str) -> tuple[str, str] | None:
    """(customer_id, status) of a lead."""
    row = store.conn.execute("SELECT customer_id, status FROM leads WHERE id = ?", (lead_id,)).fetchone()
    return (row[0], row[1]) if row else None


def customer_names(store: Store, limit: int = 20000) -> list[tuple[str, str]]:
    """(id, name) of customers, for "did you mean" suggestions."""
    return [(r[0], r[1]) for r in store.conn.execute("SELECT id, name FROM customers ORDER BY id LIMIT ?", (limit,))]


def customer_by_name(store: Store, name: str) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT id FROM customers WHERE name = ?", (name,))]


# ---------------------------------------------------------------- unmatched and late binding


@dataclass(frozen=True, slots=True)
class UnmatchedKey:
    match_key: str
    events: int
    first_at: int
    last_at: int
    sample: str
    name: str


def unmatched(store: Store, limit: int = 20) -> list[UnmatchedKey]:
    rows = store.conn.execute(
        "SELECT match_key, COUNT(*), MIN(occurred_at), MAX(occurred_at) FROM events"
        " WHERE customer_id IS NULL AND match_key IS NOT NULL GROUP BY match_key ORDER BY COUNT(*) DESC, match_key"
        " LIMIT ?", (limit,)).fetchall()
    out = []
    for key, n, first, last in rows:
        sample = store.conn.execute(
            "SELECT text, COALESCE(json_extract(data, '$.name'), '') FROM events"
            " WHERE customer_id IS NULL AND match_key = ? AND role = 'customer' ORDER BY occurred_at DESC LIMIT 1",
            (key,)).fetchone()
        out.append(UnmatchedKey(key, n, first, last, sample[0] if sample else "", sample[1] if sample else ""))
    return out


def unmatched_total(store: Store) -> tuple[int, int]:
    """(distinct keys, events) still unmatched."""
    r = store.conn.execute("SELECT COUNT(DISTINCT match_key), COUNT(*) FROM events"
                           " WHERE customer_id IS NULL AND match_key IS NOT NULL").fetchone()
    return r[0], r[1]


def unmatched_kinds_of(store: Store, value: str) -> list[str]:
    """Which unmatched match keys end in `value` (so /bind can accept a bare id and find its kind)."""
    return [r[0] for r in store.conn.execute(
        "SELECT DISTINCT match_key FROM events WHERE customer_id IS NULL AND match_key IN (?, ?, ?, ?, ?)",
        tuple(f"{k}:{value}" for k in ("external_id", "phone", "email", "chat", "platform_user")))]


def activity_span(store: Store, match_key: str) -> tuple[int, int | None, int | None]:
    """(events, first, last) of still-unmatched events with this key from people (bots excluded)."""
    r = store.conn.execute(
        "SELECT COUNT(*), MIN(occurred_at), MAX(occurred_at) FROM events"
        " WHERE customer_id IS NULL AND match_key = ? AND role <> 'bot'", (match_key,)).fetchone()
    return r[0], r[1], r[2]


# ---------------------------------------------------------------- cache invalidation for lead association

_WATCHED = (
    ("customer_keys", ("INSERT", "UPDATE", "DELETE")),
    ("lead_keys", ("INSERT", "UPDATE", "DELETE")),
    ("leads", ("INSERT", "DELETE", "UPDATE OF status, customer_id")),
    ("customers", ("DELETE",)),
    ("identities", ("INSERT", "UPDATE", "DELETE")),  # a colleague's id is never a customer (Associator.is_staff)
)


def install_change_hook(store: Store, callback) -> None:
    """Call `callback()` whenever this connection changes customer keys, lead keys, leads' status/customer or staff
    identities.

    TEMP triggers live only in this connection and call a Python function registered on it, so the association
    cache can keep answers forever and drop them the moment something in this process could change them; writes
    by other processes are caught by `data_version` below.
    """
    store.conn.create_function("sp_assoc_changed", 0, lambda: callback() or 0)
    for table, actions in _WATCHED:
        for i, action in enumerate(actions):
            store.conn.execute(
                f"CREATE TEMP TRIGGER IF NOT EXISTS sp_assoc_{table}_{i} AFTER {action} ON main.{table}"
                " BEGIN SELECT sp_assoc_changed(); END")


def data_version(store: Store) -> int:
    """Changes when another connection commits to the database file (SQLite PRAGMA data_version)."""
    return store.conn.execute("PRAGMA data_version").fetchone()[0]
