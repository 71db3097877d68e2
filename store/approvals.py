"""Forecast changes waiting for a manager's approval (handlers/forecast/approval.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from store.db import Store


@dataclass(frozen=True, slots=True)
class Approval:
    id: int
    lead_id: str
    field: str
    value: float
    old_text: str
    new_text: str
    reason: str
    requester_id: str
    approvers: tuple[str, ...]
    status: str
    requested_at: int
    decided_by: str | None
    decided_at: int | None


_C = ("id, lead_id, field, value, old_text, new_text, reason, requester_id, approvers, status, requested_at,"
      " decided_by, decided_at")


def _row(r) -> Approval:
    return Approval(*r[:8], tuple(json.loads(r[8])), *r[9:])


def add(store: Store, lead_id: str, field: str, value: float, old_text: str, new_text: str, reason: str,
        requester_id: str, approvers: list[str], at: int, source_event_id: str = "") -> tuple[int, list[int]]:
    """A new pending change; an earlier pending change of the same deal and field is withdrawn (the newer ask
    replaces it). Returns (new id, ids withdrawn)."""
    withdrawn = [r[0] for r in store.conn.execute(
        "SELECT id FROM forecast_approvals WHERE lead_id = ? AND field = ? AND status = 'pending'", (lead_id, field))]
    store.conn.executemany("UPDATE forecast_approvals SET status = 'withdrawn', decided_at = ? WHERE id = ?",
                           [(at, i) for i in withdrawn])
    cur = store.conn.execute(
        "INSERT INTO forecast_approvals (lead_id, field, value, old_text, new_text, reason, requester_id, approvers,"
        " requested_at, source_event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (lead_id, field, value, old_text, new_text, reason, requester_id, json.dumps(approvers), at, source_event_id))
    return cur.lastrowid, withdrawn


def get(store: Store, approval_id: int) -> Approval | None:
    r = store.conn.execute(f"SELECT {_C} FROM forecast_approvals WHERE id = ?", (approval_id,)).fetchone()
    return _row(r) if r else None


def decide(store: Store, approval_id: int, status: str, person_id: str, at: int) -> bool:
    """Approve or reject a pending change; False when it was no longer pending (decided by someone else)."""
    return store.conn.execute(
        "UPDATE forecast_approvals SET status = ?, decided_by = ?, decided_at = ? WHERE id = ? AND status = 'pending'",
        (status, person_id, at, approval_id)).rowcount == 1


def link_revision(store: Store, approval_id: int, revision_id: int, approver_id: str) -> None:
    store.conn.execute("UPDATE forecast_approvals SET revision_id = ? WHERE id = ?", (revision_id, approval_id))
    store.conn.execute("UPDATE deal_revisions SET approved_by = ? WHERE id = ?", (approver_id, revision_id))



def pending_for(store: Store, lead_id: str) -> list[Approval]:
    return [_row(r) for r in store.conn.execute(
        f"SELECT {_C} FROM forecast_approvals WHERE lead_id = ? AND status = 'pending' ORDER BY requested_at, id",
        (lead_id,))]
