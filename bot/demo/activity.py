"""90 days of what happens around the demo company's leads, as the platforms would deliver it.

Chats are WeCom message-archive records (会话存档 JSON, normalised by adapters.wecom.archive_format exactly as the
live archive puller does); calls are telephony CDRs → CallRecord; meetings come from the calendar; document opens
from tracked links. Besides those platform payloads the timeline holds CRM changes (a lead is created, changes
stage, is won or lost) that the replay applies to the store at their time, as a CRM sync would.

The story is deliberate: most leads are touched every few hours to two days, some go quiet for days in the middle
of their life or at the end, lost leads usually go cold first, inbound calls are sometimes missed (and returned
quickly, late, or never), and one lead's only recent activity is a rep sending "附件:XX型号参数.pdf" as a chat line
— the seed's fault case, which must not be counted as silence.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from adapters.wecom.archive_format import record_to_event
from bot.demo import names, phrases
from bot.demo.catalogue import for_industry
from bot.demo.company import DAY, HOUR, Company, DemoCustomer, DemoLead, DemoPerson
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
class MissedCall:
    call_event_id: str
    lead_id: str
    customer_id: str
    rep_id: str
    at: int
    returned_after_min: int | None  # None: never returned


@dataclass
class Activity:
    items: list[Feed | LeadOp] = field(default_factory=list)
    missed_calls: list[MissedCall] = field(default_factory=list)

    def feeds(self) -> list[Feed]:
        return [i for i in self.items if isinstance(i, Feed)]


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
        self.all_customers = company.customers
        self.hard_end: int | None = None  # nothing of a lead happens after it was won or lost

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
        case = rng.choice(self.all_customers)
        return {"c": cust.address, "me": me.name, "co": phrases.OUR_COMPANY, "s": cust.short,
                "p": lead.product.code, "pn": lead.product.name, "p2": rng.choice(others).code if others else "",
                "ver": self.version(lead, bump=False), "case": case.short, "pct": rng.choice((12, 18, 23, 31, 37, 42)),
                "wk": rng.choice((3, 4, 6, 8)), "n": rng.choice((3, 5, 8, 10, 20, 50, 100)),
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
            strategy = rng.choice(tuple(phrases.REP_RESPONSE))
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
        t2 = self.say(t, rep.id, cust, rep, phrases.REP_MEETING, ctx)
        self.say(t2, cust.external_id, cust, rep, phrases.CUS_MEETING_OK, ctx)
        local_day = (t + LOCAL_OFFSET) // DAY * DAY - LOCAL_OFFSET
        starts = local_day + DAY + rng.choice((10, 14, 15)) * HOUR + rng.choice((0, 30)) * MINUTE
        if starts >= until:  # no room before the next touch: meet the same afternoon instead
            starts = t2 + 2 * HOUR
            if starts >= until:
                return
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

    def doc_link(self, t: int, until: int, lead: DemoLead, cust: DemoCustomer, rep: DemoPerson,
                 ctx: dict[str, Any], opens: int | None = None) -> None:
        rng = self.rng
        code = names.token(rng, 8)
        doc = rng.choice(phrases.DOC_TITLES).format(**ctx)
        self.say(t, rep.id, cust, rep, (f"{ctx['c']}，方案发您了：https://sp.example.cn/l/{code} （{doc}）",), ctx)
        if opens is None:
            opens = rng.randint(4, 7) if rng.random() < 0.3 else rng.randint(0, 3)
        span = max(min(until, t + 4 * DAY) - t - 20 * MINUTE, MINUTE)
        times = sorted(t + 20 * MINUTE + rng.randrange(span) for _ in range(opens))
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
            history = max(lead.created_at, start - int(rng.uniform(2, 40) * HOUR))
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
        while t < stop:
            times.append(t)
            # diligent reps come back within 40 h, the slowest within 56 h (+ overnight): never 72 h by accident
            gap = rng.uniform(4, 30) if sc == "active" else rng.uniform(8, 56 - 20 * (rep.diligence - 0.6))
            if gap_pending and t >= mid:
                gap, gap_pending = rng.uniform(4, 9) * 24, False
            nxt = work_time(rng, t + int(gap * HOUR))
            t = nxt if nxt - t < 70 * HOUR or gap > 72 else t + int(gap * HOUR)
        if sc == "fault":
            times.append(now - 96 * HOUR)
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
            self.touch(kind, t, until, lead, cust, rep)
        if sc == "fault":  # the seed's fault case: the sheet goes out as a chat line, nothing else follows
            self.record(now - 52 * HOUR, rep.id, [cust.external_id], "text", {"content": phrases.LATE_TEXT[0]})
        elif sc == "missed_call":
            self.call_in(now - 28 * HOUR, now, lead, cust, rep, self.ctx(lead, cust, rep), force_never=True)
        elif sc == "active":
            self.doc_link(now - 26 * HOUR, now - HOUR, lead, cust, rep, self.ctx(lead, cust, rep), opens=5)
        if lead.closed_at is not None and lead.closed_at > start:
            ctx = self.ctx(lead, cust, rep)
            t = lead.closed_at - rng.randint(40, 150) * MINUTE
            t = self.say(t, cust.external_id, cust, rep, phrases.CUS_WON if lead.status == "won" else phrases.CUS_LOST,
                         ctx)
            self.say(min(t, lead.closed_at - MINUTE), rep.id, cust, rep, phrases.REP_THANKS, ctx)

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
    window = [i for i in gen.act.items if isinstance(i, LeadOp) or company.start <= i.at <= company.now]
    window.sort(key=lambda i: (i.at, i.seq))
    gen.act.items = window
    gen.act.missed_calls = [m for m in gen.act.missed_calls if company.start <= m.at <= company.now]
    return gen.act
