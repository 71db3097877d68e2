"""Numbers for the scheduled digests: what a team did in a time window."""

from __future__ import annotations

from collections.abc import Sequence

from store.db import Store


def tag_counts_by_category(store: Store, owner_ids: Sequence[str], start_ms: int, end_ms: int) -> dict[str, int]:
    """Tags on the owners' leads in [start, end), per category (销售动作 / 客户响应 / 跨部门协作)."""
    if not owner_ids:
        return {}
    marks = ",".join("?" for _ in owner_ids)
    rows = store.conn.execute(
        f"SELECT t.category, COUNT(*) FROM event_tags t JOIN leads l ON l.id = t.lead_id"
        f" WHERE l.owner_id IN ({marks}) AND t.occurred_at >= ? AND t.occurred_at < ? GROUP BY t.category",
        (*owner_ids, start_ms, end_ms),
    )
    return {r[0]: r[1] for r in rows}


def top_tags(store: Store, owner_ids: Sequence[str], start_ms: int, end_ms: int, n: int = 5) -> list[tuple[str, int]]:
    if not owner_ids:
        return []
    marks = ",".join("?" for _ in owner_ids)
    rows = store.conn.execute(
        f"SELECT t.tag, COUNT(*) FROM event_tags t JOIN leads l ON l.id = t.lead_id"
        f" WHERE l.owner_id IN ({marks}) AND t.occurred_at >= ? AND t.occurred_at < ?"
        " GROUP BY t.tag ORDER BY 2 DESC, 1 LIMIT ?",
        (*owner_ids, start_ms, end_ms, n),
    )
    return [(r[0], r[1]) for r in rows]


def active_leads(store: Store, owner_ids: Sequence[str], start_ms: int, end_ms: int) -> int:
    if not owner_ids:
        return 0
    marks = ",".join("?" for _ in owner_ids)
    return store.conn.execute(
        f"SELECT COUNT(*) FROM leads WHERE owner_id IN ({marks}) AND status = 'open'"
        " AND last_activity_at >= ? AND last_activity_at < ?",
        (*owner_ids, start_ms, end_ms),
    ).fetchone()[0]


def revision_reasons(store: Store, owner_ids: Sequence[str], start_ms: int, end_ms: int) -> list[tuple[str, int]]:
    """Forecast changes (deal_revisions) on the owners' deals in [start, end), counted per preset reason."""
    if not owner_ids:
        return []
    marks = ",".join("?" for _ in owner_ids)
    rows = store.conn.execute(
        f"SELECT r.reason, COUNT(*) FROM deal_revisions r JOIN leads l ON l.id = r.lead_id"
        f" WHERE l.owner_id IN ({marks}) AND r.at >= ? AND r.at < ? GROUP BY r.reason ORDER BY 2 DESC, 1",
        (*owner_ids, start_ms, end_ms),
    )
    return [(r[0], r[1]) for r in rows]
