"""The compiled rule engine: every keyword of every rule in ONE Aho-Corasick automaton, rules bucketed by
(event type, actor role), history windows asked only after a rule's cheap conditions held.

Cost per event is one automaton pass over the text (independent of how many keyword rules exist) plus the few
rules the pass or the bucket nominated. Rules without keywords are checked for every event of their bucket, so
the default pack keeps those few and cheap (a type, a role, a field comparison).

Two stages: plain rules first, then rules that look at other tags of the same event (`has_tag`) or at history
(`[[rule.window]]`), in file order, so "3日内二次联系" can build on "销售联系" of the same event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import ahocorasick

from rules.history import HistoryView
from rules.model import EVENT_TYPES, MESSAGE_KINDS, ROLES, EventView, Hit, Rule

DAY_MS = 86_400_000
MAX_TAG_CHARS = 64  # a template filled from a regex group must not turn a whole message into a tag
HOUR_MS = 3_600_000
# "附件:XX型号参数.pdf", "附件：报价单v2.3.xlsx", "文件: 方案.pdf" inside a chat line. A name with an extension may
# contain spaces ("附件: GW-300 型号参数表.pdf", as file names on a PC often do); without one it ends at a space.
_ATTACH_RE = re.compile(
    r"(?:附件|文件|attachment|attached)\s*[:：]\s*"
    r"((?:[^\s，,；;。、'\"“”:：][^\n，,；;。、'\"“”:：]{0,80}?\.[a-z0-9]{2,5}(?![a-z0-9]))|[^\s，,；;。、'\"“”]+)",
    re.IGNORECASE)


@dataclass
class Trace:
    """Why a rule fired or not, for `salespulse rules try`."""

    rule: Rule
    fired: bool
    tag: str = ""
    reasons: list[str] = field(default_factory=list)
    failed: str = ""


class _Empty(dict):
    def __missing__(self, key: str) -> str:
        return ""


class _State:
    """Per-event scratch: lowered text, automaton results, attachment names (lazily), tags so far."""

    __slots__ = ("view", "low", "rtext", "cats", "excluded", "kw_hits", "_names", "tags")

    def __init__(self, view: EventView, low: str, rtext: str) -> None:
        self.view = view
        self.low = low
        self.rtext = rtext
        self.cats: dict[str, list[str]] = {}
        self.excluded: set[int] = set()
        self.kw_hits: dict[int, str] = {}
        self._names: tuple[str, ...] | None = None
        self.tags: set[str] = set()

    @property
    def names(self) -> tuple[str, ...]:
        if self._names is None:
            found = ()
            text = self.view.text
            if ":" in text or "：" in text:
                found = tuple(_ATTACH_RE.findall(text))
            extra = (self.view.document,) if self.view.document else ()
            self._names = tuple(self.view.names) + extra + found
        return self._names


class Engine:
    def __init__(self, rules: list[Rule], catalogs: dict[str, dict[str, tuple[str, ...]]] | None = None, *,
                 text_max_chars: int = 4000, regex_max_chars: int = 2000) -> None:
        self.rules = list(rules)
        self.catalogs = dict(catalogs or {})
        self.text_max_chars = text_max_chars
        self.regex_max_chars = regex_max_chars
        self._automaton = self._build_automaton()
        # (type, role, message kind) → rules without keywords (checked every time), ids of keyword rules that fit.
        self._buckets: dict[tuple[str, str, str], tuple[tuple[Rule, ...], frozenset[int]]] = {}
        for etype in EVENT_TYPES:
            for role in (*ROLES, "bot"):
                for kind in (*MESSAGE_KINDS, "") if etype == "message" else ("",):
                    fits = [r for r in self.rules if etype in r.types and (r.roles is None or role in r.roles)
                            and (etype != "message" or r.kinds is None or kind in r.kinds)]
                    always = tuple(r for r in fits if not r.keywords)
                    self._buckets[(etype, role, kind)] = (always, frozenset(r.index for r in fits if r.keywords))
        self.keyword_count = sum(len(r.keywords) for r in self.rules)

    def _build_automaton(self) -> ahocorasick.Automaton | None:
        entries: dict[str, tuple[list[int], list[int], list[tuple[str, str]]]] = {}
        for r in self.rules:
            for k in r.keywords:
                entries.setdefault(k, ([], [], []))[0].append(r.index)
            for k in r.exclude:
                entries.setdefault(k, ([], [], []))[1].append(r.index)
        for cname, items in self.catalogs.items():
            for canonical, aliases in items.items():
                for alias in aliases:
                    entries.setdefault(alias.lower(), ([], [], []))[2].append((cname, canonical))
        if not entries:
            return None
        automaton = ahocorasick.Automaton()
        for word, (kw, ex, cat) in entries.items():
            automaton.add_word(word, (word, tuple(kw), tuple(ex), tuple(cat)))
        automaton.make_automaton()
        return automaton

    # ------------------------------------------------------------------ matching
    def _prepare(self, view: EventView) -> _State:
        text = view.text
        if len(text) > self.text_max_chars:
            text = text[: self.text_max_chars]
        low = text.lower()
        st = _State(view, low, text[: self.regex_max_chars])
        if self._automaton is not None and low:
            kw_hits, excluded, cats = st.kw_hits, st.excluded, st.cats
            for end, (word, kw, ex, cat) in self._automaton.iter(low):
                for i in kw:
                    kw_hits.setdefault(i, word)
                if ex:
                    excluded.update(ex)
                if cat and not _whole_model(low, end - len(word) + 1, end, word):
                    continue
                for cname, canonical in cat:
                    lst = cats.setdefault(cname, [])
                    if canonical not in lst:
                        lst.append(canonical)
        return st

    def _candidates(self, view: EventView, st: _State) -> tuple[Rule, ...] | list[Rule]:
        bucket = self._buckets.get((view.type, view.role, view.kind if view.type == "message" else ""))
        if bucket is None:
            return ()
        always, kw_ok = bucket
        if not st.kw_hits:
            return always
        rules = self.rules
        picked = [rules[i] for i in st.kw_hits if i in kw_ok]
        if not picked:
            return always
        return sorted((*always, *picked), key=lambda r: r.index)

    def evaluate(self, view: EventView, history: HistoryView | None = None) -> tuple[list[Hit], list[tuple[str, str]]]:
        """Tags for one event, and (key, value) pairs to remember for distinct-value windows."""
        st = self._prepare(view)
        hits: list[Hit] = []
        values: list[tuple[str, str]] = []
        staged: list[Rule] = []
        for r in self._candidates(view, st):
            if r.staged:
                staged.append(r)
                continue
            groups = self._check(r, st, None)
            if groups is not None:
                self._emit(r, groups, st, hits)
        for r in staged:
            if r.has_tags and st.tags.isdisjoint(r.has_tags):
                continue
            groups = self._check(r, st, None)
            if groups is None:
                continue
            if r.catalog and any(w.kind == "distinct" for w in r.windows):
                values.extend((r.id, v) for v in st.cats.get(r.catalog, ()))
            if self._windows(r, st, history, None):
                self._emit(r, groups, st, hits)
        return hits, values

    def explain(self, view: EventView, history: HistoryView | None = None) -> list[Trace]:
        """Every rule that could apply to this event type, fired or not, with the conditions checked."""
        st = self._prepare(view)
        traces: list[Trace] = []
        hits: list[Hit] = []
        order = [r for r in self.rules if not r.staged] + [r for r in self.rules if r.staged]
        for r in order:
            trace = Trace(r, False)
            traces.append(trace)
            if view.type not in r.types:
                trace.failed = f"事件类型 {view.type} 不在 {'/'.join(sorted(r.types))}"
                continue
            trace.reasons.append(f"类型={view.type}")
            if r.roles is not None:
                if view.role not in r.roles:
                    trace.failed = f"角色 {view.role} 不在 {'/'.join(sorted(r.roles))}"
                    continue
                trace.reasons.append(f"角色={view.role}")
            if r.keywords:
                if r.index not in st.kw_hits:
                    trace.failed = f"没有关键词 {'/'.join(r.keywords[:6])}"
                    continue
                trace.reasons.append(f"关键词“{st.kw_hits[r.index]}”")
            groups = self._check(r, st, trace)
            if groups is None or not self._windows(r, st, history, trace):
                continue
            self._emit(r, groups, st, hits)
            trace.fired = True
            trace.tag = hits[-1].tag
        return traces

    def _emit(self, r: Rule, groups: dict[str, str], st: _State, hits: list[Hit]) -> None:
        tag = r.tag
        if "{" in tag:
            values = _Empty({k: v for k, v in groups.items() if v})
            if r.catalog:
                values.setdefault("product", "、".join(st.cats.get(r.catalog, ())))
            tag = tag.format_map(values).strip()[:MAX_TAG_CHARS] or r.tag.split("{", 1)[0]
        if tag in st.tags:
            return
        st.tags.add(tag)
        hits.append(Hit(r.id, tag, r.category, r.weight))

    def _check(self, r: Rule, st: _State, trace: Trace | None) -> dict[str, str] | None:
        """Static conditions (type/role/keywords were settled by the bucket). None = no match."""
        v = st.view
        groups: dict[str, str] = {}
        if r.has_tags:
            have = [t for t in r.has_tags if t in st.tags]
            if not have:
                return None if trace is None else _fail(trace, f"本事件没有标签 {'/'.join(r.has_tags)}")
            if trace is not None:
                trace.reasons.append(f"已有标签“{have[0]}”")
        if r.kinds is not None and v.type == "message" and v.kind not in r.kinds:
            return None if trace is None else _fail(trace, f"消息类型 {v.kind or '-'} 不在 {'/'.join(sorted(r.kinds))}")
        if r.index in st.excluded:
            return None if trace is None else _fail(trace, "命中排除词")
        for cond in r.fields:
            if not cond.test(v.fields):
                return None if trace is None else _fail(trace, f"字段不满足 {cond.text}（实际 {v.fields.get(cond.name, '无')}）")
            if trace is not None:
                trace.reasons.append(f"{cond.text}（实际 {v.fields.get(cond.name)}）")
        if r.departments is not None and v.department not in r.departments:
            return None if trace is None else _fail(trace, f"部门 {v.department or '-'} 不在 {'/'.join(sorted(r.departments))}")
        if r.attendee_departments is not None:
            common = r.attendee_departments & v.attendee_departments
            if not common:
                return None if trace is None else _fail(trace, f"参会人没有 {'/'.join(sorted(r.attendee_departments))}")
            if trace is not None:
                trace.reasons.append(f"参会部门 {'/'.join(sorted(common))}")
        if r.catalog:
            found = st.cats.get(r.catalog)
            if not found:
                return None if trace is None else _fail(trace, f"没有提到目录“{r.catalog}”里的条目")
            if trace is not None:
                trace.reasons.append(f"{r.catalog}：{'、'.join(found)}")
        if r.attachments:
            hit = None
            for name in st.names:
                for glob, rx in r.attachments:
                    if rx.match(name):
                        hit = (glob, name)
                        break
                if hit:
                    break
            if hit is None:
                return None if trace is None else _fail(trace, f"没有匹配 {' / '.join(g for g, _ in r.attachments)} 的附件")
            groups["file"] = hit[1]
            if trace is not None:
                trace.reasons.append(f"附件 {hit[1]} 匹配 {hit[0]}")
        if r.regexes:
            for rx in r.regexes:
                m = rx.search(st.rtext)
                if m:
                    groups.update({k: val for k, val in m.groupdict().items() if val})
                    if trace is not None:
                        trace.reasons.append(f"正则 {rx.pattern} 匹配“{m.group(0)}”")
                    break
            else:
                return None if trace is None else _fail(trace, "正则都不匹配")
        return groups

    def _windows(self, r: Rule, st: _State, history: HistoryView | None, trace: Trace | None) -> bool:
        if not r.windows:
            return True
        v = st.view
        if not v.lead_id or history is None:
            if trace is not None:
                _fail(trace, "没有关联商机，无法看历史")
            return False
        t = v.occurred_at
        for w in r.windows:
            since = t - int(w.days * DAY_MS) if w.days else 0
            if w.kind == "count":
                n = history.count_tag_since(v.lead_id, w.tag, since, t - int(w.gap_hours * HOUR_MS))
                n += 1 if w.tag in st.tags else 0
            elif w.kind == "distinct":
                prior = history.distinct_values(v.lead_id, r.id, since, t)
                current = set(st.cats.get(w.catalog, ()))
                if w.new_value and not (current - prior):
                    if trace is not None:
                        _fail(trace, f"{w.describe()}：没有新的{w.catalog}")
                    return False
                n = len(prior | current)
            else:
                doc = v.document or (st.names[0] if st.names else "")
                n = history.count_opens(v.lead_id, doc, since, t) + 1
            if not w.bounds_ok(n):
                if trace is not None:
                    _fail(trace, f"{w.describe()}：实际 {n}")
                return False
            if trace is not None:
                trace.reasons.append(f"{w.describe()}：实际 {n}")
        return True


def _model_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in "-_.")


def _whole_model(low: str, start: int, end: int, word: str) -> bool:
    """A catalogue name counts only as a whole model: "GW-300" is not mentioned in "GW-3000多少钱" (else one
    question about GW-3000 would count as two products, GW-300 and GW-3000). Only Latin letters, digits and -_.
    glue: "GW-300多少钱" and "问下gw-300的价格" mention GW-300. A trailing "." (end of a sentence) is not glue."""
    if word[0].isascii() and word[0].isalnum() and start > 0 and _model_char(low[start - 1]) and low[start - 1] != ".":
        return False
    if word[-1].isascii() and word[-1].isalnum() and end + 1 < len(low):
        after = low[end + 1]
        if after.isascii() and (after.isalnum() or (after in "-_" and end + 2 < len(low) and low[end + 2].isalnum())):
            return False
    return True


def _fail(trace: Trace | None, why: str) -> None:
    if trace is not None:
        trace.failed = why
    return None
