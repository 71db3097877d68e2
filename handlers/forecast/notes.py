"""Free-text deal notes → concrete changes: "客户CFO下周回国" → the final approver can be met next week.

Rules first (time expressions, roles, what happens), so every change can be echoed with what triggered it.
Clauses that match no rule are reported back as not understood — never guessed. snownlp only breaks ties on
direction: a clause with no rule that snownlp reads as strongly positive/negative is still reported as not
understood, with its tone noted; it changes nothing. snownlp loads its models at import (~3.5 s), so it is
imported lazily, once per process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

ROLES = (  # (pattern, role key); the first that matches names the person of the clause
    (r"CFO|财务总监|财务VP|财务负责人", "cfo"),
    (r"终审人|终审|老板|总经理|董事长|CEO|一把手|大老板", "approver"),
    (r"采购(?:经理|部|负责人)?", "procurement"),
    (r"法务", "legal"),
    (r"CTO|技术负责人|IT负责人|信息中心", "tech"),
)
APPROVERS = {"cfo", "approver"}

ACTIONS = (  # (pattern, action key)
    (r"回国|回来|出差回|有空|可以见|能见|约到|约好|答应见", "available"),
    (r"见了|见过|见面了|见到了|拜访了|会面了|已见|当面聊了|(?<=[没未])见(?:面|到)?", "met"),
    (r"见不到|见不了|没空|没时间|回不来", "unavailable"),
    (r"离职|调岗|换人|被调走", "left"),
    (r"盖章|公章|签字|签了", "sealed"),
    (r"预算(?:已经|已|也)?(?:批了|批下来|确定|明确|到位|下来了|批复了|审批通过|通过了|申请下来)", "budget"),
    (r"竞品|竞争对手|友商", "competitor"),
    (r"(?:POC|测试|验证|试点)(?:通过|成功|完成)", "tech_pass"),
    (r"(?:POC|测试|验证|试点)(?:失败|没通过|未通过)", "tech_fail"),
    (r"法务(?:审核)?(?:通过|没问题)", "legal_pass"),
    (r"法务(?:审核)?(?:驳回|不通过|没通过|未通过|有意见)", "legal_fail"),
    (r"条款(?:有)?(?:争议|分歧|异议)", "dispute"),
)
GOOD = r"好转|顺利|积极|认可|满意|很感兴趣|松口|推进了"
# a negation right before a phrase ("还没见过终审人", "CFO不能见", "不太满意") turns it around; a few helper words
# may sit between the negation and the phrase
NEG_BEFORE = re.compile(r"(?:没有?|未|不|别|无|并非)(?:太|很|怎么|能|会|再|曾|大|够|是|一定)?$")
NEG_AFTER = re.compile(r"^(?:没有?|未|不|无)")  # "竞争对手没什么动作": for nouns the negation follows
BAD = r"受阻|卡住|推迟|延期|暂停|冻结|搁置|不满意|犹豫|砍预算|预算削减"
# Ordinary sales sentences that carry a number or a date the forecast uses directly (issue 13, defect 10):
# "预算从100万降到80万" / "预算确认150万" → the amount; "下周三签合同" → the expected close; "下周二开会" → a next
# meeting is agreed (one of the four conditions of a valid intent letter).
_MONEY = r"(\d+(?:\.\d+)?)\s*(万|w|W|元|块)?"
BUDGET_AMOUNT = re.compile(
    r"预算[^，,。；;\d]{0,6}?(?:从\s*\d+(?:\.\d+)?\s*(?:万|w|W|元)?\s*)?"
    r"(?:降到|降至|降为|减到|减至|砍到|调到|调整为|调整到|改为|改成|变成|变为|增加到|增至|提高到|提到|涨到|加到|"
    r"确认|确认为|确定|确定为|批了|批下来|定了|定为|是|为|有|给到|)\s*" + _MONEY)
SIGNING = r"签合同|签约|签单|签协议|正式签|(?:[日号周月底末]|[一二三四五六日天])(?:就|能|可以|会|再)?签(?![字收到])"
MEETING = r"开会|见面|碰面|碰头|拜访|面谈|会议|沟通会|评审会|汇报|演示|讲方案|约了"
# "下个月再说", "国庆后再定", "推到月底": the customer put the decision off until then — nothing closes before it
DEFER_AFTER = r"再说|再定|再谈|再议|再决定|再考虑|再看看|再研究|再聊"
DEFER_TO = r"(?:推迟|延期|延迟|推|延|拖|改|往后推|往后延)(?:到|至)"
RETURN_MARGIN_DAYS = 7  # a decision-maker back on day D signs at the earliest about a week later


def _yuan(number: str, unit: str | None) -> float | None:
    value = float(number)
    if unit in ("万", "w", "W"):
        value *= 10_000
    elif unit is None and value < 10_000:
        value *= 10_000  # "预算确认150" in a sales note means 150万, never 150元
    return value if value > 0 else None


_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}


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


def parse_when(text: str, today: date) -> tuple[date | None, str]:
    """The first Chinese time expression in `text` as a date, plus the words that said it."""
    rules: list[tuple[str, Any]] = [
        (r"今天|今日", lambda m: today),
        (r"明天", lambda m: today + timedelta(days=1)),
        (r"大后天", lambda m: today + timedelta(days=3)),
        (r"后天", lambda m: today + timedelta(days=2)),
        (r"下(?:周|星期|礼拜)([一二三四五六日天])", lambda m: today + timedelta(days=7 - today.weekday() + _WEEKDAY[m.group(1)])),
        (r"下(?:周|星期|礼拜)", lambda m: today + timedelta(days=7 - today.weekday())),
        (r"(?:本周|这周|这个星期)([一二三四五六日天])?",
         lambda m: today + timedelta(days=max(0, _WEEKDAY[m.group(1)] - today.weekday())) if m.group(1) else today),
        (r"(\d+)\s*天(?:后|之后|以后|内)", lambda m: today + timedelta(days=int(m.group(1)))),
        (r"(\d+)\s*(?:周|个星期)(?:后|之后|以后)", lambda m: today + timedelta(weeks=int(m.group(1)))),
        # a month alone ("招标延期到6月", "六月底签"): its first day, its middle or its last day
        (rf"(?<![\d{_NUM}个])(\d{{1,2}}|[{_NUM}]+)\s*月(?:份)?(初|中|底|末)?(?![\d{_NUM}])",
         lambda m: _month_day(today, _cn_int(m.group(1)), m.group(2) or "")),
        (rf"(\d+|[{_NUM}]+)\s*个月(?:后|之后|以后)", lambda m: today + timedelta(days=30 * _cn_int(m.group(1)))),
        (r"(?:本月|这个月)?月底|月末", lambda m: _month_end(today)),
        (r"下(?:个)?月(?:初)?", lambda m: _month_end(today) + timedelta(days=1)),
        (r"国庆(?:节)?(?:后|之后|以后|回来)", lambda m: _next(date(today.year, 10, 8), today)),
        (r"元旦(?:后|之后|以后)", lambda m: _next(date(today.year, 1, 2), today)),
        (r"春节(?:后|之后|以后)|年后", lambda m: _spring_after(today)),
        (r"年底|年末", lambda m: date(today.year, 12, 31)),
        (r"季度末|季末", lambda m: _quarter_end(today)),
        (r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]", lambda m: _next(date(today.year, int(m.group(1)), int(m.group(2))), today)),
        # spoken forms (voice debriefs): Chinese numerals, a bare weekday, "节后", "月中", "3号"
        (rf"([{_NUM}]+)\s*月\s*([{_NUM}]+)\s*[日号]",
         lambda m: _next(date(today.year, _cn_int(m.group(1)), _cn_int(m.group(2))), today)),
        (r"(?<![上下本这个])(?:周|星期|礼拜)([一二三四五六日天])",
         lambda m: today + timedelta(days=(_WEEKDAY[m.group(1)] - today.weekday()) % 7)),
        (r"(?:过完)?(?:节|假期|放假)(?:后|之后|以后|回来|过后)|过完节|收假", lambda m: _after_next_holiday(today)),
        (r"(?:本月|这个月)?月中", lambda m: _next_day_of_month(today, 15)),
        (rf"(?<![月\d{_NUM}])(\d{{1,2}}|[{_NUM}]+)\s*号", lambda m: _next_day_of_month(today, _cn_int(m.group(1)))),
    ]
    for pattern, fn in rules:
        m = re.search(pattern, text)
        if m:
            try:
                return fn(m), m.group(0)
            except ValueError:
                return None, ""
    return None, ""


_NUM = "0-9零〇一二两三四五六七八九十"
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _cn_int(text: str) -> int:
    """"12", "十二", "二十一", "三十" → int (what speech recognisers write for dates)."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_DIGITS.get(tens, 1) if tens else 1) * 10 + (_DIGITS.get(ones, 0) if ones else 0)
    value = 0
    for ch in text:
        value = value * 10 + _DIGITS.get(ch, 0)
    return value


