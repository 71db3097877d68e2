"""Hostile-input guards every inbound route shares: one bounded JSON parse and one bounded integer parse.

Why: `json.loads` of 200,000 `[` raises RecursionError (not ValueError), a validly signed body nested 900 levels deep
parses but then breaks whatever walks it next (json.dumps for the inbox, an SDK's from_dict), and `int()` of a
5,000-digit header raises ValueError past Python's digit limit. Each of these was an HTTP 500. Here every one of
them is a BadPayload (→ a short 4xx), decided before the expensive step runs.

The depth check is linear and vectorised (numpy, ~20 ms for a 1 MiB body, nothing for a body with few
brackets): escaped backslashes and quotes are removed, a running count of quotes marks what is inside strings, and
the running sum of +1 per `[`/`{` and -1 per `]`/`}` outside strings is the depth.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from bot.errors import BadPayload

MAX_DEPTH = 32  # real platform payloads nest ≤ 8 levels; nested JSON strings (card content) are checked again
MAX_INT_DIGITS = 19  # a millisecond timestamp has 13; anything longer is not a time we accept

_STEP = np.zeros(256, dtype=np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1
_QUOTE = ord('"')


def json_depth(raw: bytes) -> int:
    """How deeply arrays/objects nest in `raw` (brackets inside strings do not count)."""
    clean = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    codes = np.frombuffer(clean, dtype=np.uint8)
    steps = _STEP[codes]
    if _QUOTE in clean:
        steps = steps * ((np.cumsum(codes == _QUOTE, dtype=np.int32) & 1) == 0)
    return int(np.cumsum(steps, dtype=np.int32).max(initial=0))


def json_depth_ok(raw: bytes, max_depth: int = MAX_DEPTH) -> bool:
    """True when no array/object in `raw` nests deeper than `max_depth`."""
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return True
    return json_depth(raw) <= max_depth


def loads(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """json.loads for untrusted input: BadPayload for anything but well-formed, UTF-8, ≤ max_depth JSON."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if not json_depth_ok(data, max_depth):
        raise BadPayload("JSON nested too deeply")
    try:
        return json.loads(data, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):  # JSONDecodeError is a ValueError
        raise BadPayload("malformed JSON") from None


def _no_constant(name: str) -> Any:
    """NaN / Infinity are not JSON; accepted, they become floats that make int() raise OverflowError downstream."""
    raise ValueError(f"{name} is not JSON")


def loads_object(raw: bytes | str, max_depth: int = MAX_DEPTH) -> dict:
    out = loads(raw, max_depth)
    if not isinstance(out, dict):
        raise BadPayload("JSON object expected")
    return out


def check_xml(raw: bytes | str, max_tags: int) -> None:
    """BadPayload for XML we never accept: a DTD (entity expansion) or more than `max_tags` tags. Why: WeCom's
    callbacks are flat (the outer envelope has 4 elements, a message a few dozen), and xmltodict needs seconds — on
    the event loop — for 100,000 nested elements."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if b"<!" in data.replace(b"<![CDATA[", b""):
        raise BadPayload("XML with a DTD or comment")
    if data.count(b"<") > 2 * max_tags:
        raise BadPayload("XML with too many elements")


def digits(value: str | None, max_digits: int = MAX_INT_DIGITS) -> int | None:
    """An ASCII decimal of at most `max_digits` digits as int, else None (never int()'s ValueError)."""
    if not value or len(value) > max_digits or not (value.isascii() and value.isdigit()):
        return None
    return int(value)
