"""Platform-neutral replies. Handlers build these; each adapter renders them natively (WeCom template_card,
DingTalk interactive card, Feishu message card, console text with numbered buttons).

A reply is addressed through the outbox to a `Target` and carries an idempotency key so a crash-and-replay never
sends it twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ReplyKind(StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    CARD = "card"
    IMAGE = "image"
    FILE = "file"  # a document (an .xlsx export) uploaded to the platform and sent as a file message


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    action: str
    value: dict[str, Any] = field(default_factory=dict)
    style: str = "default"  # default | primary | danger


@dataclass(frozen=True, slots=True)
class Reply:
    kind: ReplyKind
    text: str = ""
    title: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    buttons: tuple[Button, ...] = ()
    image_path: str = ""
    alt_text: str = ""  # the text version of an image (heatmap in Unicode blocks), shown where images are not
    file_path: str = ""  # a FILE reply's document; alt_text then says what is in it

    @staticmethod
    def plain(text: str) -> Reply:
        return Reply(kind=ReplyKind.TEXT, text=text)

    @staticmethod
    def markdown(text: str) -> Reply:
        return Reply(kind=ReplyKind.MARKDOWN, text=text)

    @staticmethod
    def card(title: str, text: str = "", fields=(), buttons=()) -> Reply:
        return Reply(kind=ReplyKind.CARD, title=title, text=text, fields=tuple(fields), buttons=tuple(buttons))

    @staticmethod
    def image(path: str, alt_text: str, title: str = "") -> Reply:
        return Reply(kind=ReplyKind.IMAGE, image_path=path, alt_text=alt_text, title=title)

    @staticmethod
    def file(path: str, alt_text: str, title: str = "") -> Reply:
        return Reply(kind=ReplyKind.FILE, file_path=path, alt_text=alt_text, title=title)

    def to_dict(self) -> dict[str, Any]:
        # by hand, not dataclasses.asdict: this runs for every reply inside the dispatcher's transaction
        return {
            "kind": self.kind.value, "text": self.text, "title": self.title,
            "fields": [[k, v] for k, v in self.fields],
            "buttons": [{"text": b.text, "action": b.action, "value": b.value, "style": b.style} for b in self.buttons],
            "image_path": self.image_path, "alt_text": self.alt_text, "file_path": self.file_path,
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Reply:
        buttons = tuple(Button(**b) for b in data.get("buttons", ()))
        fields = tuple((str(k), str(v)) for k, v in data.get("fields", ()))
        return Reply(
            kind=ReplyKind(data["kind"]),
            text=data.get("text", ""),
            title=data.get("title", ""),
            fields=fields,
            buttons=buttons,
            image_path=data.get("image_path", ""),
            alt_text=data.get("alt_text", ""),
            file_path=data.get("file_path", ""),
        )


@dataclass(frozen=True, slots=True)
class Target:
    """Where a reply goes: a platform plus a user id or a chat id on it. `person_id` is kept for the transcript."""

    platform: str
    user_id: str = ""
    chat_id: str = ""
    person_id: str = ""
    reply_token: str = ""  # e.g. a DingTalk session webhook or a Feishu message id to reply to

    def to_dict(self) -> dict[str, str]:
        return {"platform": self.platform, "user_id": self.user_id, "chat_id": self.chat_id,
                "person_id": self.person_id, "reply_token": self.reply_token}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Target:
        return Target(**{k: str(v) for k, v in data.items()})
