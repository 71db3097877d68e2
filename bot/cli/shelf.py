"""`salespulse shelf check PHOTO --planogram DIR [--json] [--annotated OUT.png]`: the chat's shelf-photo check
from the command line, for admins setting up a planogram folder and for batch checks of saved photos.

--json prints {"registered", "reason", "exposure", "problems": [{"product", "kind", "box"}]}; without it a short
summary in the configured locale. A planogram folder that cannot be used is one clear line (exit 2).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.cli.support import config_from
from bot.errors import BadPayload
from prompts import Prompts, render


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("shelf", help="shelf photos against the planogram (货架照片检查)")
    inner = p.add_subparsers(dest="shelf_command", metavar="ACTION")
    c = inner.add_parser("check", help="check one photo against a planogram folder")
    c.add_argument("photo", type=Path, help="the shelf photo (JPEG/PNG)")
    c.add_argument("--planogram", type=Path, required=True, help="planogram folder (see README: Shelf planograms)")
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    c.add_argument("--annotated", type=Path, default=None, help="write the annotated photo (PNG) here")
    c.set_defaults(handler=cmd_check)
    p.set_defaults(handler=lambda args: (p.print_help(), 0)[1])


def cmd_check(args: argparse.Namespace) -> int:
    from handlers.stores.shelf import PlanogramError, check_photo, load_planogram, refusal_text

    prompts = _prompts(args)
    try:
        planogram = load_planogram(args.planogram)
    except PlanogramError as exc:
        raise BadPayload(render(exc, prompts.t)) from None
    data = args.photo.read_bytes()
    result = check_photo(data, planogram, annotate=args.annotated is not None, texts=prompts)
    if args.annotated is not None and result.annotated_png is not None:
        args.annotated.write_bytes(result.annotated_png)
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
        return 0
    t = prompts.t
    if not result.registered:
        print(refusal_text(result, planogram, prompts))
        return 0
    total = len(planogram.products)
    print(t("shelf.summary_ok", shelf=planogram.shelf, pct=round(100 * (result.exposure or 0)),
            ok=len(result.in_place), total=total))
    for prob in result.problems:
        print(t(f"shelf.problem_{prob.kind}", product=prob.product))
    if not result.problems:
        print(t("shelf.all_in_place"))
    if args.annotated is not None and result.annotated_png is not None:
        print(t("shelf.annotated_saved", path=args.annotated))
    return 0


def _prompts(args: argparse.Namespace) -> Prompts:
    try:
        return Prompts(config_from(args).bot.locale)
    except Exception:  # noqa: BLE001 - a broken bot.toml must not stop an offline photo check; zh-CN it is
        return Prompts()
