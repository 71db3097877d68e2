"""`salespulse init`: the set-up wizard (bot/setup_wizard/). This module only maps flags to answers.

Its help texts come from prompts setup.toml in the locale the command line is built in (bot/cli/localise.py: -c's
or ./bot.toml's [bot] locale, else zh-CN), since most of them are composed from the wizard's own field names.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot.cli.localise import current_prompts
from bot.setup_wizard.flow import Answers, Wizard
from bot.setup_wizard.platforms import PLATFORMS, SPECS, parse_platforms

_API_FLAGS = {"wecom": "wecom-api-base", "dingtalk": "dingtalk-api-base", "feishu": "feishu-domain"}


def register(sub: argparse._SubParsersAction) -> None:
    t = current_prompts().t  # the locale the command line is built in (bot/cli/localise.py)
    p = sub.add_parser("init", help=t("setup.help"), description=t("setup.description"), epilog=t("setup.epilog"))
    p.add_argument("--yes", "-y", action="store_true", help=t("setup.h_yes"))
    p.add_argument("--platform", action="append", default=[], metavar="wecom|dingtalk|feishu",
                   help=t("setup.h_platform"))
    p.add_argument("--out", default=None, metavar="bot.toml", help=t("setup.h_out"))
    p.add_argument("--force", action="store_true", help=t("setup.h_force"))
    p.add_argument("--db", dest="database", default="salespulse.db", metavar="FILE",  # not _common.db: it sets it
                   help=t("setup.h_db"))
    p.add_argument("--locale", default="zh-CN", metavar="zh-CN|en", help=t("setup.h_locale"))
    p.add_argument("--public-url", default="", metavar="https://…", help=t("setup.h_public_url"))
    p.add_argument("--no-check", action="store_true", help=t("setup.h_no_check"))
    p.add_argument("--admin", default="", metavar=t("setup.h_admin_metavar"), help=t("setup.h_admin"))
    seen: set[str] = set()
    for platform in PLATFORMS:
        spec = SPECS[platform]
        name = t(f"setup.name_{platform}")
        if spec.mode_flag:
            p.add_argument("--" + spec.mode_flag, default="", metavar="|".join(spec.modes),
                           help=t("setup.h_mode", platform=name, modes=" / ".join(spec.modes), default=spec.modes[0]))
        for f in spec.fields:
            if f.flag in seen:
                continue
            seen.add(f.flag)
            what = t(f"setup.f_{platform}_{f.key}")
            p.add_argument("--" + f.flag, default="", metavar="…" if f.secret else f.key.upper(),
                           help=t("setup.h_field_env", platform=name, what=what, env=f.env) if f.env
                           else t("setup.h_field", platform=name, what=what))
        p.add_argument("--" + _API_FLAGS[platform], default="", metavar="URL",
                       help=t("setup.h_api_base", platform=name))
    p.set_defaults(handler=cmd_init)


def answers_from(args: argparse.Namespace) -> Answers:
    platforms: list[str] = []
    bad = ""
    for word in args.platform:
        parsed = parse_platforms(word)
        if parsed is None:
            bad = word
            continue
        platforms += [p for p in parsed if p not in platforms]
    values: dict[str, dict[str, str]] = {}
    for platform in PLATFORMS:
        for f in SPECS[platform].fields:
            given = getattr(args, f.flag.replace("-", "_")) or (os.environ.get(f.env, "") if f.env else "")
            if given:
                values.setdefault(platform, {})[f.key] = given.strip()
    modes = {platform: getattr(args, SPECS[platform].mode_flag.replace("-", "_"))
             for platform in PLATFORMS if SPECS[platform].mode_flag
             and getattr(args, SPECS[platform].mode_flag.replace("-", "_"))}
    api_bases = {platform: getattr(args, flag.replace("-", "_")) for platform, flag in _API_FLAGS.items()
                 if getattr(args, flag.replace("-", "_"))}
    return Answers(platforms=platforms, modes=modes, values=values, public_url=args.public_url.strip(),
                   api_bases=api_bases, out=Path(args.out or args.config or "bot.toml"), database=args.database,
                   locale=args.locale, force=args.force, check=not args.no_check, admin=args.admin.strip(),
                   bad_platform=bad)


def cmd_init(args: argparse.Namespace) -> int:
    wizard = Wizard(answers_from(args), interactive=not args.yes, inp=sys.stdin, out=sys.stdout)
    return wizard.run()
