"""SQL for coaching (handlers/coaching): golden snippets and their cells, outcomes, the precomputed rank table,
push log, mutes and the "再比较一下" check. Schema: migrations/0045_coaching.sql.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from store.db import Store

SNIPPET_COLS = ("id", "source_key", "source", "lead_id", "customer_id", "team_id", "rep_id", "objections",
                "strategies", "objection_text", "response_text", "turning_sentence", "context", "latency_s",
                "silence_action", "industry", "size", "product_line", "occurred_at", "stage_at", "outcome",
                "outcome_at", "starred", "starred_by")
_SEL = "SELECT " + ", ".join(f"s.{c}" for c in SNIPPET_COLS) + " FROM coach_snippets s"
SUCCESS = ("advanced", "won")


@dataclass(frozen=True, slots=True)
class SnippetRow:
    id: int
    source_key: str
    source: str
    lead_id: str | None
    customer_id: str | None
    team_id: str
    rep_id: str
    objections: str
    strategies: str
    objection_text: str
    response_text: str
    turning_sentence: str
    context: str
    latency_s: float | None
    silence_action: str
    industry: str
    size: str
    product_line: str
    occurred_at: int
    stage_at: str
    outcome: str
    outcome_at: int | None
    starred: int
    starred_by: str


_UPSERT = (
    "INSERT INTO coach_snippets (source_key, source, lead_id, customer_id, team_id, rep_id, objections, strategies,"
    " objection_text, response_text, turning_sentence, context, latency_s, silence_action, industry, size,"
    " product_line, occurred_at, stage_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (source_key) DO UPDATE SET strategies = excluded.strategies, objections = excluded.objections,"
    " objection_text = excluded.objection_text, response_text = excluded.response_text,"
    " turning_sentence = excluded.turning_sentence, context = excluded.context, latency_s = excluded.latency_s,"
    " silence_action = excluded.silence_action"
    " RETURNING id")


def upsert_snippet(store: Store, row: Sequence, cells: Iterable[tuple[str, str]]) -> int:
    """Insert or refresh one snippet (row in _UPSERT order); outcome and star are kept. Returns its id."""
    snippet_id = store.conn.execute(_UPSERT, row).fetchone()[0]
    store.conn.execute("DELETE FROM coach_snippet_cells WHERE snippet_id = ?", (snippet_id,))
    store.conn.executemany(
        "INSERT OR IGNORE INTO coach_snippet_cells (snippet_id, objection, strategy, rep_id) VALUES (?, ?, ?, ?)",
        [(snippet_id, o, s, row[5]) for o, s in cells])
    return snippet_id


def insert_snippets_bulk(store: Store, rows: Sequence[Sequence], cells: Sequence[Sequence]) -> None:
    """Benchmarks and imports: rows with explicit ids (id + _UPSERT columns + outcome), cells (id, o, s, rep)."""
    store.conn.executemany(
        "INSERT INTO coach_snippets (id, source_key, source, lead_id, customer_id, team_id, rep_id, objections,"
        " strategies, objection_text, response_text, turning_sentence, context, latency_s, silence_action, industry,"
        " size, product_line, occurred_at, stage_at, created_at, outcome, outcome_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    store.conn.executemany(
        "INSERT OR IGNORE INTO coach_snippet_cells (snippet_id, objection, strategy, rep_id) VALUES (?, ?, ?, ?)", cells)


def get(store: Store, snippet_id: int) -> SnippetRow | None:
    r = store.conn.execute(_SEL + " WHERE s.id = ?", (snippet_id,)).fetchone()
    return SnippetRow(*r) if r else None


def many(store: Store, ids: Sequence[int]) -> list[SnippetRow]:
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    by_id = {r[0]: SnippetRow(*r) for r in store.conn.execute(_SEL + f" WHERE s.id IN ({marks})", list(ids))}
    return [by_id[i] for i in ids if i in by_id]


def count(store: Store) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM coach_snippets").fetchone()[0]


def search(store: Store, *, objection: str | None, keyword: str | None, rep_ids: Iterable[str] | None,
           limit: int) -> list[SnippetRow]:
    """Newest snippets matching an objection and/or a keyword in what was said (not ranked; for /话术 fallbacks)."""
    where, params = [], []
    if objection:
        where.append("s.id IN (SELECT snippet_id FROM coach_snippet_cells WHERE objection = ?)")
        params.append(objection)
    if keyword:
        where.append("(s.objection_text LIKE ? OR s.response_text LIKE ? OR s.product_line LIKE ? OR s.industry = ?)")
        params += [f"%{keyword}%", f"%{keyword}%", f"%{keyword}%", keyword]
    if rep_ids is not None:
        reps = list(rep_ids)
        if not reps:
            return []
        where.append(f"s.rep_id IN ({', '.join('?' for _ in reps)})")
        params += reps
    sql = _SEL + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY s.starred DESC, s.occurred_at DESC LIMIT ?"
    return [SnippetRow(*r) for r in store.conn.execute(sql, (*params, limit))]


def set_starred(store: Store, snippet_id: int, starred: bool, person_id: str) -> None:
    store.conn.execute("UPDATE coach_snippets SET starred = ?, starred_by = ? WHERE id = ?",
                       (int(starred), person_id if starred else "", snippet_id))


def objection_texts(store: Store, objection: str, rep_ids: Iterable[str] | None, limit: int) -> list[tuple[str, str]]:
    """(customer_id, objection text) of the newest snippets for an objection, optionally only these reps'."""
    params: list = [objection]
    sql = ("SELECT COALESCE(s.customer_id, ''), s.objection_text FROM coach_snippet_cells c"
           " JOIN coach_snippets s ON s.id = c.snippet_id WHERE c.objection = ?")
    if rep_ids is not None:
        reps = list(rep_ids)
        if not reps:
            return []
        sql += f" AND s.rep_id IN ({', '.join('?' for _ in reps)})"
        params += reps
    sql += " ORDER BY s.occurred_at DESC LIMIT ?"
    return [(r[0], r[1]) for r in store.conn.execute(sql, (*params, limit))]


