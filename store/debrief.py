"""Debriefs after customer meetings, the notes and texts that answered them, deals' next steps, and the debrief
rate (migration 0055)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from store import events as events_store
from store.db import Store

OPEN = ("scheduled", "asked", "answering")

_COLS = ("id", "meeting_key", "person_id", "lead_id", "customer_id", "title", "source", "meeting_at", "status",
         "due_at", "asked_at", "remind_at", "reminded_at", "done_at", "mode", "correcting", "worry", "evidence",
         "next_step", "understood", "applied", "created_at")
_SELECT = ("SELECT " + ", ".join(f"d.{c}" for c in _COLS) + ", COALESCE(c.name, ''), COALESCE(l.title, '')"
           " FROM debriefs d LEFT JOIN customers c ON c.id = d.customer_id LEFT JOIN leads l ON l.id = d.lead_id")


@dataclass(frozen=True, slots=True)
class Debrief:
    id: int
    meeting_key: str
    person_id: str
    lead_id: str | None
    customer_id: str | None
    title: str
    source: str
    meeting_at: int
    status: str
    due_at: int
    asked_at: int | None
    remind_at: int | None
    reminded_at: int | None
    done_at: int | None
    mode: str
    correcting: str
    worry: str
    evidence: str
    next_step: str
    understood: str
    applied: str
    created_at: int
    customer_name: str
    lead_title: str

    @property
    def answers(self) -> dict[str, str]:
        return {q: v for q, v in (("worry", self.worry), ("evidence", self.evidence), ("next_step", self.next_step))
                if v}


def _rows(store: Store, where: str, params: Sequence) -> list[Debrief]:
    return [Debrief(*r) for r in store.conn.execute(f"{_SELECT} WHERE {where}", params)]


def create(store: Store, *, meeting_key: str, person_id: str, lead_id: str | None, customer_id: str | None,
           title: str, source: str, meeting_at: int, due_at: int, now: int) -> int | None:
    """A new debrief; None when this meeting already has one (the UNIQUE meeting key)."""
    cur = store.conn.execute(
        "INSERT OR IGNORE INTO debriefs (meeting_key, person_id, lead_id, customer_id, title, source, meeting_at,"
        " due_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (meeting_key, person_id, lead_id, customer_id, title, source, meeting_at, due_at, now))
    return cur.lastrowid if cur.rowcount == 1 else None


def get(store: Store, debrief_id: int) -> Debrief | None:
    rows = _rows(store, "d.id = ?", (debrief_id,))
    return rows[0] if rows else None


def open_near(store: Store, person_id: str, lead_id: str | None, around_ms: int, window_ms: int) -> Debrief | None:
    """An open debrief of the same rep on the same lead for a meeting within `window_ms` (the same meeting seen
    twice: a calendar update, a call during the visit, /复盘 right after the card)."""
    if lead_id is None:
        return None
    rows = _rows(store, "d.person_id = ? AND d.lead_id = ? AND d.status IN ('scheduled', 'asked', 'answering')"
                        " AND d.meeting_at BETWEEN ? AND ? ORDER BY d.meeting_at DESC LIMIT 1",
                 (person_id, lead_id, around_ms - window_ms, around_ms + window_ms))
    return rows[0] if rows else None


def open_of(store: Store, person_id: str, now: int) -> list[Debrief]:
    """A rep's open debriefs whose meeting has ended, newest meeting first."""
    return _rows(store, "d.person_id = ? AND d.status IN ('scheduled', 'asked', 'answering') AND d.meeting_at <= ?"
                        " ORDER BY d.meeting_at DESC, d.id DESC", (person_id, now))


def correcting_of(store: Store, person_id: str) -> Debrief | None:
    rows = _rows(store, "d.person_id = ? AND d.correcting <> '' ORDER BY d.done_at DESC LIMIT 1", (person_id,))
    return rows[0] if rows else None


def due_to_ask(store: Store, now: int, limit: int) -> list[Debrief]:
    return _rows(store, "d.status = 'scheduled' AND d.due_at <= ? ORDER BY d.due_at LIMIT ?", (now, limit))


def due_reminders(store: Store, now: int, limit: int) -> list[Debrief]:
    return _rows(store, "d.status = 'asked' AND d.reminded_at IS NULL AND d.remind_at IS NOT NULL AND d.remind_at <= ?"
                        " ORDER BY d.remind_at LIMIT ?", (now, limit))


def mark_asked(store: Store, debrief_id: int, now: int, remind_at: int | None) -> None:
    store.conn.execute("UPDATE debriefs SET status = 'asked', asked_at = COALESCE(asked_at, ?),"
                       " remind_at = COALESCE(remind_at, ?) WHERE id = ? AND status = 'scheduled'",
                       (now, remind_at, debrief_id))


