"""`salespulse report --xlsx FILE [--db …] [--what 预测,健康度,基线,漏斗] [--scope 团队|姓名]`: the workbook `/导出`
sends in chat, written from the command line (handlers/views/workbook.py builds both)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.support import config_from, existing_db
from bot.clock import CLOCK_KEY, Clock, OffsetClock
from bot.context import Context, Services
from bot.errors import UserInputError
from bot.org import Directory
from prompts import Prompts
from prompts.library import os_reason
from store import kv
from store.db import open_store


def register(sub: argparse._SubParsersAction) -> None:
    # English literals; bot/cli/localise.py shows prompts/locales/<locale>/cli_help.toml [report] instead
    p = sub.add_parser("report", help="write the forecast, health, baseline and pipeline as an Excel file",
                       description="The workbook /export sends in chat: one sheet each for the forecast, deal "
                                   "health, the baseline self-check and the pipeline.")
    p.add_argument("--xlsx", required=True, metavar="FILE", help="the .xlsx file to write")
    p.add_argument("--db", default=None, help="database file (default: bot.database from config)")
    p.add_argument("--what", default="全部", help="which sheets, comma-separated (default: all)")
    p.add_argument("--scope", default="", help="a team or person name (default: the whole company)")
    p.add_argument("--at", default=None, metavar="'YYYY-MM-DD HH:MM'",
                   help="as of this local time (default: the demo's date on a demo database, else now)")
    p.set_defaults(handler=cmd_report)


def _owners(directory: Directory, text: str, t) -> tuple[list[str] | None, str, str]:
    """(owners, what to call the scope, the forecast's target key) of --scope."""
    if not text:
        return None, t("forecast.scope_company"), "company"
    team = next((tid for tid, (name, _m) in directory.teams.items() if text in (name, tid)), None)
    if team is not None:
        name = directory.teams[team][0]
        return [p.id for p in directory.team_members(team)], t("forecast.scope_team", name=name), f"team:{name}"
    person = directory.by_name(text) or directory.person(text)
    if person is not None:
        return [person.id], t("forecast.scope_person", name=person.name), f"rep:{person.id}"
    raise UserInputError(t("views.cli_report_unknown_scope", text=text))


def _clock(args: argparse.Namespace, config, store) -> Clock:
    """--at, else the virtual time a demo database was built at (its deals are as of then), else the wall clock."""
    from bot.cli.core import _chat_clock

    if not args.at and (recorded := kv.get(store, CLOCK_KEY)):
        return OffsetClock(int(recorded))
    return _chat_clock(args, config, store)


def cmd_report(args: argparse.Namespace) -> int:
    from handlers.views import workbook  # late: handlers import much that --help does not need

    config = config_from(args)
    prompts = Prompts(config.bot.locale)
    t = prompts.t
    if Path(args.xlsx).suffix.lower() != ".xlsx":
        raise UserInputError(t("views.cli_report_bad_file", path=args.xlsx))
    sheets, unknown = workbook.parse_what([args.what])
    if unknown or not sheets:
        raise UserInputError(t("views.cli_report_unknown", words="、".join(unknown) or args.what))
    store = open_store(existing_db(config, args.db))
    try:
        directory = Directory(store)
        owners, scope_text, key = _owners(directory, args.scope.lstrip("@"), t)
        clock = _clock(args, config, store)
        ctx = Context(Services(store=store, config=config, clock=clock, directory=directory, prompts=prompts), None)
        now = clock.now_ms()
        target = None
        if "forecast" in sheets:
            from zoneinfo import ZoneInfo

            from handlers.forecast import periods
            from handlers.views.targets import target_for

            today = periods.local_date(now, ZoneInfo(config.bot.timezone))
            period = periods.parse(config.forecast.default_period, today) or periods.quarter_of(today)
            target = target_for(store, config.forecast.targets, key, period, today)[0]
        try:
            counts = workbook.build(ctx, sheets, owners, scope_text, args.xlsx, now, None, target)
        except OSError as exc:  # a folder that cannot be written, a file open in Excel (locked)
            raise UserInputError(t("views.cli_report_cannot_write", path=args.xlsx, error=os_reason(exc, t))) from None
    finally:
        store.close()
    print(t("views.cli_report_done", path=str(Path(args.xlsx).resolve()),
            sheets=t("core.list_sep").join(t("views.export_sheet_rows", sheet=k, n=v) for k, v in counts.items())))
    return 0
