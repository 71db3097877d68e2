"""Free-text deal notes → concrete changes: "客户CFO下周回国" → the final approver can be met next week.

Rules first (time expressions: note_dates.py; roles, what happens: note_rules.py), so every change can be echoed
with what triggered it. Besides people, budgets and dates, a note reports money paid (定金已付: a binding
commitment, the intent-letter cap lifted), the deal called off (项目取消了, 选了别家, 没中标: stalled, never closed —
a note can be wrong) and tenders (下周三开标: nothing closes before; 中标了: like a verbal win, never marked won).
Clauses that match no rule are reported back as not understood — never guessed. snownlp only breaks ties on
direction: a clause with no rule that snownlp reads as strongly positive/negative is still reported as not
understood, with its tone noted; it changes nothing. snownlp loads its models at import (~3.5 s), so it is
imported lazily, once per process.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from handlers.forecast.note_dates import parse_when
from handlers.forecast.note_rules import (
    ACTIONS,
    APPROVERS,
    BAD,
    BUDGET_AMOUNT,
    DEFER_AFTER,
    DEFER_TO,
    DEPOSIT_PAID,
    GOOD,
    HEDGE_AFTER,
    HEDGE_BEFORE,
    LOOKING_BACK,
    LOSS,
    MEETING,
    MEETING_OFF,
    NEAR_MISS,
    NEG_AFTER,
    NEG_BEFORE,
    NOUN_ACTIONS,
    OUR_WIN_BEFORE,
    PARTIAL,
    PAY_AFTER,
    PAY_DONE,
    PAY_INTENT,
    PLANNABLE,
    QUESTION,
    REVIVED,
    ROLES,
    SIGNING,
    TENDER,
    TENDER_PENDING,
    TENDER_WON,
    WORRIES,
)

RETURN_MARGIN_DAYS = 7  # a decision-maker back on day D signs at the earliest about a week later


def _yuan(number: str, unit: str | None) -> float | None:
    value = float(number)
    if unit in ("万", "w", "W"):
        value *= 10_000
    elif unit is None and value < 10_000:
        value *= 10_000  # "预算确认150" in a sales note means 150万, never 150元
    return value if value > 0 else None


@dataclass
class Change:
    key: str  # prompt key suffix for the echo, e.g. "n_approver_available"
    values: dict[str, Any]
    fields: dict[str, Any]  # deal_details fields to set (absolute values)
    amount: float | None = None  # the deal's new amount (元): a budget the customer named
    close: date | None = None  # the deal's new expected close: a signing date, a decision-maker's return


@dataclass
class Parsed:
    changes: list[Change] = field(default_factory=list)
    event_date: date | None = None
    when_text: str = ""
    not_understood: list[str] = field(default_factory=list)
    tone: dict[str, str] = field(default_factory=dict)  # clause → positive/negative (snownlp, informational)


_SNOW: Any = None


def _tone(clause: str) -> str:
    """snownlp's reading of a clause no rule understood (informational only)."""
    global _SNOW
    if _SNOW is None:
        from snownlp import SnowNLP

        _SNOW = SnowNLP
    s = _SNOW(clause).sentiments
    return "positive" if s >= 0.9 else "negative" if s <= 0.1 else ""


def _verb_at(m: re.Match) -> int:
    """Where the rule's verb starts (its negation is looked for right before it)."""
    return m.start("v") if "v" in m.re.groupindex and m.group("v") is not None else m.start()


def _match(pattern: str, clause: str, noun: bool = False) -> tuple[re.Match | None, bool, str]:
    """(match, negated, phrase) for a rule in a clause: the first occurrence that is not negated, else the last one
    (negated, and the phrase then includes the negation: "还没见过" → "没见过"). The negation is looked for right
    before the rule's verb `(?P<v>…)` when it names one ("项目没取消"), else before the match."""
    last, phrase = None, ""
    for m in re.finditer(pattern, clause, flags=re.I):
        last = m
        neg = NEG_BEFORE.search(clause[:_verb_at(m)])
        if neg:
            phrase = clause[min(neg.start(), m.start()):m.end()]
            continue
        after = NEG_AFTER.search(clause[m.end():]) if noun else None
        if after:
            phrase = clause[m.start():m.end() + after.end()]
            continue
        return m, False, m.group(0)
    return last, last is not None, phrase


def _first(patterns: Sequence[str], clause: str) -> tuple[int, re.Match | None, bool, str]:
    """The first of `patterns` found in the clause: (its index, `_match`'s match, negated, phrase)."""
    for i, pattern in enumerate(patterns):
        m, negated, phrase = _match(pattern, clause)
        if m is not None:
            return i, m, negated, phrase
    return -1, None, False, ""


