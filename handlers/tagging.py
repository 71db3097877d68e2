"""The tagging observer: every message, call, meeting and document open becomes a stored fact, tied to its
customer and open lead, tagged by the rule packs, and counted as activity on the lead.

Why an observer: tagging is bookkeeping, not an answer; every event passes through it whatever else answers.
Why it is built for speed: it runs inside the dispatcher's transaction for every event (the ingest benchmark
needs ≥15,000 events/s end to end), so per event it does one automaton pass, at most three inserts (event, tags,
remembered values) and one lead touch; customer lookups are cached (handlers/association.py) and history
queries run only when a window rule's cheap conditions already held.

What counts as activity (store.leads.touch): any event from a person (rep, customer, colleague, …) that is tied
to a lead — generous on purpose: the seed's lesson is that a lead with activity in any source must never look
silent. Commands and the bot's own messages are not activity.

Commands (admins): /unmatched lists sources not tied to a customer; /bind ties one, and its past events count;
/rules shows what is loaded. Rule packs hot-reload (rules/reload.py); a broken edit keeps the last good rules
and the admins are told which line is wrong, once per broken version.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import re
from pathlib import Path

from bot.clock import from_ms
from bot.context import Context, Services
from bot.events import CalendarEvent, CallRecord, Command, DocumentOpen, Event, Message, MessageKind, Role, Tick
from bot.replies import Reply
from bot.router import Router
from handlers.association import Association, Associator, key_kind, normalise_key, normalise_phone
from rules import EventView, RuleSet, pack_files
from rules.loader import parse_catalog_entries
from store import customers as customer_store
from store import events as events_store
from store import kv
from store import leads as lead_store
from store import tagging as tag_store

log = logging.getLogger("salespulse.tagging")
router = Router("tagging")

EXTRA = "tagging"
KEY_KINDS = ("external_id", "phone", "email", "chat", "platform_user")
_CHAT_PREFIXES = ("wr", "oc_", "cid", "chat")
_NO_TOUCH_ROLES = frozenset({Role.BOT})
MAX_ERRORS_SHOWN = 8
LAST_GOOD_KEY = "rules.last_good"  # kv: [[file name, text], …] of the packs that last loaded without errors
RETAG_MAX_EVENTS = 50_000  # /bind re-evaluates at most this many of the lead's events, oldest first
_encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(…, ensure_ascii=False) without a new encoder


class Tagger:
    """The per-process tagging service (in services.extras["tagging"])."""

    def __init__(self, services: Services) -> None:
        cfg = services.config.rules
        source = services.config.source
        base = Path(source).parent if source and not source.startswith("<") else None
        self.files = lambda: pack_files(cfg.packs_dirs, cfg.extra_files, cfg.use_default_pack, base)
        catalogs = {"products": parse_catalog_entries(list(cfg.products))}
        self.rules = RuleSet(self.files, catalogs, check_interval_ms=int(cfg.reload_check_s * 1000),
                             text_max_chars=cfg.text_max_chars, regex_max_chars=cfg.regex_max_chars)
        self.associator = Associator(services.store, services.directory, cfg.external_check_s)
        services.store.on_rollback(self.associator.forget)  # e.g. a /bind that failed after remember()
        self.history = tag_store.SqlHistory(services.store)
        self.directory = services.directory
        self._pending_notice: tuple[str, str, list] | None = None  # (kind, digest, errors)
        self.store = services.store
        first = self.rules.load()
        if not first.errors:
            self._keep_good()
        elif self._use_last_good():
            log.error("rule packs have errors; using the last good rules saved in the database:\n%s",
                      _error_lines(first.errors, services.prompts.t))
            self._pending_notice = ("broken", first.signature, first.errors)
        else:
            log.error("rule packs have errors and no good version was saved; falling back to the built-in default "
                      "pack:\n%s", _error_lines(first.errors, services.prompts.t))
            self._pending_notice = ("broken_builtin", first.signature, first.errors)
            fallback = RuleSet(lambda: pack_files((), (), True), catalogs,
                               text_max_chars=cfg.text_max_chars, regex_max_chars=cfg.regex_max_chars)
            fallback.load()
            self.rules.engine = fallback.engine
        self.rules.maybe_reload(services.clock.now_ms())  # starts the check interval

    def _keep_good(self) -> None:
        """Save the texts of the packs that just loaded, so a later start with broken files keeps using them."""
        kv.put(self.store, LAST_GOOD_KEY, json.dumps(self.rules.good_texts, ensure_ascii=False))

    def _use_last_good(self) -> bool:
        saved = kv.get(self.store, LAST_GOOD_KEY)
        if not saved:
            return False
        try:
            texts = [(str(name), str(text)) for name, text in json.loads(saved)]
        except (ValueError, TypeError):
            return False
        return self.rules.load_texts(texts)

    # ------------------------------------------------------------------ hot reload
    def check_reload(self, ctx: Context, now: int) -> None:
        result = self.rules.maybe_reload(now)
        if result is not None:
            if result.errors:
                log.error("rule packs not reloaded:\n%s", _error_lines(result.errors, ctx.t))
                self._pending_notice = ("broken", result.signature, result.errors)
            elif result.changed:  # the first load happens in __init__, so this is an edit
                log.info("rule packs reloaded: %d rules", len(self.rules.engine.rules))
                self._keep_good()
                self._pending_notice = ("reloaded", result.signature, [])
        if self._pending_notice is not None:
            self._notify_admins(ctx)

    def _notify_admins(self, ctx: Context) -> None:
        kind, digest, errors = self._pending_notice or ("", "", [])
        self._pending_notice = None
        n_rules = len(self.rules.engine.rules)
        if kind in ("broken", "broken_builtin"):
            lines = [_error_line(e, ctx.t) for e in errors[:MAX_ERRORS_SHOWN]]
            if len(errors) > MAX_ERRORS_SHOWN:
                lines.append(ctx.t("tagging.rules_broken_more", n=len(errors) - MAX_ERRORS_SHOWN))
            text = ctx.t(f"tagging.rules_{kind}", rules=n_rules, errors="\n".join(lines))
        else:
            text = ctx.t("tagging.rules_reloaded", rules=n_rules, files=len(self.files()))
        for person in self.directory.people.values():
            if person.is_admin:
                ctx.notify(person.id, Reply.plain(text), f"rules:{kind}:{digest}")

    # ------------------------------------------------------------------ one event
    def handle(self, event: Event, ctx: Context) -> None:
        now = ctx.clock.now_ms()
        self.check_reload(ctx, now)
        actor = event.actor
        role = actor.role
        if isinstance(event, Message):
            assoc = self.associator.for_message(event)
            if assoc.actor_is_customer:
                event = event.with_actor(dataclasses.replace(actor, role=Role.CUSTOMER, customer_id=assoc.customer_id))
                actor, role = event.actor, Role.CUSTOMER
            view, kind, text, data = self._message(event, assoc)
        elif isinstance(event, CallRecord):
            assoc = self.associator.for_call(event)
            view, kind, text, data = self._call(event, assoc)
        elif isinstance(event, CalendarEvent):
            assoc = self.associator.for_calendar(event)
            view, kind, text, data = self._calendar(event, assoc)
        elif isinstance(event, DocumentOpen):
            assoc = self.associator.for_document(event)
            view, kind, text, data = self._document(event, assoc)
            if role == Role.UNKNOWN:
                role = Role.CUSTOMER
        else:
            return
        lead_id = assoc.lead_id
        store = ctx.store
        # Rules first: history windows must see the lead's past without this event (a repeat count would count
        # this open twice otherwise).
        hits, values = self.rules.engine.evaluate(view, self.history) if view is not None else ((), ())
        rowid = tag_store.insert_event(store, (
            event.event_id, event.type_name, event.platform, event.occurred_at, actor.platform_id, actor.person_id,
            role.value, assoc.customer_id, lead_id, kind, text, event.conversation_id,
            _encode(data) if data else "{}", assoc.match_key))
        if rowid is None or view is None:  # already stored (replay) or not something rules look at
            return
        at = event.occurred_at
        if hits:
            events_store.insert_tags(store, [(rowid, h.tag, h.category, h.weight, h.rule_id, lead_id, at) for h in hits])
        if values:
            tag_store.insert_values(store, [(rowid, k, v, lead_id, at) for k, v in values])
        if lead_id is not None and role not in _NO_TOUCH_ROLES:
            if event.__class__ is Message:  # chat: one UPDATE per lead per batch (see store.leads.touch_later)
                lead_store.touch_later(store, lead_id, at)
            else:
                lead_store.touch(store, lead_id, at)

    # ------------------------------------------------------------------ late binding
    def retag_lead(self, store, lead_id: str, since_ms: int) -> dict[str, int]:
        """Evaluate the rules again over the lead's stored events from `since_ms` on, oldest first, and add the tags
        they now earn; returns tag → how many were added.

        Why: events stored before /bind tied them to a lead were evaluated without a lead, so window rules
        (3日内二次联系, 同一客户3次不同产品询价, 打开超3次 …) could not look at any history; and the lead's own later
        events were evaluated without the newly bound ones. Each event sees the history without itself (as when it
        was first stored) and with every tag added before it in this pass. Tags of window rules on those events are
        first taken away and earned again, because the new history can also take one away: a lead has one first
        call (首次通话…), and 3日内二次联系 is recorded once per three days. Tags of plain rules are only added;
        calendar events are left as they are (their view needs the attendees' association, not kept per event).
        """
        before = tag_store.tag_counts_of(store, lead_id)
        engine = self.rules.engine
        rows = [(row, view) for row in tag_store.lead_events_since(store, lead_id, since_ms, RETAG_MAX_EVENTS)
                if (view := self._stored_view(row, lead_id)) is not None]
        tag_store.drop_rule_results(store, [row.rowid for row, _view in rows], [r.id for r in engine.rules if r.windows])
        for row, view in rows:
            hits, values = engine.evaluate(view, tag_store.SqlHistory(store, exclude_rowid=row.rowid))
            at = row.occurred_at
            if hits:
                events_store.insert_tags(store, [(row.rowid, h.tag, h.category, h.weight, h.rule_id, lead_id, at)
                                                 for h in hits])
            if values:
                tag_store.insert_values(store, [(row.rowid, k, v, lead_id, at) for k, v in values])
        after = tag_store.tag_counts_of(store, lead_id)
        return {tag: n - before.get(tag, 0) for tag, n in after.items() if n > before.get(tag, 0)}

    def _stored_view(self, row: tag_store.StoredEvent, lead_id: str) -> EventView | None:
        """The rule view of a stored event, rebuilt from its columns the way _message/_call/_document built it."""
        if row.role == Role.BOT.value:
            return None
        data = json.loads(row.data or "{}")
        department = self._department(row.person_id)
        if row.type == "message":
            file_name = data.get("file", "")
            searchable = f"{row.text}\n{file_name}" if file_name and row.text != file_name else row.text
            is_group = bool(data.get("group")) or row.conversation_id.startswith(_CHAT_PREFIXES)
            return message_view(row.role, row.kind, row.text, searchable, file_name, True, is_group,
                                data.get("duration_ms", 0), department, lead_id, row.occurred_at)
        if row.type == "call":
            return call_view(row.role, data.get("duration_s", 0), data.get("answered", False),
                             data.get("direction", row.kind), True, department, lead_id, row.occurred_at)
        if row.type == "document_open":
            return document_view(row.text, True, lead_id, row.occurred_at)
        return None

    def _department(self, person_id: str) -> str:
        if not person_id:
            return ""
        p = self.directory.people.get(person_id)
        return p.department if p else ""

    def _message(self, ev: Message, assoc: Association):
        text = ev.text or ev.transcript or ev.file_name
        data: dict = {}
        if ev.file_name:
            data["file"] = ev.file_name
        if ev.duration_ms:
            data["duration_ms"] = ev.duration_ms
        if ev.recalled_id:
            data["recalled_id"] = ev.recalled_id
        if ev.actor.role == Role.CUSTOMER and ev.actor.name:
            data["name"] = ev.actor.name
        if ev.is_group:
            data["group"] = 1
        if ev.to_bot or ev.actor.role == Role.BOT:
            return None, ev.kind.value, text, data
        searchable = ev.searchable_text if (ev.transcript or (ev.file_name and ev.text)) else text
        view = message_view(ev.actor.role.value, ev.kind.value, text, searchable, ev.file_name, assoc.with_customer,
                            ev.is_group, ev.duration_ms, self._department(ev.actor.person_id), assoc.lead_id,
                            ev.occurred_at)
        return view, ev.kind.value, text, data

    def _call(self, ev: CallRecord, assoc: Association):
        data = {"phone": normalise_phone(ev.customer_phone) or ev.customer_phone, "answered": ev.answered,
                "duration_s": ev.duration_s, "direction": ev.direction}
        view = call_view(ev.actor.role.value, ev.duration_s, ev.answered, ev.direction, assoc.with_customer,
                         self._department(ev.actor.person_id), assoc.lead_id, ev.occurred_at)
        return view, ev.direction, "", data

    def _calendar(self, ev: CalendarEvent, assoc: Association):
        data = {"starts_at": ev.starts_at, "ends_at": ev.ends_at, "attendees": list(ev.attendees)}
        if ev.customer_hint:
            data["customer_hint"] = ev.customer_hint
        fields = {"with_customer": assoc.with_customer, "attendees": assoc.attendees,
                  "external_attendees": assoc.external_attendees,
                  "duration_s": max(0, ev.ends_at - ev.starts_at) / 1000}
        view = EventView("calendar", ev.actor.role.value, "", ev.title, (), fields,
                         self._department(ev.actor.person_id), assoc.departments, "", assoc.lead_id, ev.occurred_at)
        return view, "", ev.title, data

    def _document(self, ev: DocumentOpen, assoc: Association):
        data = {"link_code": ev.link_code, "opener_hash": ev.opener_hash}
        return document_view(ev.document, assoc.with_customer, assoc.lead_id, ev.occurred_at), "", ev.document, data


# The rule views, one builder per event type: live events (Tagger._message/_call/_document) and stored ones
# re-evaluated after /bind (Tagger._stored_view) must look the same to the rules.


def message_view(role: str, kind: str, text: str, searchable: str, file_name: str, with_customer: bool,
                 is_group: bool, duration_ms: int, department: str, lead_id: str | None, at: int) -> EventView:
    fields = {"length": len(text), "with_customer": with_customer, "is_group": is_group}
    if kind == MessageKind.VOICE.value:
        fields["duration_s"] = duration_ms / 1000
    return EventView("message", role, kind, searchable, (file_name,) if file_name else (), fields, department,
                     frozenset(), "", lead_id, at)


def call_view(role: str, duration_s: int, answered: bool, direction: str, with_customer: bool, department: str,
              lead_id: str | None, at: int) -> EventView:
    fields = {"duration_s": duration_s, "answered": answered, "direction": direction, "with_customer": with_customer}
    return EventView("call", role, "", "", (), fields, department, frozenset(), "", lead_id, at)


def document_view(document: str, with_customer: bool, lead_id: str | None, at: int) -> EventView:
    return EventView("document_open", "customer", "", document, (), {"with_customer": with_customer}, "",
                     frozenset(), document, lead_id, at)


def setup(services: Services) -> None:
    services.extras[EXTRA] = Tagger(services)


def _tagger(ctx: Context) -> Tagger:
    return ctx.extra(EXTRA)


@router.observe(Message)
def on_message(event: Message, ctx: Context) -> None:
    _tagger(ctx).handle(event, ctx)


@router.observe(CallRecord)
def on_call(event: CallRecord, ctx: Context) -> None:
    _tagger(ctx).handle(event, ctx)


@router.observe(CalendarEvent)
def on_calendar(event: CalendarEvent, ctx: Context) -> None:
    _tagger(ctx).handle(event, ctx)


@router.observe(DocumentOpen)
def on_document_open(event: DocumentOpen, ctx: Context) -> None:
    _tagger(ctx).handle(event, ctx)


@router.observe(Tick)
def on_tick(event: Tick, ctx: Context) -> None:
    """Quiet hours still pick up pack edits: every scheduler tick checks the files (cheap when unchanged)."""
    _tagger(ctx).check_reload(ctx, ctx.clock.now_ms())


# ---------------------------------------------------------------------- commands


def _admin_only(event: Command, ctx: Context) -> bool:
    if event.actor.is_admin:
        return True
    ctx.reply(ctx.t("core.admin_only"))
    return False


def _fmt(ctx: Context, ms: int) -> str:
    from zoneinfo import ZoneInfo

    return from_ms(ms).astimezone(ZoneInfo(ctx.config.bot.timezone)).strftime("%m-%d %H:%M")


def _short(text: str, n: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


@router.command("unmatched")
def on_unmatched(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    if not _admin_only(event, ctx):
        return
    limit = 20
    rows = tag_store.unmatched(ctx.store, limit)
    if not rows:
        ctx.reply(ctx.t("tagging.unmatched_none"))
        return
    keys, total = tag_store.unmatched_total(ctx.store)
    lines = [ctx.t("tagging.unmatched_title", keys=keys, events=total, limit=limit)]
    for i, row in enumerate(rows, 1):
        kind, _, value = row.match_key.partition(":")
        sample = ""
        if row.sample:
            sample = (ctx.t("tagging.unmatched_sample_named", name=row.name, text=_short(row.sample)) if row.name
                      else ctx.t("tagging.unmatched_sample", text=_short(row.sample)))
        lines.append(ctx.t("tagging.unmatched_line", n=i, kind=ctx.t(f"tagging.kind_{kind}"), value=value,
                           events=row.events, last=_fmt(ctx, row.last_at), sample=sample))
    lines.append(ctx.t("tagging.unmatched_footer"))
    ctx.reply("\n".join(lines))


def parse_key(store, raw: str) -> tuple[str, str] | None:
    """'wmAbc' → external_id; '138…' → phone; 'a@b.cn' → email; 'wr…' / 'oc_…' → chat; 'chat:xyz' explicit;
    otherwise whatever kind an unmatched event recorded for exactly this value."""
    raw = raw.strip()
    kind, sep, value = raw.partition(":")
    if sep and kind in KEY_KINDS and value:
        return kind, normalise_key(kind, value.strip())
    known = tag_store.unmatched_kinds_of(store, raw)
    if len(known) == 1:
        k, _, v = known[0].partition(":")
        return k, v
    kind = key_kind(raw)
    if kind in ("phone", "external_id", "email"):
        return kind, normalise_key(kind, raw)
    if raw.startswith(_CHAT_PREFIXES):
        return "chat", raw
    return None


_PHONE_PART = re.compile(r"^[+(（]?[\d\-()（）]+$")


def split_key_args(args: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """('+86', '137', '0000', '2222', '恒通机械') → ('+86 137 0000 2222', ('恒通机械',)): a phone copied with spaces
    arrives as several words. Digit groups are joined until they make a whole number (11 digits: a mobile, or a
    landline with its area code), so a numeric customer or lead id after a complete phone stays the target."""
    if not args:
        return "", ()
    if not _PHONE_PART.match(args[0]):
        return args[0], args[1:]
    n = 1
    while n < len(args) - 1 and _PHONE_PART.match(args[n]) and len(normalise_phone(" ".join(args[:n]))) < 11:
        n += 1
    rest = args[n:]
    if (len(rest) == 1 and _PHONE_PART.match(rest[0]) and len(normalise_phone(" ".join(args[:n]))) < 11
            and len(normalise_phone(" ".join(args))) >= 11):
        return " ".join(args), ()  # "/bind 137 0000 2222": one phone in three groups and no target (usage)
    return " ".join(args[:n]), rest


def _status(ctx: Context, status: str) -> str:
    return ctx.t(f"tagging.status_{status}") if status in ("open", "won", "lost") else status


def resolve_target(ctx: Context, text: str):
    """('lead', Lead) | ('customer', Customer) | ('ambiguous', lines) | ('none', lines)."""
    store = ctx.store
    lead = lead_store.get(store, text)
    if lead:
        return "lead", lead
    customer = customer_store.get(store, text)
    if customer:
        return "customer", customer
    exact = tag_store.customer_by_name(store, text)
    if len(exact) == 1:
        return "customer", customer_store.get(store, exact[0])
    customers = customer_store.search(store, text, limit=6)
    leads = [ld for ld in lead_store.search(store, text, limit=6) if ld.title and text in ld.title]
    if len(customers) == 1 and all(ld.customer_id == customers[0].id for ld in leads):
        return "customer", customers[0]
    if len(leads) == 1 and not customers:
        return "lead", leads[0]
    lines = [ctx.t("tagging.bind_suggest_customer", name=c.name, id=c.id) for c in customers[:5]]
    lines += [ctx.t("tagging.bind_suggest_lead", title=ld.title, id=ld.id, status=_status(ctx, ld.status))
              for ld in leads[:5]]
    if lines:
        return "ambiguous", lines
    names = tag_store.customer_names(store)
    close = difflib.get_close_matches(text, [n for _i, n in names], n=5, cutoff=0.4)
    by_name = {n: i for i, n in names}
    return "none", [ctx.t("tagging.bind_suggest_customer", name=n, id=by_name[n]) for n in close]


@router.command("bind")
def on_bind(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    if not _admin_only(event, ctx):
        return
    raw_key, rest = split_key_args(args)
    if not rest:
        ctx.reply(ctx.t("tagging.bind_usage"))
        return
    key = parse_key(ctx.store, raw_key)
    if key is None:
        ctx.reply(ctx.t("tagging.bind_bad_key", raw=raw_key))
        return
    staff = tag_store.staff_with_identity(ctx.store, key[1])
    if staff is not None:  # binding a colleague's id would make their messages count as the customer's
        person = ctx.directory.person(staff)
        ctx.reply(ctx.t("tagging.bind_staff", value=key[1], name=person.name if person else staff))
        return
    target_text = " ".join(rest).strip()
    what, found = resolve_target(ctx, target_text)
    if what == "ambiguous":
        ctx.reply("\n".join([ctx.t("tagging.bind_ambiguous", text=target_text), *found]))
        return
    if what == "none":
        lines = [ctx.t("tagging.bind_not_found", text=target_text)]
        if found:
            lines += [ctx.t("tagging.bind_did_you_mean"), *found]
        ctx.reply("\n".join(lines))
        return
    kind, value = key
    store = ctx.store
    tagger = _tagger(ctx)
    notes: list[str] = []
    if what == "lead":
        bound_lead = found.id
        customer_id = found.customer_id
        tag_store.bind_lead_key(store, kind, value, bound_lead)
        past_lead = bound_lead if found.status == "open" else None
        if past_lead is None:
            notes.append(ctx.t("tagging.bind_no_open_lead", lead=found.id))
    else:
        bound_lead = None
        customer_id = found.id
        past_lead = tagger.associator.open_lead(customer_id)
    customer_store.add_key(store, kind, value, customer_id)
    ctx.directory.remember_customer_key(kind, value, customer_id)
    tagger.associator.remember(kind, value, customer_id, bound_lead)
    n, first, last = tag_store.activity_span(store, f"{kind}:{value}")
    rebound = events_store.rebind_customer(store, (kind, value), customer_id, past_lead)
    retagged: dict[str, int] = {}
    if past_lead and first is not None and last is not None:
        lead_store.touch(store, past_lead, first)
        lead_store.touch(store, past_lead, last)
        if rebound:
            retagged = tagger.retag_lead(store, past_lead, first)
    customer = customer_store.get(store, customer_id)
    cname = customer.name if customer else customer_id
    kind_label = ctx.t(f"tagging.kind_{kind}")
    if what == "lead":
        lines = [ctx.t("tagging.bind_done_lead", kind=kind_label, value=value, lead=found.title or found.id,
                       customer=cname)]
    else:
        lines = [ctx.t("tagging.bind_done_customer", kind=kind_label, value=value, customer=cname)]
    lines += notes
    if rebound and past_lead and last is not None:
        lines.append(ctx.t("tagging.bind_rebound", n=rebound, lead=past_lead, last=_fmt(ctx, last)))
        if retagged:
            added = ctx.t("core.list_sep").join(f"{tag}×{n}" for tag, n in sorted(retagged.items(), key=lambda kv: -kv[1]))
            lines.append(ctx.t("tagging.bind_retagged", tags=added))
    elif rebound:
        lines.append(ctx.t("tagging.bind_rebound_no_lead", n=rebound, customer=cname))
    else:
        lines.append(ctx.t("tagging.bind_nothing_past"))
    ctx.reply("\n".join(lines))


@router.command("rules")
def on_rules(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    if not _admin_only(event, ctx):
        return
    tagger = _tagger(ctx)
    engine = tagger.rules.engine
    files = "\n".join(f"• {p}" for p in tagger.files())
    lines = [ctx.t("tagging.rules_status", rules=len(engine.rules), generation=tagger.rules.generation,
                   keywords=engine.keyword_count, files=files)]
    if tagger.rules.errors:
        lines.append(ctx.t("tagging.rules_status_errors",
                           errors="\n".join(_error_line(e, ctx.t) for e in tagger.rules.errors[:MAX_ERRORS_SHOWN])))
    ctx.reply("\n".join(lines))


def _error_line(error: object, t) -> str:
    """A rule-pack problem in the reader's locale (RuleError.render), anything else as it is."""
    render = getattr(error, "render", None)
    return render(t) if callable(render) else str(error)


def _error_lines(errors: list, t) -> str:
    """Every problem of a load, one a line, for the log: the admin reads it in the configured locale too."""
    return "\n".join(_error_line(e, t) for e in errors)
