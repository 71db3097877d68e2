"""Scoring one practice answer against the best snippets for its objection, and the one or two pieces of advice.

What is measured, and why each:
- strategy used (the conversation classifier on the answer): did the rep use a strategy that the team's best
  snippets for this objection use? Any strategy beats none; the snippets' strategy is what worked before.
- key-phrase coverage: the best snippets' substantial clauses ("三十天上线", "7×24小时响应"), matched by character
  bigrams so that a paraphrase with the same words counts and word order does not matter.
- response time: from the virtual customer's line to the answer (recorded time for a voice note). A customer who
  waits long hears hesitation.
- for voice: speaking rate (characters per minute of speech), pauses longer than a second (the speech pipeline's
  energy-based voice activity) and filler words (嗯、那个、就是) — all from handlers/voice/analysis.
Weights: strategy 40, coverage 40 (strategy 60 when the library has no snippet yet), time 20; voice delivery takes
off at most 15. Advice goes from the biggest gap to the smallest; at most two pieces, so each one is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from handlers.debrief import peers
from handlers.debrief.understand import clean

_CLAUSES = re.compile(r"[，,。；;！!？?\n、]+")


@dataclass
class Voice:
    speech_ms: int
    pauses_ms: tuple[int, ...]


@dataclass
class Score:
    total: int
    strategies: tuple[str, ...]
    wanted: tuple[str, ...]
    coverage: float | None  # None: no snippet to compare with
    missing: list[str]
    response_s: float
    rate_cpm: float | None = None
    long_pauses: int | None = None
    fillers: int | None = None
    advice: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (prompt key, values)

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "strategies": list(self.strategies), "wanted": list(self.wanted),
                "coverage": self.coverage, "missing": self.missing, "response_s": self.response_s,
                "rate_cpm": self.rate_cpm, "long_pauses": self.long_pauses, "fillers": self.fillers,
                "advice": [[k, v] for k, v in self.advice]}


def key_phrases(snippets: list[Any], limit: int = 4) -> list[str]:
    """The substantial clauses of the best snippets' answers, most specific (digits, length) first."""
    seen: list[str] = []
    for s in snippets:
        for clause in _CLAUSES.split(clean(peers.snippet_text(s))):
            clause = clause.strip()
            if len(clause) >= 4 and clause not in seen:
                seen.append(clause)
    seen.sort(key=lambda c: (not re.search(r"\d|[一二三四五六七八九十百千万]+[天年月个%]", c), -len(c)))
    return seen[:limit]


def _bigrams(text: str) -> set[str]:
    t = re.sub(r"\s+", "", text)
    return {t[i:i + 2] for i in range(len(t) - 1)}


def covered(phrase: str, answer: str) -> bool:
    grams = _bigrams(phrase)
    return bool(grams) and len(grams & _bigrams(answer)) / len(grams) >= 0.5


def score(*, answer: str, strategies: tuple[str, ...], snippets: list[Any], response_s: float,
          quick_s: int, good_rate: tuple[int, ...], max_fillers: int, voice: Voice | None = None) -> Score:
    wanted = tuple(dict.fromkeys(s for sn in snippets for s in getattr(sn, "strategies", ()) or ()))
    phrases = key_phrases(snippets)
    missing = [p for p in phrases if not covered(p, answer)]
    coverage = (1 - len(missing) / len(phrases)) if phrases else None
    if wanted:
        strat = 1.0 if set(strategies) & set(wanted) else 0.5 if strategies else 0.0
    else:
        strat = 1.0 if strategies else 0.0
    slow = max(0.0, response_s - quick_s)
    time_part = max(0.0, 1 - slow / (3 * max(quick_s, 1)))
    points = (40 * strat + 40 * coverage) if coverage is not None else 60 * strat
    points += 20 * time_part
    out = Score(0, strategies, wanted, None if coverage is None else round(coverage, 2), missing, round(response_s, 1))
    advice: list[tuple[str, dict[str, Any]]] = []
    if wanted and not set(strategies) & set(wanted):
        advice.append(("practice.advice_strategy", {"strategy": wanted[0], "example": peers.snippet_text(snippets[0])}))
    elif not strategies:
        advice.append(("practice.advice_no_strategy", {}))
    if missing:
        advice.append(("practice.advice_phrase", {"phrase": missing[0]}))
    if voice is not None:
        rate = peers.speaking_rate(answer, voice.speech_ms)
        fillers = peers.filler_words(answer)
        out.rate_cpm = rate
        out.long_pauses = sum(1 for p in voice.pauses_ms if p > 1000)
        out.fillers = sum(fillers.values()) if fillers is not None else None
        penalty = 0
        if out.fillers is not None and out.fillers > max_fillers:
            penalty += 5
            advice.append(("practice.advice_fillers", {"n": out.fillers, "words": "、".join(fillers)}))
        if out.long_pauses >= 2:
            penalty += 5
            advice.append(("practice.advice_pauses", {"n": out.long_pauses}))
        if rate and len(good_rate) == 2 and not good_rate[0] <= rate <= good_rate[1]:
            penalty += 5
            advice.append(("practice.advice_rate_fast" if rate > good_rate[1] else "practice.advice_rate_slow",
                           {"rate": round(rate), "low": good_rate[0], "high": good_rate[1]}))
        points -= penalty
    if slow > 0:
        advice.append(("practice.advice_slow", {"s": round(response_s)}))
    out.total = max(0, min(100, round(points)))
    out.advice = advice[:2] or [("practice.advice_good", {})]
    return out
