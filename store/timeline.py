"""Reads for /timeline and /heatmap: finding a lead by what a person types, its tags and its tagged events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from store import like
from store.db import Store


@dataclass(frozen=True, slots=True)
class LeadRef:
    lead_id: str
    title: str
    customer_name: str
    owner_id: str | None
    status: str
    created_at: int
    customer_id: str


@dataclass(frozen=True, slots=True)
class TimelineRow:
    occurred_at: int
    person_id: str
    role: str
    actor_id: str
    kind: str
    text: str
    tags: str  # "tag|category" pairs joined by "\n"


_REF = "l.id, l.title, COALESCE(c.name, ''), l.owner_id, l.status, l.created_at, l.customer_id"


def _owner_filter(owner_ids: Iterable[str] | None) -> tuple[str | None, list[str]]:
    """(" AND l.owner_id IN (…)", owners) for a scope; ("", []) for everyone; (None, []) for nobody."""
    if owner_ids is None:
        return "", []
    owners = sorted(set(owner_ids))
    if not owners:
        return None, []
    return f" AND l.owner_id IN ({','.join('?' for _ in owners)})", owners


def search_leads(store: Store, text: str, owner_ids: Iterable[str] | None, limit: int = 8) -> list[LeadRef]:
    """Leads whose id is `text`, or whose title or customer name contains it, among `owner_ids` (None = all).
    Exact id first, then open leads, then newest."""
    owner_sql, owners = _owner_filter(owner_ids)
    if owner_sql is None:
        return []
    params: list = [text, like.contains(text), like.contains(text), *owners]
    rows = store.conn.execute(
        f"SELECT {_REF} FROM leads l LEFT JOIN customers c ON c.id = l.customer_id"
        " WHERE (l.id = ? OR l.title LIKE ? ESCAPE '\\' OR c.name LIKE ? ESCAPE '\\')" + owner_sql +
        " ORDER BY l.id = ? DESC, l.status = 'open' DESC, l.created_at DESC LIMIT ?",
        [*params, text, limit],
    )
    return [LeadRef(*r) for r in rows]


def lead_ref(store: Store, lead_id: str) -> LeadRef | None:
    r = store.conn.execute(
        f"SELECT {_REF} FROM leads l LEFT JOIN customers c ON c.id = l.customer_id WHERE l.id = ?", (lead_id,)
    ).fetchone()
    return LeadRef(*r) if r else None


def tag_points(store: Store, lead_id: str, since_ms: int, until_ms: int) -> list[tuple[int, str, float]]:
    """(occurred_at, category, weight) of every tag on the lead in [since, until]."""
    rows = store.conn.execute(
        "SELECT occurred_at, category, weight FROM event_tags WHERE lead_id = ? AND occurred_at >= ?"
        " AND occurred_at <= ? ORDER BY occurred_at", (lead_id, since_ms, until_ms))
    return [(r[0], r[1], r[2]) for r in rows]


def activity_times(store: Store, lead_id: str, since_ms: int, until_ms: int) -> list[int]:
    """When the lead had activity in [since, until]: every stored event on it from a person (the bot's own
    messages excluded) — what handlers/tagging.py counts as a touch, tagged or not. The heatmap's cold zones use it
    so that a day drawn cold is a day without any activity, the same test the silence alert applies."""
    rows = store.conn.execute(
        "SELECT occurred_at FROM events WHERE lead_id = ? AND occurred_at >= ? AND occurred_at <= ? AND role <> 'bot'",
        (lead_id, since_ms, until_ms))
    return [r[0] for r in rows]


def first_tag_at(store: Store, lead_id: str) -> int | None:
    return store.conn.execute("SELECT MIN(occurred_at) FROM event_tags WHERE lead_id = ?", (lead_id,)).fetchone()[0]


def tagged_events(store: Store, lead_id: str, limit: int) -> list[TimelineRow]:
    """The lead's last `limit` tagged events, oldest first, each with its tags."""
    rows = store.conn.execute(
        "SELECT * FROM (SELECT e.occurred_at, e.person_id, e.role, e.actor_id, e.kind, e.text,"
        " GROUP_CONCAT(t.tag || '|' || t.category, char(10)) AS tags, e.id AS rid"
        " FROM event_tags t JOIN events e ON e.id = t.event_rowid WHERE t.lead_id = ?"
        " GROUP BY e.id ORDER BY e.occurred_at DESC, e.id DESC LIMIT ?) ORDER BY occurred_at, rid",
        (lead_id, limit),
    )
    return [TimelineRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


def count_tagged_events(store: Store, lead_id: str) -> int:
    return store.conn.execute(
        "SELECT COUNT(DISTINCT event_rowid) FROM event_tags WHERE lead_id = ?", (lead_id,)).fetchone()[0]


def open_leads(store: Store, owner_ids: Iterable[str] | None, limit: int = 5000) -> list[LeadRef]:
    """Open leads among `owner_ids` (None = all), newest first: the pool for "did you mean" suggestions."""
    owner_sql, owners = _owner_filter(owner_ids)
    if owner_sql is None:
        return []
    params: list = [*owners]
    rows = store.conn.execute(
        f"SELECT {_REF} FROM leads l LEFT JOIN customers c ON c.id = l.customer_id WHERE l.status = 'open'"
        f"{owner_sql} ORDER BY l.created_at DESC LIMIT ?", [*params, limit])
    return [LeadRef(*r) for r in rows]
