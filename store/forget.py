"""SQL of `salespulse forget <customer>`: find a customer, collect what holds their words, delete or blank it,
audit the erasure, and make SQLite overwrite the freed pages.

Why each table is here (issue 13): a customer's words are copied well beyond `events` — the raw platform payload in
the inbox, the classifier's per-turn rows, coaching snippets and their context turns, hesitations, debrief answers
and transcripts, voice notes, deal notes, tracked-link documents and opens, call records (phone numbers), store
experiences, and every reply the bot composed from them (silence alerts quote the last three messages). Deals and
the customer's directory entry stay: they are the company's own business records, not the customer's words.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from store import like
from store.db import Store


@dataclass(frozen=True, slots=True)
class CustomerRef:
    id: str
    name: str
    leads: int


@dataclass(frozen=True, slots=True)
class Scope:
    """What belongs to one customer: their leads, the events about them (rowid, event_id) and the texts of those
    events and snippets (to find the bot's own replies that quoted them)."""
    customer_id: str
    name: str
    lead_ids: tuple[str, ...]
    event_rowids: tuple[int, ...]
    event_ids: tuple[str, ...]
    texts: tuple[str, ...]


def find_customers(store: Store, text: str, limit: int = 20) -> list[CustomerRef]:
    """The customer whose id or name is exactly `text`; else those whose name contains it (several = ambiguous)."""
    base = ("SELECT c.id, c.name, (SELECT COUNT(*) FROM leads l WHERE l.customer_id = c.id) FROM customers c")
    exact = store.conn.execute(base + " WHERE c.id = ? OR c.name = ? ORDER BY c.id = ? DESC, c.id LIMIT ?",
                               (text, text, text, limit)).fetchall()
    if exact:
        by_id = [r for r in exact if r[0] == text]
        return [CustomerRef(*r) for r in (by_id or exact)]
    rows = store.conn.execute(base + " WHERE c.name LIKE ?" + like.ESCAPE + " ORDER BY c.name, c.id LIMIT ?",
                              (like.contains(text), limit)).fetchall()
    return [CustomerRef(*r) for r in rows]


def _marks(values: Iterable) -> str:
    return ",".join("?" for _ in values)


def _chunks(values: tuple, size: int = 500):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def scope(store: Store, customer_id: str) -> Scope:
    conn = store.conn
    name = conn.execute("SELECT name FROM customers WHERE id = ?", (customer_id,)).fetchone()[0]
    leads = tuple(r[0] for r in conn.execute("SELECT id FROM leads WHERE customer_id = ?", (customer_id,)))
    keys = [f"{k}:{v}" for k, v in conn.execute("SELECT kind, value FROM customer_keys WHERE customer_id = ?",
                                                 (customer_id,))]
    rows: dict[int, tuple[str, str, str]] = {}
    cols = "SELECT id, event_id, text, role FROM events"
    for r in conn.execute(cols + " WHERE customer_id = ?", (customer_id,)):
        rows[r[0]] = (r[1], r[2], r[3])
    for part in _chunks(leads):
        for r in conn.execute(cols + f" WHERE lead_id IN ({_marks(part)})", part):
            rows[r[0]] = (r[1], r[2], r[3])
    for part in _chunks(tuple(keys)):
        for r in conn.execute(cols + f" WHERE customer_id IS NULL AND match_key IN ({_marks(part)})", part):
            rows[r[0]] = (r[1], r[2], r[3])
    # the customer's own words (what other replies may quote); the rep's side is deleted with the events
    texts = {t for _eid, t, role in rows.values() if t and role == "customer"}
    texts.update(r[0] for r in conn.execute("SELECT objection_text FROM coach_snippets WHERE customer_id = ?",
                                            (customer_id,)) if r[0])
    texts.update(r[0] for r in conn.execute("SELECT text FROM conversation_labels WHERE customer_id = ?"
                                            " AND role = 'customer' AND text IS NOT NULL", (customer_id,)))
    event_ids = tuple(e for e, _t, _r in rows.values())
    for part in _chunks(event_ids):
        texts.update(r[0] for r in conn.execute(
            f"SELECT text FROM voice_notes WHERE text != '' AND message_event_id IN ({_marks(part)})", part))
    return Scope(customer_id, name, leads, tuple(rows), event_ids, tuple(sorted(texts)))


def others_starting_with(store: Store, customer_id: str, starts: set[str], length: int) -> set[str]:
    """Which of `starts` (each `length` characters) also begin another customer's message: one pass over the
    events, so it costs one scan however many keys there are."""
    found: set[str] = set()
    for (text,) in store.conn.execute("SELECT text FROM events WHERE customer_id IS NOT ? AND role = 'customer'"
                                      " AND length(text) >= ?", (customer_id, length)):
        head = " ".join(text.split())[:length]
        if head in starts:
            found.add(head)
    return found


# -- files: paths (relative to data_dir, or absolute) the rows to be deleted point at

def voice_files(store: Store, event_ids: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for part in _chunks(event_ids):
        out += [r[0] for r in store.conn.execute(
            f"SELECT audio_path FROM voice_notes WHERE audio_path != '' AND (message_event_id IN ({_marks(part)})"
            f" OR transcript_event_id IN ({_marks(part)}))", (*part, *part))]
    return out


def archive_media_files(store: Store, msgids: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for part in _chunks(msgids):
        out += [r[0] for r in store.conn.execute(f"SELECT path FROM wecom_media WHERE msgid IN ({_marks(part)})", part)]
    return out


def debrief_files(store: Store, s: Scope) -> list[str]:
    return [r[0] for r in store.conn.execute(
        "SELECT a.audio_ref FROM debrief_answers a JOIN debriefs d ON d.id = a.debrief_id"
        f" WHERE a.audio_ref != '' AND ({_debrief_where(s)})", _debrief_params(s))]


def _debrief_where(s: Scope) -> str:
    return f"d.customer_id = ? OR d.lead_id IN ({_marks(s.lead_ids)})" if s.lead_ids else "d.customer_id = ?"


def _debrief_params(s: Scope) -> tuple:
    return (s.customer_id, *s.lead_ids)


# -- deletion: each returns the number of rows it removed or blanked

def _by_ids(store: Store, sql: str, ids: tuple) -> int:
    n = 0
    for part in _chunks(ids):
        n += store.conn.execute(sql.format(marks=_marks(part)), part).rowcount
    return n


def erase(store: Store, s: Scope, msgids: tuple[str, ...]) -> dict[str, int]:
    """Delete or blank every row holding the customer's words; counts per kind. Run inside a transaction."""
    conn = store.conn
    leads = s.lead_ids
    n: dict[str, int] = {}
    n["events"] = _by_ids(store, "DELETE FROM events WHERE id IN ({marks})", s.event_rowids)
    # the raw payloads stay as empty rows: a platform's late retry is still recognised as a duplicate
    n["inbox"] = _by_ids(store, "UPDATE inbox SET payload = '', event = NULL, error = NULL"
                                " WHERE json_extract(event, '$.event_id') IN ({marks})", s.event_ids)
    n["conversation_labels"] = conn.execute("DELETE FROM conversation_labels WHERE customer_id = ?",
                                            (s.customer_id,)).rowcount
    n["conversation_labels"] += _by_ids(store, "DELETE FROM conversation_labels WHERE lead_id IN ({marks})", leads)
    n["conversation_labels"] += _by_ids(store, "DELETE FROM conversation_labels WHERE event_id IN ({marks})",
                                        s.event_ids)
    snippet_ids = tuple(r[0] for r in conn.execute("SELECT id FROM coach_snippets WHERE customer_id = ?",
                                                   (s.customer_id,)))
    for part in _chunks(leads):
        snippet_ids += tuple(r[0] for r in conn.execute(
            f"SELECT id FROM coach_snippets WHERE lead_id IN ({_marks(part)})", part))
    snippet_ids = tuple(sorted(set(snippet_ids)))
    _by_ids(store, "DELETE FROM coach_snippet_cells WHERE snippet_id IN ({marks})", snippet_ids)
    n["coach_snippets"] = _by_ids(store, "DELETE FROM coach_snippets WHERE id IN ({marks})", snippet_ids)
    n["coach_snippets"] += _by_ids(store, "DELETE FROM coach_pushes WHERE lead_id IN ({marks})", leads)
    n["coach_hesitations"] = _by_ids(store, "DELETE FROM coach_hesitations WHERE lead_id IN ({marks})", leads)
    n["voice_notes"] = 0
    for part in _chunks(s.event_ids):
        n["voice_notes"] += conn.execute(
            f"DELETE FROM voice_notes WHERE message_event_id IN ({_marks(part)})"
            f" OR transcript_event_id IN ({_marks(part)})", (*part, *part)).rowcount
    n["voice_notes"] += _by_ids(store, "DELETE FROM wecom_media WHERE msgid IN ({marks})", msgids)
    debriefs = tuple(r[0] for r in conn.execute(f"SELECT d.id FROM debriefs d WHERE {_debrief_where(s)}",
                                                _debrief_params(s)))
    _by_ids(store, "DELETE FROM debrief_answers WHERE debrief_id IN ({marks})", debriefs)
    n["debriefs"] = _by_ids(store, "DELETE FROM debriefs WHERE id IN ({marks})", debriefs)
    n["deal_notes"] = _by_ids(store, "DELETE FROM deal_notes WHERE lead_id IN ({marks})", leads)
    n["deal_notes"] += _by_ids(store, "DELETE FROM deal_revisions WHERE field = 'note' AND lead_id IN ({marks})",
                               leads)
    n["deal_notes"] += _by_ids(store, "DELETE FROM deal_next_steps WHERE lead_id IN ({marks})", leads)
    n["links"] = _by_ids(store, "DELETE FROM link_opens WHERE lead_id IN ({marks})", leads)
    n["links"] += _by_ids(store, "DELETE FROM links WHERE lead_id IN ({marks})", leads)
    n["links"] += conn.execute("DELETE FROM links WHERE customer_id = ?", (s.customer_id,)).rowcount
    n["calls"] = conn.execute("DELETE FROM call_log WHERE customer_id = ?", (s.customer_id,)).rowcount
    n["calls"] += conn.execute("DELETE FROM missed_calls WHERE customer_id = ?", (s.customer_id,)).rowcount
    n["calls"] += _by_ids(store, "DELETE FROM missed_calls WHERE lead_id IN ({marks})", leads)
    n["store_experiences"] = _by_ids(store, "DELETE FROM store_experiences WHERE lead_id IN ({marks})", leads)
    return n


def redact_json_rows(store: Store, table: str, column: str, matches: Callable[[str], bool],
                     replacement: str, *, delete_where: str | None = None) -> tuple[int, int, list[str]]:
    """Rows of `table` whose JSON `column` matches: deleted when `delete_where` holds for them (e.g. a reply not
    sent yet), else their column replaced by `replacement`. Returns (deleted, blanked, image paths they named)."""
    key = "id" if table in ("outbox", "deferred") else "rowid"
    cond = f", ({delete_where})" if delete_where else ", 0"
    deleted = blanked = 0
    images: list[str] = []
    for rid, value, drop in store.conn.execute(f"SELECT {key}, {column}{cond} FROM {table}").fetchall():
        if not value or not matches(value):
            continue
        try:
            image = json.loads(value).get("image_path") or ""
        except (ValueError, AttributeError):
            image = ""
        if image:
            images.append(image)
        if drop:
            deleted += store.conn.execute(f"DELETE FROM {table} WHERE {key} = ?", (rid,)).rowcount
        else:
            blanked += store.conn.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?",
                                          (replacement, rid)).rowcount
    return deleted, blanked, images


def practice_texts(store: Store) -> list[tuple[str, int, str]]:
    """(table, rowid, text) of what the practice sandbox keeps: each session's plan and each round's prompt."""
    out = [("practice_sessions", r[0], r[1]) for r in store.conn.execute("SELECT id, plan FROM practice_sessions")]
    out += [("practice_rounds", r[0], r[1]) for r in store.conn.execute("SELECT id, prompt FROM practice_rounds")]
    return out


def set_practice_text(store: Store, table: str, rowid: int, text: str) -> None:
    column = "plan" if table == "practice_sessions" else "prompt"
    assert table in ("practice_sessions", "practice_rounds")
    store.conn.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (text, rowid))


def audit(store: Store, at: int, actor: str, customer_id: str, counts: dict[str, int]) -> int:
    cur = store.conn.execute("INSERT INTO forget_audit (at, actor, customer_id, counts) VALUES (?, ?, ?, ?)",
                             (at, actor, customer_id, json.dumps(counts, ensure_ascii=False, sort_keys=True)))
    return int(cur.lastrowid)


def update_audit_counts(store: Store, audit_id: int, counts: dict[str, int]) -> None:
    store.conn.execute("UPDATE forget_audit SET counts = ? WHERE id = ?",
                       (json.dumps(counts, ensure_ascii=False, sort_keys=True), audit_id))


def audit_rows(store: Store, customer_id: str | None = None) -> list[tuple[int, int, str, str, dict[str, int]]]:
    sql = "SELECT id, at, actor, customer_id, counts FROM forget_audit"
    rows = store.conn.execute(sql + (" WHERE customer_id = ?" if customer_id else "") + " ORDER BY id",
                              (customer_id,) if customer_id else ()).fetchall()
    return [(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]


def overwrite_freed_pages(store: Store) -> bool:
    """Deleted rows' bytes stay in free pages and the WAL until overwritten: VACUUM with secure_delete rewrites the
    file from live rows only, and a TRUNCATE checkpoint empties the write-ahead log. True when another connection
    (a running `serve`) kept the checkpoint from finishing: the old pages then stay in the WAL until its next one."""
    conn = store.conn
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("VACUUM")
    if store.path == ":memory:":
        return False
    busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return bool(busy and busy[0])
