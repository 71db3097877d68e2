"""`salespulse demo`: build the embedded demo company, replay 90 days of it through the real pipeline in virtual
time, and print what the bot would have sent to whom.

The run writes a fresh SQLite file (default ./demo-out/salespulse-demo.db), so what the transcript shows can be
explored afterwards with `salespulse chat --db … --as <name>`. Same seed → same database and same transcript;
only the elapsed-seconds line differs between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.clock import CLOCK_KEY
from bot.config import Config, load_config
from bot.demo import retail
from bot.demo import story as debrief_story
from bot.demo.activity import generate_activity
from bot.demo.company import Company, Sizes, generate_company
from bot.demo.replay import DEMO_MARK, DemoDriver, ReplayStats, Sent, demo_config
from bot.demo.script import script, story
from bot.errors import UserInputError
from bot.org import Directory
from prompts import Prompts
from store import events as event_store
from store import inbox as inbox_store
from store import kv, open_store

DEFAULT_DB = "demo-out/salespulse-demo.db"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the embedded demo company through the real pipeline (virtual time)")
    p.add_argument("--seed", type=int, default=7, help="random seed; the same seed gives the same run (default 7)")
    p.add_argument("--days", type=int, default=90, help="days of activity ending 2026-05-20 18:00, the demo's fixed 'now' (default 90)")
    p.add_argument("--db", default=DEFAULT_DB, help=f"database file to (re)create (default {DEFAULT_DB})")
    p.add_argument("--transcript", type=Path, default=None, help="also write the transcript to this file")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    p.add_argument("--full", action="store_true",
                   help="print every digest in full (default: each manager's first daily and weekly digest in full, "
                        "later ones as one line of figures)")
    p.add_argument("--sweep-minutes", type=int, default=10,
                   help="run the per-minute sweeps every N virtual minutes (default 10: faster, same story)")
    p.add_argument("--customers", type=int, default=Sizes().customers, help=argparse.SUPPRESS)
    p.add_argument("--leads", type=int, default=Sizes().leads, help=argparse.SUPPRESS)
    p.set_defaults(handler=cmd_demo)


@dataclass
class DemoOutcome:
    db_path: str
    company: Company
    stats: ReplayStats
    sent: list[Sent]
    transcript: list[str] = field(default_factory=list)  # deterministic lines (no path, no timing)
    seconds: float = 0.0


class _Transcript:
    """Turns delivered replies into readable lines: a day header, time, recipient name and role, the text.

    One alert often goes to several people at once (a missed call: the rep, the manager and both customer-service
    people). The same text sent in the same minute is printed once with every recipient on its header line, so the
    transcript shows what happened instead of the same card four times.

    Digests come every evening for every team: after a recipient's first daily and first weekly digest (printed in
    full, to show what one looks like) the later ones are printed as one line of their figures, unless `full`.
    """

    def __init__(self, prompts: Prompts, directory: Directory, tz: ZoneInfo, emit: Callable[[str], None],
                 out_dir: Path, full: bool = False) -> None:
        self.p, self.dir, self.tz, self.emit, self.full = prompts, directory, tz, emit, full
        self._seen_digests: set[tuple[str, str]] = set()  # (digest kind, recipient) already printed in full
        # file paths (charts) are kept relative to the demo's output folder in `lines` (the transcript), so it is the
        # same wherever the demo was written; on screen they read from the current folder, so they can be opened
        self.prefixes = sorted({str(out_dir) + os.sep, str(out_dir.resolve()) + os.sep}, key=len, reverse=True)
        rel = os.path.relpath(out_dir.resolve())
        self.shown_prefix = (str(out_dir.resolve()) if rel.startswith("..") else rel) + os.sep
        self.lines: list[str] = []
        self._day = ""
        # (time, transcript text, screen text, recipients) not printed yet
        self._pending: tuple[str, str, str, list[str]] | None = None
        self._pending_key: tuple[str, str] = ("", "")

    def line(self, text: str) -> None:
        self.flush()
        self._put(text)

    def _put(self, text: str, shown: str | None = None) -> None:
        self.lines.append(text)
        self.emit(text if shown is None else shown)

    def flush(self) -> None:
        """Print the delivery waiting for more recipients of the same text."""
        if self._pending is None:
            return
        time_, text, shown, recipients = self._pending
        self._pending = None
        self._put(self.p.t("demo.to_many", time=time_, names=self.p.t("demo.sep").join(recipients)))
        for text_line, shown_line in zip(text.splitlines() or [""], shown.splitlines() or [""], strict=False):
            self._put("    " + text_line, "    " + shown_line)

    def _stamp(self, at_ms: int) -> str:
        dt = datetime.fromtimestamp(at_ms / 1000, self.tz)
        day = dt.strftime("%Y-%m-%d")
        if day != self._day:
            self._day = day
            weekday = self.p.raw("demo.weekdays")[dt.weekday()]
            self.line(self.p.t("demo.day", date=day, weekday=weekday))
        return dt.strftime("%H:%M")

    def _recipient(self, item: Sent) -> str:
        if item.target.chat_id and not item.target.user_id:
            return self.p.t("demo.chat", chat=item.target.chat_id)
        name, role = self.who(item.target.person_id or item.target.user_id)
        return self.p.t("demo.person", name=name, role=role)

    def who(self, person_id: str) -> tuple[str, str]:
        person = self.dir.person(person_id)
        if person is None:
            return person_id, self.p.t("core.role_unknown")
        return person.name, self.p.t(f"core.role_{person.role.value}")

    def sent(self, item: Sent) -> None:
        text = shown = item.text
        for prefix in self.prefixes:
            text = text.replace(prefix, "")
            shown = shown.replace(prefix, "\0")
        shown = shown.replace("\0", self.shown_prefix)
        if not self.full and kind_of(item.key) == "digest" and item.reply.title and item.reply.fields:
            seen = (item.key.split(":")[1], self._recipient(item))
            if seen in self._seen_digests:
                text = shown = self.p.t("demo.digest_line", title=item.reply.title,
                                        fields=self.p.t("demo.field_sep").join(
                                            self.p.t("demo.field", name=k, value=v) for k, v in item.reply.fields))
            self._seen_digests.add(seen)
        if not self.full and kind_of(item.key) in COACHING_KINDS and item.reply.title:
            # live coaching reaches reps many times a day: the first per rep in full, later ones by their title
            seen = (kind_of(item.key), self._recipient(item))
            if seen in self._seen_digests:
                text = self.p.t("demo.coach_line", title=item.reply.title)
            self._seen_digests.add(seen)
        key = (datetime.fromtimestamp(item.at / 1000, self.tz).strftime("%Y-%m-%d %H:%M"), text)
        if self._pending is not None and self._pending_key == key:
            self._pending[3].append(self._recipient(item))
            return
        self.flush()
        self._pending, self._pending_key = (self._stamp(item.at), text, shown, [self._recipient(item)]), key

    def typed(self, at_ms: int, person_id: str, text: str) -> None:
        time_ = self._stamp(at_ms)
        name, role = self.who(person_id)
        shown = text
        for prefix in self.prefixes:  # a photo sent by path (the retail chapter): relative, like the charts
            text = text.replace(prefix, "")
            shown = shown.replace(prefix, "\0")
        shown = shown.replace("\0", self.shown_prefix)
        self.flush()
        self._put(self.p.t("demo.typed", time=time_, name=name, role=role, line=text),
                  self.p.t("demo.typed", time=time_, name=name, role=role, line=shown))


COACHING_KINDS = ("coach", "coach-b7")  # similar-scene pushes and "再比较一下" nudges (handlers/coaching/live.py)


def kind_of(key: str) -> str:
    """Classify a delivered reply by its idempotency key: answers to chat commands vs. alerts by their key."""
    head, _, rest = key.partition(":")
    if head in ("console", "deferred"):
        return "reply"
    if head == "tick":
        return rest.partition(":")[0]
    return head


def _fresh(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = path.with_name(path.name + suffix)
        if p.exists():
            p.unlink()


def run_demo(*, seed: int = 7, days: int = 90, db: str = DEFAULT_DB, sizes: Sizes | None = None,
             base: Config | None = None, sweep_minutes: int = 10, emit: Callable[[str], None] = lambda _line: None,
             progress: Callable[[int, int], None] | None = None, full: bool = False) -> DemoOutcome:
    """The whole demo; `emit` gets each transcript line as it happens, `progress(done, total)` the replay."""
    started = time.perf_counter()
    company = generate_company(seed, days=days, sizes=sizes)
    activity = generate_activity(company)
    db_path = Path(db)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    _fresh(db_path)
    config = demo_config(base or load_config(None), str(db_path), str(db_path.parent / "salespulse-data"),
                         every_min=sweep_minutes)
    prompts = Prompts(config.bot.locale)
    tz = ZoneInfo(config.bot.timezone)
    store = open_store(db_path)
    try:
        transcript: _Transcript | None = None
        driver = DemoDriver(config, store, company, activity, on_sent=lambda item: transcript and transcript.sent(item))
        rt = driver.prepare()
        transcript = _Transcript(prompts, rt.services.directory, tz, emit, db_path.parent, full=full)
        _header(transcript, prompts, company, len(activity.items), tz)
        total = len(activity.items)
        asyncio.run(_run(driver, company, transcript, prompts,
                         (lambda n: progress(n, total)) if progress is not None else None))
        outcome = DemoOutcome(str(db_path), company, driver.stats, driver.sent)
        _summary(transcript, prompts, store, company, driver)
        # `salespulse chat --db <demo db>` continues from the demo's virtual "now", not from today's date
        kv.put(store, CLOCK_KEY, str(driver.clock.now_ms()))
        kv.put(store, DEMO_MARK, str(seed))
        outcome.transcript = list(transcript.lines)
        driver.close()
    finally:
        store.close()
    outcome.seconds = time.perf_counter() - started
    return outcome


async def _run(driver: DemoDriver, company: Company, transcript: _Transcript, prompts: Prompts,
               progress: Callable[[int], None] | None) -> None:
    await driver.replay(progress)

    async def say(person_id: str, text: str) -> None:
        await rt.advance_to(driver.clock.now_ms() + 60_000)
        transcript.typed(driver.clock.now_ms(), person_id, text)
        await driver.session([(person_id, text)], step_ms=0)

    rt = driver.runtime
    assert rt is not None
    await retail.play(driver, say, transcript.line, prompts.t)  # the retail-chain division's chapter
    lines = script(company)
    names = "、".join(dict.fromkeys(transcript.who(pid)[0] for pid, _ in lines))
    transcript.line(prompts.t("demo.session", names=names))
    rt = driver.runtime
    assert rt is not None
    for person_id, text in lines:
        await rt.advance_to(driver.clock.now_ms() + 60_000)
        transcript.typed(driver.clock.now_ms(), person_id, text)
        await driver.session([(person_id, text)], step_ms=0)
    await debrief_story.play(driver, company, transcript.typed)  # a meeting → voice debrief → deal; a practice round


def _header(tr: _Transcript, p: Prompts, company: Company, items: int, tz: ZoneInfo) -> None:
    fmt = "%Y-%m-%d"
    tr.line(p.t("demo.title", company="智联云科", seed=company.seed, days=company.days,
                start=datetime.fromtimestamp(company.start / 1000, tz).strftime(fmt),
                end=datetime.fromtimestamp(company.now / 1000, tz).strftime(fmt), tz=str(tz)))
    count = Counter(p.role for p in company.people)
    tr.line(p.t("demo.sizes", teams=len(company.teams), reps=count["rep"], managers=count["manager"], cs=count["cs"],
                colleagues=count["colleague"], customers=len(company.customers), leads=len(company.leads),
                items=items))


def _lead_ref(p: Prompts, company: Company, lead_id: str) -> str:
    if not lead_id:
        return p.t("demo.none")
    lead = company.lead(lead_id)
    return p.t("demo.lead_ref", title=lead.title, customer=company.customer(lead.customer_id).name,
               owner=company.person(lead.owner_id).name)


def _word(p: Prompts, prefix: str, key: str) -> str:
    """The locale's word for an inbox status or a reply kind; the key itself for one added later without a word."""
    name = prefix + key.replace("-", "_")
    if p.has(name):
        return p.t(name)
    return p.t(f"{prefix}other", key=key) if p.has(f"{prefix}other") else key