# ---------------------------------------------------------------- extraction bookkeeping


def new_message_leads(store: Store, after_rowid: int, limit: int) -> tuple[int, dict[str, int]]:
    """Leads with chat messages stored after events.id `after_rowid`: (highest id seen, lead → earliest new time)."""
    rows = store.conn.execute(
        "SELECT id, lead_id, occurred_at FROM events WHERE id > ? AND type = 'message' ORDER BY id LIMIT ?",
        (after_rowid, limit)).fetchall()
    leads: dict[str, int] = {}
    for _id, lead_id, at in rows:
        if lead_id:
            leads[lead_id] = min(at, leads.get(lead_id, at))
    return (rows[-1][0] if rows else after_rowid), leads


@dataclass(frozen=True, slots=True)
class LeadFacts:
    lead_id: str
    customer_id: str
    customer_name: str
    owner_id: str | None
    team_id: str
    industry: str
    size: str
    product: str
    stage: str
    status: str
    closed_at: int | None


def lead_facts(store: Store, lead_id: str) -> LeadFacts | None:
    r = store.conn.execute(
        "SELECT l.id, l.customer_id, COALESCE(c.name, ''), l.owner_id, COALESCE(p.team_id, ''),"
        " COALESCE(NULLIF(c.industry, ''), d.industry, ''), COALESCE(c.size, ''), l.product, l.stage, l.status,"
        " l.closed_at FROM leads l LEFT JOIN customers c ON c.id = l.customer_id"
        " LEFT JOIN people p ON p.id = l.owner_id LEFT JOIN deal_details d ON d.lead_id = l.id WHERE l.id = ?",
        (lead_id,)).fetchone()
    return LeadFacts(*r) if r else None


