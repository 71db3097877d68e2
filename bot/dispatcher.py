"""The dispatcher: takes pending inbox rows in order, normalises and enriches them, routes them, and marks each
row done in the same transaction as the facts and replies it produced.

A batch is one transaction; each row inside it is a savepoint, so one bad row is rolled back and marked `failed`
(with a short reply to the user and a log line carrying a reference) while the rest of the batch commits.
A crash anywhere before COMMIT leaves every row of the batch pending: it is simply processed again.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter

from bot import commands, crashpoints
from bot.context import Context, Services
from bot.errors import BadPayload, UnsupportedEvent, UserInputError
from bot.events import EVENT_TYPES, Command, Event, Message, event_from_dict
from bot.replies import Reply
from bot.router import CompiledRouter
from store import inbox as inbox_store

log = logging.getLogger("salespulse.dispatcher")


def normalise(event: Event) -> Event:
    """Messages to the bot that start with a slash become Commands (Chinese and English names alike)."""
    if isinstance(event, Message) and event.to_bot and commands.looks_like_command(event.text):
        return commands.parse(event)
    return event


class Dispatcher:
    def __init__(self, services: Services, router: CompiledRouter, batch: int | None = None) -> None:
        self.services = services
        self.router = router
        self.batch = batch or services.config.bot.dispatch_batch
        self.processed = 0
        self.failed = 0
        self.by_type: Counter[tuple[str, str]] = Counter()  # (platform, event type) → rows dispatched (/metrics)

    def process_pending(self, limit: int | None = None) -> int:
        """Process up to one batch of pending rows; returns how many rows were handled."""
        store = self.services.store
        rows = inbox_store.pending(store, limit or self.batch)
        if not rows:
            return 0
        now = self.services.clock.now_ms
        directory = self.services.directory
        done: list[int] = []
        with store.transaction():
            for row in rows:
                event: Event | None = None  # never the previous row's event in the error paths below
                try:
                    with store.transaction():
                        if row.event is None:
                            raise UnsupportedEvent("no normalised event")
                        handed = inbox_store.take_handoff(store, row)
                        if isinstance(handed, Event):  # accepted by this process: the object, not its JSON
                            actor = directory.resolve(handed.platform, handed.actor)
                            event = normalise(handed if actor is handed.actor else handed.with_actor(actor))
                        else:
                            data = json.loads(row.event)
                            if not isinstance(data, dict) or data.get("type") not in EVENT_TYPES:
                                # written by a newer version or another tool: keep it visible, do not fail the loop
                                kind = data.get("type") if isinstance(data, dict) else type(data).__name__
                                raise UnsupportedEvent(f"unknown event type: {kind!r}")
                            event = normalise(event_from_dict(data, directory.resolve))
                        if event.__class__ is not Message or event.to_bot:
                            # Observers of chat messages may defer writes (store.later); everything else (commands,
                            # ticks, calls, …) may read what they wrote, so it sees them first.
                            store.flush()
                        ctx = Context(self.services, event)
                        ctx.group_pushes()  # one card per person per event (a sweep's alerts), bot/pushes.py
                        self.router.dispatch(event, ctx)
                        ctx.flush_pushes()
                        self.by_type[(event.platform, event.type_name)] += 1
                    done.append(row.id)
                except UserInputError as exc:
                    # The row's savepoint rolled back what its handlers wrote; the user gets the explanation.
                    self._answer(event, row, Reply.plain(str(exc)), "input-error")
                    done.append(row.id)
                except UnsupportedEvent as exc:
                    inbox_store.mark(store, row.id, "unsupported", str(exc), now())
                except (BadPayload, json.JSONDecodeError) as exc:
                    self.failed += 1
                    inbox_store.mark(store, row.id, "failed", f"bad payload: {exc}", now())
                except Exception as exc:  # the one error path: log with a reference, tell the user briefly
                    self.failed += 1
                    ref = uuid.uuid4().hex[:8]
                    log.exception("handler failed on inbox row %s (ref %s)", row.id, ref)
                    inbox_store.mark(store, row.id, "failed", f"{type(exc).__name__}: {exc} (ref {ref})", now())
                    self._apologise(event, row, ref)
            inbox_store.mark_done(store, done, now())
        self.processed += len(done)
        crashpoints.reached("dispatch.batch")
        return len(rows)

    def _apologise(self, event: Event | None, row: inbox_store.InboxRow, ref: str) -> None:
        """Best effort: answer a person who talked to the bot; events from archives get no reply."""
        if event is None:  # the failure came before the event was built: read it back, actor resolved
            event = self._event_of(row)
        if event is not None and (getattr(event, "to_bot", False) or isinstance(event, Command)):
            self._answer(event, row, None, "error", ref=ref)

    def _event_of(self, row: inbox_store.InboxRow) -> Event | None:
        """The row's event with its actor resolved through the directory, like the answers a handler gives.

        Why: an unresolved actor has no person id, so the apology's Target had person_id '' (the transcript and
        `salespulse outbox` could not say who it went to) and, from a platform that cannot be answered in place
        (replay, archive), it was addressed to the raw platform id on the console instead of to the person."""
        try:
            data = json.loads(row.event or "{}")
        except json.JSONDecodeError:
            return None
        try:
            return event_from_dict(data, self.services.directory.resolve)
        except (BadPayload, KeyError, TypeError, ValueError):
            return None
        except Exception:  # the directory itself may be what failed: answer the unresolved actor then
            log.warning("could not resolve the actor of inbox row %s for its error reply", row.id, exc_info=True)
            try:
                return event_from_dict(data)
            except (BadPayload, KeyError, TypeError, ValueError):
                return None

    def _answer(self, event: Event | None, row: inbox_store.InboxRow, reply: Reply | None, suffix: str,
                **values: str) -> None:
        """Queue a short answer to the row's sender in its own savepoint. A failure here is logged and dropped: it
        must not roll back the rest of the batch (that would re-run every row and fail again, for ever)."""
        store = self.services.store
        if event is None:
            event = self._event_of(row)
            if event is None:
                return
        try:
            with store.transaction():
                ctx = Context(self.services, event)
                ctx.reply(reply or Reply.plain(ctx.t("core.internal_error", **values)), suffix)
        except Exception:
            log.exception("could not queue the %s answer for inbox row %s", suffix, row.id)

    def drain(self) -> int:
        """Process until the inbox has nothing pending (demo, replay, tests)."""
        total = 0
        while True:
            n = self.process_pending()
            if n == 0:
                return total
            total += n