def _summary(tr: _Transcript, p: Prompts, store, company: Company, driver: DemoDriver) -> None:
    s = driver.stats
    tr.line(p.t("demo.summary"))
    # the same total as the header's "条待回放记录": platform records + lead changes + tracked links
    tr.line(p.t("demo.events", total=s.accepted + s.duplicates + s.lead_changes + s.links, accepted=s.accepted,
                unsupported=s.unsupported, duplicates=s.duplicates, lead_changes=s.lead_changes, links=s.links,
                commands=s.commands))
    counts = inbox_store.counts(store)
    tr.line(p.t("demo.inbox", counts=p.t("demo.list_sep").join(
        p.t("demo.status", status=_word(p, "demo.status_", k), n=v) for k, v in sorted(counts.items()))
        or p.t("demo.none")))
    tags = event_store.tag_counts(store)
    top = p.t("demo.tags_top", items="，".join(f"{t} {n}" for t, n in tags[:6])) if tags else ""
    tr.line(p.t("demo.tags", total=sum(n for _, n in tags), top=top))
    kinds = Counter(kind_of(item.key) for item in driver.sent)
    items = p.t("demo.list_sep").join(p.t("demo.status", status=_word(p, "demo.kind_", k), n=n)
                                      for k, n in sorted(kinds.items()))
    tr.line(p.t("demo.alerts", items=items or p.t("demo.none")))
    answers = kinds.get("reply", 0)
    tr.line(p.t("demo.replies", replies=len(driver.sent), alerts=len(driver.sent) - answers, answers=answers))
    st = story(company)
    # the scripted never-returned call (other calls may go unreturned later, but this is the story's one)
    missed_ref = _lead_ref(p, company, st.missed_call) if st.missed_call else p.t("demo.none")
    tr.line(p.t("demo.story", quiet=_lead_ref(p, company, st.quiet), active=_lead_ref(p, company, st.active),
                fault=_lead_ref(p, company, st.fault), missed=missed_ref))
    if s.hooks:
        tr.line(p.t("demo.hooks", names=p.t("core.list_sep").join(_hook_name(p, h) for h in s.hooks)))


