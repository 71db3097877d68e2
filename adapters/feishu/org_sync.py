"""Feishu org sync: all departments under the root ("0", fetch_child), their leaders, and their members."""

from __future__ import annotations

from adapters.feishu.client import FeishuApi
from store.db import Store
from store.platform_org import OrgDept, OrgUser, SyncResult, apply_snapshot


async def fetch_snapshot(api: FeishuApi) -> tuple[list[OrgDept], list[OrgUser]]:
    depts: list[OrgDept] = []
    users: dict[str, OrgUser] = {}
    for d in await api.child_departments("0"):
        did = str(d.get("open_department_id") or "")
        if not did:
            continue
        leaders = [str(x.get("leaderID")) for x in d.get("leaders") or [] if isinstance(x, dict) and x.get("leaderID")]
        if d.get("leader_user_id") and str(d["leader_user_id"]) not in leaders:
            leaders.insert(0, str(d["leader_user_id"]))
        depts.append(OrgDept(did, str(d.get("name") or did), str(d.get("parent_department_id") or ""), tuple(leaders)))
        for u in await api.department_users(did):
            oid = str(u.get("open_id") or "")
            if not oid or oid in users:
                continue
            dept_ids = tuple(str(x) for x in u.get("department_ids") or [did])
            mobile = str(u.get("mobile") or "").removeprefix("+86")
            users[oid] = OrgUser(oid, str(u.get("name") or oid), dept_ids, mobile)
    return depts, list(users.values())


async def sync_org(api: FeishuApi, store: Store) -> SyncResult:
    depts, users = await fetch_snapshot(api)
    return apply_snapshot(store, "feishu", depts, users)
