"""Ingest benchmark: synthetic WeCom archive records through the real pipeline, against the storage floor.

    python -m bench.ingest --events 200000 --json

Pipeline (timed): each chunk of archive records is normalised by adapters/wecom/archive_format.record_to_event,
accepted into the inbox exactly as the live archive puller does (raw payload + event, unique key), and drained by
the real Dispatcher of a bot.app.Runtime with every router in bot.app.ROUTER_MODULES — the tagging observer
stores the event and its behaviour tags, the other observers do their bookkeeping, each row in its own savepoint and
marked done in the batch's transaction. Generating the synthetic records is not timed.

Floor (timed): the very rows the pipeline stored in `events` and `event_tags`, read back and inserted with plain
sqlite3 executemany (store.events.insert_many_floor) into a fresh database with the same schema and pragmas, in
transactions of the same size. ratio = pipeline events/s ÷ floor events/s: how much of the raw storage speed the
whole pipeline keeps.

Compute floor (timed, no SQL): the per-event Python work any pipeline of this product has to do before it can write
a row — normalise the record, serialise the raw payload and the event for the inbox, resolve the actor, associate the
customer and lead, build the rule view and evaluate the rule pack (window rules answered from an in-memory history,
rules.history.MemoryHistory, so no query is counted). Together with the floor it bounds any single-process pipeline
on this schema: bound_events_per_s = 1 / (compute µs + floor-with-inbox µs per event). It is a bound, not a
measurement of the pipeline: it leaves out routing, savepoints, the lead touch and every other observer.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from adapters.base import AdapterContext
from adapters.wecom.archive_format import record_to_event
from bot import app as app_module
from bot.app import Runtime
from bot.clock import VirtualClock
from bot.config import OrgSection, PersonSection, TeamSection, load_config
from bot.errors import BadPayload, UnsupportedEvent
from store import customers as customer_store
from store import db as store_db
from store import events as events_store
from store import inbox as inbox_store
from store import leads as lead_store
from store.db import Store, open_store

T0 = 1_772_413_200_000  # 2026-03-02 09:00 Asia/Shanghai
TEAMS = ("华东一组", "华南组", "SaaS组")
N_REPS = 15
N_CUSTOMERS = 300

_SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡"
_GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞", "平")
_COMPANIES = ("华鑫精密", "恒通机械", "新锐零售", "优品连锁", "云帆软件", "博远科技", "嘉禾电子", "鼎盛制造",
              "盛世百货", "启明数据")
_PRODUCTS = ("GW-300", "QC-8", "EMS-2", "MES-Pro", "POS-5", "ESL-1", "SC-PRO", "KF-1")
_REP_LINES = (
    "王总您好，{p}的报价单v2.3已经发您邮箱了，请查收。",
    "附件:{p}型号参数.pdf",
    "我们上个月刚给同行业客户做了{p}的落地，交付周期是三周。",
    "您看下周二上午方便吗？我带技术同事过去做个演示。",
    "关于预算这块，我们可以分两期付款，降低一次性投入。",
    "好的，我先把案例资料整理一下，今天下班前发您。",
    "合同条款我跟法务确认过了，第七条可以按您的意思改。",
)
_CUSTOMER_LINES = (
    "{p}的价格能不能再便宜一点？预算有点紧。",
    "我们再比较一下，竞品那边报价低不少。",
    "交付时间能保证吗？我们下个月就要上线。",
    "方案PDF我看了，技术部还有几个问题。",
    "下周CFO出差回来，到时候再定。",
    "好的，收到，谢谢。",
    "你们有没有做过制造业的案例？",
)


def _person_name(i: int) -> str:
    return _SURNAMES[i % len(_SURNAMES)] + _GIVEN[(i * 7) % len(_GIVEN)] + ("" if i < 15 else str(i))


def bench_org() -> OrgSection:
    """3 teams, 15 reps with WeCom ids, 3 managers, a technical colleague."""
    people = [PersonSection(id=f"m{t}", name=f"{_SURNAMES[t]}经理", role="manager", team=team, wecom_id=f"Mgr{t}")
              for t, team in enumerate(TEAMS)]
    people += [PersonSection(id=f"r{i:02d}", name=_person_name(i), role="rep", team=TEAMS[i % 3], wecom_id=f"Rep{i:02d}")
               for i in range(N_REPS)]
    people.append(PersonSection(id="t1", name="孙工", role="colleague", department="技术部", wecom_id="TechSun"))
    return OrgSection(teams=tuple(TeamSection(name=t, manager=f"m{i}") for i, t in enumerate(TEAMS)),
                      people=tuple(people))


def seed_customers(store: Store) -> None:
    """300 customers, each with a WeCom external id and one open lead owned by a rep."""
    with store.transaction():
        for c in range(N_CUSTOMERS):
            cid = f"c{c:03d}"
            customer_store.upsert(store, cid, f"{_COMPANIES[c % len(_COMPANIES)]}{c:03d}", industry="制造业",
                                  owner_id=f"r{c % N_REPS:02d}", created_at=T0)
            customer_store.add_key(store, "external_id", f"wmCust{c:04d}", cid)
            lead_store.upsert(store, f"L{c:03d}", cid, f"r{c % N_REPS:02d}", f"{_PRODUCTS[c % 8]} 项目", T0)


# Text lines (rep, customer) replacing the built-in ones (`--texts`): None = the 14 templates above.
TEXTS: tuple[tuple[str, ...], tuple[str, ...]] | None = None


def load_texts(path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Rep and customer lines from a JSONL file: conversations with "turns" (../shared/data/sales_dialogue_dev) or
    one `{"role": "customer"|"rep", "text"}` per line (the `salespulse classify` input). Why: the built-in archive
    has 14 templates (42 distinct texts), short and alike; real chat is longer and more varied, and the classifier
    on the hot path should be measured on that too."""
    rep: list[str] = []
    customer: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        for turn in row.get("turns", [row]):
            text = str(turn.get("text", "")).strip()
            if text:
                (rep if turn.get("role") == "rep" else customer).append(text)
    if not rep or not customer:
        raise SystemExit(f"{path}: needs both rep and customer lines")
    return tuple(rep), tuple(customer)


