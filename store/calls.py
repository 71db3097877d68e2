"""Call records and missed-call episodes.

`call_log` keeps every call we saw so a callback is found whatever order the records arrive in (a CSV export is not
always sorted). `missed_calls` holds one row per missed-call episode and its life: pending while the return window
runs, then returned (someone called back or wrote to the customer), or escalated once (rep, manager, 客服 alerted),
then claimed / handled from the alert card.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.phones import normalise_phone
from store.db import Store

OPEN_STATUSES = ("pending", "escalated", "claimed")
_STAFF_ROLES = ("rep", "manager", "cs")


@dataclass(frozen=True, slots=True)
class MissedCall:
    id: int
    event_id: str
    phone: str
    customer_id: str | None
    lead_id: str | None
    rep_id: str
    missed_at: int
    last_missed_at: int
    attempts: int
    due_at: int
    status: str
    returned_at: int | None
    returned_by: str
    escalated_at: int | None
    recipients: tuple[str, ...]
    handled_by: str
    handled_at: int | None


_M = ("id, event_id, phone, customer_id, lead_id, rep_id, missed_at, last_missed_at, attempts, due_at, status,"
      " returned_at, returned_by, escalated_at, recipients, handled_by, handled_at")


def _missed(r) -> MissedCall:
    values = list(r)
    values[14] = tuple(p for p in (values[14] or "").split(",") if p)
    return MissedCall(*values)


# ---------------------------------------------------------------- call log


def log_call(store: Store, event_id: str, occurred_at: int, direction: str, phone: str, answered: bool,
             duration_s: int, person_id: str, customer_id: str | None) -> bool:
    """Remember one call; False when this event was already logged (a replayed inbox row)."""
    cur = store.conn.execute(
        "INSERT OR IGNORE INTO call_log (event_id, occurred_at, direction, phone, answered, duration_s, person_id,"
        " customer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (event_id, occurred_at, direction, phone, int(answered), duration_s, person_id, customer_id),
    )
    return cur.rowcount == 1


def first_return(store: Store, phone: str, customer_id: str | None, start_ms: int, end_ms: int,
                 exclude_event_id: str = "") -> tuple[int, str] | None:
    """The earliest sign the customer was attended to in [start, end]: (time, person id) or None.

    Counts any outbound call attempt to the number (answered or not: a callback attempt is a return), an answered
    inbound call from the same number, and a message from staff (rep, manager, 客服) stored against the customer.
    "The number" is any of the customer's phone numbers: a callback to their mobile returns a missed call from
    their switchboard, as it does when the records arrive in order (handlers/calls.py `_returned` matches the
    customer), so the outcome does not depend on the order of an unsorted export.
    """
    found: list[tuple[int, str]] = []
    phones = [phone]
    if customer_id:
        for (value,) in store.conn.execute(
                "SELECT value FROM customer_keys WHERE customer_id = ? AND kind = 'phone' LIMIT 20", (customer_id,)):
            other = normalise_phone(value)
            if other and other not in phones:
                phones.append(other)
    marks = ", ".join("?" for _ in phones)
    row = store.conn.execute(
        f"SELECT occurred_at, person_id FROM call_log WHERE phone IN ({marks}) AND occurred_at BETWEEN ? AND ?"
        " AND event_id != ? AND (direction = 'outbound' OR answered = 1) ORDER BY occurred_at LIMIT 1",
        (*phones, start_ms, end_ms, exclude_event_id),
    ).fetchone()
    if row:
        found.append((row[0], row[1]))
    if customer_id:
        row = store.conn.execute(
            "SELECT occurred_at, person_id FROM events WHERE customer_id = ? AND type = 'message'"
            f" AND role IN ({', '.join('?' for _ in _STAFF_ROLES)}) AND occurred_at BETWEEN ? AND ?"
            " ORDER BY occurred_at LIMIT 1",
            (customer_id, *_STAFF_ROLES, start_ms, end_ms),
        ).fetchone()
        if row:
            found.append((row[0], row[1]))
    return min(found) if found else None


def calls_between(store: Store, phone: str, start_ms: int, end_ms: int) -> int:
    return store.conn.execute(
        "SELECT COUNT(*) FROM call_log WHERE phone = ? AND occurred_at BETWEEN ? AND ?", (phone, start_ms, end_ms)
    ).fetchone()[0]


# ---------------------------------------------------------------- missed-call episodes


def pending_for_phone(store: Store, phone: str) -> MissedCall | None:
    r = store.conn.execute(
        f"SELECT {_M} FROM missed_calls WHERE phone = ? AND status = 'pending' ORDER BY missed_at LIMIT 1", (phone,)
    ).fetchone()
    return _missed(r) if r else None


def add_missed(store: Store, event_id: str, phone: str, customer_id: str | None, lead_id: str | None, rep_id: str,
               missed_at: int, due_at: int, status: str = "pending") -> int | None:
    """Open an episode; None when this event already opened one (replay)."""
    cur = store.conn.execute(
        "INSERT OR IGNORE INTO missed_calls (event_id, phone, customer_id, lead_id, rep_id, missed_at, last_missed_at,"
        " due_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (event_id, phone, customer_id, lead_id, rep_id, missed_at, missed_at, due_at, status),
    )
    return cur.lastrowid if cur.rowcount == 1 else None


def add_attempt(store: Store, missed_id: int, at_ms: int, due_at: int) -> None:
    """The customer called again, still unanswered: same episode, one more attempt. An earlier call that arrives
    late (unsorted export) moves the start and the deadline back."""
    store.conn.execute(
        "UPDATE missed_calls SET attempts = attempts + 1, last_missed_at = MAX(last_missed_at, ?),"
        " missed_at = MIN(missed_at, ?), due_at = MIN(due_at, ?) WHERE id = ?",
        (at_ms, at_ms, due_at, missed_id),
    )


def get(store: Store, missed_id: int) -> MissedCall | None:
    r = store.conn.execute(f"SELECT {_M} FROM missed_calls WHERE id = ?", (missed_id,)).fetchone()
    return _missed(r) if r else None


def due(store: Store, until_ms: int, limit: int = 500) -> list[MissedCall]:
    rows = store.conn.execute(
        f"SELECT {_M} FROM missed_calls WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?",
        (until_ms, limit),
    )
    return [_missed(r) for r in rows]


class _OpenWatch:
    __slots__ = ("dirty", "version", "any")

    def __init__(self) -> None:
        self.dirty = True
        self.version = -1
        self.any = True

    def changed(self) -> int:
        self.dirty = True
        return 0


def watch_open(store: Store) -> None:
    """Let `any_open` cache its answer on this connection: a TEMP trigger on missed_calls flags every change made
    through it (a rolled-back change too, which only costs one extra query), and SQLite's data_version reveals
    commits by other connections. Call outside a transaction: a TEMP trigger created inside one would vanish with
    its rollback."""
    if getattr(store, "_calls_open_watch", None) is not None or store.conn.in_transaction:
        return
    watch = _OpenWatch()
    store.conn.create_function("sp_calls_changed", 0, watch.changed)
    for i, action in enumerate(("INSERT", "UPDATE", "DELETE")):
        store.conn.execute(f"CREATE TEMP TRIGGER IF NOT EXISTS sp_calls_missed_{i} AFTER {action} ON main.missed_calls"
                           " BEGIN SELECT sp_calls_changed(); END")
    store._calls_open_watch = watch


def _any_open_query(store: Store) -> bool:
    return bool(store.conn.execute(
        "SELECT EXISTS (SELECT 1 FROM missed_calls WHERE status IN ('pending', 'escalated', 'claimed'))").fetchone()[0])


def any_open(store: Store) -> bool:
    """Is any missed-call episode open (pending, escalated, claimed)? Cached per connection (see watch_open)."""
    watch = getattr(store, "_calls_open_watch", None)
    if watch is None:
        return _any_open_query(store)
    version = store.conn.execute("PRAGMA data_version").fetchone()[0]
    if watch.dirty or version != watch.version:
        watch.dirty = False
        watch.version = version
        watch.any = _any_open_query(store)
    return watch.any


def open_matching(store: Store, phone: str, customer_id: str | None, at_ms: int) -> list[MissedCall]:
    """Open episodes (pending, escalated, claimed) of this number or customer that began at or before `at_ms`."""
    rows = store.conn.execute(
        f"SELECT {_M} FROM missed_calls WHERE status IN ('pending', 'escalated', 'claimed') AND missed_at <= ?"
        " AND (phone = ? OR (customer_id IS NOT NULL AND customer_id = ?)) ORDER BY id",
        (at_ms, phone, customer_id or ""),
    )
    return [_missed(r) for r in rows]


def mark_returned(store: Store, missed_id: int, at_ms: int, by: str) -> bool:
    """Pending → returned (no alert needed)."""
    cur = store.conn.execute(
        "UPDATE missed_calls SET status = 'returned', returned_at = ?, returned_by = ? WHERE id = ? AND status = 'pending'",
        (at_ms, by, missed_id),
    )
    return cur.rowcount == 1


def mark_stale(store: Store, missed_id: int) -> bool:
    """Pending → stale: too old to be worth an alert (the bot was down, or an old export was imported)."""
    cur = store.conn.execute("UPDATE missed_calls SET status = 'stale' WHERE id = ? AND status = 'pending'", (missed_id,))
    return cur.rowcount == 1


def mark_escalated(store: Store, missed_id: int, at_ms: int, recipients: list[str]) -> bool:
    """Pending → escalated; False when another sweep got there first (so the alert goes out once)."""
    cur = store.conn.execute(
        "UPDATE missed_calls SET status = 'escalated', escalated_at = ?, recipients = ? WHERE id = ? AND status = 'pending'",
        (at_ms, ",".join(recipients), missed_id),
    )
    return cur.rowcount == 1


def claim(store: Store, missed_id: int, person_id: str, at_ms: int) -> bool:
    """Escalated → claimed by `person_id` ("我来回电"); False when someone else already claimed or handled it."""
    cur = store.conn.execute(
        "UPDATE missed_calls SET status = 'claimed', handled_by = ?, handled_at = ? WHERE id = ? AND status = 'escalated'",
        (person_id, at_ms, missed_id),
    )
    return cur.rowcount == 1


def finish(store: Store, missed_id: int, person_id: str, at_ms: int, *, returned: bool = False) -> bool:
    """Escalated or claimed (by the same person) → handled ("已处理", or a callback that came after the alert)."""
    cur = store.conn.execute(
        "UPDATE missed_calls SET status = 'handled', handled_by = ?, handled_at = ?,"
        " returned_at = CASE WHEN ? THEN ? ELSE returned_at END, returned_by = CASE WHEN ? THEN ? ELSE returned_by END"
        " WHERE id = ? AND (status = 'escalated' OR (status = 'claimed' AND (handled_by = ? OR ?)))",
        (person_id, at_ms, int(returned), at_ms, int(returned), person_id, missed_id, person_id, int(returned)),
    )
    return cur.rowcount == 1


def open_list(store: Store, rep_ids: list[str] | None, limit: int = 50) -> list[MissedCall]:
    """Open episodes, newest first; only those of `rep_ids` (owner or called rep) unless None (everyone)."""
    sql = f"SELECT {_M} FROM missed_calls WHERE status IN ('pending', 'escalated', 'claimed')"
    params: list = []
    if rep_ids is not None:
        if not rep_ids:
            return []
        marks = ", ".join("?" for _ in rep_ids)
        sql += f" AND (rep_id IN ({marks}) OR lead_id IN (SELECT id FROM leads WHERE owner_id IN ({marks})))"
        params += [*rep_ids, *rep_ids]
    sql += " ORDER BY missed_at DESC LIMIT ?"
    return [_missed(r) for r in store.conn.execute(sql, (*params, limit))]
