"""What a handler gets besides the event: the store, config, clock, directory, texts, and ways to answer.

Replies are never sent from a handler: `reply`, `notify` and `defer` write outbox / deferred rows inside the
dispatcher's transaction, each with an idempotency key derived from the event, so a replay after a crash
re-creates the same keys and nothing goes out twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot import pushes
from bot.clock import Clock
from bot.config import Config
from bot.events import Event
from bot.org import Directory
from bot.replies import Reply, Target
from prompts import Prompts
from store import deferred as deferred_store
from store import org as org_store
from store import outbox as outbox_store
from store import pushes as push_store
from store.db import Store

REPLYABLE_PLATFORMS = ("wecom", "dingtalk", "feishu", "console")


@dataclass
class Services:
    """Long-lived things shared by every context (built once in bot/app.py)."""

    store: Store
    config: Config
    clock: Clock
    directory: Directory
    prompts: Prompts
    extras: dict[str, Any] = field(default_factory=dict)  # capability singletons (rule engine, link signer, …)


class Context:
    def __init__(self, services: Services, event: Event | None) -> None:
        self.services = services
        self.event = event
        self._n = 0
        self._pushes: dict[str, list[pushes.Push]] | None = None  # person → alerts, while grouping (bot/pushes.py)

    # -- shortcuts
    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def directory(self) -> Directory:
        return self.services.directory

    @property
    def prompts(self) -> Prompts:
        return self.services.prompts

    def t(self, key: str, **values: Any) -> str:
        return self.services.prompts.t(key, **values)

    def extra(self, name: str) -> Any:
        return self.services.extras[name]

    # -- addressing
    def origin_target(self) -> Target:
        """Where an answer to the current event goes: its chat, or the sender in a 1:1 chat."""
        ev = self.event
        assert ev is not None
        token = getattr(ev, "reply_token", "")
        if ev.platform not in REPLYABLE_PLATFORMS:
            return self.person_target(ev.actor.person_id or ev.actor.platform_id)
        if ev.is_group and ev.conversation_id:
            return Target(platform=ev.platform, chat_id=ev.conversation_id, person_id=ev.actor.person_id,
                          reply_token=token)
        return Target(platform=ev.platform, user_id=ev.actor.platform_id, person_id=ev.actor.person_id,
                      reply_token=token)

    def person_target(self, person_id: str) -> Target:
        """A person's address on the first enabled platform where we know them; the console otherwise."""
        known = dict(org_store.identities_of(self.store, person_id))
        for platform in self.config.enabled_platforms():
            if platform in known:
                return Target(platform=platform, user_id=known[platform], person_id=person_id)
        return Target(platform="console", user_id=person_id, person_id=person_id)

    # -- answering
    def _key(self, suffix: str) -> str:
        self._n += 1
        base = self.event.event_id if self.event else "system"
        return f"{base}:{suffix or 'r'}:{self._n}"

    def send(self, target: Target, reply: Reply, key: str) -> bool:
        """Queue `reply` for `target` under idempotency `key`; False when that key was already queued."""
        return outbox_store.enqueue(self.store, key, target.platform, target.to_dict(), reply.to_dict(),
                                    self.clock.now_ms(), self.event.event_id if self.event else "")

    def reply(self, reply: Reply | str, suffix: str = "") -> None:
        if isinstance(reply, str):
            reply = Reply.plain(reply)
        self.send(self.origin_target(), reply, self._key(suffix))

    def notify(self, person_id: str, reply: Reply | str, key: str) -> bool:
        """Tell a person something not in answer to them (alerts). `key` must identify the alert, not the event.

        Goes through the alert budget (bot/pushes.py): grouped with the person's other alerts of this event when
        the dispatcher groups, held for the digest when over [alerts] max_pushes_per_hour. False when this alert
        was already pushed or held (a replay, a second sweep)."""
        if isinstance(reply, str):
            reply = Reply.plain(reply)
        push = pushes.Push(f"{key}:{person_id}", reply)
        if self._pushes is None:
            return pushes.deliver(self, person_id, [push]) > 0
        mine = self._pushes.setdefault(person_id, [])
        if any(p.key == push.key for p in mine) or push_store.known(self.store, [push.key]):
            return False
        mine.append(push)
        return True

    def group_pushes(self) -> None:
        """From now on hold this event's alerts back until flush_pushes(), to send one card per person."""
        if self._pushes is None:
            self._pushes = {}

    def flush_pushes(self) -> None:
        """Send what was grouped since group_pushes(): one card per person."""
        grouped, self._pushes = self._pushes, None
        for person_id, items in (grouped or {}).items():
            pushes.deliver(self, person_id, items)

    def defer(self, job: str, payload: dict[str, Any], target: Target | None = None) -> int:
        """Ask for heavy work off the event loop; the job's replies go to `target` (default: the origin)."""
        target = target or self.origin_target()
        return deferred_store.add(self.store, job, payload, target.to_dict(),
                                  self.event.event_id if self.event else "", self.clock.now_ms())
