"""The rule engine's own vocabulary: what a rule is, what an event looks like to it, what a match yields.

The engine imports nothing of the app (design rule): the tagging handler turns bot events into an `EventView`,
and the engine answers with `Hit`s. Keeping the view flat (plain strings, a small dict of fields) is also what
keeps matching cheap: no attribute chains or isinstance checks in the hot path.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CATEGORIES = ("销售动作", "客户响应", "跨部门协作")
EVENT_TYPES = ("message", "call", "calendar", "document_open")
MESSAGE_KINDS = ("text", "file", "image", "voice", "recall")
ROLES = ("customer", "rep", "colleague", "manager", "cs", "unknown")
# Shorthand an admin may use in `role`: everyone on our side of the table.
ROLE_GROUPS = {"staff": ("rep", "manager", "cs", "colleague")}

# Fields a rule may compare, with the type the comparison expects. Unknown names are load errors (typos must not
# silently make a rule never match).
FIELD_TYPES: dict[str, type] = {
    "duration_s": float,      # call length; voice note length
    "answered": bool,         # call picked up
    "direction": str,         # call: inbound | outbound
    "length": float,          # characters of text
    "with_customer": bool,    # the event involves a customer (matched or not)
    "is_group": bool,         # group chat
    "attendees": float,       # meeting: number of attendees
    "external_attendees": float,  # meeting: attendees who are not colleagues
}


class Say(str):
    """A rule-file problem as English text (logs, str()) that also keeps its prompts key (rule_errors.<key>) and
    values, so `rules check` and the admins' chat notice can show it in the configured locale."""

    key: str
    values: dict[str, Any]

    def __new__(cls, name: str, /, **values: Any) -> Say:
        from prompts import Prompts

        obj = super().__new__(cls, Prompts("en").t(f"rule_errors.{name}", **values))
        obj.key, obj.values = name, values
        return obj

    def render(self, t: Callable[..., str]) -> str:
        from prompts.library import detail  # a tomllib / re / guard reason, in t's locale too

        return t(f"rule_errors.{self.key}", **{k: v.render(t) if isinstance(v, Say) else
                                                detail(v, t) if isinstance(v, BaseException) else v
                                                for k, v in self.values.items()})


class RuleError(Exception):
    """A problem in a rule file, always with file, line and (when known) the rule id."""

    def __init__(self, file: str, line: int, rule_id: str, message: str) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.rule_id = rule_id
        self.message = message

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: rule {self.rule_id}: {self.message}" if self.rule_id else f"{where}: {self.message}"

    def render(self, t: Callable[..., str]) -> str:
        """The line in t's locale: "file:line: 规则 id：why"."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        why = self.message.render(t) if isinstance(self.message, Say) else self.message
        return t("rule_errors.line_rule", where=where, id=self.rule_id, why=why) if self.rule_id else \
            t("rule_errors.line", where=where, why=why)


class RulePackErrors(Exception):
    """All errors of one load, so `rules check` and the admin notice can list every wrong line at once."""

    def __init__(self, errors: list[RuleError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass(slots=True)
class EventView:
    """What the engine sees of an event. `names` are attachment / document names; `text` what text rules search."""

    type: str
    role: str = "unknown"
    kind: str = ""
    text: str = ""
    names: tuple[str, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)
    department: str = ""
    attendee_departments: frozenset[str] = frozenset()
    document: str = ""
    lead_id: str | None = None
    occurred_at: int = 0


@dataclass(frozen=True, slots=True)
class Hit:
    """One tag on one event, and why (`reasons`, filled only when explaining)."""

    rule_id: str
    tag: str
    category: str
    weight: float


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "==": operator.eq, "!=": operator.ne,
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
}
_FIELD_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=|>=|<=|=|>|<)\s*(.+?)\s*$")


@dataclass(frozen=True, slots=True)
class FieldCond:
    """`duration_s >= 492`, `answered = false`, `direction = "inbound"`: parsed once at load."""

    name: str
    op: str
    value: Any
    text: str

    def test(self, fields: dict[str, Any]) -> bool:
        have = fields.get(self.name)
        if have is None:
            return False
        try:
            return _OPS[self.op](have, self.value)
        except TypeError:
            return False

    @staticmethod
    def parse(text: str) -> FieldCond:
        """Raise ValueError with a sentence an admin understands."""
        m = _FIELD_RE.match(text)
        if not m:
            raise ValueError(Say("field_syntax", text=text))
        name, op, raw = m.groups()
        if name not in FIELD_TYPES:
            raise ValueError(Say("field_unknown", name=name, known=",".join(FIELD_TYPES)))
        want = FIELD_TYPES[name]
        value: Any
        if want is bool:
            if raw.lower() not in ("true", "false"):
                raise ValueError(Say("field_bool", name=name, value=raw))
            value = raw.lower() == "true"
        elif want is float:
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(Say("field_number", name=name, value=raw)) from None
        else:
            value = raw.strip("\"'")
        if op in (">=", "<=", ">", "<") and want is not float:
            raise ValueError(Say("field_equality", name=name))
        return FieldCond(name, op, value, f"{name} {op} {raw}")


@dataclass(frozen=True, slots=True)
class Window:
    """A condition over the lead's history (never evaluated without a lead).

    kind "count": events tagged `tag` within `days` (0 = all history), counting this event when it already carries
    the tag; prior events closer than `gap_hours` are not counted (one conversation is one contact).
    kind "distinct": distinct catalogue values (`catalog`) remembered by this rule within `days`, this event's
    included. kind "repeat": opens of the same document within `days`, this one included.
    """

    kind: str
    tag: str = ""
    catalog: str = ""
    days: float = 0.0
    at_least: int | None = None
    at_most: int | None = None
    gap_hours: float = 0.0
    new_value: bool = True

    def bounds_ok(self, n: int) -> bool:
        if self.at_least is not None and n < self.at_least:
            return False
        return not (self.at_most is not None and n > self.at_most)

    def describe(self) -> str:
        span = f"{self.days:g}天内" if self.days else "全部历史"
        what = {"count": f"标签“{self.tag}”次数", "distinct": f"不同{self.catalog}数", "repeat": "同一文档打开次数"}[self.kind]
        limits = []
        if self.at_least is not None:
            limits.append(f"≥{self.at_least}")
        if self.at_most is not None:
            limits.append(f"≤{self.at_most}")
        return f"{span}{what}{'且'.join(limits)}"


@dataclass(eq=False, slots=True)
class Rule:
    """A compiled rule. All conditions are ANDed; inside one condition (a list) any item may match."""

    id: str
    tag: str
    category: str
    weight: float
    file: str = ""
    line: int = 0
    types: frozenset[str] = frozenset(EVENT_TYPES)
    kinds: frozenset[str] | None = None
    roles: frozenset[str] | None = None
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    regexes: tuple[re.Pattern[str], ...] = ()
    attachments: tuple[tuple[str, re.Pattern[str]], ...] = ()
    fields: tuple[FieldCond, ...] = ()
    departments: frozenset[str] | None = None
    attendee_departments: frozenset[str] | None = None
    catalog: str = ""
    has_tags: tuple[str, ...] = ()
    windows: tuple[Window, ...] = ()
    index: int = 0
    # Stage-2 rules look at other tags of the same event or at history, so they run after the plain ones.
    staged: bool = False

    def __post_init__(self) -> None:
        self.staged = bool(self.has_tags or self.windows)

    @property
    def templated(self) -> bool:
        return "{" in self.tag