def _find(pattern: str, clause: str, noun: bool = False) -> tuple[bool, bool, str]:
    """(found, negated, phrase) for a rule in a clause; negated only when every occurrence is negated."""
    m, negated, phrase = _match(pattern, clause, noun)
    return m is not None, negated, phrase


def _said(clause: str, m: re.Match, before: re.Match | None = None, after: re.Match | None = None) -> str:
    """The words that triggered a rule, with what made it a wish or a risk: "等定金到账", "可能选别家", "丢单风险"
    (`after` matched on the text right after `m`)."""
    start = min(before.start(), m.start()) if before else m.start()
    return clause[start:m.end() + (after.end() if after else 0)]


# a deposit paid or a tender won: the money is real / the award binds, so the intent letter's four conditions no
# longer cap the deal (store.deals.Details.committed); the deal is still open — only the CRM closes it
COMMITTED = {"has_budget_range": True, "intent_force": "法律约束", "committed": True, "called_off": False,
             "sentiment": 1}


def _deposit(clause: str, when: date | None, when_text: str, today: date) -> Change | None:
    """"客户已付定金", "预付款30%到账了": money moved. A payment asked for, awaited or dated ahead ("下周付定金",
    "等定金到账", "定金到账后再签") is a plan; "定金还没到账" is a negation. The sum is echoed, never taken as the
    deal's amount (30 % or 5万 of it is not the deal)."""
    _i, m, negated, phrase = _first(DEPOSIT_PAID, clause)
    if m is None or negated:
        return Change("n_negated", {"text": phrase}, {}) if negated else None
    at = _verb_at(m)
    ahead = when is not None and when > today and 0 <= clause.find(when_text) < at
    wish = PAY_INTENT.search(clause[:at])
    after = PAY_AFTER.match(clause[m.end():])
    if (ahead or wish or after) and not PAY_DONE.search(m.group("v")):
        if ahead:
            return Change("n_planned", {"text": phrase, "when": when_text}, {})
        return Change("n_pending", {"text": _said(clause, m, wish, after)}, {})  # "等定金到账", "定金到账后"
    return Change("n_deposit", {"text": phrase}, dict(COMMITTED))


def _loss(clause: str, current: Any) -> Change | None:
    """"项目取消了", "选了别家", "没中标": the deal is off, says the rep. Never closed from a note (a note can be wrong):
    progress is marked stalled (a competitor's win also as a competitor move) and the reply says how to close it.
    "可能选别家" / "有丢单风险" is a risk (same marks, no closing advice); "差点丢单", "项目没取消" are not losses; "二期不
    做了" is a smaller deal and "之前用了别家" the customer's history — neither is read here."""
    i, m, negated, phrase = _first([pattern for pattern, _rival in LOSS], clause)
    if m is None or re.search(PARTIAL, clause) or LOOKING_BACK.search(clause[:m.start()]):
        return None
    at = _verb_at(m)
    near = NEAR_MISS.search(clause[:at])
    if negated or near:
        return Change("n_negated", {"text": clause[near.start():m.end()] if near else phrase}, {})
    fields: dict[str, Any] = {"sentiment": -1}
    if LOSS[i][1]:  # lost to a competitor
        fields.update(competitor_move=True, competitors=max(1, current.competitors))
    hedge, risk = HEDGE_BEFORE.search(clause[:at]), HEDGE_AFTER.match(clause[m.end():])
    if hedge or risk:  # echoed with the words that make it a risk: "可能选别家", "丢单风险"
        return Change("n_loss_risk", {"text": _said(clause, m, hedge, risk)}, fields)
    # the rep says it is off: capped low (model.CALLED_OFF_CAP) until the CRM closes it or a note says it is back
    return Change("n_lost", {"text": phrase}, {**fields, "called_off": True, "committed": False})


def _revived(clause: str) -> Change | None:
    """"项目恢复了", "客户又回来谈了": on again — lifts the low cap an earlier "项目取消了" put on the deal."""
    _i, m, negated, phrase = _first(REVIVED, clause)
    if m is None:
        return None
    if negated or HEDGE_BEFORE.search(clause[:_verb_at(m)]):  # "没恢复", "可能会恢复"
        return Change("n_hedged" if not negated else "n_negated", {"text": phrase}, {})
    return Change("n_revived", {"text": phrase}, {"called_off": False, "sentiment": 1})


