"""Core subcommands: chat, replay, outbox."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.base import AdapterContext
from adapters.console import ConsoleAdapter, render_text, replay_file
from bot.app import Runtime
from bot.cli_support import config_from, progress, store_from
from bot.clock import CLOCK_KEY, Clock, OffsetClock, SystemClock, to_ms
from bot.errors import UserInputError
from bot.replies import Reply
from prompts import Prompts
from store import inbox as inbox_store
from store import kv
from store import outbox as outbox_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chat", help="chat with the bot in this terminal (same path as the real platforms)")
    p.add_argument("--as", dest="user", required=True, help="who you are: a person id or name from the org, e.g. 张伟")
    p.add_argument("--db", default=None, help="database file (default: bot.database from config)")
    p.add_argument("--at", default=None, metavar="'YYYY-MM-DD HH:MM'",
                   help="pretend it is this local time (default: the demo's date on a demo database, else now)")
    p.set_defaults(handler=cmd_chat)

    p = sub.add_parser("replay", help="feed recorded events (JSONL, one Event per line) through the pipeline")
    p.add_argument("file", type=Path)
    p.add_argument("--db", default=None)
    p.set_defaults(handler=cmd_replay)

    p = sub.add_parser("outbox", help="list queued / dead replies, or re-send dead ones")
    p.add_argument("--status", choices=["pending", "sent", "dead"], default=None)
    p.add_argument("--limit", type=int, default=30)
    p.add_argument("--resend", nargs="*", type=int, default=None, metavar="ID",
                   help="put dead replies back in the queue (no ids: all dead ones)")
    p.add_argument("--db", default=None)
    p.set_defaults(handler=cmd_outbox)


def _chat_clock(args: argparse.Namespace, config, store) -> Clock:
    """`--at`, else the virtual time a demo database was built at, else the wall clock."""
    at = getattr(args, "at", None)
    if at:
        try:
            local = datetime.fromisoformat(at.replace("/", "-"))
        except ValueError:
            raise UserInputError(f"--at: not a date/time: {at!r} (use 'YYYY-MM-DD HH:MM')") from None
        if local.tzinfo is None:
            local = local.replace(tzinfo=ZoneInfo(config.bot.timezone))
        return OffsetClock(to_ms(local))
    recorded = kv.get(store, CLOCK_KEY)
    if recorded and getattr(args, "handler", None) is cmd_chat:
        return OffsetClock(int(recorded))
    return SystemClock()


def _console_runtime(args: argparse.Namespace, echo) -> tuple[Runtime, ConsoleAdapter]:
    config = config_from(args)
    store = store_from(config, args.db)
    clock = _chat_clock(args, config, store)
    rt = Runtime(config=config, store=store, clock=clock)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts(config.bot.locale),
                             echo=echo)
    rt.add_sender("console", console.send)
    return rt, console


def cmd_chat(args: argparse.Namespace) -> int:
    rt, console = _console_runtime(args, echo=lambda text: print(f"\n🤖 {text}\n"))
    person = rt.services.directory.by_name(args.user) or rt.services.directory.person(args.user)
    user = person.id if person else args.user
    role = rt.services.prompts.t(f"core.role_{person.role.value}") if person else ""
    who = f"{person.name}（{role}）" if person else args.user
    when = datetime.fromtimestamp(rt.clock.now_ms() / 1000, ZoneInfo(rt.config.bot.timezone)).strftime("%Y-%m-%d %H:%M")
    print(rt.services.prompts.t("core.chat_banner", who=who, when=when))

    async def loop() -> None:
        while True:
            try:
                line = await asyncio.to_thread(input, "> ")
            except EOFError:
                return
            if not line.strip():
                continue
            console.type_line(user, line)
            await rt.settle()

    try:
        asyncio.run(loop())
    finally:
        rt.close()
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    rt, console = _console_runtime(args, echo=None)
    accepted, rejected = replay_file(console.ctx, args.file, lambda msg: print(msg, file=sys.stderr))
    pending = inbox_store.counts(rt.store).get("pending", 0)
    with progress() as bar:  # a long recording takes a while: show the dispatcher working through it
        task = bar.add_task("replay", total=pending)
        while (n := rt.dispatcher.process_pending()) > 0:
            bar.advance(task, n)
    asyncio.run(rt.settle(max_rounds=100_000))
    for d in console.delivered:
        print(f"→ {d.target.person_id or d.target.user_id}: {d.text}")
    print(f"replayed {accepted} events ({rejected} rejected), {len(console.delivered)} replies", file=sys.stderr)
    rt.close()
    return 0 if rejected == 0 else 1


def cmd_outbox(args: argparse.Namespace) -> int:
    config = config_from(args)
    store = store_from(config, args.db)
    tz = ZoneInfo(config.bot.timezone)
    if args.resend is not None:
        n = outbox_store.resend(store, args.resend or None, SystemClock().now_ms())
        print(f"re-queued {n} dead replies")
        return 0
    prompts = Prompts(config.bot.locale)
    counts = outbox_store.counts(store)
    print("outbox: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) if counts else "outbox: empty")
    for row in outbox_store.listing(store, args.status, args.limit):
        when = datetime.fromtimestamp(row.created_at / 1000, tz).strftime("%m-%d %H:%M")
        to = row.target.get("person_id") or row.target.get("user_id") or row.target.get("chat_id")
        first = render_text(Reply.from_dict(row.reply), prompts).splitlines()[0][:60]
        err = f"  ✗ {row.last_error}" if row.last_error else ""
        print(f"#{row.id:<6} {row.status:<7} {row.platform:<8} {when} → {to}: {first} (tries {row.attempts}){err}")
    return 0
