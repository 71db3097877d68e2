"""TEMP stand-in: labelled turns computed on the fly from stored events."""

from __future__ import annotations

from dataclasses import dataclass

from store.db import Store


@dataclass(frozen=True)
class Turn:
    event_id: str
    role: str
    text: str
    labels: tuple[str, ...]
    occurred_at: int
    person_id: str


def _labels(text: str, role: str) -> tuple[str, ...]:
    from handlers.conversation.classifier import classify
    return classify(text, role).labels if role in ("customer", "rep") else ()


def labelled_turns(store: Store, lead_id: str, since_ms: int = 0, limit: int = 500) -> list[Turn]:
    rows = store.conn.execute(
        "SELECT event_id, role, text, occurred_at, person_id FROM events WHERE lead_id = ? AND type = 'message'"
        " AND role IN ('customer', 'rep', 'manager') AND occurred_at >= ? ORDER BY occurred_at, id LIMIT ?",
        (lead_id, since_ms, limit)).fetchall()
    out = []
    for event_id, role, text, at, person in rows:
        role = "rep" if role == "manager" else role
        out.append(Turn(event_id, role, text, _labels(text, role), at, person))
    return out


def labels_for_events(store: Store, event_ids) -> dict[str, tuple[str, ...]]:
    ids = list(event_ids)
    if not ids:
        return {}
    marks = ",".join("?" for _ in ids)
    return {r[0]: _labels(r[2], r[1]) for r in store.conn.execute(
        f"SELECT event_id, role, text FROM events WHERE event_id IN ({marks})", ids)}
