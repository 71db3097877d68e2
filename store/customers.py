"""Customers and the keys that tie an event to one (WeCom external id, phone, email, a bound group chat)."""

from __future__ import annotations

from dataclasses import dataclass

from store import like
from store.db import Store


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    name: str
    industry: str
    size: str
    owner_id: str | None


def upsert(store: Store, customer_id: str, name: str, *, industry: str = "", size: str = "",
           owner_id: str | None = None, created_at: int = 0) -> None:
    store.conn.execute(
        "INSERT INTO customers (id, name, industry, size, owner_id, created_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, industry = excluded.industry, size = excluded.size,"
        " owner_id = COALESCE(excluded.owner_id, owner_id)",
        (customer_id, name, industry, size, owner_id, created_at),
    )


def add_key(store: Store, kind: str, value: str, customer_id: str) -> None:
    store.conn.execute(
        "INSERT INTO customer_keys (kind, value, customer_id) VALUES (?, ?, ?)"
        " ON CONFLICT (kind, value) DO UPDATE SET customer_id = excluded.customer_id",
        (kind, value, customer_id),
    )


def find_by_key(store: Store, kind: str, value: str) -> str | None:
    row = store.conn.execute("SELECT customer_id FROM customer_keys WHERE kind = ? AND value = ?", (kind, value)).fetchone()
    return row[0] if row else None


def all_keys(store: Store) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in store.conn.execute("SELECT kind, value, customer_id FROM customer_keys")]


def get(store: Store, customer_id: str) -> Customer | None:
    r = store.conn.execute("SELECT id, name, industry, size, owner_id FROM customers WHERE id = ?", (customer_id,)).fetchone()
    return Customer(*r) if r else None


def search(store: Store, text: str, limit: int = 10) -> list[Customer]:
    rows = store.conn.execute(
        f"SELECT id, name, industry, size, owner_id FROM customers WHERE name LIKE ?{like.ESCAPE} OR id = ?"
        " ORDER BY length(name) LIMIT ?",
        (like.contains(text), text, limit),
    )
    return [Customer(*r) for r in rows]


def count(store: Store) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]


def industries(store: Store) -> list[str]:
    """The industries customers are filed under, most customers first (what `/陪练 <行业>` can be)."""
    rows = store.conn.execute(
        "SELECT industry FROM customers WHERE industry != '' GROUP BY industry ORDER BY COUNT(*) DESC, industry"
    ).fetchall()
    return [r[0] for r in rows]