def set_remind_at(store: Store, debrief_id: int, at: int | None) -> None:
    store.conn.execute("UPDATE debriefs SET remind_at = ? WHERE id = ? AND reminded_at IS NULL", (at, debrief_id))


def mark_reminded(store: Store, debrief_id: int, now: int) -> bool:
    cur = store.conn.execute("UPDATE debriefs SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL",
                             (now, debrief_id))
    return cur.rowcount == 1


def set_mode(store: Store, debrief_id: int, mode: str) -> None:
    store.conn.execute("UPDATE debriefs SET mode = ? WHERE id = ?", (mode, debrief_id))


def set_correcting(store: Store, debrief_id: int, question: str) -> None:
    store.conn.execute("UPDATE debriefs SET correcting = ? WHERE id = ?", (question, debrief_id))


def save_answers(store: Store, debrief_id: int, answers: dict[str, str], status: str) -> None:
    store.conn.execute("UPDATE debriefs SET worry = ?, evidence = ?, next_step = ?, status = ?,"
                       " asked_at = COALESCE(asked_at, created_at) WHERE id = ?",
                       (answers.get("worry", ""), answers.get("evidence", ""), answers.get("next_step", ""), status,
                        debrief_id))


def finish(store: Store, debrief_id: int, understood: str, applied: str, now: int) -> None:
    store.conn.execute("UPDATE debriefs SET status = 'done', understood = ?, applied = ?, correcting = '',"
                       " done_at = COALESCE(done_at, ?) WHERE id = ?", (understood, applied, now, debrief_id))


def cancel(store: Store, debrief_id: int) -> None:
    store.conn.execute("UPDATE debriefs SET status = 'cancelled' WHERE id = ? AND status IN ('scheduled', 'asked',"
                       " 'answering')", (debrief_id,))


def expire(store: Store, meeting_before: int) -> int:
    cur = store.conn.execute("UPDATE debriefs SET status = 'expired' WHERE status IN ('scheduled', 'asked', 'answering')"
                             " AND meeting_at < ?", (meeting_before,))
    return cur.rowcount


