"""The push ledger (bot/pushes.py): which alerts went to whom in which card, and which were held back for the
person's next digest."""

from __future__ import annotations

from collections.abc import Iterable

from store.db import Store


def known(store: Store, keys: Iterable[str]) -> set[str]:
    """The keys among `keys` already in the ledger (pushed or held before: a replay, a second sweep)."""
    keys = list(keys)
    out: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        marks = ",".join("?" for _ in chunk)
        out.update(r[0] for r in store.conn.execute(f"SELECT key FROM push_ledger WHERE key IN ({marks})", chunk))
    return out


def cards_since(store: Store, person_id: str, since_ms: int) -> int:
    """How many cards were pushed to `person_id` since `since_ms` (a card carrying several alerts counts once)."""
    row = store.conn.execute(
        "SELECT COUNT(DISTINCT card) FROM push_ledger WHERE person_id = ? AND at >= ? AND status != 'held'"
        " AND card != ''", (person_id, since_ms)).fetchone()
    return row[0]


def record(store: Store, rows: Iterable[tuple[str, str, int, str, str, str]]) -> None:
    """(key, person_id, at, status, card, title) rows; a key already there is left as it was."""
    store.conn.executemany(
        "INSERT OR IGNORE INTO push_ledger (key, person_id, at, status, card, title) VALUES (?, ?, ?, ?, ?, ?)",
        list(rows))


def held(store: Store, person_id: str, limit: int = 1000) -> list[tuple[str, int, str]]:
    """The person's held pushes, oldest first: (key, at, title)."""
    return list(store.conn.execute(
        "SELECT key, at, title FROM push_ledger WHERE status = 'held' AND person_id = ? ORDER BY at, key LIMIT ?",
        (person_id, limit)))


def people_with_held(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute(
        "SELECT DISTINCT person_id FROM push_ledger WHERE status = 'held' ORDER BY person_id")]


def mark_digested(store: Store, keys: Iterable[str], digest_key: str) -> None:
    store.conn.executemany("UPDATE push_ledger SET status = 'digested', digest_key = ? WHERE key = ?",
                           [(digest_key, k) for k in keys])

