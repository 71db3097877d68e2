"""Practice sessions against the virtual customer and their scored rounds (migration 0056)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from store.db import Store


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    person_id: str
    team: str
    objection: str
    industry: str
    status: str
    ended_by: str
    rounds: int
    started_at: int
    last_at: int
    ended_at: int | None
    plan: str


@dataclass(frozen=True, slots=True)
class Round:
    id: int
    session_id: int
    n: int
    objection: str
    prompt: str
    asked_at: int
    answer: str | None
    kind: str
    answered_at: int | None
    score: int | None
    detail: str


_S = ("id, person_id, team, objection, industry, status, ended_by, rounds, started_at, last_at, ended_at, plan")
_R = "id, session_id, n, objection, prompt, asked_at, answer, kind, answered_at, score, detail"


def start(store: Store, *, person_id: str, team: str, objection: str, industry: str, rounds: int, plan: str,
          now: int) -> int | None:
    """A new active session; None when the person already has one (one active session per person)."""
    try:
        cur = store.conn.execute(
            "INSERT INTO practice_sessions (person_id, team, objection, industry, rounds, started_at, last_at, plan)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (person_id, team, objection, industry, rounds, now, now, plan))
    except sqlite3.IntegrityError:
        return None
    return cur.lastrowid


def active(store: Store, person_id: str) -> Session | None:
    r = store.conn.execute(f"SELECT {_S} FROM practice_sessions WHERE person_id = ? AND status = 'active'",
                           (person_id,)).fetchone()
    return Session(*r) if r else None


def get(store: Store, session_id: int) -> Session | None:
    r = store.conn.execute(f"SELECT {_S} FROM practice_sessions WHERE id = ?", (session_id,)).fetchone()
    return Session(*r) if r else None


def touch(store: Store, session_id: int, now: int) -> None:
    store.conn.execute("UPDATE practice_sessions SET last_at = ? WHERE id = ?", (now, session_id))


def end(store: Store, session_id: int, by: str, now: int) -> bool:
    cur = store.conn.execute("UPDATE practice_sessions SET status = 'ended', ended_by = ?, ended_at = ?"
                             " WHERE id = ? AND status = 'active'", (by, now, session_id))
    return cur.rowcount == 1


def idle(store: Store, before: int, limit: int) -> list[Session]:
    return [Session(*r) for r in store.conn.execute(
        f"SELECT {_S} FROM practice_sessions WHERE status = 'active' AND last_at < ? ORDER BY last_at LIMIT ?",
        (before, limit))]


def add_round(store: Store, session_id: int, n: int, objection: str, prompt: str, asked_at: int) -> None:
    store.conn.execute("INSERT OR IGNORE INTO practice_rounds (session_id, n, objection, prompt, asked_at)"
                       " VALUES (?, ?, ?, ?, ?)", (session_id, n, objection, prompt, asked_at))


def open_round(store: Store, session_id: int) -> Round | None:
    r = store.conn.execute(f"SELECT {_R} FROM practice_rounds WHERE session_id = ? AND answer IS NULL"
                           " ORDER BY n LIMIT 1", (session_id,)).fetchone()
    return Round(*r) if r else None


def answer(store: Store, round_id: int, text: str, kind: str, at: int, score: int, detail: str) -> bool:
    cur = store.conn.execute("UPDATE practice_rounds SET answer = ?, kind = ?, answered_at = ?, score = ?, detail = ?"
                             " WHERE id = ? AND answer IS NULL", (text, kind, at, score, detail, round_id))
    return cur.rowcount == 1


def rounds_of(store: Store, session_id: int) -> list[Round]:
    return [Round(*r) for r in store.conn.execute(
        f"SELECT {_R} FROM practice_rounds WHERE session_id = ? ORDER BY n", (session_id,))]


def counts(store: Store, person_ids: Iterable[str], since: int, until: int) -> dict[str, tuple[int, float | None]]:
    """person → (practice sessions started in [since, until) with at least one answer, average answer score)."""
    people = sorted(set(person_ids))
    if not people:
        return {}
    marks = ",".join("?" for _ in people)
    out: dict[str, tuple[int, float | None]] = {}
    for person, n, avg in store.conn.execute(
            f"SELECT s.person_id, COUNT(DISTINCT s.id), AVG(r.score) FROM practice_sessions s"
            f" JOIN practice_rounds r ON r.session_id = s.id AND r.score IS NOT NULL"
            f" WHERE s.started_at >= ? AND s.started_at < ? AND s.person_id IN ({marks}) GROUP BY s.person_id",
            (since, until, *people)):
        out[person] = (int(n), float(avg) if avg is not None else None)
    return out
