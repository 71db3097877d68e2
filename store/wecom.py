"""WeCom adapter state: sent template cards, long button keys, send attempts, archive media, synced departments."""

from __future__ import annotations

import json
from dataclasses import dataclass

from store import like
from store.db import Store


@dataclass(frozen=True, slots=True)
class CardRow:
    task_id: str
    idempotency_key: str
    target: dict
    reply: dict
    response_code: str


# ------------------------------------------------------------------ cards


def save_card(store: Store, task_id: str, key: str, target: dict, reply: dict, response_code: str, now_ms: int) -> None:
    store.conn.execute(
        "INSERT INTO wecom_cards (task_id, idempotency_key, target, reply, response_code, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (task_id) DO UPDATE SET"
        " response_code = CASE WHEN excluded.response_code = '' THEN response_code ELSE excluded.response_code END",
        (task_id, key, json.dumps(target, ensure_ascii=False), json.dumps(reply, ensure_ascii=False), response_code,
         now_ms),
    )


def card(store: Store, task_id: str) -> CardRow | None:
    r = store.conn.execute(
        "SELECT task_id, idempotency_key, target, reply, response_code FROM wecom_cards WHERE task_id = ?", (task_id,)
    ).fetchone()
    return CardRow(r[0], r[1], json.loads(r[2]), json.loads(r[3]), r[4]) if r else None


def set_response_code(store: Store, task_id: str, code: str, now_ms: int) -> None:
    """A click hands us a fresh single-use response_code; the next update of that card uses it."""
    store.conn.execute("UPDATE wecom_cards SET response_code = ?, updated_at = ? WHERE task_id = ?",
                       (code, now_ms, task_id))


def use_response_code(store: Store, task_id: str, now_ms: int) -> None:
    """Codes are single-use: forget it once an update went through."""
    store.conn.execute("UPDATE wecom_cards SET response_code = '', updated_at = ? WHERE task_id = ?", (now_ms, task_id))


# ------------------------------------------------------------------ long button keys


def put_button_key(store: Store, digest: str, action: str, value: dict) -> None:
    store.conn.execute(
        "INSERT OR IGNORE INTO wecom_button_keys (digest, action, value) VALUES (?, ?, ?)",
        (digest, action, json.dumps(value, ensure_ascii=False, sort_keys=True)),
    )


def button_key(store: Store, digest: str) -> tuple[str, dict] | None:
    r = store.conn.execute("SELECT action, value FROM wecom_button_keys WHERE digest = ?", (digest,)).fetchone()
    return (r[0], json.loads(r[1])) if r else None


# ------------------------------------------------------------------ send attempts


def note_attempt(store: Store, key: str, now_ms: int, body_digest: str | None = None) -> int | None:
    """Record an attempt to send `key` (with the digest of recipient + body): None on the first one, else when the
    first one was (this is a retry)."""
    row = store.conn.execute("SELECT first_at FROM wecom_send_attempts WHERE idempotency_key = ?", (key,)).fetchone()
    if row is not None:
        store.conn.execute("UPDATE wecom_send_attempts SET last_at = ?, body_digest = COALESCE(?, body_digest)"
                           " WHERE idempotency_key = ?", (now_ms, body_digest, key))
        return row[0]
    store.conn.execute("INSERT INTO wecom_send_attempts (idempotency_key, first_at, last_at, body_digest)"
                       " VALUES (?, ?, ?, ?)", (key, now_ms, now_ms, body_digest))
    return None


def same_body_sent_by_another(store: Store, key: str, body_digest: str, since_ms: int) -> bool:
    """Did another reply send the same recipient + body at or after `since_ms`? (Then WeCom's duplicate check,
    which compares content, could drop this one as a copy of it.)"""
    return store.conn.execute(
        "SELECT 1 FROM wecom_send_attempts WHERE body_digest = ? AND COALESCE(last_at, first_at) >= ?"
        " AND idempotency_key != ? LIMIT 1", (body_digest, since_ms, key)).fetchone() is not None


def prune_attempts(store: Store, older_than_ms: int) -> int:
    return store.conn.execute("DELETE FROM wecom_send_attempts WHERE first_at < ?", (older_than_ms,)).rowcount


# ------------------------------------------------------------------ archive media


def save_media(store: Store, sdkfileid: str, msgid: str, path: str, md5: str, size: int, now_ms: int) -> None:
    store.conn.execute(
        "INSERT INTO wecom_media (sdkfileid, msgid, path, md5, size, fetched_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (sdkfileid) DO UPDATE SET path = excluded.path, md5 = excluded.md5, size = excluded.size,"
        " fetched_at = excluded.fetched_at",
        (sdkfileid, msgid, path, md5, size, now_ms),
    )


def media_path(store: Store, sdkfileid: str) -> str | None:
    r = store.conn.execute("SELECT path FROM wecom_media WHERE sdkfileid = ?", (sdkfileid,)).fetchone()
    return r[0] if r else None


def has_media(store: Store, sdkfileid: str) -> bool:
    return media_path(store, sdkfileid) is not None


# ------------------------------------------------------------------ departments


def save_department(store: Store, dept_id: int, name: str, parent_id: int, team_id: str, now_ms: int) -> None:
    store.conn.execute(
        "INSERT INTO wecom_departments (id, name, parent_id, team_id, synced_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, parent_id = excluded.parent_id,"
        " team_id = excluded.team_id, synced_at = excluded.synced_at",
        (dept_id, name, parent_id, team_id, now_ms),
    )


def department_team(store: Store, dept_id: int) -> str | None:
    r = store.conn.execute("SELECT team_id FROM wecom_departments WHERE id = ?", (dept_id,)).fetchone()
    return r[0] if r else None


def departments(store: Store) -> list[tuple[int, str, int, str]]:
    return [tuple(r) for r in store.conn.execute("SELECT id, name, parent_id, team_id FROM wecom_departments ORDER BY id")]


def deactivate_people(store: Store, id_prefix: str, keep_ids: set[str]) -> int:
    """People created by org sync (ids with `id_prefix`) who are no longer in WeCom become inactive."""
    rows = [r[0] for r in store.conn.execute(f"SELECT id FROM people WHERE id LIKE ?{like.ESCAPE} AND active = 1",
                                             (like.starts_with(id_prefix),))]
    gone = [pid for pid in rows if pid not in keep_ids]
    store.conn.executemany("UPDATE people SET active = 0 WHERE id = ?", [(pid,) for pid in gone])
    return len(gone)
