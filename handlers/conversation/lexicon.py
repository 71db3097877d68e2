"""Classifier packs: TOML files of cues, negations, names and examples, compiled into per-label regexes.

A pack (the shipped one is handlers/conversation/packs/default.toml; admins add files in `[conversation]
packs_dirs`):

    [pack]
    name = "mine"

    [names]
    competitors = ["恒通", "客云CRM"]     # a customer naming one of these → competitor
    products = ["XV-200", "PK-350"]       # our own products: never a competitor; {product} in a regex

    [[cue]]
    label = "price_objection"
    words = ["太贵", "便宜点"]            # literal text (case and full/half width do not matter)
    regex = ["比.{0,8}贵"]                # Python regex over the normalised text; {competitor} / {product} expand
    weight = 1.0                           # a label fires when its surviving cues add up to ≥ 1 (0.5 = needs a second)
    negatable = false                      # true: 不/没/不是… right before it in the same clause cancels it

    [[negation]]
    labels = ["price_objection"]           # a match cancels every cue of these labels that overlaps it
    regex = ["价格.{0,3}(不是问题|没问题|还行)"]

    [[example]]                            # checked by `salespulse rules check`; a failure names file:line
    role = "customer"
    text = "别家便宜两成啊"
    labels = ["price_objection", "competitor"]   # must be among the labels
    not_labels = ["hesitation"]                  # must not be

Why regexes over normalised text and not a tokenizer: Chinese chat has no spaces, typos and emoji; a segmenter
would cost more than the whole classifier budget (≥ 10,000 turns/s) and still miss colloquial words. Why negation
as spans: "价格不是问题", "交期倒是没问题" are cancelled by what surrounds the topic word, which a span over both
states directly and an admin can read.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from re import _constants as C
from re import _parser as P
from typing import Any

from handlers.conversation.labels import ALL_LABELS, LABEL_ROLE, ROLES
from prompts import Keyed, render
from rules.guard import UnsafeRegex, compile_safe

DEFAULT_PACK = Path(__file__).with_name("packs") / "default.toml"
_TRUSTED = str(DEFAULT_PACK)
TOP_KEYS = {"pack", "names", "cue", "negation", "example"}
CUE_KEYS = {"label", "words", "regex", "weight", "negatable", "note"}
NEGATION_KEYS = {"labels", "words", "regex", "note"}
EXAMPLE_KEYS = {"role", "text", "labels", "not_labels", "note"}
NAME_KEYS = {"competitors", "products"}
_HEADER = {kind: re.compile(rf"^\s*\[\[\s*{kind}\s*\]\]") for kind in ("cue", "negation", "example")}
_TOML_LINE = re.compile(r"at line (\d+)")
_NEVER = "(?!x)x"
# A negator right before a negatable cue, in the same clause: 不贵, 没问题, 不是很担心, 并不着急.
NEG_BEFORE = re.compile(r"(?:不|没|没有|无|别|非|未|不是|不用|不会|不太|不怎么|并不|也不|毫无|无需|不必)(?:很|太|怎么|那么|是)?$")
CLAUSE_BREAK = re.compile(r"[,.!?;~，。！？；、\s]")


# The full-width punctuation of nearly every Chinese chat line, with its NFKC form. Replacing these first lets most
# lines pass NFKC's quick check, so the full normalisation (several µs a line) runs only when something else needs it.
_COMMON_WIDE = tuple((ch, unicodedata.normalize("NFKC", ch)) for ch in "，！？：；（）～＂＇％＋－／＜＝＞［］")


def normalise(text: str) -> str:
    """NFKC (full-width → half-width, ① → 1) and lower case: what every cue and example is matched against.

    Same result as unicodedata.normalize("NFKC", text).lower(), faster on the hot path: this runs on every message."""
    if not unicodedata.is_normalized("NFKC", text):
        for wide, narrow in _COMMON_WIDE:
            if wide in text:
                text = text.replace(wide, narrow)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
    return text.lower()


class PackError(Exception):
    """A mistake in a classifier pack, always with file and line."""

    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(message)
        self.file, self.line, self.message = file, line, message

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"

    def render(self, t: Callable[..., str]) -> str:
        """The line in t's locale (`rules check`, the log of a bot that falls back to the shipped pack)."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        return t("conversation.pack.line", where=where, why=render(self.message, t))


