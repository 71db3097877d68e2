"""Sales targets set from chat (/目标) and their audit trail.

Keys are the forecast's: scope "company" / "team:<团队名>" / "rep:<person id>", period a label such as 2026Q3 or
2026-06. Every change inserts an audit row (who, when, old, new) in the same transaction as the target itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from store.db import Store


@dataclass(frozen=True, slots=True)
class Target:
    scope_key: str
    period: str
    amount: float
    set_by: str
    set_at: int


@dataclass(frozen=True, slots=True)
class Change:
    scope_key: str
    period: str
    old_amount: float | None
    new_amount: float | None  # None: the target was deleted
    person_id: str
    at: int


def get(store: Store, scope_key: str, period: str) -> Target | None:
    r = store.conn.execute("SELECT scope_key, period, amount, set_by, set_at FROM sales_targets"
                           " WHERE scope_key = ? AND period = ?", (scope_key, period)).fetchone()
    return Target(*r) if r else None


def put(store: Store, scope_key: str, period: str, amount: float, person_id: str, at: int,
        source_event_id: str = "") -> float | None:
    """Set a target and audit the change; returns the previous amount (None: there was none)."""
    old = get(store, scope_key, period)
    store.conn.execute(
        "INSERT INTO sales_targets (scope_key, period, amount, set_by, set_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (scope_key, period) DO UPDATE SET amount = excluded.amount, set_by = excluded.set_by,"
        " set_at = excluded.set_at", (scope_key, period, amount, person_id, at))
    store.conn.execute(
        "INSERT INTO sales_target_audit (scope_key, period, old_amount, new_amount, person_id, at, source_event_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (scope_key, period, old.amount if old else None, amount, person_id, at, source_event_id))
    return old.amount if old else None


def delete(store: Store, scope_key: str, period: str, person_id: str, at: int, source_event_id: str = "") -> float | None:
    """Remove a chat-set target and audit it (new amount NULL); returns the amount removed (None: there was none,
    and nothing is written)."""
    old = get(store, scope_key, period)
    if old is None:
        return None
    store.conn.execute("DELETE FROM sales_targets WHERE scope_key = ? AND period = ?", (scope_key, period))
    store.conn.execute(
        "INSERT INTO sales_target_audit (scope_key, period, old_amount, new_amount, person_id, at, source_event_id)"
        " VALUES (?, ?, ?, NULL, ?, ?, ?)", (scope_key, period, old.amount, person_id, at, source_event_id))
    return old.amount


def for_periods(store: Store, periods: list[str]) -> list[Target]:
    if not periods:
        return []
    marks = ",".join("?" for _ in periods)
    return [Target(*r) for r in store.conn.execute(
        f"SELECT scope_key, period, amount, set_by, set_at FROM sales_targets WHERE period IN ({marks})"
        " ORDER BY period, scope_key", periods)]


def history(store: Store, scope_keys: list[str] | None, limit: int = 10) -> list[Change]:
    """The latest changes, newest first; only these scopes unless None (everything)."""
    sql = "SELECT scope_key, period, old_amount, new_amount, person_id, at FROM sales_target_audit"
    params: list = []
    if scope_keys is not None:
        if not scope_keys:
            return []
        sql += f" WHERE scope_key IN ({','.join('?' for _ in scope_keys)})"
        params = list(scope_keys)
    sql += " ORDER BY at DESC, id DESC LIMIT ?"
    return [Change(*r) for r in store.conn.execute(sql, (*params, limit))]
