"""The console adapter: `salespulse chat --as 张伟` and `salespulse replay FILE.jsonl`.

It goes through exactly the same path as the real platforms: typed lines become Message events in the inbox,
replies come back through the outbox and are rendered here as text. Cards show numbered buttons; typing a number
presses the button (a CardAction event, as a platform callback would be).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from adapters.base import Adapter, AdapterContext
from bot import crashpoints
from bot.errors import BadPayload
from bot.events import Actor, CardAction, Message, MessageKind, event_from_dict
from bot.media import MediaRequest, MediaUnavailable
from bot.replies import Button, Reply, ReplyKind, Target
from prompts import Prompts


def render_text(reply: Reply, prompts: Prompts, buttons_out: list[Button] | None = None) -> str:
    """Reply → terminal text. Buttons are numbered from 1; the list is handed back for pressing."""
    lines: list[str] = []
    if reply.kind == ReplyKind.CARD:
        lines.append(f"┌─ {reply.title}")
        if reply.text:
            lines.extend(f"│ {ln}" for ln in reply.text.splitlines())
        for k, v in reply.fields:
            lines.append(f"│ {k}：{v}")
        if reply.buttons:
            labels = "  ".join(f"[{i}] {b.text}" for i, b in enumerate(reply.buttons, 1))
            lines.append(f"│ {labels}  （{prompts.t('core.card_press_hint')}）")
            if buttons_out is not None:
                buttons_out[:] = list(reply.buttons)
        lines.append("└─")
    elif reply.kind == ReplyKind.IMAGE:
        if reply.title:
            lines.append(reply.title)
        lines.append(reply.alt_text)
        lines.append(prompts.t("core.image_saved", path=reply.image_path))
    elif reply.kind == ReplyKind.FILE:  # a terminal cannot receive a file: say where it was written
        if reply.title:
            lines.append(reply.title)
        lines.append(reply.alt_text)
        lines.append(prompts.t("core.file_saved", path=reply.file_path))
    else:
        if reply.title:
            lines.append(reply.title)
        lines.append(reply.text)
    return "\n".join(lines)


@dataclass
class Delivered:
    target: Target
    reply: Reply
    key: str
    text: str


@dataclass
class ConsoleAdapter(Adapter):
    """Collects what the bot sends; `echo` prints it (chat mode), `transcript` keeps it (demo)."""

    ctx: AdapterContext
    prompts: Prompts
    echo: Callable[[str], None] | None = None
    delivered: list[Delivered] = field(default_factory=list)
    last_buttons: dict[str, list[Button]] = field(default_factory=dict)
    platform: str = "console"
    # Part of every typed line's message id. `salespulse chat` passes a fresh one per session: its virtual clock
    # starts at the same instant every time, so without it the first line of a new session would carry the id of
    # an earlier session's first line and the inbox would drop it as a redelivery. The demo keeps "" (same run,
    # same ids).
    session: str = ""
    # Whose screen this is (`chat --as`): replies to anyone else are counted per recipient instead of printed
    # (see others / take_others). None shows everything (the demo's transcript, replay).
    viewer: str | None = None
    others: dict[str, int] = field(default_factory=dict)
    _seq: int = 0

    async def send(self, target: Target, reply: Reply, key: str) -> str:
        buttons: list[Button] = []
        text = render_text(reply, self.prompts, buttons)
        if buttons:
            self.last_buttons[target.user_id or target.chat_id] = buttons
        self.delivered.append(Delivered(target, reply, key, text))
        if self.viewer is not None and not self._for_viewer(target):
            who = target.person_id or target.user_id or target.chat_id
            self.others[who] = self.others.get(who, 0) + 1
        elif self.echo is not None:
            self.echo(text)
        return f"console:{len(self.delivered)}"

    def _for_viewer(self, target: Target) -> bool:
        return self.viewer in (target.person_id, target.user_id)

    def take_others(self) -> dict[str, int]:
        """Replies sent to other people since the last call, per recipient (then forgotten)."""
        out, self.others = self.others, {}
        return out

    def _next_id(self, user: str) -> str:
        self._seq += 1
        session = f"{self.session}:" if self.session else ""
        return f"console:{session}{user}:{self.ctx.clock.now_ms()}:{self._seq}"

    def type_line(self, user: str, line: str) -> bool:
        """A line typed by `user` (a person id or name). A bare number presses that button of the last card;
        `/语音 FILE` (`/voice FILE`) sends the audio file FILE as a voice note."""
        now = self.ctx.clock.now_ms()
        actor = Actor(platform_id=user)
        stripped = line.strip()
        voice_file = voice_note_path(stripped)
        if voice_file == "":  # the prefix alone: say how to use it (the bot has no /语音 command to answer)
            if self.echo is not None:
                self.echo(self.prompts.t("voice.console_voice_usage"))
            return False
        if voice_file is not None:
            return self.send_voice(user, voice_file)
        buttons = self.last_buttons.get(user, [])
        if stripped.isdigit() and 1 <= int(stripped) <= len(buttons):
            button = buttons[int(stripped) - 1]
            eid = self._next_id(user)
            event = CardAction(event_id=eid, platform="console", occurred_at=now, received_at=now, actor=actor,
                               action=button.action, value=dict(button.value))
            return self.ctx.accept("console", eid, {"user": user, "press": stripped}, event)
        eid = self._next_id(user)
        image = image_path(stripped)
        if image:  # "图片:/path/shelf.jpg": a photo sent to the bot (shelf checks), as a platform's image message
            event = Message(event_id=eid, platform="console", occurred_at=now, received_at=now, actor=actor,
                            kind=MessageKind.IMAGE, media_id=str(Path(image).expanduser().resolve()), to_bot=True)
            return self.ctx.accept("console", eid, {"user": user, "image": image}, event)
        event = Message(event_id=eid, platform="console", occurred_at=now, received_at=now, actor=actor,
                        kind=MessageKind.TEXT, text=line, to_bot=True)
        return self.ctx.accept("console", eid, {"user": user, "text": line}, event)

    def send_voice(self, user: str, path: str) -> bool:
        """A voice note from a local audio file (any format the pipeline decodes), as a platform would deliver it."""
        file = Path(path).expanduser()
        if not file.is_file():
            if self.echo is not None:
                self.echo(self.prompts.t("voice.console_voice_missing", path=path))
            return False
        now = self.ctx.clock.now_ms()
        eid = self._next_id(user)
        event = Message(event_id=eid, platform="console", occurred_at=now, received_at=now,
                        actor=Actor(platform_id=user), kind=MessageKind.VOICE, media_id=str(file.resolve()),
                        to_bot=True)
        return self.ctx.accept("console", eid, {"user": user, "voice": str(file)}, event)

    async def fetch_media(self, request: MediaRequest) -> bytes:
        """The console's media are local files (the path is the media id); registered as the console fetcher."""
        file = Path(request.media_id)
        try:
            size = file.stat().st_size
            if size > request.max_bytes:
                raise MediaUnavailable(f"{file} is larger than {request.max_bytes} bytes", permanent=True)
            return await asyncio.to_thread(file.read_bytes)
        except OSError as exc:
            raise MediaUnavailable(f"{file}: {exc.strerror or exc}", permanent=True) from None


