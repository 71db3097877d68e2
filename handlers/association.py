"""Lead association: which customer and which open lead an event belongs to, or the key that would tell us.

Order of evidence (most specific first):
1. a key bound to one lead (lead_keys: a project group chat, a phone bound with /bind … <商机>);
2. the customer behind the actor (WeCom external id resolved by the directory, platform user, email);
3. a group chat bound to a customer (customer_keys kind 'chat');
4. for staff writing to a customer: the customer among the message recipients;
5. calls: the customer's phone; meetings: external attendees or the customer hint; document opens: the lead id.
The customer's lead is then its newest open lead. When a customer is clearly involved but unknown, the event keeps
a `match_key` ("external_id:wm…", "phone:138…", "chat:wr…") for /unmatched and /bind.

Every answer (found or not) is cached in memory, because the dispatcher must tag ≥15,000 events/s and a SQL
lookup per event per key would cost more than the insert itself. A time-to-live would not help: one customer
writes every few minutes or hours, so entries would expire between uses. Instead the cache is dropped when
something could have changed it: TEMP triggers on customer_keys / lead_keys / leads call back into this process
(store.tagging.install_change_hook), and SQLite's data_version, polled at most every `external_check_s`
seconds, reveals writes by another process (an import run from the CLI).
"""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass

from bot.events import Actor, CalendarEvent, CallRecord, DocumentOpen, Message, Role
from bot.org import Directory
from bot.phones import normalise_phone
from store import customers as customer_store
from store import leads as lead_store
from store import tagging as tag_store
from store.db import Store

EXTERNAL_PREFIXES = ("wo", "wm")  # WeCom external contacts
_STAFF = frozenset({Role.REP, Role.MANAGER, Role.CS, Role.COLLEAGUE})
_PHONE_PUNCT = re.compile(r"[\s\-+()（）]")
MAX_RECIPIENTS = 30


def normalise_key(kind: str, value: str) -> str:
    """The stored form of a customer key: phones as digits (see normalise_phone), e-mail addresses in lower case
    (mail servers treat 'Li@HuaXin.cn' and 'li@huaxin.cn' as one mailbox; people type them either way)."""
    if kind == "phone":
        return normalise_phone(value) or value
    if kind == "email":
        return value.strip().lower()
    return value


def key_kind(value: str) -> str:
    """What kind of customer key a bare identifier is."""
    if value.startswith(EXTERNAL_PREFIXES):
        return "external_id"
    if "@" in value:
        return "email"
    compact = _PHONE_PUNCT.sub("", value)
    if compact.isdigit() and len(compact) >= 7:
        return "phone"
    return "platform_user"


def looks_external(value: str) -> bool:
    return value.startswith(EXTERNAL_PREFIXES) or "@" in value


@dataclass(frozen=True, slots=True)
class Association:
    customer_id: str | None
    lead_id: str | None
    match_key: str | None
    with_customer: bool
    departments: frozenset[str] = frozenset()
    attendees: int = 0
    external_attendees: int = 0
    actor_is_customer: bool = False  # the directory did not know the actor, but a customer key (e.g. email) did


NONE = Association(None, None, None, False)


