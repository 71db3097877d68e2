"""Golden snippets (B1): objection → response exchanges cut out of a conversation.

A conversation is a list of labelled turns — a customer's chat thread (timestamps in ms), or a call / voice
transcript whose turns also carry start and end offsets in seconds. For every customer turn with an objection
label (consecutive customer turns before the rep speaks are one objection), a snippet keeps:
- the objection text and labels, and the rep's answer: the rep's consecutive turns after it (at most
  MAX_ANSWER_TURNS), their strategy labels, and the latency — rep start − customer end for timed transcripts,
  the message time difference in chat (the seed's "answers within 30 s after a price objection");
- a few turns of context either side;
- the turning sentence: the rep sentence after which the customer's replies turned — the first later customer
  reply without an objection that agrees ("好的，那就…"), asks for a next step ("合同怎么走", "什么时候能来演示"),
  or reads clearly warmer than the objection (sentiment — a lexicon, or snownlp — up by at least
  TURN_SENTIMENT_RISE). Inside the
  rep turn before that reply, the last sentence carrying a strategy label is the turning sentence (a rep's
  "好的王总" before the argument is never it); without a labelled sentence, the longest one;
- for timed transcripts, what the rep did when the customer fell silent for more than [coaching] silence_gap_s
  after the objection: ask (a question), empathise, redirect, or pause (the rep let the silence be and the
  customer spoke again first).
An answer later than [coaching] answer_window_hours is not an answer to that objection and makes no snippet.
Pure functions: no store, no clock; the classifier for sentences and the sentiment scorer are passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_ANSWER_TURNS = 3
TURN_LOOKAHEAD = 4  # customer replies looked at for the turn
TURN_SENTIMENT_RISE = 0.25
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")
_AGREE = re.compile(r"(好的|好吧|好嘞|行吧|行，|可以的|没问题|就这么定|就这样吧|那就|同意|成交|OK|ok|👌|听你的|签吧|下单|安排吧|靠谱)")
_NEXT_STEP = re.compile(r"(什么时候|下一步|合同|签约|发我|发一下|发过来|约个|演示|试用|来一趟|见个面|对接|走流程|付款|开票|报个名|盖章)")
_OPENS_YES = re.compile(r"^(好的|好吧|好嘞|行吧|行|可以的|可以|没问题|OK|ok|嗯嗯|同意|听你的)[，,。！!～~\s]")
_CLOSING = re.compile(r"(合同怎么|签合同|走合同|签约|下单|付款|盖章|开票|发合同)")
_QUESTION = re.compile(r"([？?]|吗[。！!]?$|呢[。！!]?$|是不是|能不能|方便|怎么样|哪些|哪个|多少|您看)")
_EMPATHY = re.compile(r"(理解|明白|确实|放心|别担心|不着急|没关系|我懂|换我也|能体会|辛苦)")


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn of a conversation. `at_ms` is wall time; `start_s`/`end_s` offsets within a timed transcript."""

    event_id: str
    role: str  # customer | rep
    text: str
    labels: tuple[str, ...]
    at_ms: int
    person_id: str = ""
    start_s: float | None = None
    end_s: float | None = None

    @staticmethod
    def of(row: Any) -> Turn:
        """From store.conversation's labelled turn (event_id, role customer|rep, person_id, text, labels, ts)."""
        role = "rep" if row.role in ("rep", "manager", "cs") else row.role
        return Turn(row.event_id, role, row.text or "", tuple(row.labels or ()), int(row.ts), row.person_id or "")


@dataclass(frozen=True, slots=True)
class Extracted:
    key: str  # the (first) objection turn's event id
    objections: tuple[str, ...]
    strategies: tuple[str, ...]
    objection_text: str
    response_text: str
    turning_sentence: str
    context: tuple[tuple[str, str, float], ...]  # (role, text, seconds from the objection)
    latency_s: float
    silence_action: str  # '' | ask | empathise | redirect | pause
    at_ms: int
    rep_id: str


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def silence_action(next_turn: Turn) -> str:
    """What the rep did to end a customer's silence (or 'pause' when the customer spoke first)."""
    if next_turn.role == "customer":
        return "pause"
    text = next_turn.text.strip()
    if _EMPATHY.search(text):
        return "empathise"
    if _QUESTION.search(text):
        return "ask"
    return "redirect"


