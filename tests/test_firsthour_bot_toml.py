"""bot.toml reads in Chinese (issue 13, defect 14): every comment an admin reads has Chinese in it, with the English
key name kept (`# hours：沉默阈值`), except commented-out example lines. New sections from other capabilities are held
to the same rule, so the file stays Chinese as it grows."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.config import load_config

BOT_TOML = Path(__file__).resolve().parents[1] / "bot.toml"
CJK = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")  # Chinese characters and full-width punctuation
EXAMPLE = re.compile(r"^#\s*((\"[^\"]+\"|[A-Za-z_][A-Za-z0-9_]*)\s*=|\[\[?[A-Za-z_.]+\]\]?$)")  # a commented-out example entry: # "8001" = "zhangwei"


def _comments(text: str) -> list[tuple[int, str]]:
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        in_string = False
        for i, ch in enumerate(line):
            if ch == '"':
                in_string = not in_string
            elif ch == "#" and not in_string:
                out.append((number, line[i:].strip()))
                break
    return out


def test_every_comment_is_chinese():
    english = [(n, c) for n, c in _comments(BOT_TOML.read_text(encoding="utf-8"))
               if len(c) > 3 and not CJK.search(c) and not EXAMPLE.match(c)]
    assert english == [], english


def test_the_sample_is_still_the_defaults_it_claims():
    assert tomllib.loads(BOT_TOML.read_text(encoding="utf-8"))["bot"]["locale"] == "zh-CN"
    load_config(BOT_TOML)  # every key known, every type right
