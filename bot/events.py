"""The bot's event types: one frozen dataclass per kind of thing that happens.

Adapters produce these from platform payloads; handlers see only these, never platform dicts. Every event has a
stable `event_id` (platform + the platform's own id), `occurred_at` / `received_at` as UTC milliseconds, and an
`actor` whose role is resolved through the org directory by the dispatcher (adapters leave it `unknown`).
Events serialise to plain JSON dicts (`to_dict` / `from_dict`) so the inbox can store and replay them.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from bot.clock import from_ms
from bot.errors import BadPayload


class Role(StrEnum):
    REP = "rep"
    MANAGER = "manager"
    CS = "cs"
    CUSTOMER = "customer"
    COLLEAGUE = "colleague"
    BOT = "bot"
    UNKNOWN = "unknown"


class MessageKind(StrEnum):
    TEXT = "text"
    FILE = "file"
    IMAGE = "image"
    VOICE = "voice"
    RECALL = "recall"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it. `platform_id` is the platform's user id; `person_id` the org directory's id once resolved."""

    platform_id: str
    name: str = ""
    role: Role = Role.UNKNOWN
    person_id: str = ""
    team: str = ""
    is_admin: bool = False
    customer_id: str = ""

    @property
    def display(self) -> str:
        return self.name or self.platform_id


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    type_name: ClassVar[str] = "event"
    event_id: str
    platform: str
    occurred_at: int
    received_at: int = 0
    actor: Actor = field(default_factory=lambda: Actor(platform_id=""))
    conversation_id: str = ""
    is_group: bool = False

    @property
    def occurred_dt(self) -> datetime:
        return from_ms(self.occurred_at)

    def with_actor(self, actor: Actor) -> Event:
        """A copy with another actor (hot path: every dispatched event; dataclasses.replace re-runs __init__)."""
        spec = _TO_DICT.get(type(self)) or _to_dict_spec(type(self))
        names, getter, _tuple_names = spec
        new = object.__new__(type(self))
        set_attr = object.__setattr__
        for name, value in zip(names, getter(self), strict=True):
            set_attr(new, name, value)
        set_attr(new, "actor", actor)
        return new

    def to_dict(self) -> dict[str, Any]:
        # Hot path (every ingested event): per-class field getters are built once, actors copied by hand.
        spec = _TO_DICT.get(type(self)) or _to_dict_spec(type(self))
        names, getter, tuple_names = spec
        out: dict[str, Any] = {"type": self.type_name}
        out.update(zip(names, getter(self), strict=True))
        out["actor"] = _actor_dict(self.actor)
        for name in tuple_names:
            value = out[name]
            if isinstance(value, tuple):
                out[name] = [_actor_dict(v) if isinstance(v, Actor) else v for v in value]
        return out


_TO_DICT: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]], tuple[str, ...]]] = {}
_ACTOR_NAMES = tuple(f.name for f in dataclasses.fields(Actor))
_ACTOR_GET = operator.attrgetter(*_ACTOR_NAMES)


def _to_dict_spec(cls: type) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]], tuple[str, ...]]:
    fields = dataclasses.fields(cls)
    names = tuple(f.name for f in fields)
    tuple_names = tuple(f.name for f in fields if str(f.type).startswith(("tuple", "Tuple")))
    spec = (names, operator.attrgetter(*names), tuple_names)
    _TO_DICT[cls] = spec
    return spec


