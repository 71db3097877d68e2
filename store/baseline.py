"""Reads for /baseline: follow-up points per lead and effective actions per person in a time window."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from store.db import Store


@dataclass
class LeadPoints:
    lead_id: str
    owner_id: str
    created_at: int
    status: str
    closed_at: int | None
    actions: list[int] = field(default_factory=list)  # times of the lead's action-tagged events, ascending


def _owner_filter(owner_ids: Iterable[str] | None) -> tuple[str, list[str]]:
    if owner_ids is None:
        return "l.owner_id IS NOT NULL", []
    owners = sorted(set(owner_ids))
    return f"l.owner_id IN ({','.join('?' for _ in owners) or 'NULL'})", owners


def lead_points(store: Store, owner_ids: Iterable[str] | None, category: str, since_ms: int,
                until_ms: int) -> list[LeadPoints]:
    """Leads of `owner_ids` (None = everyone's) that were open at some time in [since, until], with the times of
    their events tagged `category` up to `until` (each event once, however many such tags it carries)."""
    where, params = _owner_filter(owner_ids)
    live = f"{where} AND l.created_at <= ? AND (l.status = 'open' OR COALESCE(l.closed_at, 0) >= ?)"
    params = [*params, until_ms, since_ms]
    leads = {
        r[0]: LeadPoints(r[0], r[1], r[2], r[3], r[4])
        for r in store.conn.execute(
            f"SELECT l.id, l.owner_id, l.created_at, l.status, l.closed_at FROM leads l WHERE {live}", params)
    }
    rows = store.conn.execute(
        "SELECT t.lead_id, MIN(t.occurred_at) FROM event_tags t WHERE t.category = ? AND t.occurred_at <= ?"
        f" AND t.lead_id IN (SELECT l.id FROM leads l WHERE {live}) GROUP BY t.event_rowid ORDER BY 2",
        [category, until_ms, *params],
    )
    for lead_id, at in rows:
        leads[lead_id].actions.append(at)
    return list(leads.values())


def action_counts(store: Store, category: str, since_ms: int, until_ms: int) -> dict[str, int]:
    """person_id → how many distinct events tagged `category` they did in [since, until]."""
    rows = store.conn.execute(
        "SELECT e.person_id, COUNT(DISTINCT t.event_rowid) FROM event_tags t JOIN events e ON e.id = t.event_rowid"
        " WHERE t.category = ? AND t.occurred_at >= ? AND t.occurred_at <= ? AND e.person_id <> ''"
        " GROUP BY e.person_id", (category, since_ms, until_ms))
    return {r[0]: r[1] for r in rows}
