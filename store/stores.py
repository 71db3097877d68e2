"""Retail stores' tables (migration 0060): stores, staff, areas, the daily figures per store and local day, the
computed health code, fix tasks with their audit trail, promotion days and the weather cache."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from store.db import Store


@dataclass(frozen=True, slots=True)
class StoreRow:
    id: str
    name: str
    area: str
    store_type: str
    manager_id: str | None
    city: str
    timezone: str
    opens: str
    closes: str
    latitude: float | None
    longitude: float | None
    video_url: str


_S = "id, name, area, store_type, manager_id, city, timezone, opens, closes, latitude, longitude, video_url"


def upsert_store(store: Store, row: StoreRow, source: str, now_ms: int) -> None:
    store.conn.execute(
        f"INSERT INTO stores ({_S}, source, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, area = excluded.area, store_type = excluded.store_type,"
        " manager_id = excluded.manager_id, city = excluded.city, timezone = excluded.timezone, opens = excluded.opens,"
        " closes = excluded.closes, latitude = excluded.latitude, longitude = excluded.longitude,"
        " video_url = excluded.video_url, source = excluded.source, updated_at = excluded.updated_at",
        (row.id, row.name, row.area, row.store_type, row.manager_id, row.city, row.timezone, row.opens, row.closes,
         row.latitude, row.longitude, row.video_url, source, now_ms),
    )


def set_staff(store: Store, store_id: str, manager_id: str | None, clerk_ids: Iterable[str]) -> None:
    store.conn.execute("DELETE FROM store_staff WHERE store_id = ?", (store_id,))
    rows = [(store_id, pid, "clerk") for pid in dict.fromkeys(clerk_ids) if pid != manager_id]
    if manager_id:
        rows.append((store_id, manager_id, "manager"))
    store.conn.executemany("INSERT INTO store_staff (store_id, person_id, role) VALUES (?, ?, ?)", rows)


def upsert_area(store: Store, name: str, manager_id: str | None, competitor_note: str) -> None:
    store.conn.execute(
        "INSERT INTO store_areas (name, manager_id, competitor_note) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE"
        " SET manager_id = COALESCE(excluded.manager_id, manager_id),"
        " competitor_note = CASE WHEN excluded.competitor_note = '' THEN competitor_note"
        " ELSE excluded.competitor_note END",
        (name, manager_id, competitor_note),
    )


def _store(r) -> StoreRow:
    return StoreRow(*r)


def all_stores(store: Store) -> list[StoreRow]:
    return [_store(r) for r in store.conn.execute(f"SELECT {_S} FROM stores ORDER BY area, id")]


def get_store(store: Store, store_id: str) -> StoreRow | None:
    r = store.conn.execute(f"SELECT {_S} FROM stores WHERE id = ?", (store_id,)).fetchone()
    return _store(r) if r else None


def find_store(store: Store, text: str) -> StoreRow | None:
    """By id, exact name, or a unique part of the name."""
    r = store.conn.execute(f"SELECT {_S} FROM stores WHERE id = ? OR name = ?", (text, text)).fetchone()
    if r:
        return _store(r)
    rows = store.conn.execute(f"SELECT {_S} FROM stores WHERE instr(name, ?) > 0 LIMIT 2", (text,)).fetchall()
    return _store(rows[0]) if len(rows) == 1 else None


def stores_of_person(store: Store, person_id: str) -> list[tuple[StoreRow, str]]:
    """(store, role) for every store the person works in."""
    rows = store.conn.execute(
        f"SELECT {', '.join('s.' + c.strip() for c in _S.split(','))}, st.role FROM store_staff st"
        " JOIN stores s ON s.id = st.store_id WHERE st.person_id = ? ORDER BY st.role DESC, s.id", (person_id,)).fetchall()
    return [(_store(r[:-1]), r[-1]) for r in rows]


def staff_of(store: Store, store_id: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in store.conn.execute(
        "SELECT person_id, role FROM store_staff WHERE store_id = ? ORDER BY role DESC, person_id", (store_id,))]


def areas(store: Store) -> dict[str, tuple[str | None, str]]:
    """area name → (manager id, competitor note)."""
    return {r[0]: (r[1], r[2]) for r in store.conn.execute("SELECT name, manager_id, competitor_note FROM store_areas")}


def people_with_stores(store: Store) -> set[str]:
    """Everyone who works in, manages or oversees (as an area manager) at least one store."""
    return {r[0] for r in store.conn.execute(
        "SELECT person_id FROM store_staff UNION SELECT manager_id FROM stores WHERE manager_id IS NOT NULL"
        " UNION SELECT a.manager_id FROM store_areas a JOIN stores s ON s.area = a.name WHERE a.manager_id IS NOT NULL")}


def areas_managed_by(store: Store, person_id: str) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT name FROM store_areas WHERE manager_id = ? ORDER BY name",
                                             (person_id,))]


# ---------------------------------------------------------------- daily figures


def put_receptions(store: Store, store_id: str, day: str, person_id: str, receptions: int, staff: int, source: str,
                   at: int) -> None:
    store.conn.execute(
        "INSERT INTO store_receptions (store_id, day, person_id, receptions, staff, source, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (store_id, day, person_id) DO UPDATE SET"
        " receptions = excluded.receptions, staff = excluded.staff, source = excluded.source, at = excluded.at",
        (store_id, day, person_id, receptions, staff, source, at),
    )


def person_receptions(store: Store, store_id: str, day: str, person_id: str) -> int | None:
    """What this person reported for the store's day so far (None: nothing yet)."""
    row = store.conn.execute("SELECT receptions FROM store_receptions WHERE store_id = ? AND day = ? AND person_id = ?",
                             (store_id, day, person_id)).fetchone()
    return None if row is None else int(row[0])


