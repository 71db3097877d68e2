"""One path from a decrypted archive record to the inbox, shared by the live puller and `import archive`.

Both call `ingest_record`, so the same record yields the same event and the same inbox key (`wecom`,
`wecom-archive:<msgid>`) whichever way it came in: importing a file the puller already saw stores nothing twice.
External contacts (wo…/wm…) become customers (a `customers` row plus a customer_keys `external_id`) the first time
they are seen, so the directory resolves them as customers from the first message on.
"""

from __future__ import annotations

from typing import Any

from adapters.base import AdapterContext
from adapters.wecom.archive_format import is_external, record_to_event
from bot.errors import UnsupportedEvent
from store import customers as customer_store

PLATFORM = "wecom"
CUSTOMER_PREFIX = "wecom-ext:"


def ensure_customers(ctx: AdapterContext, user_ids: list[str]) -> int:
    """Create customers for external contact ids not seen before; returns how many were created."""
    created = 0
    for uid in user_ids:
        if not uid or not is_external(uid):
            continue
        if customer_store.find_by_key(ctx.store, "external_id", uid) is not None:
            continue
        cid = CUSTOMER_PREFIX + uid
        customer_store.upsert(ctx.store, cid, uid, created_at=ctx.clock.now_ms())
        customer_store.add_key(ctx.store, "external_id", uid, cid)
        created += 1
    return created


def record_key(record: Any) -> str:
    msgid = record.get("msgid") if isinstance(record, dict) else None
    return f"wecom-archive:{msgid}" if isinstance(msgid, str) and msgid else ""


def ingest_record(ctx: AdapterContext, record: dict[str, Any], received_at: int, *, fallback_key: str = "") -> str:
    """Put one record in the inbox: 'new', 'duplicate' or 'unsupported'. Raises BadPayload for a malformed record.

    Call inside `ctx.store.transaction()` when ingesting a batch (one commit per page or file).
    """
    try:
        event = record_to_event(record, received_at)
    except UnsupportedEvent as exc:
        key = record_key(record) or fallback_key
        new = ctx.accept(PLATFORM, key, record, None, unsupported_reason=str(exc))
        return "unsupported" if new else "duplicate"
    ensure_customers(ctx, [event.actor.platform_id, *event.recipients])
    new = ctx.accept(PLATFORM, event.event_id, record, event)
    return "new" if new else "duplicate"