def _is_turn(reply: Turn, objection_text: str, sentiment: Callable[[str], float] | None) -> bool:
    text = reply.text.strip()
    # opening with a plain yes ("好的，那就…") or moving to the deal ("合同怎么走") is a turn even when a word in it
    # also reads as an objection (分批发货 → delivery); a reply that only objects again is not
    if _OPENS_YES.match(text) or _CLOSING.search(text):
        return True
    if reply.labels:
        return False
    if _AGREE.search(text) or _NEXT_STEP.search(text):
        return True
    if sentiment is None:
        return False
    return sentiment(reply.text) - sentiment(objection_text) >= TURN_SENTIMENT_RISE and sentiment(reply.text) >= 0.6


def turning_sentence(rep_text: str, classify_rep: Callable[[str], Sequence[str]]) -> str:
    parts = sentences(rep_text)
    if not parts:
        return ""
    labelled = [s for s in parts if classify_rep(s)]
    if labelled:
        return labelled[-1]
    return max(parts, key=len)


def _offset(turn: Turn, origin: Turn) -> float:
    if turn.start_s is not None and origin.start_s is not None:
        return round(turn.start_s - origin.start_s, 1)
    return round((turn.at_ms - origin.at_ms) / 1000, 1)


def extract(turns: Sequence[Turn], *, classify_rep: Callable[[str], Sequence[str]],
            sentiment: Callable[[str], float] | None = None, context_turns: int = 2,
            answer_window_s: float = 86_400, silence_gap_s: float = 5.0,
            objection_labels: frozenset[str] | None = None) -> list[Extracted]:
    """Every objection → response snippet in `turns` (ordered). `objection_labels` limits which customer labels
    count (all by default)."""
    out: list[Extracted] = []
    i, n = 0, len(turns)
    while i < n:
        turn = turns[i]
        labels = tuple(lb for lb in turn.labels if objection_labels is None or lb in objection_labels)
        if turn.role != "customer" or not labels:
            i += 1
            continue
        # consecutive customer turns before the rep answers are one objection
        first, j = i, i + 1
        objections = list(labels)
        while j < n and turns[j].role == "customer":
            objections.extend(lb for lb in turns[j].labels if lb not in objections
                              and (objection_labels is None or lb in objection_labels))
            j += 1
        last_customer = turns[j - 1]
        if j >= n:
            break  # nobody answered yet
        answer: list[Turn] = []
        k = j
        while k < n and turns[k].role == "rep" and len(answer) < MAX_ANSWER_TURNS:
            answer.append(turns[k])
            k += 1
        while k < n and turns[k].role == "rep":
            k += 1
        if not answer:
            i = j
            continue
        timed = last_customer.end_s is not None and answer[0].start_s is not None
        latency = (answer[0].start_s - last_customer.end_s) if timed else (answer[0].at_ms - last_customer.at_ms) / 1000
        if latency > answer_window_s:
            i = j
            continue
        action = ""
        for x in range(first, j):  # the first customer silence after the objection, until the rep answers
            cur, nxt = turns[x], turns[x + 1]
            if cur.end_s is not None and nxt.start_s is not None and nxt.start_s - cur.end_s > silence_gap_s:
                action = silence_action(nxt)
                break
        objection_text = "\n".join(t.text for t in turns[first:j])
        strategies: list[str] = []
        for t in answer:
            strategies.extend(lb for lb in t.labels if lb not in strategies)
        # the turn: the first later customer reply that turned; the rep turn just before it holds the sentence
        turning = ""
        seen = 0
        for m in range(k, n):
            if turns[m].role != "customer":
                continue
            seen += 1
            if seen > TURN_LOOKAHEAD:
                break
            if _is_turn(turns[m], objection_text, sentiment):
                rep_before = next((turns[x] for x in range(m - 1, j - 1, -1) if turns[x].role == "rep"), None)
                if rep_before is not None:
                    turning = turning_sentence(rep_before.text, classify_rep)
                break
            if turns[m].labels:
                break  # a new objection: the exchange did not turn
        lo, hi = max(0, first - context_turns), min(n, k + context_turns)
        context = tuple((t.role, t.text, _offset(t, turns[first])) for t in turns[lo:hi])
        out.append(Extracted(turns[first].event_id, tuple(objections), tuple(strategies), objection_text,
                             "\n".join(t.text for t in answer), turning, context, round(max(0.0, latency), 1),
                             action, turns[first].at_ms, answer[0].person_id))
        i = k
    return out
