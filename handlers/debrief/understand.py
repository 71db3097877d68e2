"""What a debrief said: a transcript (or typed text) → the three answers, their labels, the next step's action,
date and person, and what could not be understood.

Why it is built this way:
- Spoken transcripts are messy: fillers (嗯、那个、就是), stutters ("他他", "我们我们"), no punctuation, and
  homophones from the recogniser ("单心" for 担心, "下一部" for 下一步). `clean` removes fillers and stutters;
  the cue lists carry the homophones a Mandarin recogniser commonly writes.
- Splitting uses cues first ("担心…", "我给他看了…", "他答应…"), because a rep rarely says "第一、第二"; each
  boundary is moved back over its subject ("客户主要是担心" starts at 客户). Without cues it falls back to
  numbered items or lines, then to clause content (a clause with a date or a promise is the next step), then to
  the order the questions were asked in.
- Labels come from the conversation classifier (objections for the worry, strategies for the evidence), never
  from a second keyword list here. The date comes from handlers/forecast/notes.parse_when, the one Chinese date
  parser of the bot.
- Nothing is guessed: a part that is missing, a worry the classifier finds no objection in, a next step without a
  date — each is listed in `not_understood`, so the echo can say so and the rep can correct it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from handlers.forecast.notes import ROLES, parse_when

QUESTIONS = ("worry", "evidence", "next_step")

_FILLERS = re.compile(r"嗯+|呃+|额+|唔+|啊+(?=[，,。\s]|$)|哦+(?=[，,。\s]|$)|那个(?=那个|[，,\s])|那个|这个这个|就是说|就是|然后呢|然后|反正|怎么说呢|对吧")
_STUTTER = re.compile(r"([\u4e00-\u9fff]{2,4})\1+|([他她我你这那])\2+")
_SPACES = re.compile(r"[ \t\u3000]+")
_HAN = "0-9\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"  # Chinese characters, their punctuation, digits
_SPACE_IN_HAN = re.compile(rf"(?<=[{_HAN}]) +(?=[{_HAN}])")

# Cues that open an answer, with the homophones speech recognisers write for them.
_CUES: dict[str, str] = {
    "worry": r"(?:最|主要|比较|还是|有点|很)?(?:担心|耽心|单心|胆心|担忧|顾虑|疑虑|怕的是|在意|在乎|关心的是|纠结|犹豫)"
             r"|(?:问题|难点|卡点|顾虑点|痛点)(?:是|在于|主要是)|嫌",
    "evidence": r"证据|正据|政据|证具|我用了|我用的|用的是|我拿了|拿了|我给他们?(?:看|讲|说|介绍|算|演示)|给他们?(?:看|讲|算)了|我举了|举了个|我就讲|我讲了"
                r"|我回应|回应他|回应说|我跟他们?说|我说|我就说|我解释|我介绍了|我发了|发了个|我们有",
    "next_step": r"下一步|下一部|下一布|夏一步|接下来|答应|答允|约好|约了|说好|定了|同意|后续|他会|他们会|准备|计划",
}
_CUE_RES = {q: re.compile(p) for q, p in _CUES.items()}
# The words just before a cue that belong to the same answer: "客户主要是担心", "他答应", "老板说下一步"
_SUBJECT_BEFORE = re.compile(r"(?:客户|对方|他们|他|她|老板|[\u4e00-\u9fff][总工])?(?:那边|这边)?"
                             r"(?:主要|最|还是|比较|就|也|说|觉得|是|的话|呢)*$")
_NUMBERED = re.compile(r"第[一二三1-3](?:点|个|条)?[，,、：:]?|(?:^|[\s，,。；;])(?:[一二三]是|[1-3][.、)）:：]|首先|其次|最后|再一个)")
_CLAUSES = re.compile(r"[，,。；;！!？?\n]+")
_PROMISE = re.compile(r"答应|约|会|安排|同意|说好|定了|来|去|发|给|签|付|看")
_MEETING = re.compile(r"会|见面|见一面|见个面|面谈|见一下|拜访|碰|演示|来公司|来我们|(?<![发寄传送])过来|上门|开会|评审|交流|参观|看现场|现场|考察|约")
_CUE_STRIP = re.compile(r"^(?:下一步|下一部|下一布|夏一步|接下来|后续)(?:的话|是|呢|就是|他们?)?"
                        r"|^(?:客户|对方|他们|他|她)?(?:答应|答允|约好|说好|同意|定了|准备|计划|会)(?:了|我们|我)?")
_PRONOUN = re.compile(r"^(?:客户|对方|他们|他|她)?(?:说|讲|表示)?(?:会|就)?")
# A named person: surname + title ("李总", "王经理", "刘工"), or "对接人是张明".
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
             "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
_NAMED = re.compile(rf"[{_SURNAMES}](?:总监|总|经理|工|主任|处长|科长|部长|老师|局|董|姐|哥|主管|厂长|院长|校长)")
_CONTACT = re.compile(rf"(?:对接人|联系人|负责人|窗口)(?:是|为|定了|定为)?([{_SURNAMES}][\u4e00-\u9fff]{{1,2}}?)"
                      r"(?=[，,。\s]|来|会|负责|跟|和|发|给|把|去|带|先|说|$)")


class Classifier(Protocol):
    def classify(self, text: str, role: str, *, explain: bool = False) -> Any: ...


@dataclass
class Part:
    text: str = ""
    labels: tuple[str, ...] = ()


@dataclass
class NextStep:
    text: str = ""
    action: str = ""
    date: date | None = None
    date_text: str = ""
    person: str = ""
    named: bool = False  # a person named by name (李总, 对接人张明), not only a role (采购)
    meeting: bool = False  # the next step is a meeting / visit / demo


@dataclass
class Understanding:
    worry: Part = field(default_factory=Part)
    evidence: Part = field(default_factory=Part)
    next_step: NextStep = field(default_factory=NextStep)
    not_understood: list[str] = field(default_factory=list)
    leftover: list[str] = field(default_factory=list)  # words that belonged to no answer

    def to_json(self) -> dict[str, Any]:
        n = self.next_step
        return {"worry": {"text": self.worry.text, "labels": list(self.worry.labels)},
                "evidence": {"text": self.evidence.text, "labels": list(self.evidence.labels)},
                "next_step": {"action": n.action, "date": n.date.isoformat() if n.date else None,
                              "person": n.person},
                "not_understood": [*self.not_understood, *self.leftover]}


# ---------------------------------------------------------------- cleaning and splitting


def clean(text: str) -> str:
    """Fillers and stutters out, spaces collapsed; punctuation kept (it helps splitting when there is any)."""
    text = _SPACES.sub(" ", text.replace("\r", "\n")).strip()
    text = unspaced(text)
    text = _FILLERS.sub("", text)
    for _ in range(2):
        text = _STUTTER.sub(lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"([，,。；;])[，,。；;\s]+", r"\1", text)
    return text.strip(" ，,。；;")


def unspaced(text: str) -> str:
    """A transcript written as word tokens ("客户 担心 价格 太 高", as some recogniser set-ups and some typists
    give it) joined back: a space there is no boundary, and left in it hides cues ("价格 太 高") and answers. A
    text whose spaces separate whole clauses ("客户担心价格太高 我用了华鑫的案例") keeps them."""
    pieces = text.split()
    if len(pieces) < 5 or sum(len(p) <= 3 for p in pieces) < 0.6 * len(pieces):
        return text
    return _SPACE_IN_HAN.sub("", text)


def _tidy(text: str) -> str:
    return text.strip(" ，,。；;：:、\n")


def _cue_starts(text: str) -> dict[str, int]:
    """The first cue of each answer in `text`, each boundary moved back over its subject words."""
    found: dict[str, int] = {}
    for q in QUESTIONS:
        m = _CUE_RES[q].search(text)
        if m:
            before = _SUBJECT_BEFORE.search(text[:m.start()][-8:])
            found[q] = m.start() - (len(before.group(0)) if before else 0)
    # a later answer's cue inside an earlier one ("担心…我们有案例" is fine) — keep the order the rep spoke in
    return dict(sorted(found.items(), key=lambda kv: kv[1]))


def split(text: str, wanted: tuple[str, ...] = QUESTIONS) -> tuple[dict[str, str], list[str]]:
    """One transcript or text → {question: answer text} for the questions in `wanted`, plus leftover words.

    A text with no recognisable structure goes to the first wanted question (a separate note answers one
    question; the caller passes the questions still open, in order)."""
    text = clean(text)
    if not text:
        return {}, []
    starts = {q: at for q, at in _cue_starts(text).items() if q in wanted}
    # a second cue of the same kind inside another answer must not split it: only the first of each is kept
    parts = _items(text)
    if len(parts) >= 2 and len(parts) >= len(starts):  # "第一…第二…第三…" or one answer per line
        return _by_position(parts, wanted)
    if len(starts) >= 2 or (len(starts) == 1 and len(wanted) > 1):
        return _split_at(text, starts, wanted)
    if starts:
        return _split_at(text, starts, wanted)
    return {wanted[0]: _tidy(text)}, []


def _split_at(text: str, starts: dict[str, int], wanted: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    order = list(starts.items())
    out: dict[str, str] = {}
    for i, (q, at) in enumerate(order):
        end = order[i + 1][1] if i + 1 < len(order) else len(text)
        piece = _tidy(text[at:end])
        if piece:
            out[q] = piece
    head = _tidy(text[:order[0][1]])
    leftover: list[str] = []
    if head:
        # words before the first cue: the answers without a cue, in order, when the head has that many clauses
        missing = [q for q in wanted if q not in out and wanted.index(q) < wanted.index(order[0][0])]
        clauses = [c for c in (_tidy(c) for c in _CLAUSES.split(head)) if c]
        if missing and clauses:
            if len(clauses) >= len(missing):
                for q, c in zip(missing, clauses[:len(missing) - 1], strict=False):
                    out[q] = c
                out[missing[-1]] = "，".join(clauses[len(missing) - 1:])
            else:
                out[missing[0]] = "，".join(clauses)
        elif len(head) >= 4:
            leftover.append(head)
    return out, leftover


def _items(text: str) -> list[str]:
    """Numbered items ("第一…第二…", "1. … 2. …") or one answer per line."""
    marks = [m.end() for m in _NUMBERED.finditer(text)]
    if len(marks) >= 2:
        starts = [m.start() for m in _NUMBERED.finditer(text)]
        pieces = [text[starts[i]:starts[i + 1] if i + 1 < len(starts) else len(text)] for i in range(len(starts))]
        pieces = [_NUMBERED.sub("", p, count=1) for p in pieces]
        return [p for p in (_tidy(p) for p in pieces) if p]
    lines = [ln for ln in (_tidy(x) for x in text.split("\n")) if ln]
    return lines if len(lines) >= 2 else []


def _by_position(parts: list[str], wanted: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    out: dict[str, str] = {}
    for q, p in zip(wanted, parts, strict=False):
        out[q] = p
    extra = parts[len(wanted):]
    if extra and wanted:
        out[wanted[-1]] = "，".join([out[wanted[-1]], *extra])
    return out, []


# ---------------------------------------------------------------- understanding


def labels_of(classifier: Classifier | None, text: str, role: str) -> tuple[str, ...]:
    if classifier is None or not text:
        return ()
    return tuple(classifier.classify(text, role).labels)


def next_step(text: str, today: date) -> NextStep:
    """The action, date and person of a next-step answer ("他答应下周三带采购来看演示")."""
    out = NextStep(text=text)
    if not text:
        return out
    out.date, out.date_text = parse_when(text, today)
    contact = _CONTACT.search(text)
    named = _NAMED.search(text)
    if contact:
        out.person, out.named = contact.group(1), True
    elif named:
        out.person, out.named = named.group(0), True
    else:
        role = next((m.group(0) for p, _r in ROLES if (m := re.search(p, text, flags=re.I))), "")
        out.person = role
    action = text
    for _ in range(3):
        action = _tidy(_CUE_STRIP.sub("", action))
    action = _tidy(_PRONOUN.sub("", _tidy(action)))
    if out.date_text:
        action = re.sub(re.escape(out.date_text) + r"(?:前|之前|以前|左右|的时候)?", "", action, count=1)
    action = _tidy(_PRONOUN.sub("", _tidy(action)))
    action = re.sub(r"^(?:就|会|要|之前|前)", "", action)
    out.action = _tidy(action) if len(_tidy(action)) >= 2 else ""
    out.meeting = bool(out.action and _MEETING.search(out.action))
    return out


def understand(answers: dict[str, str], today: date, classifier: Classifier | None,
               leftover: list[str] | tuple[str, ...] = ()) -> Understanding:
    """The three answers (already split) → labels, next step, and the list of what was not understood."""
    u = Understanding(leftover=list(leftover))
    worry, evidence, nxt = (answers.get(q, "") for q in QUESTIONS)
    u.worry = Part(worry, labels_of(classifier, worry, "customer"))
    u.evidence = Part(evidence, labels_of(classifier, evidence, "rep"))
    u.next_step = next_step(nxt, today)
    for q, part_text, labels in (("worry", worry, u.worry.labels), ("evidence", evidence, u.evidence.labels)):
        if not part_text:
            u.not_understood.append(q)
        elif not labels:
            u.not_understood.append(f"{q}.labels")
    if not nxt:
        u.not_understood.append("next_step")
    else:
        if not u.next_step.action:
            u.not_understood.append("next_step.action")
        if u.next_step.date is None:
            u.not_understood.append("next_step.date")
    return u


def parse(text: str, today: date, classifier: Classifier | None) -> Understanding:
    """One whole transcript (or text) covering all three questions: split, then understand."""
    answers, leftover = split(text)
    return understand(answers, today, classifier, leftover)
