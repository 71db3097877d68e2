"""`salespulse forget <customer>`: erase one customer's messages and audio everywhere (handlers/privacy/forget.py),
after a confirmation (or `--yes`), and print what was deleted — counts, never content."""

from __future__ import annotations

import argparse
import getpass
import sys

from bot.cli.support import config_from, data_dir_for, existing_db, store_from
from bot.clock import SystemClock
from bot.errors import UserInputError
from handlers.privacy.forget import forget
from prompts import Prompts
from store import forget as forget_store

KINDS = ("events", "inbox", "conversation_labels", "coach_snippets", "coach_hesitations", "voice_notes", "debriefs",
         "deal_notes", "links", "calls", "store_experiences", "replies_dropped", "replies_redacted", "practice",
         "files")


def register(sub: argparse._SubParsersAction) -> None:
    """Help texts come from prompts/locales/*/cli_help.toml [forget] (bot/cli/localise.py)."""
    p = sub.add_parser("forget", help="", description="")
    p.add_argument("customer")
    p.add_argument("--yes", action="store_true")
    p.add_argument("--by", default=None)
    p.add_argument("--db", default=None)
    p.set_defaults(handler=cmd_forget)


def cmd_forget(args: argparse.Namespace) -> int:
    config = config_from(args)
    t = Prompts(config.bot.locale).t
    store = store_from(config, existing_db(config, args.db))
    try:
        found = forget_store.find_customers(store, args.customer)
        if not found:
            raise UserInputError(t("privacy.not_found", text=args.customer))
        if len(found) > 1:
            names = "\n".join(t("privacy.candidate", id=c.id, name=c.name, leads=c.leads) for c in found)
            raise UserInputError(t("privacy.ambiguous", text=args.customer, n=len(found), names=names))
        customer = found[0]
        if not args.yes:
            print(t("privacy.confirm", name=customer.name, id=customer.id, leads=customer.leads))
            try:
                answer = input(t("privacy.confirm_prompt"))
            except EOFError:
                answer = ""
            if answer.strip() not in (customer.name, customer.id):
                print(t("privacy.cancelled"))
                return 1
        actor = args.by or getpass.getuser()
        result = forget(store, data_dir_for(config, store), customer.id, actor=actor,
                        now_ms=SystemClock().now_ms(), prompts=Prompts(config.bot.locale))
    finally:
        store.close()
    print(t("privacy.done", name=result.name, id=result.customer_id, audit=result.audit_id, actor=actor))
    for kind in KINDS:
        n = result.counts.get(kind, 0)
        if n:
            print(t("privacy.count_line", what=t(f"privacy.kind_{kind}"), n=n))
    if not any(result.counts.values()):
        print(t("privacy.nothing"))
    if result.kept_files:
        print(t("privacy.kept_files", n=len(result.kept_files), files="\n".join(f"  {f}" for f in result.kept_files)),
              file=sys.stderr)
    if result.wal_busy:
        print(t("privacy.wal_busy"), file=sys.stderr)
    backup = config.backup
    print(t("privacy.backups", folder=backup.folder, keep=backup.keep) if backup.enabled
          else t("privacy.backups_off"))
    return 0
