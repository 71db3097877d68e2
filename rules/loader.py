"""Rule packs: TOML files an admin edits without code, turned into `Rule` objects with every mistake located.

A pack looks like this (see rules/packs/default.toml for the full set):

    [pack]
    name = "default"

    [catalog]
    products = ["SP-200", "SP-300|SP300|三百型"]   # canonical|alias|alias

    [[rule]]
    id = "material_delivery"
    tag = "资料交付"
    category = "销售动作"        # 销售动作 | 客户响应 | 跨部门协作
    weight = 2
    type = "message"             # message | call | calendar | document_open (one or a list)
    role = ["rep", "manager"]    # customer | rep | colleague | manager | cs | staff
    attachment = ["*参数*", "*.pdf"]

All conditions of a rule must hold (AND); inside one list any item may match (OR). tomllib reports no line
numbers for values, so the loader maps every rule to the line of its `[[rule]]` header and every key to the
first line inside that rule that assigns it: errors read "file:line: rule <id>: message".
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rules.guard import UnsafeRegex, compile_safe
from rules.model import (
    CATEGORIES,
    EVENT_TYPES,
    MESSAGE_KINDS,
    ROLE_GROUPS,
    ROLES,
    FieldCond,
    Rule,
    RuleError,
    RulePackErrors,
    Say,
    Window,
)

RULE_KEYS = {
    "id", "tag", "category", "weight", "description", "type", "kind", "role", "keywords", "exclude", "regex",
    "attachment", "fields", "department", "attendee_department", "catalog", "has_tag", "window", "enabled",
}
WINDOW_KEYS = {"count", "distinct", "repeat", "days", "at_least", "at_most", "gap_hours", "new_value"}
TOP_KEYS = {"pack", "catalog", "rule"}
_ID_RE = re.compile(r"^[\w\-.]+$")
_HEADER_RE = re.compile(r"^\s*\[\[\s*rule\s*\]\]")
_TOML_LINE_RE = re.compile(r"at line (\d+)")


@dataclass
class Pack:
    """One loaded file: its rules and catalogues (catalogue entries: canonical → aliases)."""

    file: str
    name: str
    rules: list[Rule] = field(default_factory=list)
    catalogs: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    # (id, line) of every [[rule]] with a string id, including those with errors: a duplicate id is reported even
    # while its first definition is broken, so fixing one error does not merely reveal the next.
    ids: list[tuple[str, int]] = field(default_factory=list)


class _Lines:
    """Line lookup for one file's text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [i + 1 for i, ln in enumerate(self.lines) if _HEADER_RE.match(ln)]

    def rule_span(self, index: int) -> tuple[int, int]:
        if index >= len(self.headers):
            return 0, 0
        start = self.headers[index]
        end = self.headers[index + 1] if index + 1 < len(self.headers) else len(self.lines) + 1
        return start, end

    def key_line(self, index: int, key: str, default: int) -> int:
        start, end = self.rule_span(index)
        if not start:
            return default
        if key == "window":
            pat = re.compile(r"^\s*\[\[\s*rule\.window\s*\]\]")
        else:
            pat = re.compile(rf"^\s*(?:[\w.]*\.)?\"?{re.escape(key)}\"?\s*=")
        for n in range(start, end):
            if pat.match(self.lines[n - 1]):
                return n
        return start

    def top_key_line(self, key: str) -> int:
        """Line of a key outside the rules (e.g. a catalogue), 0 when not found."""
        pat = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
        limit = self.headers[0] if self.headers else len(self.lines) + 1
        for n in range(1, limit):
            if pat.match(self.lines[n - 1]):
                return n
        return 0

    def table_line(self, key: str) -> int:
        """Line of a top-level table or key (`[rules]`, `[[rules]]`, `rules = …`), 0 when not found."""
        pat = re.compile(rf"^\s*(?:\[\[?\s*\"?{re.escape(key)}\"?\s*[\].]|\"?{re.escape(key)}\"?\s*=)")
        for n, text in enumerate(self.lines, 1):
            if pat.match(text):
                return n
        return 0

    def rule_id_before(self, line: int) -> str:
        """Best effort for syntax errors: the id of the rule the broken line belongs to."""
        start = max((h for h in self.headers if h <= line), default=0)
        if not start:
            return ""
        for n in range(start, min(len(self.lines), start + 40) + 1):
            m = re.match(r"^\s*id\s*=\s*[\"']([^\"']+)[\"']", self.lines[n - 1])
            if m:
                return m.group(1)
        return ""


