"""Write bot.toml from the repository's complete commented example, with the wizard's answers filled in.

Why edit the text instead of dumping a dict: bot.toml is the admin's manual (every key, its default and a Chinese
comment); a generated file without the comments would leave them guessing. Each answer replaces only the value on
its `key = …` line inside its [section], so the comment after it stays where it was. The example's sample team and
people (王经理, 张伟) are dropped: a real team's org comes from the platform, and sample people would receive
alerts. The result is loaded back with bot.config before it is written, so a file the bot cannot read is never left
behind.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from bot.config import Config, load_config

TEMPLATE = Path(__file__).resolve().parents[2] / "bot.toml"

_HEADER = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
_ARRAY_HEADER = re.compile(r"^\s*\[\[([^\[\]]+)\]\]\s*(#.*)?$")
_SAMPLE_BLOCKS = ("org.teams", "org.people")


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _value_end(line: str, start: int) -> int:
    """Index just past the value that starts at `start` (a quoted string, or a bare word / number / [array])."""
    if start < len(line) and line[start] == '"':
        i = start + 1
        while i < len(line):
            if line[i] == "\\":
                i += 2
                continue
            if line[i] == '"':
                return i + 1
            i += 1
        return len(line)
    i = start
    depth = 0
    while i < len(line):
        ch = line[i]
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif depth <= 0 and (ch.isspace() or ch == "#"):
            break
        i += 1
    return i


def set_values(text: str, values: dict[str, dict[str, Any]]) -> str:
    """Replace `key = …` in each [section] by the given value, keeping the comment column; every key must exist."""
    lines = text.split("\n")
    section = ""
    todo = {(sec, key) for sec, table in values.items() for key in table}
    for n, line in enumerate(lines):
        header = _HEADER.match(line)
        if header and "=" not in line.split("#", 1)[0]:
            section = header.group(1).strip()
            continue
        if _ARRAY_HEADER.match(line):
            section = ""  # keys under [[…]] belong to the array entry, never to a plain section
            continue
        if section not in values:
            continue
        m = re.match(r"^(\s*)([A-Za-z0-9_]+)(\s*=\s*)", line)
        if not m or m.group(2) not in values[section]:
            continue
        start = m.end()
        end = _value_end(line, start)
        new = toml_value(values[section][m.group(2)])
        rest = line[end:]
        comment_at = len(rest) - len(rest.lstrip(" ")) if rest.strip() else 0
        pad = max(comment_at - (len(new) - (end - start)), 1) if rest.strip() else 0
        lines[n] = line[:start] + new + " " * pad + rest.lstrip(" ")
        todo.discard((section, m.group(2)))
    if todo:
        raise KeyError(f"bot.toml template lacks {sorted(todo)}")
    return "\n".join(lines)


def drop_sample_org(text: str, note: str) -> str:
    """Remove the example's [[org.teams]] / [[org.people]] entries (each runs to the next blank line) and put
    `note` (comment lines) where the first one was."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    noted = False
    while i < len(lines):
        m = _ARRAY_HEADER.match(lines[i])
        if m and m.group(1).strip() in _SAMPLE_BLOCKS:
            if not noted:
                out.extend(note.rstrip("\n").split("\n"))
                out.append("")
                noted = True
            while i < len(lines) and lines[i].strip():
                i += 1
            i += 1  # the blank line after the entry
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def render(values: dict[str, dict[str, Any]], org_note: str, template: Path = TEMPLATE) -> str:
    return set_values(drop_sample_org(template.read_text(encoding="utf-8"), org_note), values)


def write(path: Path, text: str) -> Config:
    """Check the text loads as a Config, then write it readable by its owner only (it holds secrets)."""
    tmp = path.with_name(f".{path.name}.init-tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        os.chmod(tmp, 0o600)
        load_config(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return load_config(path)
