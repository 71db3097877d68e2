"""Runs deferred jobs (charts, simulations, transcription) off the event loop and queues their replies.

A job function is registered with `@router.job(name)` and called as `fn(payload, reader)` in a worker thread,
where `reader` is a read-only Store on its own connection (a function marked `needs_services = True` gets the
Services too, e.g. to reach the platform media downloaders; it still writes nothing but new inbox rows). It returns a Reply or a list of Replies; those are
enqueued with idempotency keys "deferred:<id>:<n>" in the same transaction that marks the job done.

A job that raises (or returns something that is not a Reply) is tried again after a short delay, up to
MAX_ATTEMPTS times; then it is marked `failed` and its requester gets the short error reply with a log reference.
The delay is kept in memory only: after a restart a waiting job simply runs at once.
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

MAX_ATTEMPTS = 3  # a transient failure (a chart backend, a file that is not there yet) gets two more chances
RETRY_DELAY_MS = 5_000  # before the 2nd attempt; doubled before each later one


class DeferredRunner:
    def __init__(self, services: Services, jobs: dict[str, Callable[..., Any]], *, in_thread: bool = True) -> None:
        self.services = services
        self.jobs = jobs
        self.in_thread = in_thread
        self._reader: Store | None = None
        self._not_before: dict[int, int] = {}  # job id → earliest time of its next attempt (after a failure)

    def _read_store(self) -> Store:
        if self.services.store.path == ":memory:":
            return self.services.store
        if self._reader is None:
            self._reader = open_store(self.services.store.path, run_migrations=False)
        return self._reader

    async def run_pending(self) -> int:
        """Run the pending jobs that are due; returns how many ran (jobs waiting out a retry delay do not count)."""
        store = self.services.store
        now = self.services.clock.now_ms()
        waiting = tuple(job_id for job_id, at in self._not_before.items() if at > now)
        rows = deferred_store.pending(store, skip=waiting)
        for row in rows:
            fn = self.jobs.get(row.job)
            try:
                if fn is None:
                    raise LookupError(f"no job function registered for {row.job!r}")
                args = (row.payload, self._read_store())
                if getattr(fn, "needs_services", False):
                    args = (*args, self.services)
                if self.in_thread:
                    result = await asyncio.to_thread(fn, *args)
                else:
                    result = fn(*args)
                replies = result if isinstance(result, list) else [result] if result is not None else []
                for reply in replies:
                    if not isinstance(reply, Reply):
                        raise TypeError(f"job {row.job!r} returned {type(reply).__name__}, not a Reply")
                with store.transaction():
                    for n, reply in enumerate(replies):
                        outbox_store.enqueue(store, f"deferred:{row.id}:{n}", row.target["platform"], row.target,
                                             reply.to_dict(), self.services.clock.now_ms(), row.source_event_id)
                    deferred_store.finish(store, row.id, "done")
            except Exception as exc:  # one error path: log, retry a few times, then mark failed and tell the user
                self._failed(row, exc)
                continue
            self._not_before.pop(row.id, None)
        return len(rows)

    def _failed(self, row: deferred_store.DeferredRow, exc: Exception) -> None:
        store = self.services.store
        ref = uuid.uuid4().hex[:8]
        error = f"{type(exc).__name__}: {exc} (ref {ref})"
        if row.attempts + 1 < MAX_ATTEMPTS:
            log.warning("deferred job %s (%s) failed on attempt %d, will retry (ref %s)", row.id, row.job,
                        row.attempts + 1, ref, exc_info=exc)
            with store.transaction():
                deferred_store.retry(store, row.id, error)
            self._not_before[row.id] = self.services.clock.now_ms() + RETRY_DELAY_MS * 2 ** row.attempts
            return
        log.error("deferred job %s (%s) failed after %d attempts, ref %s", row.id, row.job, row.attempts + 1, ref,
                  exc_info=exc)
        self._not_before.pop(row.id, None)
        with store.transaction():
            deferred_store.finish(store, row.id, "failed", error)
            text = self.services.prompts.t("core.internal_error", ref=ref)
            outbox_store.enqueue(store, f"deferred:{row.id}:error", row.target.get("platform", "console"), row.target,
                                 Reply.plain(text).to_dict(), self.services.clock.now_ms(), row.source_event_id)

    def close(self) -> None:
        if self._reader is not None and self._reader is not self.services.store:
            self._reader.close()
            self._reader = None
