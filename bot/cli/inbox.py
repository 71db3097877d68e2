"""`salespulse inbox`: what arrived and is not finished — counts by status, and the rows of one status.

Why: a job killed half-way (an import, a replay, a crashed serve) leaves rows `pending`; a handler that failed leaves
them `failed`. Both used to be visible only with SQL. `salespulse outbox` is the same view for replies going out.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.cli.support import config_from, store_from
from bot.errors import UserInputError
from prompts import Prompts
from store import inbox as inbox_store

STATUSES = ("pending", "failed", "unsupported", "done")


WORDS = {f"ops.inbox_status_{s}" for s in ("pending", "done", "failed", "unsupported")}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inbox", help="show received records not processed yet (pending) or failed",
                       description="Counts of the inbox by status, then the newest rows of one status (default: "
                                   "failed, else pending). Pending rows are processed by a running `salespulse "
                                   "serve`, or by running the interrupted import / replay again.")
    p.add_argument("--status", choices=STATUSES, default=None, help="list rows in this state")
    p.add_argument("--limit", type=int, default=30, help="show at most N rows, newest first (default 30)")
    p.add_argument("--db", default=None, help="database file (default: bot.database from config)")
    p.set_defaults(handler=cmd_inbox)


def cmd_inbox(args: argparse.Namespace) -> int:
    config = config_from(args)
    t = Prompts(config.bot.locale).t
    db = args.db or config.bot.database
    if not Path(db).exists():
        raise UserInputError(t("ops.outbox_no_db", db=db))
    store = store_from(config, args.db)
    try:
        counts = inbox_store.counts(store)
        tz = ZoneInfo(config.bot.timezone)
        summary = ", ".join(t(f"ops.inbox_status_{k}", n=v) if f"ops.inbox_status_{k}" in WORDS else
                            t("ops.inbox_status", status=k, n=v) for k, v in sorted(counts.items()))
        print(t("ops.inbox_counts", counts=summary) if counts else t("ops.inbox_empty"))
        status = args.status or ("failed" if counts.get("failed") else "pending")
        for row in inbox_store.list_by_status(store, status, max(args.limit, 1)):
            when = datetime.fromtimestamp(row["received_at"] / 1000, tz).strftime("%m-%d %H:%M")
            error = f"  ✗ {row['error'][:100]}" if row["error"] else ""
            print(t("ops.inbox_row", id=row["id"], status=row["status"], platform=row["platform"], when=when,
                    external_id=row["external_id"][:60], error=error))
        if counts.get("pending"):
            print(t("ops.inbox_pending_hint", n=counts["pending"]), file=sys.stderr)
        if counts.get("failed") and status != "failed":
            print(t("ops.inbox_failed_hint", n=counts["failed"]), file=sys.stderr)
    finally:
        store.close()
    return 0