def _tender_won(clause: str) -> Change | None:
    """"中标了", "收到中标通知书": like a verbal win — binding on both sides, not yet a signed (won) deal."""
    pending = re.search(TENDER_PENDING, clause)
    if pending:  # "第一中标候选人": ranked, not awarded
        return Change("n_hedged", {"text": pending.group(0)}, {})
    _i, m, negated, phrase = _first(TENDER_WON, clause)
    if m is None or negated:
        return Change("n_negated", {"text": phrase}, {}) if negated else None
    hedge = HEDGE_BEFORE.search(clause[:_verb_at(m)])
    if hedge:  # "如果中标了", "有可能中标了"
        return Change("n_hedged", {"text": _said(clause, m, hedge)}, {})
    if not OUR_WIN_BEFORE.search(clause[:m.start()]):  # "华为中标了": not ours to celebrate
        return Change("n_tender_who", {"text": clause[:m.end()]}, {})
    return Change("n_tender_won", {"text": phrase}, dict(COMMITTED))


def _deferred(clause: str, when_text: str) -> bool:
    """The time in the clause is when a decision was put off to: "<time>再说" or "推到<time>", not negated."""
    at = clause.find(when_text)
    after = re.match(rf"\s*(?:以后|之后|后)?\s*(?:{DEFER_AFTER})", clause[at + len(when_text):])
    before = re.search(rf"(?:{DEFER_TO})\s*$", clause[:at])
    if before and (NEG_BEFORE.search(clause[:before.start()]) or re.search(r"(?:不用|不必|无需|没必要)\s*$",
                                                                           clause[:before.start()])):
        return False  # "不用推到下个月": it was not put off
    return bool(after or before)




def _customer_worry(clause: str, classifier: Any = None) -> str:
    """The objection a clause reports the customer raised, read as the customer's own words would be (the objection ×
    strategy classifier — the bot's, with the company's packs, when given: its lexicon handles negation, "价格不是问题"
    is none); "" when it reports none."""
    if classifier is None:
        from handlers.conversation.classifier import Classifier

        classifier = Classifier.default()
    labels = classifier.classify(clause, "customer").labels
    return next((w for w in WORRIES if w in labels), "")