def receptions(store: Store, store_id: str, first_day: str, last_day: str) -> dict[str, tuple[int, int, bool]]:
    """day → (receptions, people, from_pos). A POS/CSV row for the whole store wins over the clerks' own reports."""
    out: dict[str, tuple[int, int, bool]] = {}
    for day, pos_r, pos_staff, clerk_r, clerks in store.conn.execute(
        "SELECT day, SUM(CASE WHEN person_id = '*' THEN receptions END), SUM(CASE WHEN person_id = '*' THEN staff END),"
        " SUM(CASE WHEN person_id <> '*' THEN receptions END), SUM(CASE WHEN person_id <> '*' THEN 1 END)"
        " FROM store_receptions WHERE store_id = ? AND day BETWEEN ? AND ? GROUP BY day", (store_id, first_day, last_day)):
        if pos_r is not None:
            out[day] = (int(pos_r), int(pos_staff), True)
        elif clerk_r is not None:
            out[day] = (int(clerk_r), int(clerks), False)
    return out


def add_shelf_check(store: Store, store_id: str, day: str, at: int, person_id: str, registered: bool, reason: str,
                    exposure: float | None, problems: list[dict], annotated_path: str, source_event: str) -> int | None:
    """The check's id, or None when this photo (source_event) was already recorded."""
    cur = store.conn.execute(
        "INSERT INTO store_shelf_checks (store_id, day, at, person_id, registered, reason, exposure, problems,"
        " annotated_path, source_event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source_event) DO NOTHING",
        (store_id, day, at, person_id, int(registered), reason, exposure, json.dumps(problems, ensure_ascii=False),
         annotated_path, source_event),
    )
    return cur.lastrowid if cur.rowcount else None


@dataclass(frozen=True, slots=True)
class ShelfRow:
    id: int
    at: int
    exposure: float
    problems: list[dict]
    annotated_path: str


def latest_shelf(store: Store, store_id: str, first_day: str, last_day: str) -> dict[str, ShelfRow]:
    """day → the day's last shelf check that gave a verdict (refused photos say nothing about the shelf)."""
    out: dict[str, ShelfRow] = {}
    for day, cid, at, exposure, problems, path in store.conn.execute(
        "SELECT day, id, at, exposure, problems, annotated_path FROM store_shelf_checks WHERE store_id = ?"
        " AND day BETWEEN ? AND ? AND registered = 1 AND exposure IS NOT NULL ORDER BY at, id",
        (store_id, first_day, last_day)):
        out[day] = ShelfRow(cid, at, float(exposure), json.loads(problems), path)
    return out