class Associator:
    def __init__(self, store: Store, directory: Directory, external_check_s: float = 1.0) -> None:
        self.store = store
        self.directory = directory
        self.external_check_s = external_check_s
        self._keys: dict[tuple[str, str], tuple[str | None, str | None]] = {}
        self._open_lead: dict[str, str | None] = {}
        self._lead: dict[str, tuple[str | None, str]] = {}
        self._dirty = False
        # The last message answered, and its answer: every observer of a chat message (tagging, labelling,
        # coaching, calls) asks about the same event object in turn; while no cache was dropped the answer is the
        # one just computed, so it is returned as is instead of walking the caches again.
        self._last_message: Message | None = None
        self._last_answer: Association = NONE
        self._next_external_check = 0.0
        self._data_version = tag_store.data_version(store)
        tag_store.install_change_hook(store, self._changed)

    def _changed(self) -> None:
        self._dirty = True

    def _fresh(self) -> None:
        """Drop the caches if this process or another one changed what they answer."""
        now = time.monotonic()
        if now >= self._next_external_check:
            self._next_external_check = now + self.external_check_s
            version = tag_store.data_version(self.store)
            if version != self._data_version:
                self._data_version = version
                self._dirty = True
        if self._dirty:
            self._dirty = False
            self.forget()

    # ------------------------------------------------------------------ cached lookups
    def lookup(self, kind: str, value: str) -> tuple[str | None, str | None]:
        """(customer_id, bound lead_id) for a key; either may be None. The key is normalised first (normalise_key);
        a key stored before normalisation existed is still found under its raw spelling."""
        k = (kind, value)
        hit = self._keys.get(k)
        if hit is not None:
            return hit
        norm = normalise_key(kind, value)
        found = self._lookup(kind, norm)
        if found == (None, None) and norm != value:
            found = self._lookup(kind, value)
        self._keys[k] = found
        return found

    def _lookup(self, kind: str, value: str) -> tuple[str | None, str | None]:
        lead = tag_store.lead_for_key(self.store, kind, value)
        cid = None
        if lead:
            brief = tag_store.lead_brief(self.store, lead)
            if brief is None:
                lead = None
            else:
                cid = brief[0]
        if cid is None:
            cid = tag_store.customer_for_key(self.store, kind, value)
        return cid, lead

    def is_staff(self, platform: str, value: str) -> bool:
        """A colleague's identity that looks like a customer's (a personal WeChat added as an external contact, a
        rep's mobile on a call record): known to the directory, so internal, never a customer or /unmatched."""
        k = ("staff:" + platform, value)
        hit = self._keys.get(k)
        if hit is None:
            hit = ("1" if self.directory.resolve(platform, Actor(platform_id=value)).person_id else None, None)
            self._keys[k] = hit
        return hit[0] is not None

    def open_lead(self, customer_id: str) -> str | None:
        if customer_id in self._open_lead:
            return self._open_lead[customer_id]
        lead = lead_store.open_for_customer(self.store, customer_id)
        self._open_lead[customer_id] = lead
        return lead

    def lead_info(self, lead_id: str) -> tuple[str | None, str]:
        hit = self._lead.get(lead_id)
        if hit is not None:
            return hit
        brief = tag_store.lead_brief(self.store, lead_id)
        cid, status = brief if brief else (None, "")
        self._lead[lead_id] = (cid, status)
        return cid, status

    def remember(self, kind: str, value: str, customer_id: str, lead_id: str | None) -> None:
        """After /bind: the binding holds from the next event on, without waiting for the cache to expire."""
        self.forget()
        self._keys[(kind, value)] = (customer_id, lead_id)

    def forget(self) -> None:
        self._last_message = None
        self._keys.clear()
        self._open_lead.clear()
        self._lead.clear()

    # ------------------------------------------------------------------ resolution
    def _finish(self, cid: str | None, bound_lead: str | None, match_key: str | None,
                with_customer: bool = True, **extra) -> Association:
        if cid is None:
            return Association(None, None, match_key, with_customer and match_key is not None, **extra)
        if bound_lead:
            _c, status = self.lead_info(bound_lead)
            if status == "open":
                return Association(cid, bound_lead, None, True, **extra)
        return Association(cid, self.open_lead(cid), None, True, **extra)

    def for_message(self, ev: Message) -> Association:
        self._fresh()
        if ev is self._last_message:
            return self._last_answer
        answer = self._for_message(ev)
        self._last_message, self._last_answer = ev, answer
        return answer

    def _for_message(self, ev: Message) -> Association:
        if ev.to_bot:
            return NONE
        actor = ev.actor
        role = actor.role
        if role == Role.BOT:
            return NONE
        conv = ev.conversation_id
        chat_cid = chat_lead = None
        if ev.is_group and conv:
            chat_cid, chat_lead = self.lookup("chat", conv)
            if chat_lead:
                return self._finish(chat_cid, chat_lead, None)
        first_unknown = None
        if role == Role.UNKNOWN and looks_external(actor.platform_id):
            pid = actor.platform_id
            kind = key_kind(pid)
            cid, lead = self.lookup(kind, pid)
            if cid:
                return dataclasses.replace(self._finish(cid, lead, None), actor_is_customer=True)
            # the unknown party is the sender, not our colleague it wrote to: /unmatched must offer the sender
            first_unknown = f"{kind}:{normalise_key(kind, pid)}"
        if role == Role.CUSTOMER:
            pid = actor.platform_id
            kind = key_kind(pid)
            cid, lead = self.lookup(kind, pid)
            cid = actor.customer_id or cid
            if cid:
                return self._finish(cid, lead, None)
            if chat_cid:
                return self._finish(chat_cid, None, None)
            return self._finish(None, None,
                                f"chat:{conv}" if ev.is_group and conv else f"{kind}:{normalise_key(kind, pid)}")
        if chat_cid:
            return self._finish(chat_cid, None, None)
        others = ev.recipients
        if not others and not ev.is_group and "|" in conv:  # a 1:1 archive chat id is "a|b", both ways round
            others = tuple(p for p in conv.split("|") if p != actor.platform_id)
        for r in others[:MAX_RECIPIENTS]:
            if not looks_external(r):
                continue
            kind = key_kind(r)
            cid, lead = self.lookup(kind, r)
            if cid:
                return self._finish(cid, lead, None)
            if first_unknown is None and not self.is_staff(ev.platform, r):  # a colleague's mail / personal WeChat
                first_unknown = f"{kind}:{normalise_key(kind, r)}"
        if first_unknown is None:
            return NONE
        return self._finish(None, None, f"chat:{conv}" if ev.is_group and conv else first_unknown)

    def for_call(self, ev: CallRecord) -> Association:
        self._fresh()
        phone = normalise_phone(ev.customer_phone)
        if not phone or self.is_staff("telephony", phone):  # a call between colleagues is not a customer call
            return NONE
        cid, lead = self.lookup("phone", phone)
        if cid is None and phone != ev.customer_phone:
            cid, lead = self.lookup("phone", ev.customer_phone)
        return self._finish(cid, lead, f"phone:{phone}")

    def for_document(self, ev: DocumentOpen) -> Association:
        self._fresh()
        if not ev.lead_id:
            return NONE
        cid, _status = self.lead_info(ev.lead_id)
        if cid is None:
            return NONE
        return Association(cid, ev.lead_id, None, True)

    def for_calendar(self, ev: CalendarEvent) -> Association:
        self._fresh()
        departments: set[str] = set()
        external: list[str] = []
        for a in ev.attendees[:MAX_RECIPIENTS]:
            resolved = self.directory.resolve(ev.platform, Actor(platform_id=a))
            if resolved.person_id:
                p = self.directory.person(resolved.person_id)
                if p and p.department:
                    departments.add(p.department)
            else:
                external.append(a)
        extra = {"departments": frozenset(departments), "attendees": len(ev.attendees),
                 "external_attendees": len(external)}
        hint = ev.customer_hint.strip()
        if hint:
            cid, status = self.lead_info(hint)
            if cid and status:
                return self._finish(cid, hint, None, **extra)
            if self.customer_exists(hint):
                return self._finish(hint, None, None, **extra)
            named = tag_store.customer_by_name(self.store, hint)
            if len(named) == 1:
                return self._finish(named[0], None, None, **extra)
        first_unknown = None
        for a in external:
            kind = key_kind(a)
            cid, lead = self.lookup(kind, a)
            if cid:
                return self._finish(cid, lead, None, **extra)
            first_unknown = first_unknown or f"{kind}:{normalise_key(kind, a)}"
        return self._finish(None, None, first_unknown, with_customer=bool(external), **extra)

    def customer_exists(self, customer_id: str) -> bool:
        return customer_store.get(self.store, customer_id) is not None
