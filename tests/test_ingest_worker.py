"""The crash-test worker: a real ingest loop that tests/test_crash.py launches and kills with SIGKILL.

Run as a script (`python tests/test_ingest_worker.py --db FILE`), it does what the live WeCom archive puller and the
dispatcher do together: pull the next chunk of deterministic archive records (stable `msgid`s), normalise them with
adapters/wecom/archive_format.record_to_event, put them in the inbox, then save the pull cursor in a *separate*
transaction (exactly like a puller whose checkpoint lags the data, so a crash in between re-pulls and the inbox's
unique key must absorb it), and run the real Dispatcher over the pending rows. After a kill it simply starts again
and resumes from the stored cursor.

The router is the spine's own contract, independent of which capabilities are installed: one observer stores the
event (as the tagging capability does), bumps a plain counter in `kv` (no unique key protects it, so a row processed
twice would show), and every tenth event queues a reply through the outbox. It can also kill itself with SIGKILL at
an exact point inside a transaction (`--die-in-ingest`, `--die-in-dispatch`), so the test hits the worst moments
deterministically as well as at random.

When imported by pytest, the module only contributes a test of the generator's determinism.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Iterator

from adapters.wecom.archive_format import record_to_event
from bot.clock import VirtualClock
from bot.config import load_config
from bot.context import Context, Services
from bot.dispatcher import Dispatcher
from bot.events import Message
from bot.org import Directory
from bot.router import Router
from prompts import Prompts
from store import events as events_store
from store import inbox as inbox_store
from store import kv
from store.db import Store, open_store

T0 = 1_772_413_200_000  # 2026-03-02 01:00 UTC
CURSOR_KEY = "crashtest.cursor"
COUNTER_KEY = "crashtest.processed"
_WORDS = ("报价单", "型号参数", "交付周期", "预算", "合同", "样品", "再比较一下", "下周见面", "技术方案", "付款方式")


def record(i: int) -> dict:
    """The i-th archive record: a stable msgid, alternating rep and customer, text or a file send."""
    rep = f"rep{i % 13:02d}"
    customer = f"wmCust{i % 311:04d}"
    sender, receiver = (rep, customer) if i % 2 == 0 else (customer, rep)
    base = {"msgid": f"crash-{i:06d}", "action": "send", "from": sender, "tolist": [receiver], "roomid": "",
            "msgtime": T0 + i * 1000}
    if i % 17 == 0:
        return {**base, "msgtype": "file", "file": {"filename": f"XX{i % 50}型号参数", "fileext": "pdf",
                                                    "filesize": 1000 + i, "sdkfileid": f"sdk{i}"}}
    return {**base, "msgtype": "text", "text": {"content": f"第{i}条：关于{_WORDS[i % len(_WORDS)]}的沟通"}}


def records(start: int, stop: int) -> Iterator[dict]:
    for i in range(start, stop):
        yield record(i)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def build_router(die_after: int | None) -> Router:
    router = Router("crashtest")
    seen = [0]

    @router.observe(Message)
    def store_event(event: Message, ctx: Context) -> None:
        events_store.insert(ctx.store, (
            event.event_id, event.type_name, event.platform, event.occurred_at, event.actor.platform_id,
            event.actor.person_id, event.actor.role.value, event.actor.customer_id or None, None, event.kind.value,
            event.searchable_text, event.conversation_id, "{}"))
        done = int(kv.get(ctx.store, COUNTER_KEY, "0") or 0)
        kv.put(ctx.store, COUNTER_KEY, str(done + 1))
        if int(event.event_id.rsplit("-", 1)[1]) % 10 == 0:
            ctx.reply("收到")
        seen[0] += 1
        if die_after is not None and seen[0] >= die_after:
            _die()  # inside the batch transaction, after this row's writes

    return router


def ingest_chunk(store: Store, start: int, stop: int, now_ms: int, die_in_ingest: int | None) -> None:
    """Pull [start, stop) into the inbox (one transaction), then advance the cursor (another one)."""
    with store.transaction():
        for n, rec in enumerate(records(start, stop), 1):
            event = record_to_event(rec, now_ms)
            inbox_store.accept(store, "wecom", rec["msgid"], rec, event.to_dict(), now_ms)
            if die_in_ingest is not None and n >= die_in_ingest:
                _die()  # half a chunk written, nothing committed
    with store.transaction():
        kv.put(store, CURSOR_KEY, str(stop))


def run(db: str, total: int, chunk: int, die_in_ingest: int | None, die_in_dispatch: int | None) -> int:
    store = open_store(db)
    config = load_config(None)
    clock = VirtualClock(T0)
    services = Services(store=store, config=config, clock=clock, directory=Directory(store),
                        prompts=Prompts(config.bot.locale))
    dispatcher = Dispatcher(services, build_router(die_in_dispatch).compile(), batch=chunk)
    cursor = int(kv.get(store, CURSOR_KEY, "0") or 0)
    print(f"start {cursor}", flush=True)
    while True:
        if cursor < total:
            stop = min(total, cursor + chunk)
            ingest_chunk(store, cursor, stop, clock.now_ms(), die_in_ingest)
            die_in_ingest = None
            cursor = stop
        handled = dispatcher.process_pending()
        print(f"progress {cursor} {dispatcher.processed}", flush=True)
        if cursor >= total and handled == 0:
            break
    print(json.dumps({"done": True, "processed": dispatcher.processed}), flush=True)
    store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--total", type=int, default=50_000)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--die-in-ingest", type=int, default=None, help="SIGKILL self after N inbox rows of a chunk")
    parser.add_argument("--die-in-dispatch", type=int, default=None, help="SIGKILL self after N dispatched rows")
    args = parser.parse_args(argv)
    return run(args.db, args.total, args.chunk, args.die_in_ingest, args.die_in_dispatch)


def test_generator_is_deterministic_and_normalisable():
    first = [record(i) for i in range(40)]
    assert first == list(records(0, 40))
    assert len({r["msgid"] for r in first}) == 40
    events = [record_to_event(r, T0) for r in first]
    assert events[17].kind.value == "file" and events[17].file_name == "XX17型号参数.pdf"
    assert events[1].actor.platform_id.startswith("wm")


if __name__ == "__main__":
    sys.exit(main())
