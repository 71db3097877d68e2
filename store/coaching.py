"""SQL for coaching (handlers/coaching): golden snippets and their cells, outcomes, the family estimates ranking
reads, push log, mutes and the "再比较一下" check. Schema: migrations/0045_coaching.sql.
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
    outcome, industry, at, starred = store.conn.execute(
        "SELECT outcome, industry, occurred_at, starred FROM coach_snippets WHERE id = ?", (snippet_id,)).fetchone()
    success = None if outcome == "pending" else int(outcome in SUCCESS)
    store.conn.execute("DELETE FROM coach_snippet_cells WHERE snippet_id = ?", (snippet_id,))
    store.conn.executemany(_INSERT_CELL, [(snippet_id, o, s, row[5], success, industry, at, starred) for o, s in cells])
    return snippet_id


_INSERT_CELL = ("INSERT OR IGNORE INTO coach_snippet_cells (snippet_id, objection, strategy, rep_id, success, industry,"
                " occurred_at, starred) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


def insert_snippets_bulk(store: Store, rows: Sequence[Sequence], cells: Sequence[Sequence]) -> None:
    """Benchmarks and imports: rows with explicit ids (id + _UPSERT columns + outcome, outcome_at), cells in
    _INSERT_CELL order."""
    store.conn.executemany(
        "INSERT INTO coach_snippets (id, source_key, source, lead_id, customer_id, team_id, rep_id, objections,"
        " strategies, objection_text, response_text, turning_sentence, context, latency_s, silence_action, industry,"
        " size, product_line, occurred_at, stage_at, created_at, outcome, outcome_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    store.conn.executemany(_INSERT_CELL, cells)


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


@dataclass(frozen=True, slots=True)
class ScoreRow:
    id: int
    lead_id: str | None
    industry: str
    size: str
    product_line: str
    occurred_at: int
    starred: int


def score_rows(store: Store, ids: Sequence[int]) -> list[ScoreRow]:
    """What ranking needs of candidate snippets (not their texts)."""
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    return [ScoreRow(*r) for r in store.conn.execute(
        f"SELECT id, lead_id, industry, size, product_line, occurred_at, starred FROM coach_snippets WHERE id IN ({marks})",
        list(ids))]


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
    store.conn.execute("UPDATE coach_snippet_cells SET starred = ? WHERE snippet_id = ?", (int(starred), snippet_id))


def objection_texts(store: Store, objection: str, rep_ids: Iterable[str] | None, limit: int,
                    industry: str | None = None) -> list[tuple[str, str]]:
    """(customer_id, objection text) of the newest snippets for an objection, optionally only these reps' and only
    customers of one industry."""
    params: list = [objection]
    sql = ("SELECT COALESCE(s.customer_id, ''), s.objection_text FROM coach_snippet_cells c"
           " JOIN coach_snippets s ON s.id = c.snippet_id WHERE c.objection = ?")
    if industry:
        sql += " AND s.industry = ?"
        params.append(industry)
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


def customers_signature(store: Store) -> tuple[int, int | None]:
    """(how many customers, their highest rowid): changes whenever a customer is added or removed."""
    count, top = store.conn.execute("SELECT COUNT(*), MAX(rowid) FROM customers").fetchone()
    return int(count), top


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


def set_outcomes(store: Store, rows: Sequence[tuple[str, int, int]]) -> None:
    """(outcome, at, snippet id) rows."""
    store.conn.executemany("UPDATE coach_snippets SET outcome = ?, outcome_at = ? WHERE id = ?", rows)
    store.conn.executemany("UPDATE coach_snippet_cells SET success = ? WHERE snippet_id = ?",
                           [(int(o in SUCCESS), i) for o, _at, i in rows])


def cell_counts(store: Store, rep_ids: Iterable[str] | None = None, since: int = 0,
                until: int | None = None) -> list[tuple[str, str, int, int]]:
    """(objection, strategy, resolved n, successes) over snippets with a known outcome."""
    sql = ("SELECT objection, strategy, COUNT(*), SUM(success) FROM coach_snippet_cells"
           " WHERE success IS NOT NULL AND occurred_at >= ?")
    params: list = [since]
    if until is not None:
        sql += " AND occurred_at < ?"
        params.append(until)
    if rep_ids is not None:
        reps = list(rep_ids)
        if not reps:
            return []
        sql += f" AND rep_id IN ({', '.join('?' for _ in reps)})"
        params += reps
    sql += " GROUP BY objection, strategy"
    return [(r[0], r[1], r[2], r[3] or 0) for r in store.conn.execute(sql, params)]


def met_counts(store: Store, rep_ids: Iterable[str], since: int, until: int) -> list[tuple[str, str, int]]:
    """(objection, strategy, how many) of every snippet in a time window, whatever its outcome (digests)."""
    reps = list(rep_ids)
    if not reps:
        return []
    marks = ", ".join("?" for _ in reps)
    return [tuple(r) for r in store.conn.execute(
        f"SELECT objection, strategy, COUNT(*) FROM coach_snippet_cells WHERE rep_id IN ({marks})"
        " AND occurred_at >= ? AND occurred_at < ? GROUP BY objection, strategy ORDER BY 3 DESC", (*reps, since, until))]


def family_counts(store: Store) -> list[tuple[str, str, str, int, int]]:
    """(rep, objection, strategy, resolved n, successes): the rep's own way of answering one objection."""
    return [(r[0], r[1], r[2], r[3], r[4] or 0) for r in store.conn.execute(
        "SELECT rep_id, objection, strategy, COUNT(*), SUM(success) FROM coach_snippet_cells"
        " WHERE success IS NOT NULL GROUP BY objection, strategy, rep_id")]