def add_answer(store: Store, debrief_id: int, event_id: str, kind: str, text: str, recorded_at: int,
               received_at: int, duration_ms: int = 0, audio_ref: str = "") -> bool:
    cur = store.conn.execute(
        "INSERT OR IGNORE INTO debrief_answers (debrief_id, event_id, kind, text, recorded_at, received_at,"
        " duration_ms, audio_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (debrief_id, event_id, kind, text, recorded_at, received_at, duration_ms, audio_ref))
    return cur.rowcount == 1


def answers_of(store: Store, debrief_id: int) -> list[tuple[str, str, int, int]]:
    """(kind, text, recorded_at, duration_ms) of what answered a debrief, in order received."""
    return [tuple(r) for r in store.conn.execute(
        "SELECT kind, text, recorded_at, duration_ms FROM debrief_answers WHERE debrief_id = ? ORDER BY id",
        (debrief_id,))]


def expired_answers(store: Store, before: int, limit: int) -> list[tuple[int, str]]:
    """(row id, audio_ref) of answers received before `before` and not yet pruned."""
    return [tuple(r) for r in store.conn.execute(
        "SELECT id, audio_ref FROM debrief_answers WHERE pruned = 0 AND received_at < ? ORDER BY received_at LIMIT ?",
        (before, limit))]


def prune_answers(store: Store, ids: Iterable[int]) -> None:
    store.conn.executemany("UPDATE debrief_answers SET text = '', audio_ref = '', pruned = 1 WHERE id = ?",
                           [(i,) for i in ids])


def listing(store: Store, person_id: str, limit: int) -> list[Debrief]:
    return _rows(store, "d.person_id = ? AND d.status <> 'scheduled' ORDER BY d.meeting_at DESC, d.id DESC LIMIT ?",
                 (person_id, limit))


def rate(store: Store, person_ids: Iterable[str], since: int, until: int, within_ms: int) -> dict[str, tuple[int, int]]:
    """person → (customer meetings, debriefed within `within_ms` of the meeting) for meetings in [since, until).
    /复盘 without a meeting (source 'command') is not a meeting and does not count; a meeting whose `within_ms` has
    not run out by `until` counts only once debriefed (it is not late yet)."""
    people = sorted(set(person_ids))
    if not people:
        return {}
    marks = ",".join("?" for _ in people)
    out = {p: (0, 0) for p in people}
    for person, n, on_time in store.conn.execute(
            f"SELECT person_id, COUNT(*), SUM(done_at IS NOT NULL AND done_at - meeting_at <= ?) FROM debriefs"
            f" WHERE source <> 'command' AND status <> 'cancelled' AND meeting_at >= ? AND meeting_at < ?"
            f" AND (done_at IS NOT NULL OR meeting_at + ? <= ?)"
            f" AND person_id IN ({marks}) GROUP BY person_id", (within_ms, since, until, within_ms, until, *people)):
        out[person] = (int(n), int(on_time or 0))
    return out


# ---------------------------------------------------------------- the deal side


def set_next_step(store: Store, lead_id: str, action: str, due_date: str, person: str, debrief_id: int,
                  person_id: str, now: int) -> None:
    store.conn.execute(
        "INSERT INTO deal_next_steps (lead_id, action, due_date, person, debrief_id, person_id, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (lead_id) DO UPDATE SET action = excluded.action,"
        " due_date = excluded.due_date, person = excluded.person, debrief_id = excluded.debrief_id,"
        " person_id = excluded.person_id, updated_at = excluded.updated_at",
        (lead_id, action, due_date, person, debrief_id, person_id, now))


def next_step_of(store: Store, lead_id: str) -> tuple[str, str, str, int | None] | None:
    """(action, due date, person, debrief id) of a deal's next step."""
    r = store.conn.execute("SELECT action, due_date, person, debrief_id FROM deal_next_steps WHERE lead_id = ?",
                           (lead_id,)).fetchone()
    return tuple(r) if r else None


def restore_next_step(store: Store, lead_id: str, previous: list | None) -> None:
    """Put back what a correction undoes: the previous next step, or none."""
    if previous is None:
        store.conn.execute("DELETE FROM deal_next_steps WHERE lead_id = ?", (lead_id,))
    else:
        action, due, person, debrief_id, person_id, at = previous
        set_next_step(store, lead_id, action, due, person, debrief_id, person_id, at)


def next_step_row(store: Store, lead_id: str) -> list | None:
    r = store.conn.execute("SELECT action, due_date, person, debrief_id, person_id, updated_at FROM deal_next_steps"
                           " WHERE lead_id = ?", (lead_id,)).fetchone()
    return list(r) if r else None


def record_on_timeline(store: Store, *, event_id: str, platform: str, at: int, person_id: str,
                       customer_id: str | None, lead_id: str, text: str, tag: str, category: str) -> None:
    """The debrief as an event on the lead's timeline (tagged, so /timeline lists it); a correction rewrites the
    text of the same event."""
    rowid = events_store.insert(store, (event_id, "debrief", platform, at, person_id, person_id, "rep", customer_id,
                                        lead_id, "debrief", text, "", "{}"))
    if rowid is None:
        store.conn.execute("UPDATE events SET text = ? WHERE event_id = ?", (text, event_id))
        return
    events_store.insert_tags(store, [(rowid, tag, category, 0.0, "debrief", lead_id, at)])


def stored_event(store: Store, event_id: str) -> tuple[str | None, str | None, list[str]] | None:
    """(customer id, lead id, tags) of an event the tagging observer stored, or None when it was not stored."""
    r = store.conn.execute("SELECT id, customer_id, lead_id FROM events WHERE event_id = ?", (event_id,)).fetchone()
    if r is None:
        return None
    tags = [t for (t,) in store.conn.execute("SELECT tag FROM event_tags WHERE event_rowid = ?", (r[0],))]
    return r[1], r[2], tags


def lead_owner(store: Store, lead_id: str) -> tuple[str | None, str | None] | None:
    """(owner id, customer id) of a lead."""
    r = store.conn.execute("SELECT owner_id, customer_id FROM leads WHERE id = ?", (lead_id,)).fetchone()
    return (r[0], r[1]) if r else None


def reopen_candidates(store: Store, person_id: str, recorded_at: int, since: int) -> list[Debrief]:
    """Debriefs a late voice note may belong to: the rep's open or expired ones whose meeting ended before the note
    was recorded and after `since`, the latest meeting first."""
    return _rows(store, "d.person_id = ? AND d.status IN ('scheduled', 'asked', 'answering', 'expired')"
                        " AND d.meeting_at <= ? AND d.meeting_at >= ? ORDER BY d.meeting_at DESC, d.id DESC",
                 (person_id, recorded_at, since))


def reopen(store: Store, debrief_id: int) -> None:
    store.conn.execute("UPDATE debriefs SET status = 'answering' WHERE id = ? AND status = 'expired'", (debrief_id,))
