"""Runs deferred jobs (charts, simulations, transcription) off the event loop and queues their replies.

A job function is registered with `@router.job(name)` and called as `fn(payload, reader)` in a worker thread,
where `reader` is a read-only Store on its own connection. It returns a Reply or a list of Replies; those are
enqueued with idempotency keys "deferred:<id>:<n>" in the same transaction that marks the job done.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any

from bot.context import Services
from bot.replies import Reply
from store import deferred as deferred_store
from store import outbox as outbox_store
from store.db import Store, open_store

log = logging.getLogger("salespulse.deferred")


class DeferredRunner:
    def __init__(self, services: Services, jobs: dict[str, Callable[..., Any]], *, in_thread: bool = True) -> None:
        self.services = services
        self.jobs = jobs
        self.in_thread = in_thread
        self._reader: Store | None = None

    def _read_store(self) -> Store:
        if self.services.store.path == ":memory:":
            return self.services.store
        if self._reader is None:
            self._reader = open_store(self.services.store.path, run_migrations=False)
        return self._reader

    async def run_pending(self) -> int:
        store = self.services.store
        rows = deferred_store.pending(store)
        for row in rows:
            fn = self.jobs.get(row.job)
            try:
                if fn is None:
                    raise LookupError(f"no job function registered for {row.job!r}")
                if self.in_thread:
                    result = await asyncio.to_thread(fn, row.payload, self._read_store())
                else:
                    result = fn(row.payload, self._read_store())
            except Exception as exc:  # one error path: log, mark failed, tell the user briefly
                ref = uuid.uuid4().hex[:8]
                log.exception("deferred job %s (%s) failed, ref %s", row.id, row.job, ref)
                with store.transaction():
                    deferred_store.finish(store, row.id, "failed", f"{type(exc).__name__}: {exc} (ref {ref})")
                    text = self.services.prompts.t("core.internal_error", ref=ref)
                    outbox_store.enqueue(store, f"deferred:{row.id}:error", row.target["platform"], row.target,
                                         Reply.plain(text).to_dict(), self.services.clock.now_ms(), row.source_event_id)
                continue
            replies = result if isinstance(result, list) else [result] if result is not None else []
            with store.transaction():
                for n, reply in enumerate(replies):
                    outbox_store.enqueue(store, f"deferred:{row.id}:{n}", row.target["platform"], row.target,
                                         reply.to_dict(), self.services.clock.now_ms(), row.source_event_id)
                deferred_store.finish(store, row.id, "done")
        return len(rows)

    def close(self) -> None:
        if self._reader is not None and self._reader is not self.services.store:
            self._reader.close()
            self._reader = None