def event_rowid(store: Store, event_id: str) -> tuple[int, str | None] | None:
    r = store.conn.execute("SELECT id, lead_id FROM events WHERE event_id = ?", (event_id,)).fetchone()
    return (r[0], r[1]) if r else None


def customer_names(store: Store, customer_ids: Iterable[str] | None = None) -> list[str]:
    if customer_ids is None:
        return [r[0] for r in store.conn.execute("SELECT name FROM customers")]
    ids = list(customer_ids)
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    return [r[0] for r in store.conn.execute(f"SELECT name FROM customers WHERE id IN ({marks})", ids)]


# ---------------------------------------------------------------- outcomes and statistics


@dataclass(frozen=True, slots=True)
class Pending:
    snippet_id: int
    occurred_at: int
    stage_at: str
    status: str | None  # the lead's now (None: lead gone)
    stage: str
    closed_at: int | None


def pending(store: Store, limit: int) -> list[Pending]:
    return [Pending(*r) for r in store.conn.execute(
        "SELECT s.id, s.occurred_at, s.stage_at, l.status, COALESCE(l.stage, ''), l.closed_at FROM coach_snippets s"
        " LEFT JOIN leads l ON l.id = s.lead_id WHERE s.outcome = 'pending' ORDER BY s.occurred_at LIMIT ?",
        (limit,))]


def set_outcomes(store: Store, rows: Iterable[tuple[str, int, int]]) -> None:
    """(outcome, at, snippet id) rows."""
    store.conn.executemany("UPDATE coach_snippets SET outcome = ?, outcome_at = ? WHERE id = ?", rows)


def cell_counts(store: Store, rep_ids: Iterable[str] | None = None, since: int = 0,
                until: int | None = None) -> list[tuple[str, str, int, int]]:
    """(objection, strategy, resolved n, successes) over snippets with a known outcome."""
    sql = ("SELECT c.objection, c.strategy, COUNT(*), SUM(s.outcome IN ('advanced', 'won')) FROM coach_snippet_cells c"
           " JOIN coach_snippets s ON s.id = c.snippet_id WHERE s.outcome <> 'pending' AND s.occurred_at >= ?")
    params: list = [since]
    if until is not None:
        sql += " AND s.occurred_at < ?"
        params.append(until)
    if rep_ids is not None:
        reps = list(rep_ids)
        if not reps:
            return []
        sql += f" AND c.rep_id IN ({', '.join('?' for _ in reps)})"
        params += reps
    sql += " GROUP BY c.objection, c.strategy"
    return [(r[0], r[1], r[2], r[3] or 0) for r in store.conn.execute(sql, params)]


def met_counts(store: Store, rep_ids: Iterable[str], since: int, until: int) -> list[tuple[str, str, int]]:
    """(objection, strategy, how many) of every snippet in a time window, whatever its outcome (digests)."""
    reps = list(rep_ids)
    if not reps:
        return []
    marks = ", ".join("?" for _ in reps)
    return [tuple(r) for r in store.conn.execute(
        "SELECT c.objection, c.strategy, COUNT(*) FROM coach_snippet_cells c JOIN coach_snippets s ON s.id = c.snippet_id"
        f" WHERE c.rep_id IN ({marks}) AND s.occurred_at >= ? AND s.occurred_at < ?"
        " GROUP BY c.objection, c.strategy ORDER BY 3 DESC", (*reps, since, until))]


def family_counts(store: Store) -> list[tuple[str, str, str, int, int]]:
    """(rep, objection, strategy, resolved n, successes): the rep's own way of answering one objection."""
    return [(r[0], r[1], r[2], r[3], r[4] or 0) for r in store.conn.execute(
        "SELECT c.rep_id, c.objection, c.strategy, COUNT(*), SUM(s.outcome IN ('advanced', 'won'))"
        " FROM coach_snippet_cells c JOIN coach_snippets s ON s.id = c.snippet_id WHERE s.outcome <> 'pending'"
        " GROUP BY c.rep_id, c.objection, c.strategy")]