def _next_day_of_month(today: date, day: int) -> date:
    """Day `day` of this month, or of next month when it has passed ("3号" said on the 20th)."""
    if day >= today.day:
        return date(today.year, today.month, day)
    first = _month_end(today) + timedelta(days=1)
    return date(first.year, first.month, day)


def _after_next_holiday(today: date) -> date:
    """"节后": the first working day after the next (or current) official holiday, by chinese_calendar."""
    try:
        import chinese_calendar

        d, seen = today, False
        for _ in range(200):
            holiday, name = chinese_calendar.get_holiday_detail(d)
            if holiday and name:
                seen = True
            elif seen and not holiday:
                return d
            d += timedelta(days=1)
    except (ImportError, NotImplementedError):
        pass
    return today + timedelta(days=14)


def _month_day(today: date, month: int, part: str) -> date:
    """The named month's first day ("6月", "6月初"), 15th ("月中") or last day ("月底"), this year or next."""
    year = today.year if month >= today.month else today.year + 1
    first = date(year, month, 1)
    return _month_end(first) if part in ("底", "末") else first.replace(day=15) if part == "中" else first


def _month_end(d: date) -> date:
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _quarter_end(d: date) -> date:
    q_last = ((d.month - 1) // 3) * 3 + 3
    return _month_end(date(d.year, q_last, 1))


def _next(d: date, today: date) -> date:
    return d if d >= today else date(d.year + 1, d.month, d.day)


def _spring_after(today: date) -> date:
    """The first working day after the Spring Festival holiday (chinese_calendar knows the official dates)."""
    try:
        import chinese_calendar

        for year in (today.year, today.year + 1):
            d = date(year, 1, 15)
            seen_holiday = False
            for _ in range(60):
                holiday, name = chinese_calendar.get_holiday_detail(d)
                if holiday and name == chinese_calendar.Holiday.spring_festival.value:
                    seen_holiday = True
                elif seen_holiday and not holiday:
                    if d >= today:
                        return d
                    break
                d += timedelta(days=1)
    except (ImportError, NotImplementedError):
        pass
    return _next(date(today.year, 2, 20), today)


_SNOW: Any = None


def _tone(clause: str) -> str:
    """snownlp's reading of a clause no rule understood (informational only)."""
    global _SNOW
    if _SNOW is None:
        from snownlp import SnowNLP

        _SNOW = SnowNLP
    s = _SNOW(clause).sentiments
    return "positive" if s >= 0.9 else "negative" if s <= 0.1 else ""


def _find(pattern: str, clause: str, noun: bool = False) -> tuple[bool, bool, str]:
    """(found, negated, phrase) for a rule in a clause; negated only when every occurrence is negated, and then
    the phrase includes the negation ("还没见过" → "没见过")."""
    found, phrase = False, ""
    for m in re.finditer(pattern, clause, flags=re.I):
        found = True
        neg = NEG_BEFORE.search(clause[:m.start()])
        if neg:
            phrase = clause[neg.start():m.end()]
            continue
        after = NEG_AFTER.search(clause[m.end():]) if noun else None
        if after:
            phrase = clause[m.start():m.end() + after.end()]
            continue
        return True, False, m.group(0)
    return found, found, phrase


NOUN_ACTIONS = {"competitor"}  # "竞争对手没动作": the negation comes after the noun
PLANNABLE = {"sealed", "budget"}  # "下周盖章" is a plan, not a fact: echoed, nothing changed yet


def _deferred(clause: str, when_text: str) -> bool:
    """The time in the clause is when a decision was put off to: "<time>再说" or "推到<time>", not negated."""
    at = clause.find(when_text)
    after = re.match(rf"\s*(?:以后|之后|后)?\s*(?:{DEFER_AFTER})", clause[at + len(when_text):])
    before = re.search(rf"(?:{DEFER_TO})\s*$", clause[:at])
    if before and (NEG_BEFORE.search(clause[:before.start()]) or re.search(r"(?:不用|不必|无需|没必要)\s*$",
                                                                           clause[:before.start()])):
        return False  # "不用推到下个月": it was not put off
    return bool(after or before)


# customer labels a note can report (the classifier's objections), most telling first; price_inquiry is no worry
WORRIES = ("hesitation", "competitor", "price_objection", "delivery_concern", "after_sales", "quality_trust")


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
        elif when is not None and when >= today and re.search(MEETING, clause):
            out.changes.append(Change("n_meeting", {"when": when_text, "date": when.isoformat()},
                                      {"has_next_meeting": True}))
            understood = True
        for pattern, action in ACTIONS:
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