def put_dwell(store: Store, store_id: str, day: str, avg_minutes: float, visits: int, source: str, at: int) -> None:
    store.conn.execute(
        "INSERT INTO store_dwell (store_id, day, avg_minutes, visits, source, at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (store_id, day) DO UPDATE SET avg_minutes = excluded.avg_minutes, visits = excluded.visits,"
        " source = excluded.source, at = excluded.at",
        (store_id, day, avg_minutes, visits, source, at),
    )


def dwell(store: Store, store_id: str, first_day: str, last_day: str) -> dict[str, tuple[float, int]]:
    return {r[0]: (float(r[1]), int(r[2])) for r in store.conn.execute(
        "SELECT day, avg_minutes, visits FROM store_dwell WHERE store_id = ? AND day BETWEEN ? AND ?",
        (store_id, first_day, last_day))}


def add_probes(store: Store, rows: Iterable[tuple[str, int, str, int | None]]) -> int:
    before = store.conn.total_changes
    store.conn.executemany("INSERT OR IGNORE INTO store_wifi_probes (store_id, at, device, rssi) VALUES (?, ?, ?, ?)",
                           rows)
    return store.conn.total_changes - before


def probes(store: Store, store_id: str, since_ms: int, until_ms: int, limit: int = -1) -> list[tuple[int, str, int | None]]:
    return [(r[0], r[1], r[2]) for r in store.conn.execute(
        "SELECT at, device, rssi FROM store_wifi_probes WHERE store_id = ? AND at >= ? AND at < ? ORDER BY at"
        " LIMIT ?", (store_id, since_ms, until_ms, limit))]


def add_experience(store: Store, store_id: str, at: int, person_id: str, customer: str, phone: str,
                   lead_id: str | None, source: str, external_id: str | None) -> int | None:
    cur = store.conn.execute(
        "INSERT INTO store_experiences (store_id, at, person_id, customer, phone, lead_id, source, external_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (external_id) DO NOTHING",
        (store_id, at, person_id, customer, phone, lead_id, source, external_id),
    )
    return cur.lastrowid if cur.rowcount else None


@dataclass(frozen=True, slots=True)
class Experience:
    id: int
    store_id: str
    at: int
    person_id: str
    customer: str
    phone: str
    lead_id: str | None
    deal_at: int | None
    cared_at: int | None


_E = "e.id, e.store_id, e.at, e.person_id, e.customer, e.phone, e.lead_id,"
# a linked lead that was won counts as the deal (the deal came through the normal sales path)
_DEAL = "COALESCE(e.deal_at, CASE WHEN l.status = 'won' THEN COALESCE(l.closed_at, l.last_activity_at, e.at) END)"


def experiences(store: Store, store_id: str, since_ms: int, until_ms: int) -> list[Experience]:
    return [Experience(*r) for r in store.conn.execute(
        f"SELECT {_E} {_DEAL}, e.cared_at FROM store_experiences e LEFT JOIN leads l ON l.id = e.lead_id"
        " WHERE e.store_id = ? AND e.at >= ? AND e.at < ? ORDER BY e.at", (store_id, since_ms, until_ms))]


def mark_deal(store: Store, store_id: str, customer: str, at: int, *, phone: str = "") -> int:
    """The latest open experience of this customer (name or phone; `phone` normalised, compared also with phones
    kept before they were normalised) in the store gets its deal; returns its id or 0."""
    row = store.conn.execute(
        "SELECT id FROM store_experiences WHERE store_id = ? AND deal_at IS NULL AND (customer = ? OR phone = ?"
        " OR (? != '' AND REPLACE(REPLACE(phone, '-', ''), ' ', '') IN (?, '+86' || ?)))"
        " AND at <= ? ORDER BY at DESC LIMIT 1", (store_id, customer, customer, phone, phone, phone, at)).fetchone()
    if row is None:
        return 0
    store.conn.execute("UPDATE store_experiences SET deal_at = ? WHERE id = ?", (at, row[0]))
    return int(row[0])


