"""Org sync: WeCom departments and members (with department leaders) → the org directory tables.

Ownership rule, so a sync never fights the admin's own configuration: teams and people it creates get ids
`wecom-dept:<id>` / `wecom:<userid>` and are fully managed by it (renamed, moved, deactivated when they leave
WeCom). People already known from bot.toml [org] or the org CSV (matched by their wecom_id) keep their id, role,
team and admin flag; sync only links their WeCom identity and fills a missing team.
New people are `manager` when they lead their main department, `rep` otherwise (change roles with the org CSV).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from adapters.base import AdapterContext
from adapters.wecom.client import WeComClient
from store import kv
from store import org as org_store
from store import wecom as wecom_store

log = logging.getLogger("salespulse.wecom.org")

TEAM_PREFIX = "wecom-dept:"
PERSON_PREFIX = "wecom:"
LAST_SYNC_KEY = "wecom.org_sync.last"


@dataclass
class SyncResult:
    departments: int = 0
    people: int = 0
    created: int = 0
    deactivated: int = 0


def _int_list(value: Any) -> list[int]:
    return [v for v in value if isinstance(v, int)] if isinstance(value, list) else []


def _str_list(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str) and v] if isinstance(value, list) else []


async def fetch(client: WeComClient) -> tuple[list[dict], list[dict]]:
    """All departments, and every active member once (a member of several departments is listed once)."""
    depts = [d for d in await client.departments() if isinstance(d.get("id"), int) and isinstance(d.get("name"), str)]
    users: dict[str, dict] = {}
    for dept in depts:
        for user in await client.department_users(dept["id"]):
            uid = user.get("userid")
            if isinstance(uid, str) and uid and user.get("status", 1) == 1:
                users.setdefault(uid, user)
    return depts, list(users.values())


def apply(ctx: AdapterContext, depts: list[dict], users: list[dict]) -> SyncResult:
    """Write one fetched snapshot into the directory in one transaction."""
    store, now = ctx.store, ctx.clock.now_ms()
    result = SyncResult(departments=len(depts))
    with store.transaction():
        known = {uid: pid for plat, uid, pid in org_store.all_identities(store) if plat == "wecom"}
        existing = {p.id: p for p in org_store.all_people(store)}
        taken_names = {name: tid for tid, name, _m in org_store.all_teams(store)}
        dept_team: dict[int, str] = {}
        dept_names: dict[int, str] = {}
        for d in sorted(depts, key=lambda d: d["id"]):
            team_id = TEAM_PREFIX + str(d["id"])
            name = d["name"].strip() or team_id
            if taken_names.get(name, team_id) != team_id:
                name = f"{name}（{d['id']}）"
            taken_names[name] = team_id
            org_store.upsert_team(store, team_id, name, None)
            wecom_store.save_department(store, d["id"], name, d.get("parentid", 0) if isinstance(
                d.get("parentid"), int) else 0, team_id, now)
            dept_team[d["id"]] = team_id
            dept_names[d["id"]] = name
        leaders: dict[int, list[str]] = {d["id"]: _str_list(d.get("department_leader")) for d in depts}
        for user in users:
            depts_of = _int_list(user.get("department"))
            flags = _int_list(user.get("is_leader_in_dept"))
            for dept_id, flag in zip(depts_of, flags, strict=False):
                if flag == 1 and user["userid"] not in leaders.setdefault(dept_id, []):
                    leaders[dept_id].append(user["userid"])
        person_of: dict[str, str] = {}
        synced_ids: set[str] = set()
        for user in users:
            uid = user["userid"]
            main = user.get("main_department")
            if not isinstance(main, int):
                main = (_int_list(user.get("department")) or [0])[0]
            team_id = dept_team.get(main)
            name = user.get("name") if isinstance(user.get("name"), str) and user.get("name") else uid
            phone = user.get("mobile") if isinstance(user.get("mobile"), str) else ""
            pid = known.get(uid)
            if pid is not None and pid in existing and not pid.startswith(PERSON_PREFIX):
                p = existing[pid]  # configured by the admin: keep role, team, admin flag
                org_store.upsert_person(store, pid, p.name, p.role, p.team_id or team_id, is_admin=p.is_admin,
                                        department=p.department or dept_names.get(main, ""),
                                        phone=p.phone or phone)
            else:
                pid = PERSON_PREFIX + uid
                if pid not in existing:
                    result.created += 1
                prev = existing.get(pid)
                role = "manager" if uid in leaders.get(main, []) else "rep"
                if prev is not None and prev.role in ("cs", "colleague"):
                    role = prev.role  # a role set by the admin after an earlier sync survives
                org_store.upsert_person(store, pid, name, role, team_id, is_admin=prev.is_admin if prev else False,
                                        department=dept_names.get(main, ""), phone=phone)
                synced_ids.add(pid)
            org_store.add_identity(store, "wecom", uid, pid)
            person_of[uid] = pid
            result.people += 1
        for dept_id, team_id in dept_team.items():
            manager = next((person_of[u] for u in leaders.get(dept_id, []) if u in person_of), None)
            if manager:
                org_store.upsert_team(store, team_id, dept_names[dept_id], manager)
        result.deactivated = wecom_store.deactivate_people(store, PERSON_PREFIX, synced_ids)
        kv.put(store, LAST_SYNC_KEY, str(now))
    return result


async def sync(ctx: AdapterContext, client: WeComClient) -> SyncResult:
    depts, users = await fetch(client)
    result = apply(ctx, depts, users)
    ctx.org_changed()
    log.info("wecom org sync: %s", result)
    return result
