"""Procurement calendar: customers' (or a whole industry's) yearly buying windows and budget events."""

from __future__ import annotations

from dataclasses import dataclass

from store.db import Store


@dataclass(frozen=True, slots=True)
class Window:
    id: int
    customer_id: str
    industry: str
    name: str
    starts_md: str
    ends_md: str
    kind: str


def add(store: Store, name: str, starts_md: str, ends_md: str, *, customer_id: str = "", industry: str = "",
        kind: str = "window", source: str = "") -> None:
    store.conn.execute(
        "INSERT INTO procurement_windows (customer_id, industry, name, starts_md, ends_md, kind, source)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id, industry, name, starts_md)"
        " DO UPDATE SET ends_md = excluded.ends_md, kind = excluded.kind, source = excluded.source",
        (customer_id, industry, name, starts_md, ends_md, kind, source))


def all_windows(store: Store) -> list[Window]:
    return [Window(*r) for r in store.conn.execute(
        "SELECT id, customer_id, industry, name, starts_md, ends_md, kind FROM procurement_windows ORDER BY id")]