def parse_catalog_entries(entries: Any) -> dict[str, tuple[str, ...]]:
    """["SP-300|SP300|三百型", …] → {"SP-300": ("SP-300", "SP300", "三百型")}."""
    if isinstance(entries, str):
        entries = [entries]
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise ValueError(Say("catalog_strings"))
    out: dict[str, tuple[str, ...]] = {}
    for entry in entries:
        names = tuple(n.strip() for n in entry.split("|") if n.strip())
        if names:
            out[names[0]] = tuple(dict.fromkeys(names))
    return out


def glob_regex(pattern: str) -> re.Pattern[str]:
    """`*参数*.pdf` → a case-insensitive full-match regex (compiled once)."""
    return re.compile(fnmatch.translate(pattern), re.IGNORECASE)


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(Say("strings", what=what))
    if not value:
        # An empty list is no condition at all: `keywords = []` would tag every message of the rule's type.
        raise ValueError(Say("empty_list", what=what))
    return tuple(v.strip() for v in value)


def _choice(value: Any, what: str, allowed: tuple[str, ...], groups: dict[str, tuple[str, ...]] | None = None) -> frozenset[str]:
    items = _strings(value, what)
    out: set[str] = set()
    for item in items:
        if groups and item in groups:
            out.update(groups[item])
        elif item in allowed:
            out.add(item)
        else:
            extra = list(groups) if groups else []
            raise ValueError(Say("not_one_of", what=what, value=item, allowed=",".join([*allowed, *extra])))
    return frozenset(out)


def _opt_int(table: dict[str, Any], key: str) -> int | None:
    if key not in table:
        return None
    v = table[key]
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(Say("whole_number", field=key))
    return v


def _number(table: dict[str, Any], key: str, default: float) -> float:
    v = table.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        raise ValueError(Say("number", field=key))
    return float(v)


def _window(table: Any) -> Window:
    if not isinstance(table, dict):
        raise ValueError(Say("window_table"))
    unknown = set(table) - WINDOW_KEYS
    if unknown:
        raise ValueError(Say("window_unknown_key", field=sorted(unknown)[0], known=",".join(sorted(WINDOW_KEYS))))
    kinds = [k for k in ("count", "distinct", "repeat") if k in table]
    if len(kinds) != 1:
        raise ValueError(Say("window_one_kind"))
    kind = kinds[0]
    target = table[kind]
    if not isinstance(target, str) or not target:
        raise ValueError(Say(f"window_target_{kind}"))
    if kind == "repeat" and target != "document":
        raise ValueError(Say("window_repeat"))
    at_least, at_most = _opt_int(table, "at_least"), _opt_int(table, "at_most")
    if at_least is None and at_most is None:
        raise ValueError(Say("window_bounds"))
    new_value = table.get("new_value", True)
    if not isinstance(new_value, bool):
        raise ValueError(Say("new_value"))
    return Window(kind=kind, tag=target if kind == "count" else "", catalog=target if kind == "distinct" else "",
                  days=_number(table, "days", 0.0), at_least=at_least, at_most=at_most,
                  gap_hours=_number(table, "gap_hours", 0.0), new_value=new_value)


