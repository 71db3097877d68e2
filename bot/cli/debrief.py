"""`salespulse debrief parse --text "…" [--at "YYYY-MM-DD HH:MM"] [--json]`: run the debrief's understanding step
on a transcript — split into the three answers, labels from the conversation classifier, the next step's action,
date and person, and what was not understood — without a running bot (for admins checking a model's transcripts).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.cli.support import config_from
from bot.errors import UserInputError
from handlers.debrief import peers
from handlers.debrief.understand import parse
from prompts import Prompts


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("debrief", help="debrief tools: parse a transcript the way the bot understands a debrief")
    dsub = p.add_subparsers(dest="debrief_command", metavar="ACTION", required=True)
    c = dsub.add_parser("parse", help="split a transcript into worry / evidence / next step and understand it")
    c.add_argument("--text", required=True, help="the transcript or typed debrief")
    c.add_argument("--at", default="", help='when it was said, "YYYY-MM-DD HH:MM" in the bot timezone (default: now)')
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(handler=cmd_parse)


def cmd_parse(args: argparse.Namespace) -> int:
    config = config_from(args)
    p = Prompts(config.bot.locale)
    tz = ZoneInfo(config.bot.timezone)
    if args.at:
        try:
            at = datetime.strptime(args.at.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=tz)
        except ValueError:
            raise UserInputError(p.t("debrief_cli.bad_at", at=args.at)) from None
    else:
        at = datetime.now(tz)
    if not args.text.strip():
        raise UserInputError(p.t("debrief_cli.empty"))
    u = parse(args.text, at.date(), peers.standalone_classifier(config))
    out = u.to_json()
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    n = out["next_step"]
    names = lambda labels: p.t("core.list_sep").join(peers.label_name(p, k) for k in labels) or "—"  # noqa: E731
    lines = [p.t("debrief_cli.worry", text=out["worry"]["text"] or "—", labels=names(out["worry"]["labels"])),
             p.t("debrief_cli.evidence", text=out["evidence"]["text"] or "—", labels=names(out["evidence"]["labels"])),
             p.t("debrief_cli.next", action=n["action"] or "—", date=n["date"] or "—", person=n["person"] or "—")]
    if out["not_understood"]:
        items = [*(p.t(f"debrief.nu_{k.replace('.', '_')}") for k in u.not_understood), *(f"“{x}”" for x in u.leftover)]
        lines.append(p.t("debrief_cli.not_understood", items=p.t("core.list_sep").join(items)))
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
