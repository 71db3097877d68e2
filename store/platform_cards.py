"""Cards sent on DingTalk / Feishu: the Reply we rendered, keyed by the platform's card reference.

Why: a press comes back with only a button id (DingTalk) or the value we attached (Feishu); keeping the Reply lets
us map the press to its Button and re-render the card (pressed state) when updating it.
"""

from __future__ import annotations

import json

from store.db import Store


def remember(store: Store, platform: str, card_ref: str, target: dict, reply: dict, now_ms: int) -> None:
    store.conn.execute(
        "INSERT INTO platform_cards (platform, card_ref, target, reply, created_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (platform, card_ref) DO UPDATE SET reply = excluded.reply, updated_at = excluded.created_at",
        (platform, card_ref, json.dumps(target, ensure_ascii=False), json.dumps(reply, ensure_ascii=False), now_ms),
    )


def lookup(store: Store, platform: str, card_ref: str) -> tuple[dict, dict] | None:
    """(target, reply) of a card we sent, or None."""
    row = store.conn.execute(
        "SELECT target, reply FROM platform_cards WHERE platform = ? AND card_ref = ?", (platform, card_ref)
    ).fetchone()
    return (json.loads(row[0]), json.loads(row[1])) if row else None