def build_rule(table: dict[str, Any], file: str, line: int, key_line) -> Rule:
    """One `[[rule]]` table → Rule. Raises RuleError located at the offending key."""
    rid = table.get("id")
    rid_text = rid if isinstance(rid, str) else "?"

    def fail(key: str, message: str) -> RuleError:
        return RuleError(file, key_line(key), rid_text, message)

    unknown = sorted(set(table) - RULE_KEYS)
    if unknown:
        raise fail(unknown[0], Say("unknown_key", field=unknown[0], known=",".join(sorted(RULE_KEYS))))
    if not isinstance(rid, str) or not _ID_RE.match(rid):
        raise RuleError(file, key_line("id") if "id" in table else line, rid_text,
                        Say("needs_id"))
    tag = table.get("tag")
    if not isinstance(tag, str) or not tag.strip():
        raise fail("tag", Say("tag"))
    category = table.get("category")
    if category is None:  # not "而不是“None”": say it is missing
        raise fail("id", Say("category_missing", allowed=" / ".join(CATEGORIES)))
    if category not in CATEGORIES:
        raise fail("category", Say("category", allowed=" / ".join(CATEGORIES), value=category))
    weight = table.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
        raise fail("weight", Say("number", field="weight"))
    kwargs: dict[str, Any] = {}
    try:
        current = "type"
        if "type" in table:
            kwargs["types"] = _choice(table["type"], "type", EVENT_TYPES)
        current = "kind"
        if "kind" in table:
            kwargs["kinds"] = _choice(table["kind"], "kind", MESSAGE_KINDS)
        current = "role"
        if "role" in table:
            kwargs["roles"] = _choice(table["role"], "role", ROLES, ROLE_GROUPS)
        current = "keywords"
        if "keywords" in table:
            kwargs["keywords"] = tuple(k.lower() for k in _strings(table["keywords"], "keywords"))
        current = "exclude"
        if "exclude" in table:
            kwargs["exclude"] = tuple(k.lower() for k in _strings(table["exclude"], "exclude"))
        current = "regex"
        if "regex" in table:
            compiled = []
            for pattern in _strings(table["regex"], "regex"):
                try:
                    compiled.append(compile_safe(pattern, re.IGNORECASE))
                except UnsafeRegex as exc:
                    raise ValueError(Say("regex_refused", pattern=pattern, why=exc)) from None
                except re.error as exc:
                    raise ValueError(Say("regex_invalid", pattern=pattern, why=exc)) from None
            kwargs["regexes"] = tuple(compiled)
        current = "attachment"
        if "attachment" in table:
            kwargs["attachments"] = tuple((g, glob_regex(g)) for g in _strings(table["attachment"], "attachment"))
        current = "fields"
        if "fields" in table:
            kwargs["fields"] = tuple(FieldCond.parse(f) for f in _strings(table["fields"], "fields"))
        current = "department"
        if "department" in table:
            kwargs["departments"] = frozenset(_strings(table["department"], "department"))
        current = "attendee_department"
        if "attendee_department" in table:
            kwargs["attendee_departments"] = frozenset(_strings(table["attendee_department"], "attendee_department"))
        current = "catalog"
        if "catalog" in table:
            (kwargs["catalog"],) = _strings(table["catalog"], "catalog")[:1]
        current = "has_tag"
        if "has_tag" in table:
            kwargs["has_tags"] = _strings(table["has_tag"], "has_tag")
        current = "window"
        if "window" in table:
            wins = table["window"]
            if isinstance(wins, dict):
                wins = [wins]
            if not isinstance(wins, list):
                raise ValueError(Say("window_tables"))
            kwargs["windows"] = tuple(_window(w) for w in wins)
        current = "enabled"
        if not isinstance(table.get("enabled", True), bool):
            raise ValueError(Say("enabled"))
    except ValueError as exc:
        raise fail(current, exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)) from None
    rule = Rule(id=rid, tag=tag.strip(), category=category, weight=float(weight), file=file, line=line, **kwargs)
    if any(w.kind == "repeat" for w in rule.windows) and rule.types != frozenset({"document_open"}):
        raise fail("window", Say("repeat_needs_type"))
    if any(w.kind == "distinct" for w in rule.windows) and not rule.catalog:
        rule.catalog = next(w.catalog for w in rule.windows if w.kind == "distinct")
    return rule


def load_text(text: str, file: str) -> tuple[Pack, list[RuleError]]:
    """Parse one pack's text. Returns the pack (with the rules that were fine) and every error found."""
    lines = _Lines(text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_LINE_RE.search(str(exc))
        line = int(m.group(1)) if m else 0
        escape = "Unescaped '\\'" in str(exc) or "escape" in str(exc).lower()
        return Pack(file, Path(file).stem), [RuleError(file, line, lines.rule_id_before(line),
                                                       Say("toml_escape" if escape else "toml", error=exc))]
    errors: list[RuleError] = []
    for key in sorted(set(data) - TOP_KEYS):
        hinted = key in ("rules", "Rule", "RULE")
        errors.append(RuleError(file, lines.table_line(key), "", Say("top_key_rule" if hinted else "top_key", field=key)))
    meta = data.get("pack", {})
    name = meta.get("name", Path(file).stem) if isinstance(meta, dict) else Path(file).stem
    pack = Pack(file, str(name))
    catalogs = data.get("catalog", {})
    if not isinstance(catalogs, dict):
        errors.append(RuleError(file, 0, "", Say("catalog_table")))
        catalogs = {}
    for cname, entries in catalogs.items():
        try:
            pack.catalogs[cname] = parse_catalog_entries(entries)
        except ValueError as exc:
            errors.append(RuleError(file, lines.top_key_line(cname), "", Say("catalog", name=cname, why=exc.args[0])))
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list):
        errors.append(RuleError(file, 0, "", Say("rule_tables")))
        raw_rules = []
    for i, table in enumerate(raw_rules):
        start, _end = lines.rule_span(i)
        if isinstance(table, dict) and isinstance(table.get("id"), str):
            pack.ids.append((table["id"], start))
        try:
            rule = build_rule(table, file, start, lambda key, i=i, start=start: lines.key_line(i, key, start))
        except RuleError as exc:
            errors.append(exc)
            continue
        if table.get("enabled", True):
            pack.rules.append(rule)
    return pack, errors


