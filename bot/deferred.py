"""Runs deferred jobs (charts, simulations, transcription) off the event loop and queues their results.

A job function is registered with `@router.job(name)` and called as `fn(payload, reader)` in a worker thread,
where `reader` is a read-only Store on its own connection. It returns a Reply, an Event, or a list of them. Replies
are enqueued with idempotency keys "deferred:<id>:<n>"; events go into the inbox under their own event_id (so a job
that runs twice — a retry, a crash before COMMIT — still produces each event once) and are then dispatched like
anything a platform sent; both happen in the same transaction that marks the job done.

`@router.job(name, context=True)` gets `fn(payload, JobContext)` instead and may be a coroutine function: it can
await I/O on the loop (a platform download) and push blocking work to its lane's threads with `jctx.offload(...)`.

Lanes: `@router.job(name, lane="speech")` runs in a lane of its own with a bounded number of jobs in flight and
its own worker threads. While serving, a lane's jobs run as supervised background tasks, so a queue of voice notes
never holds up the dispatcher (other chats' commands) or HTTP acks; what does not fit stays pending in SQLite, which
is the unbounded, crash-safe part of the queue. Jobs in the main lane run one after another, as before. In
`step()` (demo, replay, tests) every started job is awaited, so virtual time stays deterministic.

A job that raises (or returns something that is neither a Reply nor an Event) is tried again after a short delay,
up to MAX_ATTEMPTS times; then it is marked `failed` and its requester gets the short error reply with a log
reference. The delay is kept in memory only: after a restart a waiting job simply runs at once.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bot.context import Services
from bot.events import Event
from bot.replies import Reply
from bot.router import MAIN_LANE, JobSpec
from store import deferred as deferred_store
from store import inbox as inbox_store
from store import outbox as outbox_store
from store.db import Store, open_store

log = logging.getLogger("salespulse.deferred")

MAX_ATTEMPTS = 3  # a transient failure (a chart backend, a file that is not there yet) gets two more chances
RETRY_DELAY_MS = 5_000  # before the 2nd attempt; doubled before each later one
MAIN = MAIN_LANE


@dataclass(frozen=True, slots=True)
class LaneLimits:
    workers: int = 1  # threads doing the blocking part
    in_flight: int = 4  # jobs taken from SQLite at once (the bounded in-memory queue)


@dataclass
class JobContext:
    """What a context job gets: the services, a read-only store, its attempt number and a way off the loop."""

    services: Services
    reader: Store
    job_id: int
    attempt: int  # 1-based
    final: bool  # the last attempt: turn failures into a result instead of raising
    target: dict
    source_event_id: str
    _offload: Callable[..., Any] = field(repr=False, default=None)

    async def offload(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run blocking `fn(*args)` in the lane's worker threads (inline when the runner runs without threads)."""
        return await self._offload(fn, *args)


