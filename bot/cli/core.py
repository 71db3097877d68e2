"""Core subcommands: chat, replay, outbox."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import secrets
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.base import AdapterContext
from adapters.console import ConsoleAdapter, render_text, replay_file
from bot.app import Runtime
from bot.cli.support import config_from, data_dir_for, existing_db, progress, store_from
from bot.clock import CLOCK_KEY, Clock, OffsetClock, SystemClock, to_ms
from bot.config import OrgSection
from bot.demo.replay import DEMO_MARK
from bot.errors import UserInputError
from bot.events import Actor, Role
from bot.logsetup import TextFormatter
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

    p = sub.add_parser("replay", help="feed recorded events (JSONL, one Event per line) through the pipeline",
                       description="Feed recorded events (one Event.to_dict() JSON object per line) through the same "
                                   "inbox → dispatcher → outbox path as the platforms and print the replies. A bad "
                                   "line is reported with its number and skipped; the rest goes on.")
    p.add_argument("file", type=Path, help="the recording, e.g. events.jsonl")
    p.add_argument("--db", default=None, help="database file (default: bot.database from config)")
    p.set_defaults(handler=cmd_replay)

    p = sub.add_parser("outbox", help="list queued / dead replies, or re-send dead ones",
                       description="List the replies waiting to be sent, sent, or parked as dead after too many "
                                   "failed attempts; --resend puts dead ones back in the queue for the running "
                                   "`salespulse serve` to send.")
    p.add_argument("--status", choices=["pending", "sent", "dead"], default=None, help="only replies in this state")
    p.add_argument("--limit", type=_positive, default=30, help="show at most N replies, newest first (default 30)")
    p.add_argument("--resend", nargs="*", type=int, default=None, metavar="ID",
                   help="put dead replies back in the queue (no ids: all dead ones)")
    p.add_argument("--db", default=None, help="database file (default: bot.database from config)")
    p.set_defaults(handler=cmd_outbox)


def _help_t(key: str, **values) -> str:
    """Argument errors come while parsing, before the command loads its config: the locale argparse speaks."""
    from bot.cli.localise import current_prompts

    return current_prompts().t(key, **values)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_help_t("cli.arg_not_number", text=text)) from None
    if value < 1:
        raise argparse.ArgumentTypeError(_help_t("cli.arg_not_positive", value=value))
    return value


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


def _console_runtime(args: argparse.Namespace, echo, session: str = "") -> tuple[Runtime, ConsoleAdapter]:
    config = config_from(args)
    store = store_from(config, args.db)
    if kv.get(store, DEMO_MARK) is not None:
        # the demo company is this database's org, not bot.toml's [org]; its charts go next to it, like the demo's
        config = dataclasses.replace(config, org=OrgSection(), bot=dataclasses.replace(
            config.bot, data_dir=data_dir_for(config, store)))
    clock = _chat_clock(args, config, store)
    rt = Runtime(config=config, store=store, clock=clock)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts(config.bot.locale),
                             echo=echo, session=session)
    rt.add_sender("console", console.send)
    rt.media.register("console", console.fetch_media)  # `/语音 FILE` voice notes are local files
    return rt, console


def _unknown_user(rt: Runtime, user: str, db: str) -> str | None:
    """Why `--as user` cannot work, or None when the directory knows them (a person, or a customer's id).

    Chatting as nobody only ever answers "I don't know you", so say it up front, with names that do work."""
    directory = rt.services.directory
    if directory.by_name(user) or directory.person(user):
        return None
    if directory.resolve("console", Actor(platform_id=user)).role is not Role.UNKNOWN:
        return None
    t = rt.services.prompts.t
    if not directory.people:
        return t("ops.chat_unknown_empty", user=user, db=db)
    names = sorted(directory.people.values(), key=lambda p: (p.role is not Role.MANAGER, p.team_name, p.id))
    shown = t("core.list_sep").join(p.name for p in names[:8])
    return t("ops.chat_unknown", user=user, db=db, names=shown, n=len(names))


def _logs_to_file(db: str, locale: str) -> Path:
    """The chat screen is the conversation: log lines (in the admin's locale) go to a file next to the database."""
    path = Path(db).resolve().parent / "salespulse-chat.log"
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(TextFormatter(locale))
    root.addHandler(handler)
    return path


def _others_line(rt: Runtime, counts: dict[str, int]) -> str:
    """What went to other people while this person chatted, as one line (who and how many), never the texts."""
    t = rt.services.prompts.t
    directory = rt.services.directory
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    names = []
    for who, n in ranked[:5]:
        person = directory.person(who)
        names.append(t("cli.chat_others_one", name=person.name if person else who, n=n))
    more = t("cli.chat_others_more", n=len(ranked) - 5) if len(ranked) > 5 else ""
    return t("cli.chat_others", total=sum(counts.values()), people=len(counts),
             names=t("core.list_sep").join(names) + more)


def cmd_chat(args: argparse.Namespace) -> int:
    config = config_from(args)
    db = existing_db(config, args.db, new_for_org=True)
    _logs_to_file(db, config.bot.locale)
    rt, console = _console_runtime(args, echo=lambda text: print(f"\n🤖 {text}\n"), session=secrets.token_hex(4))
    problem = _unknown_user(rt, args.user, args.db or rt.config.bot.database)
    if problem:
        rt.close()
        raise UserInputError(problem)
    person = rt.services.directory.by_name(args.user) or rt.services.directory.person(args.user)
    user = person.id if person else args.user
    console.viewer = user
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
            others = console.take_others()
            if others:
                print(_others_line(rt, others) + "\n")

    try:
        asyncio.run(loop())
    finally:
        rt.close()
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    rt, console = _console_runtime(args, echo=None)
    left_over = inbox_store.counts(rt.store).get("pending", 0)  # an earlier run was killed before finishing
    accepted, rejected = replay_file(console.ctx, args.file, lambda msg: print(msg, file=sys.stderr))
    pending = inbox_store.counts(rt.store).get("pending", 0)
    with progress() as bar:  # a long recording takes a while: show the dispatcher working through it
        task = bar.add_task("replay", total=pending)
        while (n := rt.dispatcher.process_pending()) > 0:
            bar.advance(task, n)
    asyncio.run(rt.settle(max_rounds=100_000))
    for d in console.delivered:
        print(f"→ {d.target.person_id or d.target.user_id}: {d.text}")
    print(rt.services.prompts.t("ops.replay_done", events=accepted, rejected=rejected, replies=len(console.delivered)),
          file=sys.stderr)
    if left_over:
        still = inbox_store.counts(rt.store).get("pending", 0)
        print(rt.services.prompts.t("ops.pending_finished", n=left_over - min(still, left_over)), file=sys.stderr)
    rt.close()
    return 0 if rejected == 0 else 1


def cmd_outbox(args: argparse.Namespace) -> int:
    config = config_from(args)
    t = Prompts(config.bot.locale).t
    db = args.db or config.bot.database
    if not Path(db).exists():  # looking at the queue must not leave an empty database behind in the wrong folder
        raise UserInputError(t("ops.outbox_no_db", db=db))
    store = store_from(config, args.db)
    try:
        return _outbox(args, store, config, t)
    finally:
        store.close()


def _outbox(args: argparse.Namespace, store, config, t) -> int:
    tz = ZoneInfo(config.bot.timezone)
    if args.resend is not None:
        now = SystemClock().now_ms()
        if not args.resend:
            n = outbox_store.resend(store, None, now)
            print(t("ops.outbox_requeued", n=n) if n else t("ops.outbox_none_dead"))
            return 0
        # one id at a time, so every id that was not re-queued can be named (unknown, or not dead)
        not_dead = [i for i in dict.fromkeys(args.resend) if not outbox_store.resend(store, [i], now)]
        n = len(dict.fromkeys(args.resend)) - len(not_dead)
        if n:
            print(t("ops.outbox_requeued", n=n))
        if not_dead:
            print(t("ops.outbox_not_dead", ids=", ".join(f"#{i}" for i in not_dead)), file=sys.stderr)
            return 1
        return 0
    prompts = Prompts(config.bot.locale)
    counts = outbox_store.counts(store)
    summary = ", ".join(t(f"ops.outbox_status_{k}", n=v) for k, v in sorted(counts.items()))
    print(t("ops.outbox_counts", counts=summary) if counts else t("ops.outbox_empty"))
    for row in outbox_store.listing(store, args.status, args.limit):
        when = datetime.fromtimestamp(row.created_at / 1000, tz).strftime("%m-%d %H:%M")
        to = row.target.get("person_id") or row.target.get("user_id") or row.target.get("chat_id")
        first = (render_text(Reply.from_dict(row.reply), prompts).splitlines() or [""])[0][:60]
        err = f"  ✗ {row.last_error}" if row.last_error else ""
        tries = t("ops.outbox_tries", n=row.attempts)
        print(f"#{row.id:<6} {row.status:<7} {row.platform:<8} {when} → {to}: {first} ({tries}){err}")
    if counts.get("dead") and args.status != "dead":
        print(t("ops.outbox_dead_hint", n=counts["dead"]))
    return 0