def _actor_dict(actor: Actor) -> dict[str, Any]:
    """dataclasses.asdict(actor) without its deep copy (every Actor field is an immutable scalar)."""
    return dict(zip(_ACTOR_NAMES, _ACTOR_GET(actor), strict=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class Message(Event):
    """Chat traffic: text, files, images, voice notes and recalls, from a chat with the bot or the archive."""

    type_name: ClassVar[str] = "message"
    kind: MessageKind = MessageKind.TEXT
    text: str = ""
    file_name: str = ""
    media_id: str = ""
    duration_ms: int = 0
    transcript: str = ""
    recalled_id: str = ""
    recipients: tuple[str, ...] = ()
    to_bot: bool = False
    reply_token: str = ""

    @property
    def searchable_text(self) -> str:
        """What text rules look at: the text, the voice transcript and the attachment name."""
        parts = [p for p in (self.text, self.transcript, self.file_name) if p]
        return "\n".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRecord(Event):
    """A phone call from the telephony export or webhook. `actor` is the rep; `customer_phone` the other side."""

    type_name: ClassVar[str] = "call"
    direction: str = "inbound"  # inbound (customer called us) | outbound (we called)
    customer_phone: str = ""
    answered: bool = True
    duration_s: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarEvent(Event):
    """A meeting. Attendees are platform ids resolved through the org directory by handlers."""

    type_name: ClassVar[str] = "calendar"
    title: str = ""
    starts_at: int = 0
    ends_at: int = 0
    attendees: tuple[str, ...] = ()
    customer_hint: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentOpen(Event):
    """Someone opened a tracked link. The opener address is stored only as a salted hash."""

    type_name: ClassVar[str] = "document_open"
    link_code: str = ""
    document: str = ""
    lead_id: str = ""
    opener_hash: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CardAction(Event):
    """A button press on a card we sent. `action` is the callback key; `value` its payload."""

    type_name: ClassVar[str] = "card_action"
    action: str = ""
    value: dict[str, Any] = field(default_factory=dict)
    card_ref: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Command(Event):
    """A slash command typed to the bot. `name` is canonical (English); `raw` what the user typed."""

    type_name: ClassVar[str] = "command"
    name: str = ""
    args: tuple[str, ...] = ()
    raw: str = ""
    known: bool = True
    reply_token: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceTranscript(Event):
    """What a voice note said, once the speech pipeline has heard it (or could not).

    Voice notes arrive as `Message(kind=VOICE)`; decoding, voice-activity detection and recognition run off the
    event loop, and their result comes back through the inbox as this event, so that debriefs, practice sessions
    and the classifier react to speech on the normal path. `message_event_id` is the voice Message's event_id;
    `actor`, `conversation_id` and `platform` are copied from it. `recorded_at` is the note's own timestamp (offline
    capture delivers it late). `status`: ok | empty | silent | too_long | undecodable | no_recogniser.
    `speech_ms` is the voiced time; `pauses_ms` the silences longer than a second, in order.
    """

    type_name: ClassVar[str] = "voice_transcript"
    message_event_id: str = ""
    text: str = ""
    status: str = "ok"
    source: str = ""  # platform | funasr | demo | …: who produced the words
    language: str = ""
    recorded_at: int = 0
    duration_ms: int = 0
    speech_ms: int = 0
    pauses_ms: tuple[int, ...] = ()
    audio_ref: str = ""  # where the decoded audio is kept (under the data dir), for retention and re-recognition
    reply_token: str = ""  # the voice Message's, so an answer lands in place (Feishu reply, DingTalk session webhook)


@dataclass(frozen=True, slots=True, kw_only=True)
class PhotoCheck(Event):
    """A shelf photo checked against its store's planogram, back on the normal path.

    The check (download, registration, detection: up to a second of CPU) runs as a deferred job off the event loop;
    its verdict comes back through the inbox as this event so that recording it, recolouring the store's day and
    closing a 货效 fix task happen in the dispatcher's transaction like everything else. `message_event_id` is the
    photo Message's event_id; `actor`, `conversation_id`, `is_group` and `platform` are copied from it.
    `reason`: "" | not_this_shelf | too_dark | too_blurry | unreadable | no_planogram | no_media (then `detail`
    says why). `problems`: {"product", "kind": missing|misplaced, "box": [x, y, w, h]}.
    """

    type_name: ClassVar[str] = "photo_check"
    message_event_id: str = ""
    store_id: str = ""
    registered: bool = False
    reason: str = ""
    detail: str = ""
    exposure: float | None = None
    problems: tuple[dict[str, Any], ...] = ()
    annotated_path: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Tick(Event):
    """A scheduler wake-up: job `job` was due at `due_at` (ms)."""

    type_name: ClassVar[str] = "tick"
    job: str = ""
    due_at: int = 0


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type_name: cls
    for cls in (Message, CallRecord, CalendarEvent, DocumentOpen, CardAction, Command, Tick, VoiceTranscript,
                PhotoCheck)
}

_REQUIRED = frozenset(("event_id", "platform", "occurred_at"))
_FIELD_NAMES: dict[type[Event], frozenset[str]] = {
    cls: frozenset(f.name for f in dataclasses.fields(cls)) for cls in EVENT_TYPES.values()
}


def event_from_dict(data: dict[str, Any], resolve: Callable[[str, Actor], Actor] | None = None) -> Event:
    """Rebuild an event from `to_dict` output. Unknown types and fields raise BadPayload, never KeyError.

    `resolve(platform, actor)` (the dispatcher passes the org directory's) fills in the actor's role before the
    event is built, so the dispatcher does not build every event twice.
    """
    if not isinstance(data, dict):
        raise BadPayload("event must be a JSON object", "ops.event_not_object")
    cls = EVENT_TYPES.get(str(data.get("type", "")))
    if cls is None:
        raise BadPayload(f"unknown event type: {data.get('type')!r}", "ops.event_unknown_type", type=data.get("type"))
    names = _FIELD_NAMES[cls]
    kwargs = dict(data)
    del kwargs["type"]
    if not kwargs.keys() <= names:
        unknown = next(k for k in kwargs if k not in names)
        raise BadPayload(f"unknown field {unknown!r} for {cls.type_name}", "ops.event_unknown_field", field=unknown,
                         type=cls.type_name)
    if "actor" in kwargs:
        value = kwargs["actor"]
        if not isinstance(value, dict):
            raise BadPayload("actor must be an object", "ops.event_actor_not_object")
        try:
            kwargs["actor"] = Actor(**{**value, "role": Role(value.get("role", "unknown"))})
        except (TypeError, ValueError) as exc:
            raise BadPayload(f"bad actor: {exc}", "ops.event_bad_actor", error=exc) from None
    if "kind" in kwargs:
        try:
            kwargs["kind"] = MessageKind(kwargs["kind"])
        except ValueError:
            raise BadPayload(f"unknown message kind: {kwargs['kind']!r}", "ops.event_unknown_kind",
                             kind=kwargs["kind"]) from None
    for key, value in kwargs.items():
        if value.__class__ is list:
            kwargs[key] = tuple(value)
    if not _REQUIRED <= kwargs.keys():
        missing = next(k for k in ("event_id", "platform", "occurred_at") if k not in kwargs)
        raise BadPayload(f"{cls.type_name} lacks {missing!r}", "ops.event_lacks", type=cls.type_name, field=missing)
    if resolve is not None:
        kwargs["actor"] = resolve(kwargs["platform"], kwargs.get("actor") or Actor(platform_id=""))
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise BadPayload(str(exc)) from None