VOICE_PREFIXES = ("/语音", "/voice")  # console only: `/语音 path/to/note.amr` sends the file as a voice note


def voice_note_path(line: str) -> str | None:
    """The file of a `/语音 FILE` line; "" for the prefix without a file; None for any other line. A full-width
    slash or space (Chinese input methods) counts like the ASCII one."""
    line = line.strip()
    if line.startswith("／"):
        line = "/" + line[1:]
    for prefix in VOICE_PREFIXES:
        if line.lower() == prefix:
            return ""
        if line.lower().startswith((prefix + " ", prefix + "\u3000")):
            return line[len(prefix):].strip().strip("\u3000").strip("'\"")
    return None


IMAGE_PREFIXES = ("图片:", "图片：", "image:", "photo:")


def image_path(line: str) -> str:
    """The file of a console line that sends a picture ("图片:/path/to/shelf.jpg"), else ""."""
    for prefix in IMAGE_PREFIXES:
        if line.lower().startswith(prefix):
            return line[len(prefix):].strip()
    return ""


def read_jsonl(path: Path, report: Callable[[str], None], t: Callable[..., str] | None = None) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object); a malformed line is reported with its number and skipped (in t's locale)."""
    t = t or Prompts().t
    with path.open("rb") as fh:  # a missing file: the CLI says so in one sentence (bot/cli: core.file_missing)
        for number, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                report(t("ops.replay_not_utf8", path=path, line=number))
                continue
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                report(t("ops.replay_not_json", path=path, line=number, col=exc.colno))
                continue
            if not isinstance(obj, dict):
                report(t("ops.replay_not_object", path=path, line=number))
                continue
            yield number, obj


_SCALARS = {str: "str", int: "int", float: "float", bool: "bool"}  # → prompts ops.field_kind_<name>


@cache
def _field_types(cls: type) -> dict[str, typing.Any]:
    return typing.get_type_hints(cls)


def wrong_field(event: typing.Any, prefix: str = "", t: Callable[..., str] | None = None) -> str | None:
    """The first field of a recorded event whose JSON value has the wrong type, as a sentence; None when all fit.

    event_from_dict() does not check value types (the dispatcher's hot path re-reads JSON we wrote ourselves), but a
    recording is outside input: `"text": 5` would crash the command parser and `"occurred_at": "abc"` would poison
    every time window, so such a line is kept as unsupported instead of being processed."""
    t = t or Prompts().t
    for f in dataclasses.fields(event):
        tp, value = _field_types(type(event)).get(f.name), getattr(event, f.name)
        name = prefix + f.name
        if dataclasses.is_dataclass(value):  # the actor
            problem = wrong_field(value, f"{name}.", t)
            if problem:
                return problem
        elif tp in _SCALARS:
            ok = isinstance(value, tp) and (tp is bool or not isinstance(value, bool))
            if tp is float and isinstance(value, int) and not isinstance(value, bool):
                ok = True
            if not ok:
                return t("ops.field_must_be", name=name, kind=t(f"ops.field_kind_{_SCALARS[tp]}"),
                         value=json.dumps(value, ensure_ascii=False))
        elif typing.get_origin(tp) is tuple and not all(isinstance(v, str) for v in value):
            return t("ops.field_must_be", name=name, kind=t("ops.field_kind_strings"),
                     value=json.dumps(list(value), ensure_ascii=False))
        elif typing.get_origin(tp) is dict and not isinstance(value, dict):
            return t("ops.field_must_be", name=name, kind=t("ops.field_kind_object"),
                     value=json.dumps(value, ensure_ascii=False))
    return None


def replay_file(ctx: AdapterContext, path: Path, report: Callable[[str], None]) -> tuple[int, int]:
    """Feed recorded events (Event.to_dict() lines) into the inbox. Returns (accepted, rejected).

    Unknown event types are kept in the inbox as `unsupported`; bad lines are reported and skipped.
    """
    accepted = rejected = 0
    skipped: list[str] = []
    t = Prompts(ctx.config.bot.locale).t

    def skip(message: str) -> None:  # malformed lines count as rejected too, not only unknown events
        skipped.append(message)
        report(message)

    with ctx.store.transaction():
        for number, obj in read_jsonl(path, skip, t):
            try:
                event = event_from_dict(obj)
                problem = wrong_field(event, t=t)
                if problem:
                    raise BadPayload(problem, "ops.event_wrong_value", problem=problem)
            except BadPayload as exc:
                ext = str(obj.get("event_id") or f"{path.name}:{number}")
                ctx.accept("replay", ext, obj, None, unsupported_reason=str(exc))
                why = t(exc.key, **exc.values) if exc.key else str(exc)
                report(t("ops.replay_unsupported", path=path, line=number, why=why))
                rejected += 1
                continue
            if ctx.accept(event.platform if event.platform != "console" else "replay", event.event_id, obj, event):
                accepted += 1
            crashpoints.reached("import.row")
    return accepted, rejected + len(skipped)