def load_file(path: str | Path) -> tuple[Pack, list[RuleError]]:
    named, errors = read_texts([Path(path)])
    if errors:
        return Pack(str(path), Path(path).stem), errors
    return load_text(named[0][1], named[0][0])


def read_texts(paths: list[Path]) -> tuple[list[tuple[str, str]], list[RuleError]]:
    """(file, text) of every readable pack, and a `cannot read` error for each of the others."""
    named: list[tuple[str, str]] = []
    errors: list[RuleError] = []
    for p in paths:
        try:
            named.append((str(p), Path(p).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(RuleError(str(p), 0, "", Say("unreadable", error=exc)))
    return named, errors


def check_rule_set(rules: list[Rule], catalogs: dict[str, Any],
                   definitions: list[tuple[str, str, int]] | None = None) -> list[RuleError]:
    """Cross-file checks: duplicate ids, has_tag / count windows naming tags no rule produces, unknown catalogues.

    `definitions` ((id, file, line) of every rule in load order, broken ones included) widens the duplicate check
    to rules that did not load; without it only `rules` are compared."""
    errors: list[RuleError] = []
    seen: dict[str, tuple[str, int]] = {}
    for rid, file, line in definitions if definitions is not None else [(r.id, r.file, r.line) for r in rules]:
        if rid in seen:
            first_file, first_line = seen[rid]
            errors.append(RuleError(file, line, rid, Say("duplicate", where=f"{first_file}:{first_line}")))
        seen.setdefault(rid, (file, line))
    produced = {r.tag for r in rules if not r.templated}
    templated_prefixes = [r.tag.split("{", 1)[0] for r in rules if r.templated]
    for r in rules:
        wanted = list(r.has_tags) + [w.tag for w in r.windows if w.kind == "count"]
        for t in wanted:
            if t not in produced and not any(p and t.startswith(p) for p in templated_prefixes):
                errors.append(RuleError(r.file, r.line, r.id, Say("tag_not_produced", tag=t)))
        if r.catalog and r.catalog not in catalogs:
            errors.append(RuleError(r.file, r.line, r.id, Say("catalog_undefined", name=r.catalog)))
    return errors


def load_files(paths: list[Path], extra_catalogs: dict[str, dict[str, tuple[str, ...]]] | None = None) -> tuple[list[Rule], dict[str, dict[str, tuple[str, ...]]]]:
    """Load several packs as one rule set; raises RulePackErrors listing every problem in every file."""
    named, errors = read_texts(paths)
    return load_texts(named, extra_catalogs, errors)


def load_texts(named: list[tuple[str, str]], extra_catalogs: dict[str, dict[str, tuple[str, ...]]] | None = None,
               errors: list[RuleError] | None = None) -> tuple[list[Rule], dict[str, dict[str, tuple[str, ...]]]]:
    """load_files over (file, text) pairs already read (or saved earlier); `errors` are carried into the report."""
    rules: list[Rule] = []
    catalogs: dict[str, dict[str, tuple[str, ...]]] = {}
    errors = list(errors or ())
    definitions: list[tuple[str, str, int]] = []
    for file, text in named:
        pack, errs = load_text(text, file)
        errors.extend(errs)
        rules.extend(pack.rules)
        definitions.extend((rid, pack.file, line) for rid, line in pack.ids)
        for cname, entries in pack.catalogs.items():
            catalogs.setdefault(cname, {}).update(entries)
    for cname, entries in (extra_catalogs or {}).items():
        catalogs.setdefault(cname, {}).update(entries)
    errors.extend(check_rule_set(rules, catalogs, definitions))
    if errors:
        raise RulePackErrors(errors)
    for i, r in enumerate(rules):
        r.index = i
    return rules, catalogs
