"""Regex guard: refuse patterns that can backtrack catastrophically, before they ever see a message.

Why static rejection and not a timeout: Python's `re` cannot be interrupted. It has no step budget, a signal
alarm only works in the main thread and is not honoured inside the C matching loop, and a thread cannot be
killed. So a bad pattern would freeze the dispatcher for every later event. Instead, at load time we parse the
pattern with the standard library's own parser and reject the shapes that cause exponential blowup:

- nested unbounded quantifiers, `(a+)+`, `(\\w+\\s?)*`: unless the outer body has a mandatory literal the inner
  repeat cannot match (`(\\.\\d+)*` is fine: every round must consume a '.');
- alternation inside an unbounded repeat whose branches are not told apart by distinct first literals
  (`(a|aa)+`, `(x|x?)*`);
- backreferences (matching them is NP-hard in general);
- bounded repeats above 1000 (`a{1,100000}` compiles huge);
- more than one *wide* unbounded repeat (`.*`, `\\S+`, `[^，]+`, `\\w+`): two of them give quadratic-or-worse
  scans.

What remains is at worst polynomial, and the engine only hands regexes the first `regex_max_chars` characters of
a text (default 2000), which bounds the worst case to a few milliseconds.
"""

from __future__ import annotations

import re
from re import _constants as C
from re import _parser as P

from prompts import Keyed

MAX_BOUNDED_REPEAT = 1000
_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT)
_SINGLE = (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN)


class UnsafeRegex(ValueError):
    """The pattern compiles but may hang; the message says why in one line."""


def _unbounded(hi: int) -> bool:
    return hi == C.MAXREPEAT or hi > 100


def _category_matches(cat, ch: str) -> bool:
    name = str(cat)
    neg = "NOT_" in name
    if "DIGIT" in name:
        hit = ch.isdigit()
    elif "SPACE" in name:
        hit = ch.isspace()
    elif "WORD" in name:
        hit = ch.isalnum() or ch == "_"
    elif "LINEBREAK" in name:
        hit = ch == "\n"
    else:
        return True  # unknown category: assume it can match (conservative)
    return hit != neg


def _single_matches(op, av, ch: str) -> bool:
    """Can the one-character item (op, av) match `ch`? Conservative: True when unsure."""
    code = ord(ch)
    if op is C.LITERAL:
        return av == code
    if op is C.NOT_LITERAL:
        return av != code
    if op is C.ANY:
        return ch != "\n"
    if op is C.IN:
        negate = False
        hit = False
        for sop, sav in av:
            if sop is C.NEGATE:
                negate = True
            elif sop is C.LITERAL:
                hit |= sav == code
            elif sop is C.RANGE:
                hit |= sav[0] <= code <= sav[1]
            elif sop is C.CATEGORY:
                hit |= _category_matches(sav, ch)
            else:
                return True
        return hit != negate
    return True


def _is_wide(op, av) -> bool:
    if op is C.ANY or op is C.NOT_LITERAL:
        return True
    if op is C.IN:
        for sop, sav in av:
            if sop is C.NEGATE:
                return True
            if sop is C.CATEGORY and ("NOT_" in str(sav) or "WORD" in str(sav)):
                return True
    return False


def _mandatory_literals(seq) -> list[str]:
    return [chr(av) for op, av in seq if op is C.LITERAL]


def _inner_repeats(seq):
    """Unbounded repeats anywhere inside `seq` (through groups and branches)."""
    for op, av in seq:
        if op in _REPEATS:
            lo, hi, sub = av
            if _unbounded(hi):
                yield sub
            yield from _inner_repeats(sub)
        elif op is C.SUBPATTERN:
            yield from _inner_repeats(av[3])
        elif op is C.BRANCH:
            for alt in av[1]:
                yield from _inner_repeats(alt)
        elif op in (C.ASSERT, C.ASSERT_NOT):
            yield from _inner_repeats(av[1])


def _flatten(seq):
    """Inline plain groups so `(\\.\\d+)` is seen as the sequence `\\.`, `\\d+`."""
    out = []
    for op, av in seq:
        if op is C.SUBPATTERN:
            out.extend(_flatten(av[3]))
        else:
            out.append((op, av))
    return out


def _check_body(body) -> None:
    flat = _flatten(body)
    literals = _mandatory_literals(flat)
    for sub in _inner_repeats(flat):
        items = list(sub)
        if len(items) == 1 and items[0][0] in _SINGLE:
            sop, sav = items[0]
            if any(not _single_matches(sop, sav, ch) for ch in literals):
                continue
        raise UnsafeRegex(Keyed("lib_errors.regex_nested"))
    for op, av in flat:
        if op is C.BRANCH:
            firsts = []
            for alt in av[1]:
                alt = _flatten(alt)
                if not alt or alt[0][0] is not C.LITERAL:
                    raise UnsafeRegex(Keyed("lib_errors.regex_alternation_prefix"))
                firsts.append(alt[0][1])
            if len(set(firsts)) != len(firsts):
                raise UnsafeRegex(Keyed("lib_errors.regex_alternation_same"))


def _walk(seq, wide: list[int]) -> None:
    for op, av in seq:
        if op in _REPEATS:
            lo, hi, sub = av
            if hi != C.MAXREPEAT and hi > MAX_BOUNDED_REPEAT:
                raise UnsafeRegex(Keyed("lib_errors.regex_bound", hi=hi, limit=MAX_BOUNDED_REPEAT))
            items = list(sub)
            single = len(items) == 1 and items[0][0] in _SINGLE
            if single and _unbounded(hi) and _is_wide(*items[0]):
                wide[0] += 1
            elif not single and hi > 1:
                _check_body(items)
            _walk(sub, wide)
        elif op is C.SUBPATTERN:
            _walk(av[3], wide)
        elif op is C.BRANCH:
            for alt in av[1]:
                _walk(alt, wide)
        elif op in (C.ASSERT, C.ASSERT_NOT):
            _walk(av[1], wide)
        elif op in (C.GROUPREF, C.GROUPREF_EXISTS):
            raise UnsafeRegex(Keyed("lib_errors.regex_backreference"))


def compile_safe(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Compile `pattern` or raise UnsafeRegex / re.error with a one-line reason."""
    compiled = re.compile(pattern, flags)  # syntax errors first, with re's own message
    wide = [0]
    _walk(P.parse(pattern, flags), wide)
    if wide[0] > 1:
        raise UnsafeRegex(Keyed("lib_errors.regex_wildcards"))
    return compiled