def cmd_demo(args: argparse.Namespace) -> int:
    base = load_config(args.config) if getattr(args, "config", None) else None
    console = Console(highlight=False, soft_wrap=True)
    prompts = Prompts((base or load_config(None)).bot.locale)
    if not 3 <= args.days <= 365:
        raise UserInputError(prompts.t("demo.bad_days", value=args.days))
    if args.customers < 10 or args.leads < args.customers:
        raise UserInputError(prompts.t("demo.bad_sizes", customers=args.customers, leads=args.leads))
    if not 1 <= args.sweep_minutes <= 60:
        raise UserInputError(prompts.t("demo.bad_sweep", value=args.sweep_minutes))
    sizes = Sizes(customers=args.customers, leads=args.leads)
    if args.quiet:
        outcome = run_demo(seed=args.seed, days=args.days, db=args.db, sizes=sizes, base=base,
                           sweep_minutes=args.sweep_minutes, full=args.full)
    else:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task(prompts.t("demo.replaying", days=args.days), total=None)
            outcome = run_demo(seed=args.seed, days=args.days, db=args.db, sizes=sizes, base=base,
                               sweep_minutes=args.sweep_minutes, full=args.full,
                               emit=lambda line: bar.console.print(line, markup=False),
                               progress=lambda done, total: bar.update(task, completed=done, total=total))
    if args.quiet:  # the summary is the tail of the transcript
        start = max(i for i, ln in enumerate(outcome.transcript) if ln == prompts.t("demo.summary"))
        for line in outcome.transcript[start:]:
            console.print(line, markup=False)
    console.print(prompts.t("demo.db", path=Path(outcome.db_path).resolve()), markup=False)
    console.print(prompts.t("demo.elapsed", seconds=f"{outcome.seconds:.1f}"), markup=False)
    if args.transcript is not None:
        args.transcript.parent.mkdir(parents=True, exist_ok=True)
        args.transcript.write_text("\n".join(outcome.transcript) + "\n", encoding="utf-8")
        console.print(prompts.t("demo.transcript_saved", path=args.transcript), markup=False)
    return 0


def _hook_name(p, hook: str) -> str:
    """What a seed hook adds, in words ("商机细节与预测修订历史"), for the shipped ones; another module's path as is."""
    key = "demo.hook_" + hook.replace(".", "_").replace(":", "__")
    return p.t(key) if p.has(key) else hook
