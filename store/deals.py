"""Deals: a lead (the spine: amount, product, stage, status, dates, owner) plus the forecasting fields kept in
`deal_details` — intent letter and its hard conditions, decision chain, competitors, validation, legal, customer
coefficients. One row per lead; a lead without details simply has none (every field is optional to the model).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from store import like
from store.db import Store


@dataclass(frozen=True, slots=True)
class Details:
    industry: str = ""
    customer_known: bool = True
    intent_letter: bool = False
    has_seal: bool = False
    has_budget_range: bool = False
    has_named_contact: bool = False
    has_next_meeting: bool = False
    intent_force: str = ""
    decision_people: int = 0
    decision_rank: int = 0
    rank_change: int = 0
    approver_met: bool | None = None
    competitors: int = 0
    competitor_move: bool = False
    tech_validation: float | None = None
    disputed_clauses: int = 0
    legal_review: str = ""
    payment_punctuality: float | None = None
    years_cooperation: float = 0.0
    budget_share: float | None = None
    close_slips: int = 0
    sentiment: int = 0
    probability_override: float | None = None
    source: str = ""
    committed: bool = False  # a deposit paid / a tender won (/备注): the intent letter's conditions no longer cap
    called_off: bool = False  # the rep wrote the deal is off (/备注 项目取消了): capped low until the CRM closes it


DETAIL_FIELDS = tuple(f.name for f in dataclasses.fields(Details))
_BOOL = {"customer_known", "intent_letter", "has_seal", "has_budget_range", "has_named_contact", "has_next_meeting",
         "competitor_move", "committed", "called_off"}


def _details(row: Sequence) -> Details:
    values = {}
    for name, v in zip(DETAIL_FIELDS, row, strict=True):
        if name in _BOOL:
            v = bool(v)
        elif name == "approver_met":
            v = None if v is None else bool(v)
        values[name] = v
    return Details(**values)


@dataclass(frozen=True, slots=True)
class Deal:
    """A lead joined with its customer and details: what the model, health and the commands read."""

    id: str
    title: str
    customer_id: str
    customer_name: str
    customer_industry: str
    owner_id: str | None
    status: str
    stage: str
    product: str
    amount: float
    created_at: int
    expected_close_at: int | None
    closed_at: int | None
    last_activity_at: int | None
    details: Details

    @property
    def industry(self) -> str:
        return self.details.industry or self.customer_industry


_D_COLS = ", ".join(f"d.{n}" for n in DETAIL_FIELDS)
_SELECT = (f"SELECT l.id, l.title, l.customer_id, COALESCE(c.name, ''), COALESCE(c.industry, ''), l.owner_id, l.status,"
           f" l.stage, l.product, l.amount, l.created_at, l.expected_close_at, l.closed_at, l.last_activity_at,"
           f" d.lead_id, {_D_COLS} FROM leads l LEFT JOIN customers c ON c.id = l.customer_id"
           f" LEFT JOIN deal_details d ON d.lead_id = l.id")


def _deal(r: Sequence) -> Deal:
    details = _details(r[15:]) if r[14] is not None else Details()
    return Deal(*r[:14], details=details)


def get(store: Store, lead_id: str) -> Deal | None:
    r = store.conn.execute(_SELECT + " WHERE l.id = ?", (lead_id,)).fetchone()
    return _deal(r) if r else None


def any_deal(store: Store, owners: Iterable[str] | None = None) -> bool:
    """Whether any deal (open or closed) is owned by `owners` (None = anyone)."""
    if owners is None:
        return store.conn.execute("SELECT 1 FROM leads LIMIT 1").fetchone() is not None
    owners = list(owners)
    if not owners:
        return False
    return store.conn.execute(f"SELECT 1 FROM leads WHERE owner_id IN ({','.join('?' for _ in owners)}) LIMIT 1",
                              owners).fetchone() is not None


def listing(store: Store, *, status: str | None = None, owners: Iterable[str] | None = None) -> list[Deal]:
    """Deals, optionally only one status and only these owners (None = everyone)."""
    where, params = [], []
    if status:
        where.append("l.status = ?")
        params.append(status)
    if owners is not None:
        owners = list(owners)
        if not owners:
            return []
        where.append(f"l.owner_id IN ({','.join('?' for _ in owners)})")
        params.extend(owners)
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY l.created_at, l.id"
    return [_deal(r) for r in store.conn.execute(sql, params)]


def search(store: Store, text: str, owners: Iterable[str] | None = None, limit: int = 10) -> list[Deal]:
    """Deals whose id, title or customer name contains `text`; open ones first."""
    params: list = [text, like.contains(text), like.contains(text)]
    sql = _SELECT + f" WHERE (l.id = ? OR l.title LIKE ?{like.ESCAPE} OR c.name LIKE ?{like.ESCAPE})"
    if owners is not None:
        owners = list(owners)
        if not owners:
            return []
        sql += f" AND l.owner_id IN ({','.join('?' for _ in owners)})"
        params.extend(owners)
    sql += " ORDER BY l.status = 'open' DESC, length(l.title), l.created_at DESC LIMIT ?"
    params.append(limit)
    return [_deal(r) for r in store.conn.execute(sql, params)]


def upsert_details(store: Store, lead_id: str, now_ms: int, **fields) -> None:
    """Create the details row if missing, then set the given fields (unknown names raise)."""
    bad = set(fields) - set(DETAIL_FIELDS)
    if bad:
        raise KeyError(f"unknown deal fields: {sorted(bad)}")
    store.conn.execute("INSERT OR IGNORE INTO deal_details (lead_id, updated_at) VALUES (?, ?)", (lead_id, now_ms))
    if fields:
        sets = ", ".join(f"{k} = ?" for k in fields)
        values = [int(v) if isinstance(v, bool) else v for v in fields.values()]
        store.conn.execute(f"UPDATE deal_details SET {sets}, updated_at = ? WHERE lead_id = ?",
                           (*values, now_ms, lead_id))


def set_amount(store: Store, lead_id: str, amount: float) -> None:
    store.conn.execute("UPDATE leads SET amount = ? WHERE id = ?", (amount, lead_id))


def set_expected_close(store: Store, lead_id: str, at_ms: int) -> None:
    store.conn.execute("UPDATE leads SET expected_close_at = ? WHERE id = ?", (at_ms, lead_id))


def last_customer_response(store: Store, lead_ids: Sequence[str]) -> dict[str, int]:
    """Latest event from the customer side per lead (customer responsiveness for health)."""
    out: dict[str, int] = {}
    for i in range(0, len(lead_ids), 500):
        chunk = list(lead_ids[i:i + 500])
        marks = ",".join("?" for _ in chunk)
        for lead_id, at in store.conn.execute(
                f"SELECT lead_id, MAX(occurred_at) FROM events WHERE role = 'customer' AND lead_id IN ({marks})"
                " GROUP BY lead_id", chunk):
            out[lead_id] = at
    return out


def tag_counts(store: Store, lead_ids: Sequence[str], since_ms: int) -> dict[str, dict[str, int]]:
    """Behaviour tags per lead since a time, by category (features when the visibility work produced any)."""
    out: dict[str, dict[str, int]] = {}
    for i in range(0, len(lead_ids), 500):
        chunk = list(lead_ids[i:i + 500])
        marks = ",".join("?" for _ in chunk)
        for lead_id, category, n in store.conn.execute(
                f"SELECT lead_id, category, COUNT(*) FROM event_tags WHERE occurred_at >= ? AND lead_id IN ({marks})"
                " GROUP BY lead_id, category", (since_ms, *chunk)):
            out.setdefault(lead_id, {})[category] = n
    return out


def add_note(store: Store, lead_id: str, text: str, understood: str, not_understood: str, person_id: str,
             at: int, event_at: int | None) -> int:
    cur = store.conn.execute(
        "INSERT INTO deal_notes (lead_id, text, understood, not_understood, person_id, at, event_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)", (lead_id, text, understood, not_understood, person_id, at, event_at))
    return cur.lastrowid


def notes(store: Store, lead_id: str, limit: int = 5) -> list[tuple[str, int]]:
    return [tuple(r) for r in store.conn.execute(
        "SELECT text, at FROM deal_notes WHERE lead_id = ? ORDER BY at DESC, id DESC LIMIT ?", (lead_id, limit))]


def details_version(store: Store) -> tuple[int, int]:
    """(rows, latest update) of deal_details: changes whenever any deal's details change (model cache key)."""
    r = store.conn.execute("SELECT COUNT(*), COALESCE(MAX(updated_at), 0) FROM deal_details").fetchone()
    return int(r[0]), int(r[1])


def count_details(store: Store) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM deal_details").fetchone()[0]
