"""Routers: handlers register per event type with composable filters (in the manner of aiogram 3).

Two kinds of registration:
- `@router.observe(EventType, *filters)`: every matching observer runs, in the order routers are listed in
  bot/app.py. Observers record facts (store the event, tag it, touch the lead).
- `@router.on(EventType, *filters)` / `@router.command("forecast")`: the first match wins; it answers.

A filter is a callable `(event, ctx) -> bool | dict | None`. A dict both passes and hands its items to the
handler as keyword arguments (e.g. a command filter can hand over the parsed arguments). Filters compose with
`&`, `|` and `~` once wrapped in `F(...)`.

Handlers are synchronous: they run inside the dispatcher's transaction, so they must not wait on anything slow.
Heavy work (charts, simulations, speech recognition) goes through `ctx.defer(job, payload)` and a job function
registered with `@router.job("name")`, which runs off the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.events import Command, Event, Message, Role

FilterFn = Callable[[Event, Any], Any]
Handler = Callable[..., Any]


class F:
    """Wrap a filter callable so it composes: `F(is_role(Role.MANAGER)) | F(is_admin)`."""

    def __init__(self, fn: FilterFn) -> None:
        self.fn = fn

    def __call__(self, event: Event, ctx: Any) -> Any:
        return self.fn(event, ctx)

    def __and__(self, other: FilterFn) -> F:
        def both(event: Event, ctx: Any) -> Any:
            a = self.fn(event, ctx)
            if not a:
                return False
            b = other(event, ctx)
            if not b:
                return False
            merged: dict[str, Any] = {}
            for r in (a, b):
                if isinstance(r, dict):
                    merged.update(r)
            return merged or True

        return F(both)

    def __or__(self, other: FilterFn) -> F:
        return F(lambda event, ctx: self.fn(event, ctx) or other(event, ctx))

    def __invert__(self) -> F:
        return F(lambda event, ctx: not self.fn(event, ctx))


def role_is(*roles: Role) -> F:
    wanted = frozenset(roles)
    return F(lambda event, ctx: event.actor.role in wanted)


def from_admin() -> F:
    return F(lambda event, ctx: event.actor.is_admin)


def text_contains(*needles: str) -> F:
    return F(lambda event, ctx: isinstance(event, Message) and any(n in event.searchable_text for n in needles))


def to_bot() -> F:
    return F(lambda event, ctx: isinstance(event, Message) and event.to_bot)


def command_is(*names: str) -> F:
    wanted = frozenset(names)

    def check(event: Event, ctx: Any) -> Any:
        if isinstance(event, Command) and event.known and event.name in wanted:
            return {"args": event.args}
        return False

    return F(check)


MAIN_LANE = ""


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A deferred job function and how it runs (bot/deferred.py): its lane, and whether it gets a JobContext."""

    fn: Callable[..., Any]
    lane: str = MAIN_LANE
    context: bool = False  # fn(payload, JobContext), possibly async, instead of fn(payload, reader)


@dataclass(frozen=True, slots=True)
class _Entry:
    event_type: type[Event]
    filters: tuple[FilterFn, ...]
    handler: Handler


def _match(entry: _Entry, event: Event, ctx: Any) -> dict[str, Any] | None:
    if not isinstance(event, entry.event_type):
        return None
    data: dict[str, Any] = {}
    for flt in entry.filters:
        result = flt(event, ctx)
        if not result:
            return None
        if isinstance(result, dict):
            data.update(result)
    return data


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self._observers: list[_Entry] = []
        self._handlers: list[_Entry] = []
        self._children: list[Router] = []
        self.jobs: dict[str, JobSpec] = {}

    # -- registration
    def observe(self, event_type: type[Event], *filters: FilterFn) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self._observers.append(_Entry(event_type, filters, fn))
            return fn

        return deco

    def on(self, event_type: type[Event], *filters: FilterFn) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self._handlers.append(_Entry(event_type, filters, fn))
            return fn

        return deco

    def command(self, *names: str, filters: tuple[FilterFn, ...] = ()) -> Callable[[Handler], Handler]:
        return self.on(Command, command_is(*names), *filters)

    def job(self, name: str, *, lane: str = MAIN_LANE, context: bool = False) -> Callable[[Handler], Handler]:
        """A deferred job. `lane`: run in that lane's own bounded worker (e.g. "speech"), not after the other jobs;
        `context`: the function gets (payload, JobContext) and may be async (see bot/deferred.py)."""

        def deco(fn: Handler) -> Handler:
            self.jobs[name] = JobSpec(fn, lane, context)
            return fn

        return deco

    def include(self, *routers: Router) -> Router:
        for r in routers:
            if r is self or r in self._children:
                raise ValueError(f"router {r.name} included twice")
            self._children.append(r)
        return self

    # -- lookup (flattened once; the tree does not change after start-up)
    def _walk(self) -> list[Router]:
        out = [self]
        for child in self._children:
            out.extend(child._walk())
        return out

    def compile(self) -> CompiledRouter:
        routers = self._walk()
        jobs: dict[str, JobSpec] = {}
        for r in routers:
            for name, fn in r.jobs.items():
                if name in jobs:
                    raise ValueError(f"job {name!r} registered twice")
                jobs[name] = fn
        return CompiledRouter(
            observers=[e for r in routers for e in r._observers],
            handlers=[e for r in routers for e in r._handlers],
            jobs=jobs,
        )


class CompiledRouter:
    """The flattened router tree, with per-event-type lists so dispatch skips what cannot match."""

    def __init__(self, observers: list[_Entry], handlers: list[_Entry], jobs: dict[str, JobSpec]) -> None:
        self._observers = observers
        self._handlers = handlers
        self.jobs = jobs
        self._by_type: dict[type, tuple[list[_Entry], list[_Entry]]] = {}

    def _for(self, event_type: type) -> tuple[list[_Entry], list[_Entry]]:
        lists = self._by_type.get(event_type)
        if lists is None:
            lists = (
                [e for e in self._observers if issubclass(event_type, e.event_type)],
                [e for e in self._handlers if issubclass(event_type, e.event_type)],
            )
            self._by_type[event_type] = lists
        return lists

    def dispatch(self, event: Event, ctx: Any) -> bool:
        """Run all matching observers, then the first matching handler. True if a handler answered."""
        observers, handlers = self._for(type(event))
        for entry in observers:
            data = _match(entry, event, ctx)
            if data is not None:
                entry.handler(event, ctx, **data)
        for entry in handlers:
            data = _match(entry, event, ctx)
            if data is not None:
                entry.handler(event, ctx, **data)
                return True
        return False
