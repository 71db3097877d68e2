"""`salespulse import transcripts FILE.jsonl`: call / voice transcripts with timestamps → golden snippets
(format: handlers/coaching/transcripts.py)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bot import crashpoints
from bot.cli.support import config_from, store_from
from handlers.coaching.sweep import sentiment_for
from handlers.coaching.transcripts import file_call, read_calls
from handlers.conversation.classifier import classify
from prompts import Prompts
from store import leads as lead_store
from store import org as org_store


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="JSONL: one call per line {id, lead, rep, started_at, turns: [...]}")
    p.add_argument("--db", default=None)


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    t = Prompts(config.bot.locale).t
    if not args.file.is_file():
        print(t("coaching.import_missing", file=args.file))
        return 2
    store = store_from(config, args.db)
    calls, errors = read_calls(args.file, config.bot.timezone, t)
    people = {p.id: p for p in org_store.all_people(store)}
    by_name = {p.name: p for p in people.values()}
    filed = 0
    now = int(time.time() * 1000)

    def labels(text: str, role: str) -> tuple[str, ...]:
        return tuple(classify(text, role).labels)

    with store.transaction():
        for call in calls:
            person = people.get(call.rep) or by_name.get(call.rep)
            if person is None:
                errors.append(t("coaching.import_unknown_rep", line=call.line, rep=call.rep))
                continue
            if lead_store.get(store, call.lead_id) is None:
                errors.append(t("coaching.import_unknown_lead", line=call.line, lead=call.lead_id))
                continue
            filed += file_call(store, call, person.id, person.team_id or "", classify=labels, sentiment=sentiment_for(config.coaching.sentiment),
                               now_ms=now, cfg=config.coaching)
            crashpoints.reached("import.row")
    for e in errors:
        print(e)
    print(t("coaching.import_done", calls=len(calls), snippets=filed, errors=len(errors)))
    return 1 if errors and not filed else 0