def rankable(store: Store) -> Iterable[tuple[int, str, str, str, str, int, int, str]]:
    """(snippet, objection, strategy, rep, industry, occurred_at, starred, outcome) of successful or starred ones."""
    return store.conn.execute(
        "SELECT s.id, c.objection, c.strategy, c.rep_id, s.industry, s.occurred_at, s.starred, s.outcome"
        " FROM coach_snippet_cells c JOIN coach_snippets s ON s.id = c.snippet_id"
        " WHERE s.outcome IN ('advanced', 'won') OR s.starred = 1")


_RANK_COLS = "objection, snippet_id, weight, industry, occurred_at, mean, low, high, n, k"


def replace_rank(store: Store, rows: Iterable[Sequence]) -> None:
    """Rows in _RANK_COLS order become the whole rank table."""
    store.conn.execute("DELETE FROM coach_rank")
    store.conn.executemany(f"INSERT OR REPLACE INTO coach_rank ({_RANK_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           rows)


@dataclass(frozen=True, slots=True)
class RankRow:
    objection: str
    snippet_id: int
    weight: float
    industry: str
    occurred_at: int
    mean: float
    low: float
    high: float
    n: int
    k: int


def rank_candidates(store: Store, objection: str, industry: str, limit: int) -> list[RankRow]:
    """The best `limit` for the objection, plus the best `limit` in this industry (two index ranges)."""
    rows = store.conn.execute(
        f"SELECT {_RANK_COLS} FROM coach_rank WHERE objection = ? ORDER BY weight DESC LIMIT ?",
        (objection, limit)).fetchall()
    if industry:
        rows += store.conn.execute(
            f"SELECT {_RANK_COLS} FROM coach_rank WHERE objection = ? AND industry = ? ORDER BY weight DESC LIMIT ?",
            (objection, industry, limit)).fetchall()
    return [RankRow(*r) for r in rows]


def rank_rows_for(store: Store, snippet_ids: Sequence[int]) -> list[RankRow]:
    if not snippet_ids:
        return []
    marks = ", ".join("?" for _ in snippet_ids)
    return [RankRow(*r) for r in store.conn.execute(
        f"SELECT {_RANK_COLS} FROM coach_rank WHERE snippet_id IN ({marks})", list(snippet_ids))]


def rank_size(store: Store) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM coach_rank").fetchone()[0]


# ---------------------------------------------------------------- pushes and mutes


def last_push_at(store: Store, lead_id: str, objection: str) -> int | None:
    return store.conn.execute("SELECT MAX(at) FROM coach_pushes WHERE lead_id = ? AND objection = ?",
                              (lead_id, objection)).fetchone()[0]


def add_push(store: Store, lead_id: str, objection: str, at: int, person_id: str, event_id: str,
             snippet_ids: Sequence[int]) -> None:
    store.conn.execute(
        "INSERT OR IGNORE INTO coach_pushes (lead_id, objection, at, person_id, event_id, snippet_ids)"
        " VALUES (?, ?, ?, ?, ?, ?)", (lead_id, objection, at, person_id, event_id, " ".join(map(str, snippet_ids))))


def push_count(store: Store) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM coach_pushes").fetchone()[0]


def is_muted(store: Store, person_id: str) -> bool:
    return store.conn.execute("SELECT 1 FROM coach_mutes WHERE person_id = ?", (person_id,)).fetchone() is not None


def set_muted(store: Store, person_id: str, muted: bool, at: int) -> None:
    if muted:
        store.conn.execute("INSERT OR IGNORE INTO coach_mutes (person_id, at) VALUES (?, ?)", (person_id, at))
    else:
        store.conn.execute("DELETE FROM coach_mutes WHERE person_id = ?", (person_id,))


# ---------------------------------------------------------------- the "再比较一下" check


@dataclass(frozen=True, slots=True)
class Hesitation:
    event_id: str
    lead_id: str
    rep_id: str
    at: int
    text: str
    rep_msgs: int


def add_hesitation(store: Store, event_id: str, lead_id: str, rep_id: str, team_id: str, at: int, text: str) -> None:
    store.conn.execute(
        "INSERT OR IGNORE INTO coach_hesitations (event_id, lead_id, rep_id, team_id, at, text) VALUES (?, ?, ?, ?, ?, ?)",
        (event_id, lead_id, rep_id, team_id, at, text))


def open_hesitations(store: Store, lead_id: str, before: int) -> list[Hesitation]:
    return [Hesitation(*r) for r in store.conn.execute(
        "SELECT event_id, lead_id, rep_id, at, text, rep_msgs FROM coach_hesitations"
        " WHERE lead_id = ? AND result = '' AND at <= ? ORDER BY at", (lead_id, before))]


def bump_hesitation(store: Store, event_id: str) -> None:
    store.conn.execute("UPDATE coach_hesitations SET rep_msgs = rep_msgs + 1 WHERE event_id = ?", (event_id,))


def resolve_hesitation(store: Store, event_id: str, result: str, at: int, by_event_id: str) -> bool:
    cur = store.conn.execute(
        "UPDATE coach_hesitations SET result = ?, resolved_at = ?, resolved_event_id = ? WHERE event_id = ? AND result = ''",
        (result, at, by_event_id, event_id))
    return cur.rowcount == 1


def stale_hesitations(store: Store, before: int, limit: int) -> list[Hesitation]:
    return [Hesitation(*r) for r in store.conn.execute(
        "SELECT event_id, lead_id, rep_id, at, text, rep_msgs FROM coach_hesitations WHERE result = '' AND at < ?"
        " ORDER BY at LIMIT ?", (before, limit))]


def hesitation_rates(store: Store, rep_ids: Iterable[str] | None, since: int, until: int) -> dict[str, tuple[int, int]]:
    """rep → (with a case, without) over hesitations resolved in the window."""
    sql = ("SELECT rep_id, SUM(result = 'case'), SUM(result = 'no_case') FROM coach_hesitations"
           " WHERE result <> '' AND at >= ? AND at < ?")
    params: list = [since, until]
    if rep_ids is not None:
        reps = list(rep_ids)
        if not reps:
            return {}
        sql += f" AND rep_id IN ({', '.join('?' for _ in reps)})"
        params += reps
    return {r[0]: (r[1] or 0, r[2] or 0) for r in store.conn.execute(sql + " GROUP BY rep_id", params)}


def hesitation_results(store: Store) -> list[tuple[str, str, str]]:
    """(event id, lead, result) of every resolved check (tests, exports)."""
    return [tuple(r) for r in store.conn.execute(
        "SELECT event_id, lead_id, result FROM coach_hesitations WHERE result <> '' ORDER BY at")]


def rank_put_snippet(store: Store, rows: Iterable[Sequence]) -> None:
    """Add or refresh one snippet's rank rows (rows in _RANK_COLS order), e.g. right after a manager stars it."""
    store.conn.executemany(f"INSERT OR REPLACE INTO coach_rank ({_RANK_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           rows)


def rank_drop_snippet(store: Store, snippet_id: int) -> None:
    store.conn.execute("DELETE FROM coach_rank WHERE snippet_id = ?", (snippet_id,))


def cells_of_snippet(store: Store, snippet_id: int) -> list[tuple[str, str, str]]:
    """(objection, strategy, rep) cells a snippet counts in."""
    return [tuple(r) for r in store.conn.execute(
        "SELECT objection, strategy, rep_id FROM coach_snippet_cells WHERE snippet_id = ?", (snippet_id,))]
