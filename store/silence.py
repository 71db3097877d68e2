"""Silence state per open lead, and the history of silence alerts.

Why a state table and triggers: the sweep runs every minute over every open lead, so it must never scan leads.
`lead_silence` keeps one row per open lead with the time its silence clock runs from (`basis_at`), the deadline
computed from it (NULL means "recompute": that is how new activity reaches this table) and whether this episode
was already alerted. Triggers on `leads` (migration 0013) keep it in step with `leads.last_activity_at` (which
every capability already maintains through store.leads.touch) and with status changes, so no capability has to
call us. The sweep
then reads two partial indexes only: rows to recompute, and unalerted rows whose deadline has passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from store.db import Store


@dataclass(frozen=True, slots=True)
class Pending:
    lead_id: str
    basis_at: int
    alerted_at: int | None


@dataclass(frozen=True, slots=True)
class SilentLead:
    lead_id: str
    title: str
    customer_name: str
    owner_id: str | None
    basis_at: int
    deadline_at: int
    alerted_at: int | None


def invalidate_all(store: Store) -> int:
    """Every deadline is recomputed by the next sweeps (after the silence settings changed)."""
    return store.conn.execute("UPDATE lead_silence SET deadline_at = NULL WHERE deadline_at IS NOT NULL").rowcount


def pending(store: Store, limit: int) -> list[Pending]:
    """Rows whose deadline must be (re)computed: new leads and leads with new activity."""
    rows = store.conn.execute(
        "SELECT lead_id, basis_at, alerted_at FROM lead_silence INDEXED BY lead_silence_pending"
        " WHERE deadline_at IS NULL LIMIT ?", (limit,))
    return [Pending(r[0], r[1], r[2]) for r in rows]


def set_deadlines(store: Store, rows: Iterable[tuple[int, str]]) -> None:
    """(deadline_at, lead_id): the episode goes on (an alerted lead that is still silent stays alerted)."""
    store.conn.executemany("UPDATE lead_silence SET deadline_at = ? WHERE lead_id = ?", rows)


def resolve(store: Store, rows: Sequence[tuple[int, str, int]]) -> None:
    """(deadline_at, lead_id, activity_at): new activity ended an alerted episode."""
    store.conn.executemany("UPDATE lead_silence SET deadline_at = ?, alerted_at = NULL WHERE lead_id = ?",
                           [(d, lead) for d, lead, _ in rows])
    store.conn.executemany("UPDATE silence_alerts SET resolved_at = ? WHERE lead_id = ? AND resolved_at IS NULL",
                           [(at, lead) for _, lead, at in rows])


_SILENT_COLS = ("s.lead_id, l.title, COALESCE(c.name, l.customer_id), l.owner_id, s.basis_at, s.deadline_at,"
                " s.alerted_at")
_SILENT_FROM = " FROM lead_silence s {hint} JOIN leads l ON l.id = s.lead_id LEFT JOIN customers c ON c.id = l.customer_id"


def due(store: Store, now_ms: int, limit: int) -> list[SilentLead]:
    """Unalerted leads whose deadline has passed, oldest deadline first (an index range, never a scan)."""
    rows = store.conn.execute(
        f"SELECT {_SILENT_COLS}{_SILENT_FROM.format(hint='INDEXED BY lead_silence_due')}"
        " WHERE s.alerted_at IS NULL AND s.deadline_at <= ? ORDER BY s.deadline_at LIMIT ?",
        (now_ms, limit),
    )
    return [SilentLead(*r) for r in rows]


def mark_alerted(store: Store, lead: SilentLead, now_ms: int) -> None:
    """Record the alert for this episode (the outbox key, not this row, keeps a replay from alerting twice)."""
    store.conn.execute("UPDATE lead_silence SET alerted_at = ? WHERE lead_id = ?", (now_ms, lead.lead_id))
    store.conn.execute(
        "INSERT INTO silence_alerts (lead_id, basis_at, deadline_at, alerted_at, owner_id) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (lead_id, basis_at) DO UPDATE SET resolved_at = NULL",
        (lead.lead_id, lead.basis_at, lead.deadline_at, now_ms, lead.owner_id),
    )


def silent(store: Store, now_ms: int, owner_ids: Iterable[str] | None, limit: int = 50) -> tuple[int, list[SilentLead]]:
    """Currently silent open leads (deadline passed), longest silent first; `owner_ids` None = everyone's.
    Returns (total count, first `limit` rows)."""
    if owner_ids is None:
        where, params = "WHERE s.deadline_at <= ?", [now_ms]
    else:
        owners = sorted(set(owner_ids))
        if not owners:
            return 0, []
        marks = ",".join("?" for _ in owners)
        where, params = f"WHERE l.owner_id IN ({marks}) AND l.status = 'open' AND s.deadline_at <= ?", [*owners, now_ms]
    frm = _SILENT_FROM.format(hint="")
    total = store.conn.execute(f"SELECT COUNT(*){frm} {where}", params).fetchone()[0]
    rows = store.conn.execute(f"SELECT {_SILENT_COLS}{frm} {where} ORDER BY s.basis_at LIMIT ?", [*params, limit])
    return total, [SilentLead(*r) for r in rows]


def state(store: Store, lead_id: str) -> tuple[int, int | None, int | None] | None:
    """(basis_at, deadline_at, alerted_at) of one lead, None when it has no silence row (closed or unknown)."""
    r = store.conn.execute("SELECT basis_at, deadline_at, alerted_at FROM lead_silence WHERE lead_id = ?",
                           (lead_id,)).fetchone()
    return (r[0], r[1], r[2]) if r else None


def alerts(store: Store, lead_id: str | None = None) -> list[dict]:
    """Alert history (tests, digests)."""
    sql = "SELECT lead_id, basis_at, deadline_at, alerted_at, owner_id, resolved_at FROM silence_alerts"
    params: tuple = ()
    if lead_id is not None:
        sql += " WHERE lead_id = ?"
        params = (lead_id,)
    return [dict(r) for r in store.conn.execute(sql + " ORDER BY alerted_at, id", params)]


def customer_quotes(store: Store, lead_id: str, n: int) -> list[tuple[int, str]]:
    """The customer's last `n` things said on this lead, newest first: (occurred_at, text).

    Only chat messages count: a tracked-document open is stored with the customer's role and the document's name
    as its text, but "客户打开了 方案.pdf" is not something the customer said. A message the customer recalled
    (撤回) is not quoted either, nor the recall notice itself."""
    rows = store.conn.execute(
        "SELECT e.occurred_at, e.text FROM events e WHERE e.lead_id = ? AND e.role = 'customer'"
        " AND e.type = 'message' AND e.kind <> 'recall' AND e.text <> ''"
        " AND NOT EXISTS (SELECT 1 FROM events r WHERE r.lead_id = e.lead_id AND r.kind = 'recall'"
        "  AND r.type = 'message' AND json_extract(r.data, '$.recalled_id') = e.event_id)"
        " ORDER BY e.occurred_at DESC LIMIT ?", (lead_id, n))
    return [(r[0], r[1]) for r in rows]


# ---------------------------------------------------------------- bulk loading (bench/silence.py only)


def bulk_customers_and_leads(store: Store, customers: Sequence[tuple], leads: Sequence[tuple]) -> None:
    """customers: (id, name, owner_id, created_at); leads: (id, customer_id, owner_id, title, created_at,
    last_activity_at). The insert trigger creates each lead's silence row."""
    store.conn.executemany("INSERT INTO customers (id, name, owner_id, created_at) VALUES (?, ?, ?, ?)", customers)
    store.conn.executemany(
        "INSERT INTO leads (id, customer_id, owner_id, title, created_at, last_activity_at, first_touch_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)", [(*row, row[4]) for row in leads])