class PackErrors(Exception):
    def __init__(self, errors: list[PackError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Cue:
    label: str
    patterns: tuple[str, ...]  # regex sources before {name} expansion, already normalised
    weight: float
    negatable: bool
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class Negation:
    labels: frozenset[str]
    patterns: tuple[str, ...]
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class Example:
    role: str
    text: str
    labels: tuple[str, ...]
    not_labels: tuple[str, ...]
    file: str
    line: int


@dataclass
class Lexicon:
    """Everything the packs say, before compilation (several packs merge into one)."""

    cues: list[Cue] = field(default_factory=list)
    negations: list[Negation] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    competitors: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _lines_of(text: str, kind: str) -> list[int]:
    return [i + 1 for i, ln in enumerate(text.splitlines()) if _HEADER[kind].match(ln)]


def _strings(value: Any, where: str, key: str, errors: list[PackError], file: str, line: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(PackError(file, line, Keyed("conversation.pack.strings", where=where, field=key)))
        return ()
    return tuple(v for v in value if v.strip())


def _check_regex(pattern: str, file: str, line: int, errors: list[PackError]) -> bool:
    if file == _TRUSTED:  # the shipped pack: its regexes are checked by tests/test_conversation_classifier.py
        return True
    try:
        compile_safe(pattern.replace("{competitor}", "x").replace("{product}", "x"))
    except (re.error, UnsafeRegex) as exc:
        errors.append(PackError(file, line, Keyed("conversation.pack.bad_regex", pattern=pattern, why=exc)))
        return False
    return True


def parse_pack(text: str, file: str, into: Lexicon, errors: list[PackError]) -> None:
    """Add one pack's content to `into`; every mistake is appended to `errors` with its line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_LINE.search(str(exc))
        errors.append(PackError(file, int(m.group(1)) if m else 0, Keyed("conversation.pack.toml", why=exc)))
        return
    into.files.append(file)
    for key in data:
        if key not in TOP_KEYS:
            errors.append(PackError(file, 0, Keyed("conversation.pack.unknown_section", field=key, known=",".join(sorted(TOP_KEYS)))))
    names = data.get("names", {})
    if not isinstance(names, dict):
        errors.append(PackError(file, 0, Keyed("conversation.pack.names_table")))
        names = {}
    for key in names:
        if key not in NAME_KEYS:
            errors.append(PackError(file, 0, Keyed("conversation.pack.names_key", field=key)))
    into.competitors += [normalise(n) for n in _strings(names.get("competitors"), "[names]", "competitors", errors, file, 0)]
    into.products += [normalise(n) for n in _strings(names.get("products"), "[names]", "products", errors, file, 0)]
    for kind, keys, parse in (("cue", CUE_KEYS, _parse_cue), ("negation", NEGATION_KEYS, _parse_negation),
                              ("example", EXAMPLE_KEYS, _parse_example)):
        items = data.get(kind, [])
        if not isinstance(items, list):
            errors.append(PackError(file, 0, Keyed("conversation.pack.kind_tables", kind=kind)))
            continue
        lines = _lines_of(text, kind)
        for i, item in enumerate(items):
            line = lines[i] if i < len(lines) else 0
            if not isinstance(item, dict):
                errors.append(PackError(file, line, Keyed("conversation.pack.kind_table", kind=kind)))
                continue
            unknown = sorted(set(item) - keys)
            if unknown:
                errors.append(PackError(file, line, Keyed("conversation.pack.unknown_key", kind=kind, field=unknown[0],
                                                      known=",".join(sorted(keys)))))
            parse(item, file, line, into, errors)


def _patterns(item: dict, where: str, file: str, line: int, errors: list[PackError]) -> tuple[str, ...]:
    words = _strings(item.get("words"), where, "words", errors, file, line)
    regexes = _strings(item.get("regex"), where, "regex", errors, file, line)
    out = [re.escape(normalise(w)) for w in words]
    out += [normalise(r) for r in regexes if _check_regex(normalise(r), file, line, errors)]
    if not words and not regexes:
        errors.append(PackError(file, line, Keyed("conversation.pack.needs_words", where=where)))
    return tuple(out)


def _parse_cue(item: dict, file: str, line: int, into: Lexicon, errors: list[PackError]) -> None:
    label = item.get("label")
    if label not in LABEL_ROLE:
        errors.append(PackError(file, line, Keyed("conversation.pack.cue_label", label=label, known=",".join(ALL_LABELS))))
        return
    weight = item.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not -10 <= weight <= 10:
        errors.append(PackError(file, line, Keyed("conversation.pack.cue_weight")))
        return
    negatable = item.get("negatable", False)
    if not isinstance(negatable, bool):
        errors.append(PackError(file, line, Keyed("conversation.pack.cue_negatable")))
        return
    patterns = _patterns(item, f"[[cue]] {label}", file, line, errors)
    if patterns:
        into.cues.append(Cue(label, patterns, float(weight), negatable, file, line))


def _parse_negation(item: dict, file: str, line: int, into: Lexicon, errors: list[PackError]) -> None:
    labels = _strings(item.get("labels"), "[[negation]]", "labels", errors, file, line)
    bad = [lb for lb in labels if lb not in LABEL_ROLE]
    if bad or not labels:
        errors.append(PackError(file, line, Keyed("conversation.pack.negation_labels", known=",".join(ALL_LABELS))))
        return
    patterns = _patterns(item, "[[negation]]", file, line, errors)
    if patterns:
        into.negations.append(Negation(frozenset(labels), patterns, file, line))


def _parse_example(item: dict, file: str, line: int, into: Lexicon, errors: list[PackError]) -> None:
    role, text = item.get("role"), item.get("text")
    if role not in ROLES:
        errors.append(PackError(file, line, Keyed("conversation.pack.example_role")))
        return
    if not isinstance(text, str) or not text.strip():
        errors.append(PackError(file, line, Keyed("conversation.pack.example_text")))
        return
    labels = _strings(item.get("labels"), "[[example]]", "labels", errors, file, line)
    not_labels = _strings(item.get("not_labels"), "[[example]]", "not_labels", errors, file, line)
    allowed = ROLES[role]
    bad = [lb for lb in labels + not_labels if lb not in allowed]
    if bad:
        errors.append(PackError(file, line, Keyed("conversation.pack.example_label", label=bad[0], role=role,
                                                                known=",".join(allowed))))
        return
    into.examples.append(Example(role, text, labels, not_labels, file, line))


def load_lexicon(paths: list[Path]) -> Lexicon:
    """Read the packs in order; raises PackErrors listing every mistake (a missing file is one)."""
    lexicon = Lexicon()
    errors: list[PackError] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            errors.append(PackError(str(path), 0, Keyed("conversation.pack.unreadable", why=exc)))
            continue
        except UnicodeDecodeError:
            errors.append(PackError(str(path), 0, Keyed("conversation.pack.not_utf8")))
            continue
        parse_pack(text, str(path), lexicon, errors)
    if errors:
        raise PackErrors(errors)
    return lexicon


def pack_paths(dirs: tuple[str, ...] | list[str] = (), extra: tuple[str, ...] | list[str] = (),
               base: Path | None = None, use_default: bool = True) -> list[Path]:
    """The default pack, then every *.toml of each folder (sorted), then extra files; relative to `base`."""
    out = [DEFAULT_PACK] if use_default else []
    for d in dirs:
        p = Path(d) if base is None or Path(d).is_absolute() else base / d
        if p.is_dir():
            out.extend(sorted(p.glob("*.toml")))
    for f in extra:
        out.append(Path(f) if base is None or Path(f).is_absolute() else base / f)
    return list(dict.fromkeys(out))


# ---------------------------------------------------------------------------------------------- compiled form
# Why branches dispatched by first character: Python's `re` tries every alternative of an alternation at every
# position of the text; with ~1,500 alternatives that cost ~600 µs a turn. Each top-level alternative whose
# possible first characters are known is compiled alone and tried only where the text has one of them (a dict
# lookup per character); the few that may start anywhere are scanned as one regex. Same matches, ~10× faster.
@dataclass(frozen=True, slots=True)
class Group:
    """Cues of one label with the same weight and negatability (or one negation), as compiled branches."""

    label: str  # "" for a negation
    weight: float
    negatable: bool
    negates: frozenset[str]  # labels a negation cancels (empty for a cue group)


@dataclass(frozen=True, slots=True)
class RoleTable:
    groups: tuple[Group, ...]
    by_char: dict[str, tuple[tuple[int, re.Pattern[str]], ...]]  # first char → (group index, branches)
    anywhere: tuple[tuple[int, re.Pattern[str]], ...]  # branches that may start with any character
    # first two chars → (group index, branches): only the branches that can match there, so a common first
    # character (我, 不, 这) no longer costs one regex call per group at every position where it occurs
    by_pair: dict[str, tuple[tuple[int, re.Pattern[str]], ...]] = field(default_factory=dict)
    # the candidate positions, found in C with their first two characters (see _starts): the scan skips the
    # characters no cue can start with instead of looking each one up in Python
    starts: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class CompiledLexicon:
    roles: dict[str, RoleTable]
    lexicon: Lexicon


def _expand(pattern: str, macros: dict[str, str]) -> str:
    for name, alt in macros.items():
        pattern = pattern.replace("{" + name + "}", alt)
    return pattern


def _alternation(names: list[str]) -> str:
    names = sorted({n for n in names if n}, key=len, reverse=True)
    return "(?:" + "|".join(re.escape(n) for n in names) + ")" if names else _NEVER


def split_top(pattern: str) -> list[str]:
    """Top-level alternatives of a regex source: 'a|(b|c)d|[|]' → ['a', '(b|c)d', '[|]']."""
    out, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]" or pattern[i + 1:i + 3] == "^]":
                i += 2 if pattern[i + 1] == "]" else 3
                continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
        i += 1
    out.append(pattern[start:])
    return out


_MAX_SET = 400


def _first_seq(items) -> tuple[set[str] | None, bool]:
    acc: set[str] = set()
    for op, av in items:
        f, nullable = _first_op(op, av)
        if f is None:
            return None, False
        acc |= f
        if not nullable:
            return acc, False
    return acc, True


def _first_op(op, av) -> tuple[set[str] | None, bool]:
    if op is C.LITERAL:
        return {chr(av)}, False
    if op is C.IN:
        chars: set[str] = set()
        for iop, iav in av:
            if iop is C.LITERAL:
                chars.add(chr(iav))
            elif iop is C.RANGE and iav[1] - iav[0] < _MAX_SET:
                chars.update(chr(c) for c in range(iav[0], iav[1] + 1))
            elif iop is C.CATEGORY and iav is C.CATEGORY_DIGIT:
                chars.update("0123456789")
            else:
                return None, False
        return chars, False
    if op is C.SUBPATTERN:
        return _first_seq(av[3].data)
    if op is C.BRANCH:
        acc: set[str] = set()
        nullable = False
        for alt in av[1]:
            f, n = _first_seq(alt.data)
            if f is None:
                return None, False
            acc |= f
            nullable = nullable or n
        return acc, nullable
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        lo, _hi, body = av
        f, n = _first_seq(body.data)
        return f, (n or lo == 0) if f is not None else False
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return set(), True  # zero width: the next item decides
    return None, False


def first_chars(branch: str) -> set[str] | None:
    """The characters a match of `branch` can start with, or None when it may start with any (or be empty)."""
    try:
        f, nullable = _first_seq(P.parse(branch).data)
    except (re.error, RecursionError):
        return None
    return None if f is None or nullable or len(f) > _MAX_SET else f


_SINGLE = (C.LITERAL, C.IN)  # items that consume exactly one character
_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT)
_MAX_PAIRS = 1000


def _pairs_seq(items: list, depth: int = 0) -> set[str] | None:
    """The two-character strings a match of `items` must start with, or None when that is not known (or too many)."""
    if not items or depth > 12:
        return None
    op, av = items[0]
    if op in _SINGLE:
        first, _n = _first_op(op, av)
        second, nullable = _first_seq(items[1:])
        if first is None or second is None or nullable or len(first) * len(second) > _MAX_PAIRS:
            return None
        return {a + b for a in first for b in second}
    if op is C.SUBPATTERN:
        return _pairs_seq(list(av[3].data) + list(items[1:]), depth + 1)
    if op is C.BRANCH:
        acc: set[str] = set()
        for alt in av[1]:
            got = _pairs_seq(list(alt.data) + list(items[1:]), depth + 1)
            if got is None:
                return None
            acc |= got
        return acc if len(acc) <= _MAX_PAIRS else None
    if op in _REPEATS and av[0] >= 1:  # x{lo,hi} = x then x{lo-1,hi-1}: 贵+了, \d+家
        lo, hi, body = av
        hi_rest = hi if hi is C.MAXREPEAT else hi - 1
        rest = [(op, (lo - 1, hi_rest, body))] if hi_rest != 0 else []
        return _pairs_seq(list(body.data) + rest + list(items[1:]), depth + 1)
    if op in _REPEATS and av[1] == 1:  # x? = x or nothing: (已经|马上)?(发|传)
        with_x = _pairs_seq(list(av[2].data) + list(items[1:]), depth + 1)
        without = _pairs_seq(list(items[1:]), depth + 1)
        if with_x is None or without is None or len(with_x) + len(without) > _MAX_PAIRS:
            return None
        return with_x | without
    return None  # lookarounds, backreferences, anything else: keep such branches on the one-character index


def first_pairs(branch: str) -> set[str] | None:
    """The first two characters of every match of `branch`, or None when it may also start otherwise."""
    try:
        return _pairs_seq(list(P.parse(branch).data))
    except (re.error, RecursionError):
        return None


def _index_role(items: list[tuple[Group, list[str]]]) -> RoleTable:
    """Index every branch by its first character, or by its first two when they are known.

    At a position the matcher asks the two-character index first and falls back to the one-character one. The pair
    entry for "ab" holds, per group and in pack order, the pair branches of "ab" and the one-character branches of
    "a" — every branch that can match there — so the first branch to match is the one the plain per-character scan
    would have found: the index changes speed, never labels."""
    per_char: dict[str, dict[int, list[tuple[int, str]]]] = {}
    per_pair: dict[str, dict[int, list[tuple[int, str]]]] = {}
    anywhere: dict[int, list[str]] = {}
    order = 0
    for gi, (_group, patterns) in enumerate(items):
        for pattern in dict.fromkeys(patterns):
            for branch in split_top(pattern):
                if not branch:
                    continue
                order += 1
                pairs = first_pairs(branch)
                if pairs is not None:
                    for pair in pairs:
                        per_pair.setdefault(pair, {}).setdefault(gi, []).append((order, branch))
                    continue
                chars = first_chars(branch)
                if chars is None:
                    anywhere.setdefault(gi, []).append(branch)
                    continue
                for ch in chars:
                    per_char.setdefault(ch, {}).setdefault(gi, []).append((order, branch))
    cache: dict[tuple[str, ...], re.Pattern[str]] = {}

    def entries(groups: dict[int, list[tuple[int, str]]]) -> tuple[tuple[int, re.Pattern[str]], ...]:
        return tuple((gi, _joined(tuple(b for _o, b in sorted(bs)), cache)) for gi, bs in sorted(groups.items()))

    by_pair = {}
    for pair, groups in per_pair.items():
        merged = {gi: list(bs) for gi, bs in per_char.get(pair[0], {}).items()}
        for gi, bs in groups.items():
            merged.setdefault(gi, []).extend(bs)
        by_pair[pair] = entries(merged)
    starts = _starts(set(per_char), {pair[0] for pair in by_pair} - set(per_char), {pair[1] for pair in by_pair})
    return RoleTable(tuple(g for g, _p in items), {ch: entries(groups) for ch, groups in per_char.items()},
                     tuple((gi, _joined(tuple(bs), cache)) for gi, bs in anywhere.items()),
                     by_pair, starts)


def _starts(single: set[str], pair_only: set[str], seconds: set[str]) -> re.Pattern[str] | None:
    """The candidate positions: a character with one-character branches, or the first character of a pair followed by
    a character some pair ends with; the match captures the position's first two characters, the index key."""
    def cls(chars: set[str]) -> str:
        return "[" + "".join(re.escape(ch) for ch in sorted(chars)) + "]"
    parts = ([cls(single) + ".?"] if single else []) + ([cls(pair_only) + cls(seconds)] if pair_only else [])
    # zero width, the candidate's first two characters captured: every position is reported (overlaps included)
    return re.compile("(?=(" + "|".join(parts) + "))", re.DOTALL) if parts else None


def compile_lexicon(lexicon: Lexicon) -> CompiledLexicon:
    return CompiledLexicon({role: _index_role(items) for role, items in role_groups(lexicon).items()}, lexicon)


def role_groups(lexicon: Lexicon) -> dict[str, list[tuple[Group, list[str]]]]:
    """Per role, its groups with their regex sources ({names} expanded), in pack order: what gets indexed."""
    products = set(lexicon.products)
    competitors = [c for c in lexicon.competitors if c not in products]
    macros = {"competitor": _alternation(competitors), "product": _alternation(list(products))}
    buckets: dict[tuple[str, float, bool], list[str]] = {}
    for cue in lexicon.cues:
        buckets.setdefault((cue.label, cue.weight, cue.negatable), []).extend(_expand(p, macros) for p in cue.patterns)
    if competitors:
        buckets.setdefault(("competitor", 1.0, False), []).append(macros["competitor"])
    entries: dict[str, list[tuple[Group, list[str]]]] = {role: [] for role in ROLES}
    for (label, weight, negatable), patterns in buckets.items():
        entries[LABEL_ROLE[label]].append((Group(label, weight, negatable, frozenset()), patterns))
    for neg in lexicon.negations:
        for role in {LABEL_ROLE[lb] for lb in neg.labels}:
            labels = frozenset(lb for lb in neg.labels if LABEL_ROLE[lb] == role)
            entries[role].append((Group("", 0.0, False, labels), [_expand(p, macros) for p in neg.patterns]))
    return entries


def _joined(branches: tuple[str, ...], cache: dict) -> re.Pattern[str]:
    """One regex for the branches of one group that start with the same character (shared across characters)."""
    rx = cache.get(branches)
    if rx is None:
        rx = cache[branches] = re.compile(branches[0] if len(branches) == 1 else "|".join(f"(?:{b})" for b in branches))
    return rx


def negated_before(text: str, start: int) -> bool:
    """A negator ends right before `start` in the same clause (looks back at most 6 characters)."""
    lo = max(0, start - 6)
    window = text[lo:start]
    cut = None
    for m in CLAUSE_BREAK.finditer(window):
        cut = m.end()
    if cut is not None:
        window = window[cut:]
    return bool(window) and NEG_BEFORE.search(window) is not None


def matches(table: RoleTable, text: str) -> list[tuple[int, int, int, str]]:
    """(group index, start, end, matched text), leftmost-first and non-overlapping within each group."""
    found: list[tuple[int, int, int, str]] = []
    last_end = [0] * len(table.groups)
    by_char, by_pair = table.by_char, table.by_pair
    for start in table.starts.finditer(text) if table.starts is not None else ():
        key = start.group(1)
        branches = by_pair.get(key) or by_char.get(key[0])
        if branches is None:
            continue
        i = start.start()
        for gi, rx in branches:
            if last_end[gi] > i:
                continue
            m = rx.match(text, i)
            if m is not None:
                e = m.end()
                if e > i:
                    last_end[gi] = e
                    found.append((gi, i, e, m.group()))
    for gi, rx in table.anywhere:
        for m in rx.finditer(text):
            s, e = m.span()
            if e > s and last_end[gi] <= s:
                found.append((gi, s, e, m.group()))
    return found


def score(compiled: CompiledLexicon, text: str, role: str, explain: bool) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Per label: the summed weight of its surviving cues, and (explain) the matched words that count
    ("~label" lists what negation cancelled)."""
    table = compiled.roles.get(role)
    if table is None:
        return {}, {}
    found = matches(table, text)
    if not found:
        return {}, {}
    groups = table.groups
    spans = [(s, e, groups[gi].negates) for gi, s, e, _t in found if groups[gi].negates]
    scores: dict[str, float] = {}
    evidence: dict[str, list[str]] = {}
    for gi, s, e, word in found:
        group = groups[gi]
        label = group.label
        if not label:
            continue
        if group.negatable and negated_before(text, s):
            if explain:
                evidence.setdefault("~" + label, []).append(text[max(0, s - 3):e])
            continue
        if spans and any(a < e and s < b and label in lbs for a, b, lbs in spans):
            if explain:
                evidence.setdefault("~" + label, []).append(word)
            continue
        scores[label] = scores.get(label, 0.0) + group.weight
        if explain:
            evidence.setdefault(label, []).append(word)
    return scores, evidence
