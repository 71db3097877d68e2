"""Small durable state: checkpoints (archive seq, replay offsets) and flags."""

from __future__ import annotations

from store.db import Store


def get(store: Store, key: str, default: str | None = None) -> str | None:
    row = store.conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def put(store: Store, key: str, value: str) -> None:
    store.conn.execute(
        "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value)
    )
