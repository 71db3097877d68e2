"""Tracked document links and their opens.

A link ties an unguessable short code to a lead and a document (a URL or a file offered from [links] files_dir).
Each open is one row keyed by the DocumentOpen event id, so a replayed inbox row never counts twice. Openers are
kept only as a salted hash; the salt comes from config or is generated once and kept here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from store import kv
from store.db import Store

_SALT_KEY = "links.opener_salt"


@dataclass(frozen=True, slots=True)
class Link:
    code: str
    lead_id: str
    customer_id: str
    document: str
    target: str
    kind: str  # url | file
    created_by: str
    created_at: int


@dataclass(frozen=True, slots=True)
class LinkStats:
    link: Link
    opens: int
    openers: int
    first_open: int | None
    last_open: int | None


_L = "code, lead_id, customer_id, document, target, kind, created_by, created_at"


def create(store: Store, code: str, lead_id: str, customer_id: str, document: str, target: str, kind: str,
           created_by: str, created_at: int) -> None:
    store.conn.execute(
        f"INSERT INTO links ({_L}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (code, lead_id, customer_id, document, target, kind, created_by, created_at),
    )


def exists(store: Store, code: str) -> bool:
    return store.conn.execute("SELECT 1 FROM links WHERE code = ?", (code,)).fetchone() is not None


def get(store: Store, code: str) -> Link | None:
    r = store.conn.execute(f"SELECT {_L} FROM links WHERE code = ?", (code,)).fetchone()
    return Link(*r) if r else None


def record_open(store: Store, event_id: str, code: str, lead_id: str, document: str, opener_hash: str,
                opened_at: int) -> bool:
    """One open; False when this event was already counted."""
    cur = store.conn.execute(
        "INSERT OR IGNORE INTO link_opens (event_id, code, lead_id, document, opener_hash, opened_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (event_id, code, lead_id, document, opener_hash, opened_at),
    )
    return cur.rowcount == 1


_STATS = (
    f"SELECT {', '.join('l.' + c.strip() for c in _L.split(','))},"
    " COUNT(o.event_id), COUNT(DISTINCT o.opener_hash), MIN(o.opened_at), MAX(o.opened_at)"
    " FROM links l LEFT JOIN link_opens o ON o.code = l.code"
)


def _stats(r) -> LinkStats:
    return LinkStats(Link(*r[:8]), r[8], r[9], r[10], r[11])


def stats(store: Store, code: str) -> LinkStats | None:
    r = store.conn.execute(_STATS + " WHERE l.code = ? GROUP BY l.code", (code,)).fetchone()
    return _stats(r) if r else None


def for_lead(store: Store, lead_id: str) -> list[LinkStats]:
    """Every link of a lead with open count, distinct openers, first and last open (oldest link first)."""
    rows = store.conn.execute(_STATS + " WHERE l.lead_id = ? GROUP BY l.code ORDER BY l.created_at, l.code", (lead_id,))
    return [_stats(r) for r in rows]


def opens_of_document(store: Store, lead_id: str, document: str) -> int:
    """How many times this lead's customer opened this document, over all its links."""
    return store.conn.execute(
        "SELECT COUNT(*) FROM link_opens WHERE lead_id = ? AND document = ?", (lead_id, document)
    ).fetchone()[0]


def opener_salt(store: Store) -> str:
    """The per-installation salt for opener hashes, created on first use."""
    salt = kv.get(store, _SALT_KEY)
    if salt is None:
        with store.transaction():
            salt = kv.get(store, _SALT_KEY)
            if salt is None:
                salt = secrets.token_hex(16)
                kv.put(store, _SALT_KEY, salt)
    return salt


# ---------------------------------------------------------------- files offered through links


def files_folder(files_dir: str, data_dir: str) -> Path:
    """[links] files_dir, else <bot.data_dir>/files."""
    return Path(files_dir) if files_dir else Path(data_dir) / "files"


def resolve_file(folder: Path, name: str) -> Path | None:
    """The plain file `name` directly inside `folder`, or None when missing or when the name would escape it."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        return None
    base = folder.resolve()
    path = (base / name).resolve()
    if path.parent != base or not path.is_file():
        return None
    return path