def bulk_steady_state(store: Store, hours_ms: int, as_of_ms: int) -> int:
    """The state earlier sweeps would have left at `as_of_ms` (wall-clock hours): every deadline computed, every
    lead silent by then alerted. Returns how many are alerted."""
    conn = store.conn
    conn.execute("UPDATE lead_silence SET deadline_at = basis_at + ? WHERE deadline_at IS NULL", (hours_ms,))
    conn.execute("UPDATE lead_silence SET alerted_at = deadline_at WHERE deadline_at <= ?", (as_of_ms,))
    conn.execute(
        "INSERT OR IGNORE INTO silence_alerts (lead_id, basis_at, deadline_at, alerted_at, owner_id)"
        " SELECT s.lead_id, s.basis_at, s.deadline_at, s.alerted_at, l.owner_id FROM lead_silence s"
        " JOIN leads l ON l.id = s.lead_id WHERE s.alerted_at IS NOT NULL")
    return conn.execute("SELECT COUNT(*) FROM silence_alerts").fetchone()[0]


def explain_sweep(store: Store, now_ms: int) -> list[str]:
    """The query plans of the sweep's two reads (the benchmark prints them: both must be index searches)."""
    plans = []
    for sql, params in (
        ("SELECT lead_id FROM lead_silence INDEXED BY lead_silence_pending WHERE deadline_at IS NULL LIMIT 1", ()),
        (f"SELECT {_SILENT_COLS}{_SILENT_FROM.format(hint='INDEXED BY lead_silence_due')}"
         " WHERE s.alerted_at IS NULL AND s.deadline_at <= ? ORDER BY s.deadline_at LIMIT 500", (now_ms,)),
    ):
        plans.extend(r[3] for r in store.conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    return plans


def active_sibling(store: Store, lead_id: str, since_ms: int) -> tuple[str, str, int] | None:
    """Another open lead of the same customer with activity after `since_ms`: (lead id, title, last activity), the
    most recent. Why: activity with a customer lands on one of its open leads (the newest, or a bound one), so
    an older project can look silent while the customer talks every day about another."""
    row = store.conn.execute(
        "SELECT o.id, o.title, o.last_activity_at FROM leads l JOIN leads o ON o.customer_id = l.customer_id"
        " WHERE l.id = ? AND o.id <> l.id AND o.status = 'open' AND o.last_activity_at > ?"
        " ORDER BY o.last_activity_at DESC LIMIT 1", (lead_id, since_ms)).fetchone()
    return (row[0], row[1], row[2]) if row else None
