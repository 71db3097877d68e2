"""90 days of what happens around the demo company's leads, as the platforms would deliver it.

Chats are WeCom message-archive records (会话存档 JSON, normalised by adapters.wecom.archive_format exactly as the
live archive puller does); calls are telephony CDRs → CallRecord; meetings come from the calendar; document opens
from tracked links. Besides those platform payloads the timeline holds CRM changes (a lead is created, changes
stage, is won or lost) that the replay applies to the store at their time, as a CRM sync would.

The story is deliberate: most leads are touched every few hours to two days, some go quiet for days in the middle
of their life or at the end, lost leads usually go cold first, inbound calls are sometimes missed (and returned
quickly, late, or never), and one lead's only recent activity is a rep sending "附件:XX型号参数.pdf" as a chat line
(XX: the model the customer asked about) — the seed's fault case, which must not be counted as silence.

Days off are real: weekends and the State Council's public holidays (春节 falls inside the default window) have
fewer touches, no meetings or quotes, and short lines instead (拜年 once per 春节); meetings land on working days.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import chinese_calendar

from adapters.wecom.archive_format import record_to_event
from bot.demo import names, phrases
from bot.demo.catalogue import for_industry
from bot.demo.company import DAY, HOUR, SHANGHAI, Company, DemoCustomer, DemoLead, DemoPerson
from bot.errors import UnsupportedEvent
from bot.events import Actor, CalendarEvent, CallRecord, DocumentOpen, Event

MINUTE = 60_000
LOCAL_OFFSET = 8 * HOUR  # Asia/Shanghai has no DST


@dataclass(frozen=True, slots=True)
class Feed:
    """One platform delivery: what the adapter would pass to AdapterContext.accept."""

    at: int
    seq: int
    platform: str
    external_id: str
    payload: dict[str, Any]
    event: Event | None
    unsupported: str | None = None


@dataclass(frozen=True, slots=True)
class LeadOp:
    """A CRM change applied straight to store.leads at its time (create | stage | close)."""

    at: int
    seq: int
    op: str
    lead_id: str
    stage: str = ""
    touched_at: int = 0  # for leads older than the window: their last activity before it, as the CRM knows it


@dataclass(frozen=True, slots=True)
class LinkOp:
    """A tracked link the rep made with `/链接` before sending it: written to store.links at its time, so `/打开记录`
    and the DocumentOpen events that follow refer to the same link."""

    at: int
    seq: int
    code: str
    lead_id: str
    customer_id: str
    document: str
    created_by: str


@dataclass(frozen=True, slots=True)
class MissedCall:
    call_event_id: str
    lead_id: str
    customer_id: str
    rep_id: str
    at: int
    returned_after_min: int | None  # None: never returned


@dataclass
class Activity:
    items: list[Feed | LeadOp | LinkOp] = field(default_factory=list)
    missed_calls: list[MissedCall] = field(default_factory=list)

    def feeds(self) -> list[Feed]:
        return [i for i in self.items if isinstance(i, Feed)]


LINK_BASE = "https://bot.example.cn/d/"  # public_base_url + [links] path_prefix of an example installation
_FESTIVALS = {"Spring Festival": "春节"}  # other public holidays are just "假期" in chat


MAX_GAP_H = 110.0  # the longest planned gap between a rep's two touches of a lead (the customer bridges it)


def local_date(t: int) -> date:
    return datetime.fromtimestamp(t / 1000, SHANGHAI).date()


@lru_cache(maxsize=4096)
def day_kind(day: date) -> str:
    """"" on a working day (make-up Saturdays included), else "春节" / "假期" / "周末" — what people say that day.

    The State Council's schedule comes from `chinese-calendar` (the same package the silence rules use); years it
    does not know fall back to Monday–Friday."""
    try:
        if chinese_calendar.is_workday(day):
            return ""
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return "" if day.weekday() < 5 else "周末"
    if not on_holiday or name is None:
        return "周末"
    return _FESTIVALS.get(str(name), "假期")


def is_workday(t: int) -> bool:
    return day_kind(local_date(t)) == ""


def awake(t: int) -> int:
    """A time between 01:00 and 07:00 Shanghai moves 7 hours later (nobody opens a proposal at 04:00)."""
    hour = ((t + LOCAL_OFFSET) % DAY) / HOUR
    return t + 7 * HOUR if 1 <= hour < 7 else t


def say_when(now: int, at: int) -> str:
    """How a rep names a meeting time in chat: 今天下午3点 / 明天上午10点半 / 后天… / 下周一… / 周四…"""
    today, day = local_date(now), local_date(at)
    local = datetime.fromtimestamp(at / 1000, SHANGHAI)
    days = (day - today).days
    if days == 0:
        label = "今天"
    elif days == 1:
        label = "明天"
    elif days == 2:
        label = "后天"
    else:
        same_week = day - timedelta(days=day.weekday()) == today - timedelta(days=today.weekday())
        label = ("" if same_week else "下") + "周" + "一二三四五六日"[day.weekday()]
    hour = local.hour if local.hour <= 12 else local.hour - 12
    return f"{label}{'上午' if local.hour < 12 else '下午'}{hour}点{'半' if local.minute else ''}"


def evening_before(t: int, rng: random.Random) -> int:
    """A time outside 08:45–21:00 moves back to the evening before (17:00–20:50): the customer's "定了" that
    precedes a CRM close at 03:00 was said the evening before, not at 01:30."""
    hour = ((t + LOCAL_OFFSET) % DAY) / HOUR
    if 8.75 <= hour <= 21:
        return t
    back = hour + 24 - 17 if hour < 8.75 else hour - 17
    return t - int(back * HOUR) + rng.randrange(0, 230) * MINUTE


def work_time(rng: random.Random, t: int) -> int:
    """Push a time into the working day (08:45–21:00 Shanghai), as chat and calls mostly are."""
    local = t + LOCAL_OFFSET
    hour = (local % DAY) / HOUR
    if hour < 8.75:
        return t + int((9 - hour) * HOUR) + rng.randrange(50) * MINUTE
    if hour > 21:
        return t + int((24 - hour + 9) * HOUR) + rng.randrange(50) * MINUTE
    return t


class _Gen:
    def __init__(self, company: Company, rng: random.Random) -> None:
        self.c = company
        self.rng = rng
        self.act = Activity()
        self.seq = 0
        self.colleagues = company.with_role("colleague")
        self.quote_ver: dict[str, float] = {}
        self.first_contact: set[str] = set()
        self.greeted: set[str] = set()  # leads whose contact already got this 春节's greeting
        self.offday_said: dict[str, set[str]] = {}  # lead → weekend/holiday lines already sent (never twice)
        self.docs_sent: dict[str, set[str]] = {}  # lead → documents already sent as tracked links
        self.all_customers = company.customers
        self.peers: dict[str, list[DemoCustomer]] = {}
        for cust in company.customers:
            self.peers.setdefault(cust.industry, []).append(cust)
        self.hard_end: int | None = None  # nothing of a lead happens after it was won or lost
        self.spans: dict[str, list[tuple[int, int]]] = {}  # rep → (created, closed or now) of each of their leads
        for ld in company.leads:
            self.spans.setdefault(ld.owner_id, []).append((ld.created_at, ld.closed_at or company.now))

    # ------------------------------------------------------------------ emitting
    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def op(self, at: int, op: str, lead: DemoLead, stage: str = "", touched_at: int = 0) -> None:
        self.act.items.append(LeadOp(at, self._next(), op, lead.id, stage, touched_at))

    def feed(self, at: int, platform: str, external_id: str, payload: dict[str, Any], event: Event | None,
             unsupported: str | None = None) -> None:
        if self.hard_end is not None and at > self.hard_end:
            return
        self.act.items.append(Feed(at, self._next(), platform, external_id, payload, event, unsupported))

    def record(self, at: int, sender: str, to: list[str], msgtype: str, body: dict[str, Any], room: str = "",
               action: str = "send") -> str:
        msgid = f"{self.rng.getrandbits(62)}_{at}_external"
        rec: dict[str, Any] = {"msgid": msgid, "action": action, "from": sender, "tolist": to, "roomid": room,
                               "msgtime": at, "msgtype": msgtype, msgtype: body}
        try:
            event: Event | None = record_to_event(rec, received_at=at)
            reason = None
        except UnsupportedEvent as exc:
            event, reason = None, str(exc)
        self.feed(at, "wecom", "wecom-archive:" + msgid, rec, event, reason)
        return msgid

    # ------------------------------------------------------------------ chat helpers
    def ctx(self, lead: DemoLead, cust: DemoCustomer, me: DemoPerson) -> dict[str, Any]:
        rng = self.rng
        others = [p for p in for_industry(cust.industry) if p.code != lead.product.code]
        peers = self.peers.get(cust.industry) or self.all_customers
        case = rng.choice(peers)
        if case.id == cust.id:  # a reference customer is never the customer itself
            case = peers[(peers.index(case) + 1) % len(peers)]
        pct, n = rng.choice((12, 18, 23, 31, 37, 42)), rng.choice((3, 5, 8, 10, 20, 50))
        ind = cust.industry
        pilot = rng.choice(phrases.PILOT[ind]).format(n=n, stores=rng.choice((30, 45, 60, 80, 120, 200)),
                                                      city=cust.city, seats=rng.choice((20, 40, 60, 120)))
        return {"scope": phrases.SCOPE[ind], "pilot": pilot, "gain": phrases.GAIN[ind].format(pct=pct),
                "metric": phrases.METRIC[ind].format(acc=rng.choice((92, 95, 96, 98))),
                "late": rng.choice((0.5, 1, 2)), "when": "",
                "c": cust.address, "me": me.name, "co": phrases.OUR_COMPANY, "s": cust.short,
                "p": lead.product.code, "pn": lead.product.name, "p2": rng.choice(others).code if others else "",
                "ver": self.version(lead, bump=False), "case": case.short, "pct": pct,
                "wk": rng.choice((3, 4, 6, 8)), "n": n,
                "amt": round(lead.amount / 10_000 * rng.uniform(0.8, 1.2), 1), "day": rng.choice(phrases.WEEKDAYS),
                "rival": rng.choice(phrases.RIVALS), "disc": rng.choice((9.5, 9.2, 9, 8.8))}

    def version(self, lead: DemoLead, bump: bool) -> str:
        v = self.quote_ver.get(lead.id)
        if v is None:
            v = self.quote_ver[lead.id] = self.rng.choice((1.0, 2.0, 2.1, 2.2))
        if bump:
            v = self.quote_ver[lead.id] = round(v + 0.1, 1)
        return f"{v:.1f}"

    def say(self, at: int, who: str, cust: DemoCustomer, rep: DemoPerson, lines: tuple[str, ...], ctx: dict[str, Any],
            room: bool = False) -> int:
        text = self.rng.choice(lines).format(**ctx)
        if room and cust.room_id:
            members = [rep.id, cust.external_id, *(p.id for p in self.colleagues[:1])]
            self.record(at, who, [m for m in members if m != who], "text", {"content": text}, room=cust.room_id)
        else:
            other = cust.external_id if who != cust.external_id else rep.id
            self.record(at, who, [other], "text", {"content": text})
        return at + self.rng.randint(1, 25) * MINUTE

    def file(self, at: int, sender: str, to: str, filename: str) -> int:
        ext = filename.rsplit(".", 1)[-1]
        self.record(at, sender, [to], "file", {"md5sum": names.token(self.rng, 32), "filename": filename,
                                                "fileext": ext, "filesize": self.rng.randint(80_000, 4_000_000),
                                                "sdkfileid": names.token(self.rng, 40)})
        return at + self.rng.randint(1, 5) * MINUTE

    def call(self, at: int, rep: DemoPerson, cust: DemoCustomer, direction: str, answered: bool, duration: int) -> str:
        call_id = "cdr-" + names.token(self.rng, 16)
        payload = {"call_id": call_id, "direction": direction, "agent_phone": rep.phone, "customer_phone": cust.phone,
                   "start_ms": at, "duration_s": duration, "answered": answered}
        ev = CallRecord(event_id=f"telephony:{call_id}", platform="telephony", occurred_at=at, received_at=at,
                        actor=Actor(platform_id=rep.phone), direction=direction, customer_phone=cust.phone,
                        answered=answered, duration_s=duration)
        self.feed(at, "telephony", call_id, payload, ev)
        return ev.event_id

    # ------------------------------------------------------------------ touches
    def touch(self, kind: str, t: int, until: int, lead: DemoLead, cust: DemoCustomer, rep: DemoPerson) -> None:
        rng, ctx = self.rng, self.ctx(lead, cust, rep)
        me, cu = rep.id, cust.external_id
        if kind == "greet":
            if cust.id not in self.first_contact:
                self.first_contact.add(cust.id)
                if rng.random() < 0.6:  # the contact's consent to archiving: a record type we keep as unsupported
                    self.record(t - 2 * MINUTE, cu, [me], "agree", {"userid": cu, "agree_time": t - 2 * MINUTE})
            t = self.say(t, me, cust, rep, phrases.REP_GREET, ctx)
            if t < until:
                self.say(t, cu, cust, rep, phrases.CUS_GREET, ctx)
        elif kind == "discover":
            t = self.say(t, me, cust, rep, phrases.REP_DISCOVER, ctx)
            self.say(t, cu, cust, rep, phrases.CUS_DISCOVER, ctx)
        elif kind == "price":
            t = self.say(t, cu, cust, rep, phrases.CUS_PRICE, ctx)
            if rng.random() < 0.5:
                self.record(t, me, [cu], "voice", {"md5sum": names.token(rng, 32), "voice_size": 9000,
                                                   "play_length": rng.randint(8, 55), "sdkfileid": names.token(rng, 40)})
            else:
                self.say(t, me, cust, rep, (f"{ctx['c']}，{ctx['p']}标准配置大概{ctx['amt']}万，量大可以再谈",), ctx)
        elif kind == "quote":
            ctx["ver"] = self.version(lead, bump=True)
            t = self.file(t, me, cu, f"报价单v{ctx['ver']}.pdf")
            t = self.say(t, me, cust, rep, phrases.REP_QUOTE_TEXT, ctx)
            if rng.random() < 0.7:
                self.say(t + rng.randint(10, 90) * MINUTE, cu, cust, rep, phrases.CUS_ACK, ctx)
        elif kind == "material":
            if rng.random() < 0.6:
                t = self.file(t, me, cu, f"{lead.product.code}型号参数.pdf")
            t = self.say(t, me, cust, rep, phrases.REP_MATERIAL_TEXT, ctx)
            if rng.random() < 0.5:
                self.say(t + rng.randint(5, 120) * MINUTE, cu, cust, rep, phrases.CUS_ACK, ctx)
        elif kind == "objection":
            kind_ = rng.choice(tuple(phrases.CUS_OBJECTION))
            self.say(t, cu, cust, rep, phrases.CUS_OBJECTION[kind_], ctx)
            # half of the reps answer within 30 s (the golden-snippet material), the others minutes later
            t += rng.randint(8, 28) * 1000 if rng.random() < 0.5 else rng.randint(2, 40) * MINUTE
            strategy = rng.choice(phrases.ANSWERS[kind_])  # an answer that fits the objection
            t = self.say(t, me, cust, rep, phrases.REP_RESPONSE[strategy], ctx)
            if rng.random() < 0.6:
                self.say(t, cu, cust, rep, phrases.CUS_ACK + phrases.CUS_PROGRESS[:3], ctx)
        elif kind == "progress":
            t = self.say(t, me, cust, rep, phrases.REP_FOLLOW, ctx)
            self.say(t, cu, cust, rep, phrases.CUS_PROGRESS, ctx)
        elif kind == "follow":
            self.say(t, me, cust, rep, phrases.REP_FOLLOW, ctx)
        elif kind == "voice":
            sender = rng.choice((me, cu))
            self.record(t, sender, [cu if sender == me else me], "voice",
                        {"md5sum": names.token(rng, 32), "voice_size": rng.randint(3000, 40000),
                         "play_length": rng.randint(4, 58), "sdkfileid": names.token(rng, 40)})
        elif kind == "image":
            self.record(t, cu, [me], "image", {"md5sum": names.token(rng, 32), "filesize": rng.randint(90_000, 900_000),
                                               "sdkfileid": names.token(rng, 40)})
            self.say(t + rng.randint(2, 30) * MINUTE, me, cust, rep, ("收到，我让技术看下", "好的，现场情况清楚了"), ctx)
        elif kind == "recall":
            msgid = self.record(t, me, [cu], "text", {"content": rng.choice(phrases.REP_RECALL_WRONG).format(**ctx)})
            t2 = t + rng.randint(20, 110) * 1000
            self.record(t2, me, [cu], "revoke", {"pre_msgid": msgid}, action="recall")
            self.say(t2 + 30_000, me, cust, rep, phrases.REP_FOLLOW, ctx)
        elif kind == "tech" and cust.room_id and self.colleagues:
            eng = self.colleagues[0]
            t = self.say(t, cu, cust, rep, phrases.CUS_TECH, ctx, room=True)
            ctx2 = {**ctx, "me": eng.name}
            self.say(t, eng.id, cust, rep, phrases.COLLEAGUE_TECH, ctx2, room=True)
        elif kind == "meeting":
            self.meeting(t, until, lead, cust, rep, ctx)
        elif kind == "offday":  # a weekend or holiday: a short line (拜年 at 春节), sometimes answered
            which = day_kind(local_date(t)) or "周末"
            if which == "春节" and lead.id in self.greeted:  # one 拜年 per lead; later holiday days: 节后再聊
                which = "假期"
            self.greeted.add(lead.id)
            said = self.offday_said.setdefault(lead.id, set())
            fresh = tuple(line for line in phrases.REP_OFFDAY[which] if line not in said) or phrases.REP_OFFDAY[which]
            line = rng.choice(fresh)
            said.add(line)
            t = self.say(t, me, cust, rep, (line,), ctx)
            if t < until and rng.random() < 0.6:
                self.say(t + rng.randint(5, 90) * MINUTE, cu, cust, rep, phrases.CUS_OFFDAY[which], ctx)
        elif kind == "doc_link":
            self.doc_link(t, until, lead, cust, rep, ctx)
        elif kind == "call_out":
            first = lead.id not in self.quote_ver and rng.random() < 0.5
            answered = rng.random() < 0.8
            dur = (rng.randint(492, 1500) if first else rng.randint(45, 900)) if answered else 0
            self.call(t, rep, cust, "outbound", answered, dur)
        elif kind == "call_in":
            self.call_in(t, until, lead, cust, rep, ctx)
        else:  # a touch kind that does not apply to this customer (no group chat): a plain follow-up
            self.say(t, me, cust, rep, phrases.REP_FOLLOW, ctx)

    def call_in(self, t: int, until: int, lead: DemoLead, cust: DemoCustomer, rep: DemoPerson, ctx: dict[str, Any],
                force_never: bool = False) -> None:
        rng = self.rng
        if not force_never and rng.random() < 0.82:
            self.call(t, rep, cust, "inbound", True, rng.randint(40, 700))
            return
        eid = self.call(t, rep, cust, "inbound", False, 0)
        r = rng.random()
        back = None if force_never else (rng.randint(4, 27) if r < 0.7 else rng.randint(45, 150) if r < 0.85 else None)
        if back is not None and t + back * MINUTE >= until:
            back = None
        if rng.random() < 0.5 or force_never:
            self.say(t + rng.randint(2, 8) * MINUTE, cust.external_id, cust, rep, phrases.CUS_ON_CALL_BACK, ctx)
        if back is not None:
            self.call(t + back * MINUTE, rep, cust, "outbound", True, rng.randint(60, 600))
        self.act.missed_calls.append(MissedCall(eid, lead.id, cust.id, rep.id, t, back))

    def meeting(self, t: int, until: int, lead: DemoLead, cust: DemoCustomer, rep: DemoPerson,
                ctx: dict[str, Any]) -> None:
        rng = self.rng
        starts = self.meeting_slot(t, until)
        if starts is None:  # no working day before the next touch: a plain follow-up instead
            self.say(t, rep.id, cust, rep, phrases.REP_FOLLOW, ctx)
            return
        ctx = {**ctx, "when": say_when(t, starts)}
        t2 = self.say(t, rep.id, cust, rep, phrases.REP_MEETING, ctx)
        self.say(t2, cust.external_id, cust, rep, phrases.CUS_MEETING_OK, ctx)
        ends = starts + rng.choice((60, 90, 120)) * MINUTE
        attendees = [rep.id, cust.external_id]
        if self.colleagues and rng.random() < 0.45:
            attendees.append(rng.choice(self.colleagues).id)
        mgr = self.c.manager_of(rep.id)
        if mgr and rng.random() < 0.15:
            attendees.append(mgr.id)
        uid = "evt-" + names.token(rng, 20)
        title = rng.choice(phrases.MEETING_TITLES).format(**ctx)
        payload = {"uid": uid, "organizer": rep.id, "title": title, "start_ms": starts, "end_ms": ends,
                   "attendees": attendees}
        ev = CalendarEvent(event_id=f"calendar:{uid}", platform="calendar", occurred_at=starts, received_at=starts,
                           actor=Actor(platform_id=rep.id), title=title, starts_at=starts, ends_at=ends,
                           attendees=tuple(attendees), customer_hint=cust.name)
        self.feed(starts, "calendar", uid, payload, ev)

    def meeting_slot(self, t: int, until: int) -> int | None:
        """10:00, 14:00 or 15:00 (or half past) on one of the next working days — never a Sunday or 初三 — before
        the lead's next touch; else this afternoon if today is a working day; else None."""
        rng = self.rng
        local_day = (t + LOCAL_OFFSET) // DAY * DAY - LOCAL_OFFSET
        hour = rng.choice((10, 14, 15)) * HOUR + rng.choice((0, 30)) * MINUTE
        day, starts = local_day + DAY, None
        for _ in range(rng.choice((1, 1, 2))):  # the next working day, or the one after
            while not is_workday(day + 12 * HOUR):
                day += DAY
            if day + hour < until:
                starts = day + hour
            day += DAY
        if starts is not None:
            return starts
        same_day = t + 2 * HOUR - (t + 2 * HOUR) % (30 * MINUTE)
        if is_workday(t) and same_day < until and ((same_day + LOCAL_OFFSET) % DAY) <= 17 * HOUR:
            return same_day
        return None

    def doc_link(self, t: int, until: int, lead: DemoLead, cust: DemoCustomer, rep: DemoPerson,
                 ctx: dict[str, Any], opens: int | None = None) -> None:
        rng = self.rng
        code = names.token(rng, 8)
        sent = self.docs_sent.setdefault(lead.id, set())
        docs = [d.format(**ctx) for d in phrases.DOC_TITLES]
        doc = rng.choice([d for d in docs if d not in sent] or docs)  # a new document while there is one
        sent.add(doc)
        self.act.items.append(LinkOp(t - rng.randint(1, 5) * MINUTE, self._next(), code, lead.id, cust.id, doc,
                                     rep.id))
        self.say(t, rep.id, cust, rep, (f"{ctx['c']}，{doc.removesuffix('.pdf')}发您了，点开就能看：{LINK_BASE}{code}",),
                 ctx)
        if opens is None:
            opens = rng.randint(4, 7) if rng.random() < 0.3 else rng.randint(0, 3)
        span = max(min(until, t + 4 * DAY) - t - 20 * MINUTE, MINUTE)
        # people open a link in the day or evening: a 01:00–07:00 draw moves to the morning
        times = sorted(awake(t + 20 * MINUTE + rng.randrange(span)) for _ in range(opens))
        device = hashlib.sha256(f"{self.c.seed}:{cust.id}:{rng.randint(1, 2)}".encode()).hexdigest()[:16]
        for n, at in enumerate(times, 1):
            ev = DocumentOpen(event_id=f"links:{code}:{n}", platform="links", occurred_at=at, received_at=at,
                              actor=Actor(platform_id=cust.external_id), link_code=code, document=doc,
                              lead_id=lead.id, opener_hash=device)
            self.feed(at, "links", f"{code}:{n}", {"code": code, "n": n, "at_ms": at, "opener": device}, ev)

    # ------------------------------------------------------------------ one lead's life
    def lead_life(self, lead: DemoLead) -> None:
        c, rng = self.c, self.rng
        start, now = c.start, c.now
        cust, rep = c.customer(lead.customer_id), c.person(lead.owner_id)
        end = lead.closed_at if lead.closed_at is not None else now
        self.hard_end = end
        history = 0
        if lead.created_at < start and (lead.closed_at is None or lead.closed_at > start):
            history = max(lead.created_at, evening_before(start - int(rng.uniform(2, 40) * HOUR), rng))
        self.op(max(lead.created_at, start), "create", lead, touched_at=history)
        for at, stage in lead.stage_changes():
            if start < at < end and at > lead.created_at:
                self.op(at, "stage", lead, stage)
        if lead.closed_at is not None and lead.closed_at > start:
            self.op(lead.closed_at, "close", lead)
        a0 = max(lead.created_at, start)
        if end <= a0 + 2 * HOUR:
            return
        stop = end
        sc = lead.scenario
        if sc == "quiet_end":
            stop = now - int(rng.uniform(3.6, 10) * DAY)
        elif sc == "quiet":
            stop = now - int(5.5 * DAY)
        elif sc == "fault":
            stop = now - 96 * HOUR
        elif sc == "missed_call":
            stop = now - 30 * HOUR
        elif sc == "active":
            stop = now - 2 * HOUR
        elif lead.status == "lost" and rng.random() < 0.35:
            stop = end - int(rng.uniform(4, 9) * DAY)
        times: list[int] = []
        t = work_time(rng, a0 + int(rng.uniform(1, 20) * HOUR if lead.created_at >= start else rng.uniform(0, 30) * HOUR))
        mid = a0 + int((stop - a0) * rng.uniform(0.3, 0.7))
        gap_pending = sc == "quiet_mid"
        quiet_from: int | None = None  # the touch after which a quiet_mid lead goes quiet for days
        while t < stop:
            times.append(t)
            # a rep's leads share their day (follow_up_gap); a long gap is bridged by the customer (_check_ins)
            gap = rng.uniform(4, 30) if sc == "active" else self.follow_up_gap(rep, t)
            if gap_pending and t >= mid:
                gap, gap_pending, quiet_from = rng.uniform(4, 9) * 24, False, t
            nxt = work_time(rng, t + int(gap * HOUR))
            t = nxt if nxt - t < 70 * HOUR or gap > 72 else t + int(gap * HOUR)
        if sc == "fault":
            times.append(now - 96 * HOUR)
        times = self.thin_days_off(times)
        tail = {"active": stop, "missed_call": now - 28 * HOUR}.get(sc, end if stop == end and sc == "normal" else None)
        self.check_ins(times, tail, quiet_from, lead, cust, rep)
        span = max(lead.planned_close_at - lead.created_at, DAY)
        for i, t in enumerate(times):
            until = times[i + 1] if i + 1 < len(times) else min(t + 2 * HOUR, end)
            if i == 0 and lead.created_at >= start:
                kind = "greet"
            elif sc == "fault" and i == len(times) - 1:
                ctx = self.ctx(lead, cust, rep)
                self.say(t, cust.external_id, cust, rep, ("{p}的详细参数有吗？发我一份",), ctx)
                continue
            else:
                kind = self.pick_kind((t - lead.created_at) / span, cust)
            if not is_workday(t) and kind not in self._DAY_OFF_OK.get(day_kind(local_date(t)), ()):
                kind = "offday"
            self.touch(kind, t, until, lead, cust, rep)
        if sc == "fault":  # the seed's fault case: the sheet goes out as a chat line, nothing else follows
            self.record(now - 52 * HOUR, rep.id, [cust.external_id], "text",
                        {"content": phrases.LATE_TEXT.format(p=lead.product.code)})
        elif sc == "missed_call":
            self.call_in(now - 28 * HOUR, now, lead, cust, rep, self.ctx(lead, cust, rep), force_never=True)
        elif sc == "active":
            self.doc_link(now - 26 * HOUR, now - HOUR, lead, cust, rep, self.ctx(lead, cust, rep), opens=5)
        if lead.closed_at is not None and lead.closed_at > start:
            ctx = self.ctx(lead, cust, rep)
            t = evening_before(lead.closed_at - rng.randint(40, 150) * MINUTE, rng)
            lines = (phrases.CUS_WON if is_workday(t) else phrases.CUS_WON_OFFDAY) if lead.status == "won" \
                else phrases.CUS_LOST
            t = self.say(t, cust.external_id, cust, rep, lines, ctx)
            self.say(min(t, lead.closed_at - MINUTE), rep.id, cust, rep, phrases.REP_THANKS, ctx)

    def follow_up_gap(self, rep: DemoPerson, t: int) -> float:
        """Hours until the rep's next touch of one lead: their open leads share the touches a rep of their diligence
        makes in a day (about 1 for the slowest, 3–4 for most, 7 for the top seller: the spec's industry mean is 4.7
        effective actions a day), at most MAX_GAP_H apart. A rep with few leads comes back sooner."""
        load = sum(1 for a, b in self.spans.get(rep.id, ()) if a <= t < b)
        per_day = 1.0 + 7.0 * max(0.0, (rep.diligence - 0.6) / 0.8) ** 2
        mean = min(MAX_GAP_H * 0.8, max(12.0, load * 24 / per_day))
        return min(MAX_GAP_H, self.rng.uniform(0.75, 1.25) * mean)

    def check_ins(self, times: list[int], tail: int | None, quiet_from: int | None, lead: DemoLead,
                  cust: DemoCustomer, rep: DemoPerson) -> None:
        """Between two of the rep's touches more than 60 h apart the customer writes (方案在内部过 …), so a lead a
        busy rep follows up every four days is not silent — customers talk too — while the rep's own follow-up gap
        stays what it is. The quiet leads' quiet stretches stay quiet."""
        points = times + ([tail] if tail is not None and times and tail > times[-1] else [])
        for a, b in zip(points, points[1:], strict=False):
            if a == quiet_from:
                continue
            prev = a
            while b - prev > 60 * HOUR:
                at = work_time(self.rng, prev + min(48 * HOUR, (b - prev) // 2))
                back = at
                while not is_workday(back) and back - DAY > prev + 4 * HOUR:  # customers write on working days
                    back -= DAY
                at = back if is_workday(back) else at
                if at >= b - HOUR:
                    break
                self.say(at, cust.external_id, cust, rep, phrases.CUS_CHECK_IN, self.ctx(lead, cust, rep))
                prev = at

    # what still happens on a day off: a customer's question on a Saturday, a voice note; no meetings, no quotes
    _DAY_OFF_OK = {"周末": ("follow", "voice", "price", "image", "call_in"), "假期": ("voice",), "春节": ()}

    def thin_days_off(self, times: list[int]) -> list[int]:
        """Most touches that fall on a weekend or public holiday do not happen — as long as the rep's next touch is
        within MAX_GAP_H of the last one (the first and last touch always stay); the customer's check-ins bridge
        the longer gaps (check_ins), so thinning never makes a silence."""
        kept = times[:1]
        for i in range(1, len(times)):
            last = i == len(times) - 1
            if not last and not is_workday(times[i]) and times[i + 1] - kept[-1] < MAX_GAP_H * HOUR \
                    and self.rng.random() < 0.75:
                continue
            kept.append(times[i])
        return kept

    _WEIGHTS = (
        {"discover": 3, "price": 2, "material": 2, "call_out": 2, "voice": 1, "follow": 1, "call_in": 0.5},
        {"price": 2, "material": 2, "quote": 2, "meeting": 1.5, "doc_link": 1, "call_out": 1.5, "voice": 1,
         "call_in": 0.7, "tech": 1, "image": 0.5},
        {"quote": 2, "objection": 3, "doc_link": 1.5, "meeting": 1, "call_out": 1.5, "call_in": 0.7, "recall": 0.7,
         "voice": 1, "tech": 1},
        {"objection": 2, "progress": 3, "follow": 2, "call_out": 1.5, "call_in": 0.7, "quote": 1, "recall": 0.5,
         "voice": 1},
    )

    def pick_kind(self, frac: float, cust: DemoCustomer) -> str:
        phase = 0 if frac < 0.2 else 1 if frac < 0.45 else 2 if frac < 0.7 else 3
        weights = self._WEIGHTS[phase]
        kinds = [k for k in weights if k != "tech" or cust.room_id]
        return self.rng.choices(kinds, weights=[weights[k] for k in kinds])[0]


def generate_activity(company: Company) -> Activity:
    """Every delivery and CRM change of the demo window, sorted by time (ties keep generation order)."""
    gen = _Gen(company, random.Random(f"salespulse-demo:{company.seed}:activity"))
    for lead in company.leads:
        gen.lead_life(lead)
    gen.hard_end = None
    # one member switched enterprise during the window: a session marker the archive also delivers (unsupported)
    rep = company.with_role("rep")[-1]
    at = company.start + 3 * DAY + 10 * HOUR
    msgid = f"{gen.rng.getrandbits(62)}_{at}_switch"
    rec = {"msgid": msgid, "action": "switch", "time": at, "user": rep.id}
    try:
        record_to_event(rec, at)
        raise AssertionError("switch records are not messages")
    except UnsupportedEvent as exc:
        gen.feed(at, "wecom", "wecom-archive:" + msgid, rec, None, str(exc))
    # a link made just before the window opened still exists in it: it is written at the window's start
    window = [replace(i, at=max(i.at, company.start)) if isinstance(i, LinkOp) else i for i in gen.act.items
              if isinstance(i, LeadOp) or i.at <= company.now and (isinstance(i, LinkOp) or company.start <= i.at)]
    window.sort(key=lambda i: (i.at, i.seq))
    gen.act.items = window
    gen.act.missed_calls = [m for m in gen.act.missed_calls if company.start <= m.at <= company.now]
    return gen.act
