"""Pipeline snapshots (/漏斗): the open deals' stage and amount as they stood on a local day.

Why snapshots: the leads table keeps only the current stage, so "what moved since last week" needs the stage of a
week ago written down. Rows are per (day, lead); a day is taken once (the nightly job, or /漏斗 when today's is
missing) and pruned after [pipeline] keep_days.
"""

from __future__ import annotations

from dataclasses import dataclass

from store.db import Store


@dataclass(frozen=True, slots=True)
class DealState:
    id: str
    title: str
    owner_id: str | None
    status: str
    stage: str
    amount: float
    created_at: int
    closed_at: int | None


def current(store: Store, owners: list[str] | None) -> list[DealState]:
    """Every deal (any status) of these owners (None: everyone's), as it stands now."""
    sql = "SELECT id, title, owner_id, status, stage, amount, created_at, closed_at FROM leads"
    params: list = []
    if owners is not None:
        if not owners:
            return []
        sql += f" WHERE owner_id IN ({','.join('?' for _ in owners)})"
        params = list(owners)
    return [DealState(*r) for r in store.conn.execute(sql + " ORDER BY id", params)]


def has_day(store: Store, day: str) -> bool:
    return store.conn.execute("SELECT 1 FROM pipeline_snapshots WHERE day = ? LIMIT 1", (day,)).fetchone() is not None


def take(store: Store, day: str) -> int:
    """Write today's snapshot of every open deal (once per day: an existing day is left alone); rows written."""
    if has_day(store, day):
        return 0
    cur = store.conn.execute("INSERT INTO pipeline_snapshots (day, lead_id, stage, amount)"
                             " SELECT ?, id, stage, amount FROM leads WHERE status = 'open'", (day,))
    return cur.rowcount


def latest_day_on_or_before(store: Store, day: str, not_before: str) -> str | None:
    """The newest snapshot day in [not_before, day] (None: no snapshot that old, or too old to compare with)."""
    r = store.conn.execute("SELECT MAX(day) FROM pipeline_snapshots WHERE day <= ? AND day >= ?",
                           (day, not_before)).fetchone()
    return r[0] if r and r[0] else None


def on_day(store: Store, day: str) -> dict[str, tuple[str, float]]:
    """lead id → (stage, amount) of the deals open on that snapshot day."""
    return {r[0]: (r[1], r[2]) for r in store.conn.execute(
        "SELECT lead_id, stage, amount FROM pipeline_snapshots WHERE day = ?", (day,))}


def prune(store: Store, before_day: str) -> int:
    return store.conn.execute("DELETE FROM pipeline_snapshots WHERE day < ?", (before_day,)).rowcount


def amount_revisions_since(store: Store, since_ms: int) -> dict[str, str]:
    """lead id → the old value ("35万") of its first amount revision at or after `since_ms`: what the amount was
    then, for rebuilding last week's pipeline when no snapshot is that old."""
    out: dict[str, str] = {}
    for lead_id, old in store.conn.execute(
            "SELECT lead_id, old_value FROM deal_revisions WHERE field = 'amount' AND at >= ? ORDER BY at DESC, id DESC",
            (since_ms,)):
        out[lead_id] = old  # oldest last: it wins
    return out
