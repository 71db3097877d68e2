"""Apply a platform's org snapshot (DingTalk / Feishu departments and users) to the org directory.

Why this shape: bot.toml and the CSV import are the admin's word, so a sync never changes the role or team of a
person already known; it links platform accounts to existing people (by identity, then phone) and adds new people
with their department as team and the department's manager/leader as team manager.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from store import org as org_store
from store.db import Store


@dataclass(frozen=True, slots=True)
class OrgDept:
    id: str
    name: str
    parent_id: str = ""
    leader_ids: tuple[str, ...] = ()  # platform user ids


@dataclass(frozen=True, slots=True)
class OrgUser:
    user_id: str
    name: str
    dept_ids: tuple[str, ...] = ()
    mobile: str = ""
    leader_of: tuple[str, ...] = field(default=())  # dept ids this user leads


@dataclass(frozen=True, slots=True)
class SyncResult:
    added: int
    linked: int
    teams: int


def _team_id_by_name(store: Store, name: str) -> str | None:
    row = store.conn.execute("SELECT id FROM teams WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None


def _person_of(store: Store, platform: str, user_id: str) -> str | None:
    row = store.conn.execute(
        "SELECT person_id FROM identities WHERE platform = ? AND platform_user_id = ?", (platform, user_id)
    ).fetchone()
    return row[0] if row else None


def apply_snapshot(store: Store, platform: str, depts: list[OrgDept], users: list[OrgUser]) -> SyncResult:
    """Idempotent: running it twice with the same snapshot changes nothing the second time."""
    by_id = {d.id: d for d in depts}
    leads: dict[str, set[str]] = {}
    for d in depts:
        for uid in d.leader_ids:
            leads.setdefault(uid, set()).add(d.id)
    for u in users:
        for did in u.leader_of:
            leads.setdefault(u.user_id, set()).add(did)
    added = linked = 0
    team_ids: dict[str, str] = {}
    with store.transaction():
        for d in depts:
            if not any(d.id in u.dept_ids for u in users):
                continue
            tid = _team_id_by_name(store, d.name) or f"{platform}:{d.id}"
            org_store.upsert_team(store, tid, d.name, None)
            team_ids[d.id] = tid
        for u in users:
            if not u.user_id:
                continue
            pid = _person_of(store, platform, u.user_id)
            if pid is None and u.mobile:
                known = org_store.person_by_phone(store, u.mobile)
                pid = known.id if known else None
                if pid:
                    linked += 1
            if pid is None:
                pid = f"{platform}:{u.user_id}"
                if store.conn.execute("SELECT 1 FROM people WHERE id = ?", (pid,)).fetchone() is None:
                    first = next((did for did in u.dept_ids if did in team_ids), None)
                    role = "manager" if u.user_id in leads else "rep"
                    dept_name = by_id[first].name if first else ""
                    org_store.upsert_person(store, pid, u.name or u.user_id, role, team_ids.get(first or ""),
                                            department=dept_name, phone=u.mobile)
                    added += 1
            org_store.add_identity(store, platform, u.user_id, pid)
        for uid, dept_ids in leads.items():
            pid = _person_of(store, platform, uid)
            if pid is None:
                continue
            for did in dept_ids:
                if did in team_ids:
                    store.conn.execute("UPDATE teams SET manager_id = COALESCE(manager_id, ?) WHERE id = ?",
                                       (pid, team_ids[did]))
    return SyncResult(added=added, linked=linked, teams=len(team_ids))
