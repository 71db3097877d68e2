"""Sales targets: who may set which, how "300万" reads, and which target the forecast measures against.

Why chat: a manager's quarterly number changes more often than anyone edits bot.toml. A target set in chat wins
over the bot.toml one ([forecast.targets]) for the same scope and period; every change is audited in
store/targets.py. Admins set any scope; a manager the teams they manage and those teams' people; reps none.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

from bot.errors import UserInputError
from bot.events import Actor, Role
from bot.org import Directory
from handlers.forecast import periods
from store import targets as target_store
from store.db import Store

_AMOUNT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*(亿|万|千|k|K|w|W|元)?元?$")
_UNITS = {"亿": 100_000_000, "万": 10_000, "w": 10_000, "W": 10_000, "千": 1_000, "k": 1_000, "K": 1_000, "元": 1,
          None: 1}
COMPANY_WORDS = ("全公司", "公司", "company", "all")


def parse_amount(text: str) -> float | None:
    """300万 / 1.2亿 / 500000 / 50w / 80k → yuan; None when it is not a positive amount."""
    m = _AMOUNT.match(text.replace(",", "").replace("，", "").strip())
    if not m:
        return None
    value = float(m.group(1)) * _UNITS[m.group(2)]
    return value if math.isfinite(value) and value > 0 else None


@dataclass(frozen=True)
class TargetScope:
    key: str  # company | team:<团队名> | rep:<person id>
    kind: str  # company | team | rep
    name: str  # what to show: 团队名, the person's name, "" for the company


def scope_of_key(key: str, directory: Directory) -> TargetScope:
    kind, _, rest = key.partition(":")
    if kind == "rep":
        person = directory.person(rest)
        return TargetScope(key, "rep", person.name if person else rest)
    if kind == "team":
        return TargetScope(key, "team", rest)
    return TargetScope("company", "company", "")


def resolve_scope(text: str | None, actor: Actor, directory: Directory, t) -> TargetScope:
    """The scope named by `text` (团队名, @人, 全公司), or the actor's natural one: the company for an admin, the
    team for a manager of one team. UserInputError with a short reason otherwise."""
    if text is None:
        if actor.is_admin:
            return TargetScope("company", "company", "")
        teams = directory.teams_managed_by(actor.person_id)
        if len(teams) == 1:
            name = directory.teams[teams[0]][0]
            return TargetScope(f"team:{name}", "team", name)
        raise UserInputError(t("views.target_which_scope"))
    name = text.lstrip("@＠")
    if name in COMPANY_WORDS:
        return TargetScope("company", "company", "")
    team = next((tid for tid, (tname, _m) in directory.teams.items() if name in (tname, tid)), None)
    if team is not None:
        tname = directory.teams[team][0]
        return TargetScope(f"team:{tname}", "team", tname)
    person = directory.by_name(name) or directory.person(name)
    if person is not None:
        return TargetScope(f"rep:{person.id}", "rep", person.name)
    raise UserInputError(t("views.target_unknown_scope", text=text))


def may_set(actor: Actor, scope: TargetScope, directory: Directory) -> bool:
    """Admins: anything. Managers: their teams and the people in them. Everyone else: nothing."""
    if actor.is_admin:
        return True
    if actor.role != Role.MANAGER:
        return False
    managed = directory.teams_managed_by(actor.person_id)
    if scope.kind == "team":
        return any(directory.teams[tid][0] == scope.name for tid in managed)
    if scope.kind == "rep":
        person = directory.person(scope.key.partition(":")[2])
        return person is not None and person.team_id in managed
    return False


def visible_keys(actor: Actor, directory: Directory) -> list[str] | None:
    """Target scopes a person may look at (None: all): the company, their team(s) and themselves; a manager's reps."""
    if actor.is_admin:
        return None
    keys = ["company", f"rep:{actor.person_id}"]
    teams = set(directory.teams_managed_by(actor.person_id))
    person = directory.person(actor.person_id)
    if person and person.team_id:
        teams.add(person.team_id)
    for tid in sorted(teams):
        keys.append(f"team:{directory.teams[tid][0]}")
        if tid in directory.teams_managed_by(actor.person_id):
            keys.extend(f"rep:{p.id}" for p in directory.team_members(tid))
    return list(dict.fromkeys(keys))


def period_words(period: periods.Period, today: date) -> list[str]:
    """The bot.toml spellings that may name this period: 本月/下月/本季/下季 (relative to today), the label, the kind."""
    words = []
    for word, (kind, n) in (("本月", ("month", 0)), ("下月", ("month", 1)), ("本季", ("quarter", 0)),
                            ("下季", ("quarter", 1))):
        if periods.shift(periods.of_kind(kind, today), n) == period:
            words.append(word)
    return [*words, period.label, period.kind]


def config_target(targets: dict[str, float], scope_key: str, period: periods.Period, today: date) -> float | None:
    for word in period_words(period, today):
        if f"{scope_key}:{word}" in targets:
            return float(targets[f"{scope_key}:{word}"])
    return None


def target_for(store: Store, targets: dict[str, float], scope_key: str, period: periods.Period,
               today: date) -> tuple[float | None, str]:
    """(amount, source) of the target the forecast measures against: "chat" (set with /目标) before "config"
    (bot.toml), (None, "") when neither has one."""
    chat = target_store.get(store, scope_key, period.label)
    if chat is not None:
        return chat.amount, "chat"
    found = config_target(targets, scope_key, period, today)
    return (found, "config") if found is not None else (None, "")