def families_with_candidates(store: Store) -> list[tuple[str, str, str]]:
    """(rep, objection, strategy) of families that have a recommendable (successful or starred) snippet."""
    return [tuple(r) for r in store.conn.execute(
        "SELECT DISTINCT rep_id, objection, strategy FROM coach_snippet_cells WHERE success = 1 OR starred = 1")]


_FAMILY_COLS = "objection, rep_id, strategy, weight, mean, low, high, n, k"


@dataclass(frozen=True, slots=True)
class Family:
    objection: str
    rep_id: str
    strategy: str
    weight: float
    mean: float
    low: float
    high: float
    n: int
    k: int


def replace_families(store: Store, rows: Iterable[Sequence]) -> None:
    """Rows in _FAMILY_COLS order become the whole family table."""
    store.conn.execute("DELETE FROM coach_families")
    store.conn.executemany(f"INSERT OR REPLACE INTO coach_families ({_FAMILY_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           rows)
    bump_families(store)


def put_family(store: Store, row: Sequence) -> None:
    store.conn.execute(f"INSERT OR REPLACE INTO coach_families ({_FAMILY_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    bump_families(store)


def families(store: Store, objection: str, limit: int) -> list[Family]:
    """The objection's families that answered with a strategy, best weight first (an answer without any
    strategy — "收到" — is counted in the matrix but never recommended)."""
    return [Family(*r) for r in store.conn.execute(
        f"SELECT {_FAMILY_COLS} FROM coach_families WHERE objection = ? AND strategy <> '' ORDER BY weight DESC"
        " LIMIT ?",
        (objection, limit))]


def families_version(store: Store) -> str:
    """Changes whenever the family table is rewritten (see bump_families)."""
    row = store.conn.execute("SELECT value FROM kv WHERE key = 'coach.families_version'").fetchone()
    return row[0] if row else "0"


def bump_families(store: Store) -> None:
    store.conn.execute("INSERT INTO kv (key, value) VALUES ('coach.families_version', '1') ON CONFLICT (key)"
                       " DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)")


def family_count(store: Store) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM coach_families").fetchone()[0]


def family_of(store: Store, objection: str, rep_id: str, strategy: str) -> Family | None:
    r = store.conn.execute(f"SELECT {_FAMILY_COLS} FROM coach_families WHERE objection = ? AND rep_id = ?"
                           " AND strategy = ?", (objection, rep_id, strategy)).fetchone()
    return Family(*r) if r else None


def family_snippets(store: Store, objection: str, rep_id: str, strategy: str, industry: str | None,
                    limit: int) -> list[int]:
    """Newest recommendable snippets of one family (in one industry when given): one partial-index range."""
    if industry is None:
        return [r[0] for r in store.conn.execute(
            "SELECT snippet_id FROM coach_snippet_cells INDEXED BY coach_cells_family WHERE objection = ?"
            " AND rep_id = ? AND strategy = ? AND (success = 1 OR starred = 1) ORDER BY occurred_at DESC LIMIT ?",
            (objection, rep_id, strategy, limit))]
    return [r[0] for r in store.conn.execute(
        "SELECT snippet_id FROM coach_snippet_cells INDEXED BY coach_cells_family_industry WHERE objection = ?"
        " AND industry = ? AND rep_id = ? AND strategy = ? AND (success = 1 OR starred = 1)"
        " ORDER BY occurred_at DESC LIMIT ?", (objection, industry, rep_id, strategy, limit))]


def starred_snippets(store: Store, objection: str, limit: int) -> list[tuple[int, str, str]]:
    """(snippet, rep, strategy) of the newest starred snippets for an objection."""
    return [tuple(r) for r in store.conn.execute(
        "SELECT snippet_id, rep_id, strategy FROM coach_snippet_cells WHERE objection = ? AND starred = 1"
        " ORDER BY occurred_at DESC LIMIT ?", (objection, limit))]


def cell_of(store: Store, snippet_id: int, objection: str) -> tuple[str, str] | None:
    r = store.conn.execute("SELECT rep_id, strategy FROM coach_snippet_cells WHERE objection = ? AND snippet_id = ?",
                           (objection, snippet_id)).fetchone()
    return (r[0], r[1]) if r else None


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


def leads_with_open_checks(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT DISTINCT lead_id FROM coach_hesitations WHERE result = ''")]


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

