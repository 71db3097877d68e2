"""Slash-command parsing: `/预测 本季 @张伟` → Command(name="forecast", args=("本季", "@张伟")).

Names and aliases come from prompts/commands/*.toml, so Chinese and English names map to one canonical command.
Full-width slashes and spaces (common with Chinese input methods) are accepted.
"""

from __future__ import annotations

import dataclasses
import shlex

from bot.events import Command, Message
from prompts import command_specs


def alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for name, spec in command_specs().items():
        table[name.lower()] = name
        for alias in spec.get("aliases", ()):
            table[str(alias).lower()] = name
    return table


def chinese_name(name: str) -> str | None:
    """A command's Chinese name: its first alias that is not ASCII ("forecast" → "预测"), None when it has none."""
    return next((str(a) for a in command_specs().get(name, {}).get("aliases", ()) if not str(a).isascii()), None)


def shown_name(name: str, locale: str) -> str:
    """How a usage line names a command for its reader: "/热力图" in zh-CN, "/heatmap" in en."""
    zh = chinese_name(name) if locale != "en" else None
    return "/" + (zh or name)


_ALIASES: dict[str, str] | None = None


def _aliases() -> dict[str, str]:
    global _ALIASES
    if _ALIASES is None:
        _ALIASES = alias_table()
    return _ALIASES


def looks_like_command(text: str) -> bool:
    stripped = text.lstrip()
    return stripped.startswith(("/", "／"))


def split_args(text: str) -> list[str]:
    """Split like a shell (quotes group words) but never fail on an unbalanced quote."""
    text = text.replace("\u3000", " ").replace("“", '"').replace("”", '"')
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def parse(message: Message) -> Command:
    """Turn a message addressed to the bot into a Command; unknown names keep `known=False`."""
    body = message.text.strip().replace("\u3000", " ")
    body = body[1:] if body[:1] in ("/", "／") else body
    parts = split_args(body)
    word = parts[0] if parts else ""
    name = _aliases().get(word.lower())
    base = {f.name: getattr(message, f.name) for f in dataclasses.fields(Command) if hasattr(message, f.name)
            and f.name in ("event_id", "platform", "occurred_at", "received_at", "actor", "conversation_id", "is_group",
                           "reply_token")}
    return Command(**base, name=name or word, args=tuple(parts[1:]), raw=message.text, known=name is not None)
