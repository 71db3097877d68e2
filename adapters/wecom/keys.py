"""Button keys: a Button's action and value packed into a WeCom template_card button `key`, and back.

The common card contract says a press arrives as CardAction(action=Button.action, value=Button.value) on every
platform, so the key must carry both. Compact and reversible: `action` alone when the value is empty, otherwise
`action|{"compact":"json"}` (sorted keys, no spaces, UTF-8). WeCom caps a key at 1024 bytes; anything longer (or an
action that itself contains `|` or starts with `#`) becomes `#<digest>` and the button is kept in the store.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.errors import BadPayload

MAX_KEY_BYTES = 1024
SEP = "|"
DIGEST_PREFIX = "#"


def _compact(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def encode(action: str, value: dict[str, Any]) -> tuple[str, bool]:
    """(key, inline). When `inline` is False the caller must store (digest key → action, value)."""
    inline = action + (SEP + _compact(value) if value else "")
    if (SEP not in action and not action.startswith(DIGEST_PREFIX) and action
            and len(inline.encode("utf-8")) <= MAX_KEY_BYTES):
        return inline, True
    digest = hashlib.sha1((action + "\x00" + _compact(value)).encode("utf-8")).hexdigest()[:32]
    return DIGEST_PREFIX + digest, False


def decode(key: str) -> tuple[str, dict[str, Any]] | str:
    """(action, value) for an inline key; the digest string when it must be looked up in the store."""
    if not key:
        raise BadPayload("empty button key")
    if key.startswith(DIGEST_PREFIX):
        return key
    action, sep, rest = key.partition(SEP)
    if not sep:
        return action, {}
    try:
        value = json.loads(rest)
    except (ValueError, RecursionError):
        raise BadPayload("button key value is not JSON") from None
    if not isinstance(value, dict):
        raise BadPayload("button key value is not an object")
    return action, value
