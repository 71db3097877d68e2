"""What /今日 reads that no other store module answers: deals whose next step (from a debrief) is due."""

from __future__ import annotations

from dataclasses import dataclass

from store.db import Store


@dataclass(frozen=True, slots=True)
class NextStep:
    lead_id: str
    title: str
    owner_id: str | None
    action: str
    due_date: str  # ISO date
    person: str


def next_steps_due(store: Store, owners: list[str] | None, until_day: str, limit: int = 50) -> list[NextStep]:
    """Open deals of these owners (None: everyone's) whose next step is due on or before `until_day`, oldest first."""
    sql = ("SELECT l.id, l.title, l.owner_id, n.action, n.due_date, n.person FROM deal_next_steps n"
           " JOIN leads l ON l.id = n.lead_id WHERE l.status = 'open' AND n.due_date <> '' AND n.due_date <= ?")
    params: list = [until_day]
    if owners is not None:
        if not owners:
            return []
        sql += f" AND l.owner_id IN ({','.join('?' for _ in owners)})"
        params.extend(owners)
    return [NextStep(*r) for r in store.conn.execute(sql + " ORDER BY n.due_date, l.title LIMIT ?", (*params, limit))]