def set_deal(store: Store, experience_id: int, at: int) -> None:
    store.conn.execute("UPDATE store_experiences SET deal_at = ? WHERE id = ?", (at, experience_id))


def mark_cared(store: Store, ids: Iterable[int], at: int) -> None:
    store.conn.executemany("UPDATE store_experiences SET cared_at = ? WHERE id = ? AND cared_at IS NULL",
                           [(at, i) for i in ids])


# ---------------------------------------------------------------- health, runs


def put_health(store: Store, store_id: str, day: str, colour: str, detail: dict, at: int) -> None:
    store.conn.execute(
        "INSERT INTO store_health (store_id, day, colour, detail, computed_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (store_id, day) DO UPDATE SET colour = excluded.colour, detail = excluded.detail,"
        " computed_at = excluded.computed_at",
        (store_id, day, colour, json.dumps(detail, ensure_ascii=False), at),
    )


def health(store: Store, store_ids: list[str], first_day: str, last_day: str) -> dict[tuple[str, str], str]:
    if not store_ids:
        return {}
    marks = ",".join("?" * len(store_ids))
    return {(r[0], r[1]): r[2] for r in store.conn.execute(
        f"SELECT store_id, day, colour FROM store_health WHERE store_id IN ({marks}) AND day BETWEEN ? AND ?",
        (*store_ids, first_day, last_day))}


def claim_run(store: Store, store_id: str, day: str, step: str, at: int) -> bool:
    """True once per (store, day, step): the caller does the step."""
    cur = store.conn.execute("INSERT OR IGNORE INTO store_runs (store_id, day, step, at) VALUES (?, ?, ?, ?)",
                             (store_id, day, step, at))
    return cur.rowcount == 1


def has_runs(store: Store, store_id: str) -> bool:
    return store.conn.execute("SELECT 1 FROM store_runs WHERE store_id = ? LIMIT 1", (store_id,)).fetchone() is not None


def add_promotion(store: Store, day: str, scope: str, name: str) -> None:
    store.conn.execute("INSERT INTO store_promotions (day, scope, name) VALUES (?, ?, ?) ON CONFLICT (day, scope)"
                       " DO UPDATE SET name = excluded.name", (day, scope, name))


def promotion_on(store: Store, day: str, store_id: str, area: str) -> str | None:
    """The promotion's name when `day` is one for this store (scope '' = every store, an area or a store id)."""
    row = store.conn.execute("SELECT name FROM store_promotions WHERE day = ? AND scope IN ('', ?, ?) LIMIT 1",
                             (day, store_id, area)).fetchone()
    return row[0] if row else None


# ---------------------------------------------------------------- fix tasks


@dataclass(frozen=True, slots=True)
class Fix:
    id: int
    store_id: str
    day: str
    dimension: str
    colour: str
    issues: list[str]
    status: str
    opened_at: int
    due_at: int
    escalated_at: int | None
    closed_at: int | None
    closed_by: str | None


_F = "id, store_id, day, dimension, colour, issues, status, opened_at, due_at, escalated_at, closed_at, closed_by"


def _fix(r) -> Fix:
    return Fix(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7], r[8], r[9], r[10], r[11])


def open_fix(store: Store, store_id: str, day: str, dimension: str, colour: str, issues: list[str], at: int,
             due_at: int) -> int | None:
    """A new fix task's id; None when the store already has one for this day and dimension, or one still open for
    the dimension (an unfixed problem is one task, not one a day)."""
    if store.conn.execute("SELECT 1 FROM store_fixes WHERE store_id = ? AND dimension = ? AND status IN"
                          " ('open', 'support')", (store_id, dimension)).fetchone():
        return None
    cur = store.conn.execute(
        "INSERT INTO store_fixes (store_id, day, dimension, colour, issues, opened_at, due_at) VALUES"
        " (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (store_id, day, dimension) DO NOTHING",
        (store_id, day, dimension, colour, json.dumps(issues, ensure_ascii=False), at, due_at))
    return cur.lastrowid if cur.rowcount else None