def parse(text: str, today: date, current: Any, *, use_snownlp: bool = True, classifier: Any = None) -> Parsed:
    """Parse a note against the deal's current details (`store.deals.Details`) into changes.

    Negations are honoured: "还没见过终审人" records that the approver has not been met, "项目推进不顺利" reads as
    受阻, and a negated fact with no clear meaning ("没有竞争对手动作") is echoed as read but changes nothing."""
    out = Parsed()
    clauses = [c.strip() for c in re.split(r"[，,。；;！!？?\n]+", text) if c.strip()]
    people = current.decision_people
    for clause in clauses:
        understood = False
        when, when_text = parse_when(clause, today)
        if when and out.event_date is None:
            out.event_date, out.when_text = when, when_text
        role = next((r for p, r in ROLES if re.search(p, clause, flags=re.I)), "")
        budget = BUDGET_AMOUNT.search(clause)
        amount = _yuan(budget.group(1), budget.group(2)) if budget else None
        if amount is not None:
            out.changes.append(Change("n_budget_amount", {"amount": amount}, {"has_budget_range": True},
                                      amount=amount))
            understood = True
        if when is not None and when >= today and re.search(SIGNING, clause):
            negated = NEG_BEFORE.search(clause[:re.search(SIGNING, clause).start()])
            if not negated:
                out.changes.append(Change("n_sign_date", {"when": when_text, "date": when.isoformat()}, {},
                                          close=when))
                understood = True
        elif when is not None and when > today and _deferred(clause, when_text):
            out.changes.append(Change("n_deferred", {"when": when_text, "date": when.isoformat()}, {"sentiment": -1},
                                      close=when))
            understood = True
        elif when is not None and when >= today and (tender := re.search(TENDER, clause)):
            if NEG_BEFORE.search(clause[:tender.start()]):  # "下周不开标了"
                out.changes.append(Change("n_negated", {"text": clause[:tender.end()]}, {}))
            else:  # the bids are opened then: nothing closes before, the expected close moves only later
                out.changes.append(Change("n_tender_date", {"when": when_text, "date": when.isoformat(),
                                                            "word": tender.group(0)}, {}, close=when))
            understood = True
        elif when is not None and when >= today and re.search(MEETING, clause):
            off, off_negated, _word = _find(MEETING_OFF, clause)
            if off and not off_negated:  # "取消了周三的会议": no meeting agreed, and no deal cancelled either
                out.changes.append(Change("n_meeting_off", {"text": clause}, {}))
            else:
                out.changes.append(Change("n_meeting", {"when": when_text, "date": when.isoformat()},
                                          {"has_next_meeting": True}))
            understood = True
        asked = QUESTION.search(clause)  # "项目取消了吗": no news either way
        lost = None if asked else _loss(clause, current)
        signals = [] if asked else [lost or _tender_won(clause), _deposit(clause, when, when_text, today),
                                    None if lost else _revived(clause)]
        for change in signals:
            if change is not None:
                out.changes.append(change)
                understood = True
        for pattern, action in ACTIONS:
            if lost is not None and lost.key != "n_negated":
                break  # "签了别家", "被竞品拿下了": the loss says it all, no seal, no separate competitor move
            found, negated, phrase = _find(pattern, clause, noun=action in NOUN_ACTIONS)
            if not found or (action in ("available", "met", "left", "unavailable") and not role):
                continue
            if action == "budget" and amount is not None:
                continue  # "预算确定150万" is the amount above, said once
            understood = True
            if negated and action == "met":
                fields: dict[str, Any] = {"approver_met": False} if role in APPROVERS else {}
                out.changes.append(Change("n_not_met", {"role": role}, fields))
            elif (negated and action == "available") or action == "unavailable":
                out.changes.append(Change("n_unavailable", {"role": role, "when": when_text}, {}))
            elif negated:
                out.changes.append(Change("n_negated", {"text": phrase}, {}))
            elif action in PLANNABLE and when is not None and when > today:
                out.changes.append(Change("n_planned", {"text": phrase, "when": when_text}, {}))
            elif action == "available":
                people += 1
                fields = {"decision_people": people}
                if role in APPROVERS and current.approver_met is not True:
                    fields["rank_change"] = 1
                # the decision-maker is back on `when`: nothing is signed before, so the close moves if it is earlier
                close = when + timedelta(days=RETURN_MARGIN_DAYS) if when is not None and role in APPROVERS else None
                out.changes.append(Change("n_available", {"role": role, "when": when_text}, fields, close=close))
            elif action == "met":
                people += 1
                fields = {"decision_people": people}
                if role in APPROVERS:
                    fields["approver_met"] = True
                out.changes.append(Change("n_met", {"role": role}, fields))
            elif action == "left":
                out.changes.append(Change("n_left", {"role": role}, {"rank_change": -1}))
            elif action == "sealed":
                out.changes.append(Change("n_sealed", {}, {"has_seal": True}))
            elif action == "budget":
                out.changes.append(Change("n_budget", {}, {"has_budget_range": True}))
            elif action == "competitor":
                out.changes.append(Change("n_competitor", {}, {"competitor_move": True,
                                                               "competitors": max(1, current.competitors)}))
            elif action == "tech_pass":
                out.changes.append(Change("n_tech_pass", {}, {"tech_validation": 1.0}))
            elif action == "tech_fail":
                out.changes.append(Change("n_tech_fail", {}, {"tech_validation": 0.0}))
            elif action == "legal_pass":
                out.changes.append(Change("n_legal_pass", {}, {"legal_review": "passed"}))
            elif action == "legal_fail":
                out.changes.append(Change("n_legal_fail", {}, {"legal_review": "failed"}))
            elif action == "dispute":
                out.changes.append(Change("n_dispute", {}, {"disputed_clauses": current.disputed_clauses + 1}))
        bad, bad_negated, bad_word = _find(BAD, clause)
        good, good_negated, good_word = _find(GOOD, clause)
        if bad and not bad_negated:
            out.changes.append(Change("n_bad", {"word": bad_word}, {"sentiment": -1}))
            understood = True
        elif good and good_negated:  # "不顺利", "不太满意"
            out.changes.append(Change("n_bad", {"word": good_word}, {"sentiment": -1}))
            understood = True
        elif good:
            out.changes.append(Change("n_good", {"word": good_word}, {"sentiment": 1}))
            understood = True
        elif bad:  # "没有推迟": read, but no direction to take from it
            out.changes.append(Change("n_negated", {"text": bad_word}, {}))
            understood = True
        if not understood:
            worry = _customer_worry(clause, classifier)
            if worry:  # "客户要再比较一下", "报价太高要降10%": what the customer objects to, read by the classifier
                fields = {"sentiment": -1}
                if worry == "competitor":
                    fields.update(competitor_move=True, competitors=max(1, current.competitors))
                out.changes.append(Change("n_objection", {"label": worry}, fields))
                understood = True
        if not understood:
            out.not_understood.append(clause)
            if use_snownlp and len(clause) >= 4:
                tone = _tone(clause)
                if tone:
                    out.tone[clause] = tone
    return out