class _Lane:
    def __init__(self, name: str, limits: LaneLimits) -> None:
        self.name = name
        self.limits = limits
        self.tasks: dict[int, asyncio.Task] = {}
        self._executor: ThreadPoolExecutor | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=max(1, self.limits.workers),
                                                thread_name_prefix=f"lane-{self.name or 'main'}")
        return self._executor

    def full(self) -> bool:
        return len(self.tasks) >= max(1, self.limits.in_flight)

    def close(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def as_spec(job: Callable[..., Any] | JobSpec) -> JobSpec:
    return job if isinstance(job, JobSpec) else JobSpec(job)


class DeferredRunner:
    def __init__(self, services: Services, jobs: dict[str, Callable[..., Any] | JobSpec], *, in_thread: bool = True,
                 lanes: dict[str, LaneLimits] | None = None, on_events: Callable[[], None] | None = None) -> None:
        self.services = services
        self.jobs = {name: as_spec(job) for name, job in jobs.items()}
        self.in_thread = in_thread
        self.lane_limits = dict(lanes or {})
        self.on_events = on_events or (lambda: None)
        self._readers: dict[str, Store] = {}
        self._lanes: dict[str, _Lane] = {}
        self._not_before: dict[int, int] = {}  # job id → earliest time of its next attempt (after a failure)

    def _read_store(self, lane: str = MAIN) -> Store:
        if self.services.store.path == ":memory:":
            return self.services.store
        reader = self._readers.get(lane)
        if reader is None:  # one connection per lane: lanes' threads run at the same time
            reader = open_store(self.services.store.path, run_migrations=False)
            self._readers[lane] = reader
        return reader

    def _lane(self, name: str) -> _Lane:
        lane = self._lanes.get(name)
        if lane is None:
            lane = _Lane(name, self.lane_limits.get(name, LaneLimits()))
            self._lanes[name] = lane
        return lane

    def in_flight(self) -> int:
        return sum(len(lane.tasks) for lane in self._lanes.values())

    async def run_pending(self, wait: bool = True) -> int:
        """Run (or start, for background lanes) the pending jobs that are due; returns how many ran or started.

        `wait`: also wait for the background jobs in flight (step(): demo, replay, tests); the serve loop passes
        False and is woken when a background job has finished."""
        store = self.services.store
        now = self.services.clock.now_ms()
        busy = {job_id for lane in self._lanes.values() for job_id in lane.tasks}
        waiting = tuple(job_id for job_id, at in self._not_before.items() if at > now) + tuple(busy)
        full_lanes = {name for name, lane in self._lanes.items() if lane.full()} if self.in_thread else set()
        skip_jobs = tuple(name for name, spec in self.jobs.items() if spec.lane in full_lanes)
        rows = deferred_store.pending(store, skip=waiting, skip_jobs=skip_jobs)
        started = 0
        for row in rows:
            spec = self.jobs.get(row.job)
            if spec is not None and spec.lane != MAIN and self.in_thread:
                lane = self._lane(spec.lane)
                if lane.full():
                    continue
                task = asyncio.get_running_loop().create_task(self._run(row, spec), name=f"job-{row.id}")
                lane.tasks[row.id] = task
                task.add_done_callback(lambda t, lane=lane, job_id=row.id: self._settled(lane, job_id, t))
            else:
                await self._run(row, spec)
            started += 1
        if wait:
            await self.wait_idle()
        return started

    def _settled(self, lane: _Lane, job_id: int, task: asyncio.Task) -> None:
        lane.tasks.pop(job_id, None)
        if not task.cancelled() and task.exception() is not None:  # _run handles everything; this is a bug
            log.error("background job %s crashed", job_id, exc_info=task.exception())
        self.on_events()  # its results (or a free slot in the lane) are work for the runtime loop

    async def wait_idle(self) -> None:
        """Wait until no background job is in flight."""
        while True:
            tasks = [t for lane in self._lanes.values() for t in lane.tasks.values()]
            if not tasks:
                return
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, row: deferred_store.DeferredRow, spec: JobSpec | None) -> None:
        store = self.services.store
        try:
            if spec is None:
                raise LookupError(f"no job function registered for {row.job!r}")
            result = await self._call(row, spec)
            items = result if isinstance(result, list) else [result] if result is not None else []
            replies: list[Reply] = []
            events: list[Event] = []
            for item in items:
                if isinstance(item, Reply):
                    replies.append(item)
                elif isinstance(item, Event):
                    events.append(item)
                else:
                    raise TypeError(f"job {row.job!r} returned {type(item).__name__}, not a Reply or an Event")
            now = self.services.clock.now_ms()
            with store.transaction():
                for n, reply in enumerate(replies):
                    outbox_store.enqueue(store, f"deferred:{row.id}:{n}", row.target["platform"], row.target,
                                         reply.to_dict(), now, row.source_event_id)
                for event in events:
                    inbox_store.accept(store, event.platform, event.event_id, {"deferred": row.id, "job": row.job},
                                       event.to_dict(), now, handoff=event)
                deferred_store.finish(store, row.id, "done")
        except Exception as exc:  # one error path: log, retry a few times, then mark failed and tell the user
            self._failed(row, exc)
            return
        self._not_before.pop(row.id, None)
        if events:
            self.on_events()

    async def _call(self, row: deferred_store.DeferredRow, spec: JobSpec) -> Any:
        lane = self._lane(spec.lane) if spec.lane != MAIN else None
        reader = self._read_store(spec.lane)
        threaded = self.in_thread

        async def offload(fn: Callable[..., Any], *args: Any) -> Any:
            if not threaded:
                return fn(*args)
            if lane is None:
                return await asyncio.to_thread(fn, *args)
            return await asyncio.get_running_loop().run_in_executor(lane.executor, fn, *args)

        if spec.context:
            jctx = JobContext(self.services, reader, row.id, row.attempts + 1, row.attempts + 1 >= MAX_ATTEMPTS,
                              row.target, row.source_event_id, offload)
            result = spec.fn(row.payload, jctx)
            return await result if inspect.isawaitable(result) else result
        return await offload(spec.fn, row.payload, reader)

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
        for lane in self._lanes.values():
            lane.close()
        self._lanes.clear()
        for reader in self._readers.values():
            if reader is not self.services.store:
                reader.close()
        self._readers.clear()