def synthetic_records(n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Chinese sales chat in WeCom archive format: 1:1 and group chats, texts, file sends, images, voice, recalls,
    and a sprinkle of record types we do not model (kept as unsupported)."""
    rng = random.Random(seed)
    rep_lines, customer_lines = TEXTS or (_REP_LINES, _CUSTOMER_LINES)
    fill = TEXTS is None  # only the built-in templates have a {p} slot for the product
    at = T0
    for i in range(n):
        at += rng.randint(1_000, 40_000)
        c = rng.randrange(N_CUSTOMERS)
        rep = f"Rep{c % N_REPS:02d}"
        customer = f"wmCust{c:04d}"
        product = _PRODUCTS[c % len(_PRODUCTS)]
        from_rep = rng.random() < 0.55
        sender, receiver = (rep, customer) if from_rep else (customer, rep)
        group = rng.random() < 0.15
        base: dict[str, Any] = {"msgid": f"bench{seed}-{i:08d}", "action": "send", "from": sender,
                                "tolist": [receiver] if not group else [receiver, "TechSun"],
                                "roomid": f"wrRoom{c:04d}" if group else "", "msgtime": at, "seq": i + 1}
        roll = rng.random()
        if roll < 0.78:
            line = rng.choice(rep_lines if from_rep else customer_lines)
            yield {**base, "msgtype": "text", "text": {"content": line.format(p=product) if fill else line}}
        elif roll < 0.86:
            yield {**base, "msgtype": "file", "file": {"filename": f"{product}报价单v2.{rng.randint(1, 9)}",
                                                       "fileext": "pdf", "filesize": rng.randint(10_000, 900_000),
                                                       "sdkfileid": f"sdk{i}"}}
        elif roll < 0.92:
            yield {**base, "msgtype": "image", "image": {"filesize": rng.randint(50_000, 900_000),
                                                         "sdkfileid": f"img{i}"}}
        elif roll < 0.97:
            yield {**base, "msgtype": "voice", "voice": {"play_length": rng.randint(2, 59), "voice_size": 4000,
                                                         "sdkfileid": f"voice{i}"}}
        elif roll < 0.99 and i > 0:
            yield {**base, "action": "recall", "msgtype": "revoke",
                   "revoke": {"pre_msgid": f"bench{seed}-{i - 1:08d}"}}
        else:
            yield {**base, "msgtype": "emotion", "emotion": {"type": 1}}


# ------------------------------------------------------------------ the two measurements


def _time_handlers(router: Any) -> dict[str, float]:
    """Wrap every observer and handler of the compiled router with a timer (only with --breakdown)."""
    totals: dict[str, float] = {}

    def wrap(entry: Any) -> Any:
        fn = entry.handler
        name = f"{fn.__module__}.{fn.__qualname__}"
        totals.setdefault(name, 0.0)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                totals[name] += time.perf_counter() - start

        return dataclasses.replace(entry, handler=timed)

    router._observers[:] = [wrap(e) for e in router._observers]
    router._handlers[:] = [wrap(e) for e in router._handlers]
    router._by_type.clear()
    return totals


def _chunks(it: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for item in it:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def ingest_chunk(ctx: AdapterContext, chunk: list[dict[str, Any]], now_ms: int) -> None:
    """What the archive puller does per pull: normalise and persist (AdapterContext.accept, the adapters' one way
    into the inbox) before acknowledging the sequence."""
    with ctx.store.transaction():
        for record in chunk:
            try:
                event = record_to_event(record, now_ms)
                reason = None
            except (UnsupportedEvent, BadPayload) as exc:
                event, reason = None, str(exc)
            ctx.accept("wecom", record["msgid"], record, event, unsupported_reason=reason)


def bench_runtime(db: Path, batch: int | None = None) -> tuple[Store, Runtime]:
    """A Runtime with every router on a fresh database: the bench org, 300 customers with open leads, virtual time."""
    store = open_store(db)
    config = dataclasses.replace(load_config(None), org=bench_org())
    if batch is not None:
        config = dataclasses.replace(config, bot=dataclasses.replace(config.bot, dispatch_batch=batch))
    runtime = Runtime(config=config, store=store, clock=VirtualClock(T0), deferred_in_thread=False)
    seed_customers(store)
    runtime.services.directory.refresh()
    return store, runtime


class NoLabels:
    """The classifier switched off (--classifier off): every turn still flows through the labelling observer and live
    coaching, which get no labels — so the difference to a normal run is the classification itself."""

    def classify(self, text: str, role: str, *, explain: bool = False):
        from handlers.conversation.classifier import EMPTY
        return EMPTY


def run_pipeline(db: Path, events: int, batch: int, seed: int, breakdown: bool = False,
                 classifier: bool = True) -> dict[str, Any]:
    store, runtime = bench_runtime(db, batch)
    if not classifier:
        runtime.services.extras["classifier"] = NoLabels()
    config, clock = runtime.config, runtime.clock
    dispatcher = runtime.dispatcher
    adapter_ctx = AdapterContext(store, config, clock, lambda: None)

    timings = _time_handlers(runtime.router) if breakdown else None
    elapsed = cpu = ingest_s = 0.0
    for chunk in _chunks(synthetic_records(events, seed), batch):
        clock.set(chunk[-1]["msgtime"] + 1_000)
        start, start_cpu = time.perf_counter(), time.process_time()
        ingest_chunk(adapter_ctx, chunk, clock.now_ms())
        ingest_s += time.perf_counter() - start
        dispatcher.drain()
        elapsed += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
    counts = inbox_store.counts(store)
    stored = events_store.count(store)
    tags = store.conn.execute("SELECT COUNT(*) FROM event_tags").fetchone()[0]
    runtime.close()
    store.close()
    out = {"seconds": elapsed, "cpu_seconds": cpu, "ingest_seconds": ingest_s, "stored_events": stored,
           "tag_rows": tags, "inbox": counts, "routers": list(app_module.ROUTER_MODULES)}
    if timings is not None:
        out["handler_seconds"] = {k: round(v, 3) for k, v in sorted(timings.items(), key=lambda kv: -kv[1])
                                  if v >= 0.0005}
    return out


def run_classifier_pair(workdir: Path, events: int, batch: int, seed: int) -> dict[str, Any]:
    """The classifier's cost with the noise of a shared VM cancelled: two pipelines in one process, classifier on and
    off, fed the same chunks alternately (on, off, off, on, …), each chunk timed on its own. A slow minute on the
    host slows both alike, which separate runs minutes apart do not (they vary by a third here)."""
    runs = {}
    for name, on in (("on", True), ("off", False)):
        store, runtime = bench_runtime(workdir / f"pair-{name}.db", batch)
        if not on:
            runtime.services.extras["classifier"] = NoLabels()
        runs[name] = (store, runtime, AdapterContext(store, runtime.config, runtime.clock, lambda: None))
    seconds = {"on": 0.0, "off": 0.0}
    cpu = {"on": 0.0, "off": 0.0}
    for n, chunk in enumerate(_chunks(synthetic_records(events, seed), batch)):
        for name in (("on", "off") if n % 2 == 0 else ("off", "on")):
            store, runtime, adapter_ctx = runs[name]
            runtime.clock.set(chunk[-1]["msgtime"] + 1_000)
            start, start_cpu = time.perf_counter(), time.process_time()
            ingest_chunk(adapter_ctx, chunk, runtime.clock.now_ms())
            runtime.dispatcher.drain()
            seconds[name] += time.perf_counter() - start
            cpu[name] += time.process_time() - start_cpu
    for store, runtime, _ctx in runs.values():
        runtime.close()
        store.close()
    return {"events": events,
            "classifier_on_events_per_s": round(events / seconds["on"]),
            "classifier_off_events_per_s": round(events / seconds["off"]),
            "classifier_on_events_per_cpu_s": round(events / cpu["on"]),
            "classifier_off_events_per_cpu_s": round(events / cpu["off"]),
            "loss": round(1 - seconds["off"] / seconds["on"], 3),
            "loss_cpu": round(1 - cpu["off"] / cpu["on"], 3)}


def run_compute(db: Path, events: int, seed: int) -> dict[str, float]:
    """The compute floor (see the module docstring): µs per record of each step, no SQL in the timed part."""
    from bot.events import Message
    from rules.history import MemoryHistory

    store, runtime = bench_runtime(db)
    directory = runtime.services.directory
    tagger = runtime.services.extras["tagging"]
    engine, history = tagger.rules.engine, MemoryHistory()
    records = list(synthetic_records(events, seed))
    steps = dict.fromkeys(("normalise", "serialise", "resolve", "associate", "rules"), 0.0)
    perf = time.perf_counter
    for record in records:
        t0 = perf()
        try:
            event = record_to_event(record, T0)
        except (UnsupportedEvent, BadPayload):
            continue
        t1 = perf()
        inbox_store._encode_payload(record)
        inbox_store._encode_event(event.to_dict())
        t2 = perf()
        actor = directory.resolve(event.platform, event.actor)
        if actor is not event.actor:
            event = event.with_actor(actor)
        t3 = perf()
        if not isinstance(event, Message):
            continue
        assoc = tagger.associator.for_message(event)
        view = tagger._message(event, assoc)[0]
        t4 = perf()
        if view is not None:
            hits, values = engine.evaluate(view, history)
            if assoc.lead_id:
                for h in hits:
                    history.add_tag(assoc.lead_id, h.tag, event.occurred_at)
                for k, v in values:
                    history.add_value(assoc.lead_id, k, v, event.occurred_at)
        t5 = perf()
        steps["normalise"] += t1 - t0
        steps["serialise"] += t2 - t1
        steps["resolve"] += t3 - t2
        steps["associate"] += t4 - t3
        steps["rules"] += t5 - t4
    runtime.close()
    store.close()
    per_event = {k: round(v / len(records) * 1e6, 2) for k, v in steps.items()}
    per_event["total"] = round(sum(steps.values()) / len(records) * 1e6, 2)
    return per_event


def _plain_connect(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with the same pragmas the store uses (WAL, NORMAL sync, foreign keys, page cache)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA cache_size = -{store_db.CACHE_KIB}")
    conn.execute(f"PRAGMA wal_autocheckpoint = {store_db.WAL_AUTOCHECKPOINT_PAGES}")
    return conn


def run_floor(source_db: Path, floor_db: Path, batch: int, with_inbox: bool = False) -> tuple[int, float, float]:
    """Insert the pipeline's own event and tag rows again, with nothing but executemany. Returns (rows, seconds, cpu seconds).

    Rows are streamed from the pipeline's database a batch at a time (only the inserts are timed), in transactions
    of the pipeline's batch size. `with_inbox` first re-inserts the raw inbox rows (payload and event JSON) the
    pipeline had to persist before anything else.
    """
    src = sqlite3.connect(source_db)
    tag_src = sqlite3.connect(source_db)
    open_store(floor_db).close()  # same schema (every migration), then a plain connection
    conn = _plain_connect(floor_db)
    plain = Store(conn, str(floor_db))  # only to reach store.inbox.put_many's executemany
    elapsed = cpu = 0.0
    if with_inbox:
        cur = src.execute("SELECT platform, external_id, payload, event, received_at FROM inbox ORDER BY id")
        while part := cur.fetchmany(batch):
            start, start_cpu = time.perf_counter(), time.process_time()
            conn.execute("BEGIN")
            inbox_store.put_many(plain, part)
            conn.execute("COMMIT")
            elapsed += time.perf_counter() - start
            cpu += time.process_time() - start_cpu
    cols = ", ".join(events_store.EVENT_COLS)
    cur = src.execute(f"SELECT id, {cols} FROM events ORDER BY id")
    while part := cur.fetchmany(batch):
        tags: dict[int, list[tuple]] = {}
        for r in tag_src.execute("SELECT event_rowid, tag, category, weight, rule_id, lead_id, occurred_at"
                                 " FROM event_tags WHERE event_rowid BETWEEN ? AND ?", (part[0][0], part[-1][0])):
            tags.setdefault(r[0], []).append(tuple(r))
        event_rows = [tuple(r[1:]) for r in part]
        tag_rows = [tags.get(r[0], []) for r in part]
        start, start_cpu = time.perf_counter(), time.process_time()
        conn.execute("BEGIN")
        events_store.insert_many_floor(conn, event_rows, tag_rows)
        conn.execute("COMMIT")
        elapsed += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
    n = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    conn.close()
    src.close()
    tag_src.close()
    return n, elapsed, cpu


def _peak_rss_mb() -> float | None:
    try:
        import resource

        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    except ImportError:  # pragma: no cover - not on Linux
        return None


def measure(events: int, batch: int, seed: int, workdir: Path, breakdown: bool = False,
            classifier: bool = True) -> dict[str, Any]:
    pipe_db, floor_db, floor2_db = workdir / "pipeline.db", workdir / "floor.db", workdir / "floor-inbox.db"
    pipe = run_pipeline(pipe_db, events, batch, seed, breakdown, classifier)
    floor_rows, floor_s, floor_cpu = run_floor(pipe_db, floor_db, batch)
    floor2_rows, floor2_s, _cpu = run_floor(pipe_db, floor2_db, batch, with_inbox=True)
    compute = run_compute(workdir / "compute.db", events, seed)
    floor_inbox_us = floor2_s / floor2_rows * 1e6 if floor2_rows else 0.0
    events_per_s = events / pipe["seconds"] if pipe["seconds"] else 0.0
    floor_per_s = floor_rows / floor_s if floor_s else 0.0
    result: dict[str, Any] = {
        "events": events,
        "seconds": round(pipe["seconds"], 3),
        "events_per_s": round(events_per_s),
        "floor_events_per_s": round(floor_per_s),
        "ratio": round(events_per_s / floor_per_s, 3) if floor_per_s else None,
        "cpu_seconds": round(pipe["cpu_seconds"], 3),
        "events_per_cpu_s": round(events / pipe["cpu_seconds"]) if pipe["cpu_seconds"] else None,
        "floor_events_per_cpu_s": round(floor_rows / floor_cpu) if floor_cpu else None,
        "ratio_cpu": round((events / pipe["cpu_seconds"]) / (floor_rows / floor_cpu), 3)
        if pipe["cpu_seconds"] and floor_cpu else None,
        "ingest_seconds": round(pipe["ingest_seconds"], 3),
        "floor_with_inbox_events_per_s": round(floor2_rows / floor2_s) if floor2_s else None,
        "compute_floor_us_per_event": compute,
        "bound_events_per_s": round(1e6 / (compute["total"] + floor_inbox_us)) if floor_inbox_us else None,
        "stored_events": pipe["stored_events"],
        "tag_rows": pipe["tag_rows"],
        "inbox": pipe["inbox"],
        "routers": pipe["routers"],
        "classifier": "on" if classifier else "off",
        "batch": batch,
        "cpus": os.cpu_count(),
        "peak_rss_mb": _peak_rss_mb(),
    }
    if "handler_seconds" in pipe:
        result["handler_seconds"] = pipe["handler_seconds"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=None, help="rows per transaction (default: bot.dispatch_batch)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.add_argument("--profile", action="store_true", help="profile the run with pyinstrument (if installed)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the databases in this folder")
    parser.add_argument("--breakdown", action="store_true", help="also time every observer and handler")
    parser.add_argument("--without", action="append", default=[], metavar="MODULE",
                        help="leave this router module out (e.g. handlers.conversation.observe) to measure its cost")
    parser.add_argument("--classifier", choices=("on", "off", "compare"), default="on",
                        help="off: the objection × strategy classifier answers no labels, to measure its cost "
                             "(issue budget: at most 15 %% fewer events_per_s with it on); compare: both at once, "
                             "interleaved chunk by chunk, and only that comparison is printed")
    parser.add_argument("--texts", type=Path, default=None, metavar="FILE.jsonl",
                        help="draw the chat texts from this file (conversations with turns, e.g. "
                             "../shared/data/sales_dialogue_dev/conversations.jsonl, or classify-style lines) "
                             "instead of the 14 built-in templates")
    args = parser.parse_args(argv)
    if args.texts is not None:
        global TEXTS
        TEXTS = load_texts(args.texts)
    unknown = [m for m in args.without if m not in app_module.ROUTER_MODULES]
    if unknown:
        parser.error(f"not in bot.app.ROUTER_MODULES: {', '.join(unknown)}")
    if args.without:
        app_module.ROUTER_MODULES = tuple(m for m in app_module.ROUTER_MODULES if m not in args.without)
    batch = args.batch or load_config(None).bot.dispatch_batch
    workdir_ctx = tempfile.TemporaryDirectory(prefix="salespulse-bench-") if args.keep is None else None
    workdir = Path(workdir_ctx.name) if workdir_ctx else args.keep
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("pipeline.db", "floor.db", "floor-inbox.db", "compute.db"):
        for suffix in ("", "-wal", "-shm"):
            (workdir / (name + suffix)).unlink(missing_ok=True)
    profiler = None
    if args.profile:
        try:
            from pyinstrument import Profiler
        except ImportError:
            parser.error("--profile needs pyinstrument: .venv/bin/pip install pyinstrument")

        profiler = Profiler()
        profiler.start()
    try:
        if args.classifier == "compare":
            result = run_classifier_pair(workdir, args.events, batch, args.seed)
            print(json.dumps(result, ensure_ascii=False))
            return 0
        result = measure(args.events, batch, args.seed, workdir, args.breakdown, args.classifier == "on")
    finally:
        if profiler is not None:
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False), file=sys.stderr)
        if workdir_ctx is not None:
            workdir_ctx.cleanup()
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
