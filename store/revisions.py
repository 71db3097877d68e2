"""The audit trail of forecast changes: who changed what on which deal, when, from what to what, and why.

Rows are only ever inserted; /revisions reads them back as a reason × week table.
"""

from __future__ import annotations

from dataclasses import dataclass

from store.db import Store


@dataclass(frozen=True, slots=True)
class Revision:
    id: int
    lead_id: str
    field: str
    old_value: str
    new_value: str
    reason: str
    person_id: str
    at: int


_C = "id, lead_id, field, old_value, new_value, reason, person_id, at"


def add(store: Store, lead_id: str, field: str, old: str, new: str, reason: str, person_id: str, at: int,
        source_event_id: str = "") -> int:
    cur = store.conn.execute(
        "INSERT INTO deal_revisions (lead_id, field, old_value, new_value, reason, person_id, at, source_event_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (lead_id, field, old, new, reason, person_id, at, source_event_id))
    return cur.lastrowid


def for_lead(store: Store, lead_id: str, limit: int = 20) -> list[Revision]:
    return [Revision(*r) for r in store.conn.execute(
        f"SELECT {_C} FROM deal_revisions WHERE lead_id = ? ORDER BY at DESC, id DESC LIMIT ?", (lead_id, limit))]


def since(store: Store, since_ms: int, lead_ids: list[str] | None = None) -> list[Revision]:
    """Revisions since a time, optionally only on these deals (the asker's scope)."""
    if lead_ids is None:
        return [Revision(*r) for r in store.conn.execute(
            f"SELECT {_C} FROM deal_revisions WHERE at >= ? ORDER BY at, id", (since_ms,))]
    out: list[Revision] = []
    for i in range(0, len(lead_ids), 500):
        chunk = lead_ids[i:i + 500]
        marks = ",".join("?" for _ in chunk)
        out.extend(Revision(*r) for r in store.conn.execute(
            f"SELECT {_C} FROM deal_revisions WHERE at >= ? AND lead_id IN ({marks}) ORDER BY at, id",
            (since_ms, *chunk)))
    out.sort(key=lambda r: (r.at, r.id))
    return out
