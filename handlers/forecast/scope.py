"""Who may see which deals: reps their own, managers their teams' (and their own), admins everything."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from bot.errors import UserInputError
from bot.events import Actor, Role
from bot.org import Directory


@dataclass(frozen=True)
class Scope:
    owners: list[str] | None  # None = everyone
    label_key: str  # scope_company | scope_team | scope_person
    name: str = ""
    target_key: str = "company"


def visible_owners(actor: Actor, directory: Directory) -> list[str] | None:
    if actor.is_admin:
        return None
    if actor.role == Role.MANAGER:
        owners = {actor.person_id}
        for tid in directory.teams_managed_by(actor.person_id):
            owners.update(p.id for p in directory.team_members(tid))
        return sorted(owners)
    if actor.role == Role.REP:
        return [actor.person_id]
    return []


def default_scope(actor: Actor, directory: Directory, t) -> Scope:
    """`t` is the reader's prompt lookup: a manager of several teams sees their names joined in that locale."""
    vis = visible_owners(actor, directory)
    if vis is None:
        return Scope(None, "scope_company", target_key="company")
    if actor.role == Role.MANAGER:
        teams = directory.teams_managed_by(actor.person_id)
        if len(teams) == 1:
            return Scope(vis, "scope_team", directory.teams[teams[0]][0], f"team:{directory.teams[teams[0]][0]}")
        return Scope(vis, "scope_team", t("core.list_sep").join(directory.teams[tid][0] for tid in teams) or actor.display,
                     f"rep:{actor.person_id}")
    return Scope(vis, "scope_person", actor.display, f"rep:{actor.person_id}")


def resolve(text: str, actor: Actor, directory: Directory, t, unknown_key: str = "forecast.unknown_scope") -> Scope:
    """A team name or @person within what the actor may see; UserInputError with suggestions otherwise.

    `unknown_key`: the sentence for a name that is neither (commands without periods must not mention them)."""
    vis = visible_owners(actor, directory)
    name = text.lstrip("@＠")
    if name in ("全公司", "公司", "company", "all"):
        if vis is not None:
            raise UserInputError(t("forecast.no_permission_scope", scope=text))
        return Scope(None, "scope_company", target_key="company")
    team = next((tid for tid, (tname, _m) in directory.teams.items() if tname == name or tid == name), None)
    if team is not None:
        members = [p.id for p in directory.team_members(team)]
        if vis is not None and not set(members) <= set(vis):
            raise UserInputError(t("forecast.no_permission_scope", scope=text))
        return Scope(members, "scope_team", directory.teams[team][0], f"team:{directory.teams[team][0]}")
    person = directory.by_name(name) or directory.person(name)
    if person is not None:
        if vis is not None and person.id not in vis:
            raise UserInputError(t("forecast.no_permission_scope", scope=text))
        return Scope([person.id], "scope_person", person.name, f"rep:{person.id}")
    choices = [tn for tn, _m in directory.teams.values()] + [p.name for p in directory.people.values()
                                                               if vis is None or p.id in vis]
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.3)
    hint = t("forecast.scope_suggest", names=t("core.list_sep").join(close)) if close else ""
    raise UserInputError(t(unknown_key, text=text, hint=hint))