def get_fix(store: Store, fix_id: int) -> Fix | None:
    r = store.conn.execute(f"SELECT {_F} FROM store_fixes WHERE id = ?", (fix_id,)).fetchone()
    return _fix(r) if r else None


def open_fixes(store: Store, store_ids: list[str] | None, limit: int = 100) -> list[Fix]:
    where, params = "status IN ('open', 'support')", []
    if store_ids is not None:
        if not store_ids:
            return []
        where += f" AND store_id IN ({','.join('?' * len(store_ids))})"
        params = list(store_ids)
    return [_fix(r) for r in store.conn.execute(
        f"SELECT {_F} FROM store_fixes WHERE {where} ORDER BY opened_at, id LIMIT ?", (*params, limit))]


def open_fix_for(store: Store, store_id: str, dimension: str) -> Fix | None:
    r = store.conn.execute(f"SELECT {_F} FROM store_fixes WHERE store_id = ? AND dimension = ? AND status IN"
                           " ('open', 'support') ORDER BY id DESC LIMIT 1", (store_id, dimension)).fetchone()
    return _fix(r) if r else None


def due_escalations(store: Store, now_ms: int, limit: int = 200) -> list[Fix]:
    return [_fix(r) for r in store.conn.execute(
        f"SELECT {_F} FROM store_fixes WHERE status IN ('open', 'support') AND escalated_at IS NULL AND due_at <= ?"
        " ORDER BY due_at LIMIT ?", (now_ms, limit))]


def mark_escalated(store: Store, fix_id: int, at: int) -> bool:
    cur = store.conn.execute("UPDATE store_fixes SET escalated_at = ? WHERE id = ? AND escalated_at IS NULL",
                             (at, fix_id))
    return cur.rowcount == 1


def set_fix_status(store: Store, fix_id: int, status: str, at: int, person_id: str) -> bool:
    """Move an open task to `status`; closing statuses record who and when. False when it was already closed."""
    closing = status in ("fixed", "not_applicable")
    cur = store.conn.execute(
        "UPDATE store_fixes SET status = ?, closed_at = ?, closed_by = ? WHERE id = ? AND status IN ('open', 'support')",
        (status, at if closing else None, person_id if closing else None, fix_id))
    return cur.rowcount == 1


def audit(store: Store, fix_id: int, at: int, person_id: str, action: str, detail: str = "") -> None:
    store.conn.execute("INSERT INTO store_fix_audit (fix_id, at, person_id, action, detail) VALUES (?, ?, ?, ?, ?)",
                       (fix_id, at, person_id, action, detail))


def audit_trail(store: Store, fix_id: int) -> list[tuple[int, str, str, str]]:
    return [(r[0], r[1], r[2], r[3]) for r in store.conn.execute(
        "SELECT at, person_id, action, detail FROM store_fix_audit WHERE fix_id = ? ORDER BY at, id", (fix_id,))]


# ---------------------------------------------------------------- weather cache


def cached_weather(store: Store, city: str, day: str) -> tuple[float | None, str, str] | None:
    r = store.conn.execute("SELECT precipitation_mm, summary, provider FROM weather_cache WHERE city = ? AND day = ?",
                           (city, day)).fetchone()
    return (r[0], r[1], r[2]) if r else None


def cache_weather(store: Store, city: str, day: str, provider: str, precipitation_mm: float | None, summary: str,
                  at: int) -> None:
    store.conn.execute(
        "INSERT INTO weather_cache (city, day, provider, precipitation_mm, summary, fetched_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (city, day) DO UPDATE SET provider = excluded.provider, precipitation_mm = excluded.precipitation_mm,"
        " summary = excluded.summary, fetched_at = excluded.fetched_at",
        (city, day, provider, precipitation_mm, summary, at))


def leads_of_customer_named(store: Store, name: str) -> list[str]:
    """Open leads of the customers with exactly this name (an experience is linked when there is one)."""
    return [r[0] for r in store.conn.execute(
        "SELECT l.id FROM leads l JOIN customers c ON c.id = l.customer_id WHERE c.name = ? AND l.status = 'open'"
        " ORDER BY l.created_at DESC LIMIT 3", (name,))]
