"""The org directory: who is a rep, a manager, customer service, a colleague or a customer.

Loaded into SQLite from bot.toml's [org] (or a CSV / platform org sync) and cached in memory for the dispatcher,
which resolves every event's actor through it. Unknown WeCom external ids (wo…/wm…) are customers.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.config import OrgSection
from bot.errors import BadPayload
from bot.events import Actor, Role
from store import customers as customer_store
from store import org as org_store
from store.db import Store

PLATFORM_ID_FIELDS = {"wecom": "wecom_id", "dingtalk": "dingtalk_id", "feishu": "feishu_id"}
_ROLES = {"rep", "manager", "cs", "colleague"}


@dataclass(frozen=True, slots=True)
class PersonView:
    id: str
    name: str
    role: Role
    team_id: str
    team_name: str
    is_admin: bool
    department: str


def load_org_section(store: Store, section: OrgSection) -> int:
    """Write bot.toml's teams and people into the directory tables; returns how many people."""
    with store.transaction():
        for team in section.teams:
            org_store.upsert_team(store, team.name, team.name, team.manager or None)
        for p in section.people:
            _save_person(store, p.id, p.name, p.role, p.team, p.admin, p.department, p.phone,
                         {"wecom": p.wecom_id, "dingtalk": p.dingtalk_id, "feishu": p.feishu_id})
    n = len(section.people)
    if section.directory_csv:
        n += import_org_csv(store, Path(section.directory_csv))
    return n


def _save_person(store: Store, pid: str, name: str, role: str, team: str, admin: bool, department: str, phone: str,
                 ids: dict[str, str]) -> None:
    if team:
        org_store.upsert_team(store, team, team, pid if role == "manager" else None)
    org_store.upsert_person(store, pid, name, role, team or None, is_admin=admin, department=department, phone=phone)
    org_store.add_identity(store, "console", pid, pid)
    org_store.add_identity(store, "console", name, pid)
    for platform, value in ids.items():
        if value:
            org_store.add_identity(store, platform, value, pid)


def import_org_csv(store: Store, path: Path, t: Callable[..., str] | None = None) -> int:
    """CSV columns: id,name,role,team,admin,department,phone,wecom_id,dingtalk_id,feishu_id (header required).

    Bad rows are reported with their line numbers (in t's locale, default zh-CN) and skipped; the good ones are
    imported.
    """
    from prompts import Prompts

    t = t or Prompts().t
    errors: list[str] = []
    n = 0
    with path.open(encoding="utf-8-sig", newline="") as fh, store.transaction():
        reader = csv.DictReader(fh)
        for line_no, row in enumerate(reader, start=2):
            pid, name, role = (row.get("id") or "").strip(), (row.get("name") or "").strip(), (row.get("role") or "rep").strip()
            if not pid or not name or role not in _ROLES:
                errors.append(t("ops.import_org_bad_row", path=path, line=line_no, roles=", ".join(sorted(_ROLES))))
                continue
            _save_person(store, pid, name, role, (row.get("team") or "").strip(),
                         (row.get("admin") or "").strip().lower() in ("1", "true", "yes", "是"),
                         (row.get("department") or "").strip(), (row.get("phone") or "").strip(),
                         {k: (row.get(f) or "").strip() for k, f in PLATFORM_ID_FIELDS.items()})
            n += 1
    if errors:
        raise BadPayload("\n".join(errors) + "\n" + t("ops.import_org_partly", n=n))
    return n


class Directory:
    """In-memory view of the org and customer keys; `refresh()` after imports or org sync."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.refresh()
        store.on_rollback(self.refresh)  # a rolled-back row may have added people, identities or customer keys

    def refresh(self) -> None:
        teams = {tid: (name, mgr) for tid, name, mgr in org_store.all_teams(self._store)}
        self.teams = teams
        self.people: dict[str, PersonView] = {}
        for p in org_store.all_people(self._store):
            team_name = teams.get(p.team_id or "", ("", None))[0]
            self.people[p.id] = PersonView(p.id, p.name, Role(p.role), p.team_id or "", team_name, p.is_admin, p.department)
        self._ids = {(plat, uid): pid for plat, uid, pid in org_store.all_identities(self._store)}
        self._customer_keys = {(kind, value): cid for kind, value, cid in customer_store.all_keys(self._store)}
        self._by_name = {p.name: p.id for p in self.people.values()}
        self._resolved: dict[tuple[str, Actor], Actor] = {}

    def person(self, person_id: str) -> PersonView | None:
        return self.people.get(person_id)

    def by_name(self, name: str) -> PersonView | None:
        pid = self._by_name.get(name.lstrip("@"))
        return self.people.get(pid) if pid else None

    def manager_of(self, person_id: str) -> PersonView | None:
        p = self.people.get(person_id)
        if not p or not p.team_id:
            return None
        mgr = self.teams.get(p.team_id, ("", None))[1]
        return self.people.get(mgr) if mgr and mgr != person_id else None

    def team_members(self, team_id: str) -> list[PersonView]:
        return [p for p in self.people.values() if p.team_id == team_id]

    def teams_managed_by(self, person_id: str) -> list[str]:
        return [tid for tid, (_name, mgr) in self.teams.items() if mgr == person_id]

    def with_role(self, role: Role) -> list[PersonView]:
        return [p for p in self.people.values() if p.role == role]

    def customer_for(self, kind: str, value: str) -> str | None:
        cid = self._customer_keys.get((kind, value))
        if cid is None:
            cid = customer_store.find_by_key(self._store, kind, value)
            if cid:
                self._customer_keys[(kind, value)] = cid
        return cid

    def remember_customer_key(self, kind: str, value: str, customer_id: str) -> None:
        self._customer_keys[(kind, value)] = customer_id
        self._resolved.clear()

    def resolve(self, platform: str, actor: Actor) -> Actor:
        """Fill role, person, team and admin flag from the directory; customers get their customer id.

        Answers that came from the directory (a person, a known customer key) are cached until `refresh()` /
        `remember_customer_key()`; everything else is worked out again (a customer key may be added any time)."""
        key = (platform, actor)
        hit = self._resolved.get(key)
        if hit is not None:
            return hit
        pid = self._ids.get((platform, actor.platform_id))
        if pid is None and platform != "console":
            pid = self._ids.get(("console", actor.platform_id)) if platform in ("replay", "archive") else None
        if pid is None and platform == "console" and actor.platform_id in self.people:
            pid = actor.platform_id  # `chat --as` someone an org sync added (wecom:…, feishu:…): no console identity
        if pid is not None:
            p = self.people[pid]
            return self._keep(key, Actor(actor.platform_id, actor.name or p.name, p.role, p.id, p.team_id, p.is_admin,
                                         actor.customer_id))
        if actor.role == Role.BOT:
            return actor
        cid = self.customer_for("external_id", actor.platform_id) or self.customer_for("platform_user", actor.platform_id)
        if cid or actor.platform_id.startswith(("wo", "wm")) or actor.role == Role.CUSTOMER:
            resolved = Actor(actor.platform_id, actor.name, Role.CUSTOMER, actor.person_id, actor.team, actor.is_admin,
                             cid or actor.customer_id)
            return self._keep(key, resolved) if cid else resolved
        return actor

    def _keep(self, key: tuple[str, Actor], resolved: Actor) -> Actor:
        if len(self._resolved) >= 50_000:
            self._resolved.clear()
        self._resolved[key] = resolved
        return resolved
