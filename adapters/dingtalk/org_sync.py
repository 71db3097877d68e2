"""DingTalk org sync: walk departments from the root (id 1), read each one's managers and members, and apply the
snapshot to the org directory (store/platform_org.py decides what may change)."""

from __future__ import annotations

from adapters.dingtalk.client import DingTalkApi
from store.db import Store
from store.platform_org import OrgDept, OrgUser, SyncResult, apply_snapshot

ROOT_DEPT = 1
MAX_DEPTS = 5000


async def fetch_snapshot(api: DingTalkApi) -> tuple[list[OrgDept], list[OrgUser]]:
    depts: list[OrgDept] = []
    users: dict[str, OrgUser] = {}
    queue: list[tuple[int, str, str]] = [(ROOT_DEPT, "", "")]
    seen: set[int] = set()
    while queue and len(seen) < MAX_DEPTS:
        dept_id, name, parent = queue.pop(0)
        if dept_id in seen:
            continue
        seen.add(dept_id)
        info = await api.department(dept_id)
        managers = tuple(str(u) for u in info.get("dept_manager_userid_list") or [])
        depts.append(OrgDept(str(dept_id), name or str(info.get("name") or dept_id), parent, managers))
        for u in await api.department_users(dept_id):
            uid = str(u.get("userid") or "")
            if not uid:
                continue
            prev = users.get(uid)
            dept_ids = tuple(str(d) for d in u.get("dept_id_list") or [dept_id])
            leads = (str(dept_id),) if u.get("leader") else ()
            if prev is not None:
                leads = tuple(sorted(set(prev.leader_of) | set(leads)))
            users[uid] = OrgUser(uid, str(u.get("name") or uid), dept_ids, str(u.get("mobile") or ""), leads)
        for sub in await api.sub_departments(dept_id):
            sid = sub.get("dept_id")
            if isinstance(sid, int):
                queue.append((sid, str(sub.get("name") or sid), str(dept_id)))
    return depts, list(users.values())


async def sync_org(api: DingTalkApi, store: Store) -> SyncResult:
    depts, users = await fetch_snapshot(api)
    return apply_snapshot(store, "dingtalk", depts, users)
