"""`salespulse import archive FILE.jsonl`: WeCom archive records already decrypted by another tool.

One decrypted record per line (the JSON the finance SDK's DecryptData returns: msgid, action, from, tolist, roomid,
msgtime, msgtype, …). Records go through the same normaliser and inbox key as the live puller, so importing
something the puller already stored changes nothing. Bad lines are reported with their line numbers and skipped;
well-formed records of types we do not model are kept in the inbox as unsupported. Then the pipeline runs so the
imported messages are tagged and counted like live ones — over everything pending, not only this run's new rows:
after a SIGKILL mid-processing the rows are already stored ("0 new"), and a re-run must still finish them and say
how many it finished.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from adapters.base import AdapterContext
from adapters.wecom.ingest import ingest_record
from bot import crashpoints
from bot.cli.support import config_from, store_from
from bot.clock import SystemClock
from bot.errors import BadPayload
from prompts import Prompts
from prompts.library import os_reason
from store import inbox as inbox_store
from store.db import Store


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="JSONL file, one decrypted archive record per line")
    p.add_argument("--db", default=None, help="database file (default: bot.database from config)")
    p.add_argument("--no-process", action="store_true", help="only fill the inbox; `salespulse serve` processes it")


def import_file(ctx: AdapterContext, path: Path, report) -> dict[str, int]:
    """Ingest every line; returns counts by outcome (new, duplicate, unsupported, bad). Bad lines are reported in
    the configured locale."""
    t = Prompts(ctx.config.bot.locale).t
    counts = {"new": 0, "duplicate": 0, "unsupported": 0, "bad": 0}
    now = ctx.clock.now_ms()
    try:
        fh = path.open(encoding="utf-8-sig")
    except OSError as exc:
        raise BadPayload(t("core.file_unreadable", path=path, error=os_reason(exc, t))) from None
    with fh, ctx.store.transaction():
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                report(t("platforms.archive_line_not_json", path=path, line=number))
                counts["bad"] += 1
                continue
            if not isinstance(record, dict):
                report(t("platforms.archive_line", path=path, line=number, why=t("platforms.archive_not_object")))
                counts["bad"] += 1
                continue
            try:
                outcome = ingest_record(ctx, record, now, fallback_key=f"wecom-archive-import:{path.name}:{number}")
            except BadPayload as exc:
                why = t(exc.key, **{k: t(f"platforms.archive_kind_{v}") if k == "kind" else v
                                    for k, v in exc.values.items()}) if exc.key else str(exc)
                report(t("platforms.archive_line", path=path, line=number, why=why))
                counts["bad"] += 1
                continue
            counts[outcome] += 1
            crashpoints.reached("import.row")
    return counts


def _process(store: Store, config) -> None:
    from bot.app import Runtime

    rt = Runtime(config=config, store=store, clock=SystemClock())
    try:
        asyncio.run(rt.settle(max_rounds=100_000))
    finally:
        rt.close()


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    store = store_from(config, args.db)
    t = Prompts(config.bot.locale).t
    try:
        ctx = AdapterContext(store, config, SystemClock(), wake=lambda: None)
        left_over = inbox_store.counts(store).get("pending", 0)  # an earlier run was killed before finishing
        counts = import_file(ctx, args.file, lambda msg: print(msg, file=sys.stderr))
        pending = inbox_store.counts(store).get("pending", 0)
        if not args.no_process and pending:
            _process(store, config)
        print(t("platforms.archive_import_done", new=counts["new"], duplicate=counts["duplicate"],
                unsupported=counts["unsupported"], bad=counts["bad"]))
        still = inbox_store.counts(store).get("pending", 0)
        if left_over and not args.no_process:
            print(t("ops.pending_finished", n=left_over - min(still, left_over)))
        if still:
            print(t("ops.pending_waiting", n=still))
    finally:
        store.close()
    return 0 if counts["bad"] == 0 else 1
