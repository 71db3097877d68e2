"""`salespulse doctor`: one line per check (config, database, ffmpeg, CJK font, ASR, archive SDK, platforms)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.doctor import render, run_checks


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check config, database, ffmpeg, fonts, optional ASR and which platforms are ready")
    p.add_argument("--db", default=None, help="database file (default: bot.database from config)")
    p.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    path = args.config or ("bot.toml" if Path("bot.toml").is_file() else None)
    checks, t = run_checks(path, args.db)
    lines, code = render(checks, t)
    print("\n".join(lines))
    return code
