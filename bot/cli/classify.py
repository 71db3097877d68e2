"""`salespulse classify IN.jsonl [-o OUT] [--explain]` and `salespulse classify --text "…" --as customer|rep
[--explain]`: the objection × strategy classifier for batch use and for trying one line, with the configured
admin packs (`[conversation]` in bot.toml).

Batch input: one JSON object per line, `{"id", "role": "customer"|"rep", "text"}`; output: one line per good
input, `{"id", "labels": [...], "evidence": {label: [words]}}` (evidence only with --explain). A bad line (not
JSON, wrong role, no text) is reported on stderr with its line number and skipped; the rest still run, and the
exit code is 1 when any line was skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.cli.support import config_from
from handlers.conversation.classifier import Classifier
from handlers.conversation.labels import ROLES, display_key
from handlers.conversation.lexicon import PackErrors
from prompts import Prompts
from prompts.library import os_reason


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("classify", help="label customer objections / rep strategies in chat lines (JSONL or --text)")
    p.add_argument("input", nargs="?", type=Path, help='JSONL file of {"id", "role", "text"} lines ("-" = stdin)')
    p.add_argument("-o", "--output", type=Path, default=None, help="write the JSONL result here (default: stdout)")
    p.add_argument("--text", default=None, help="classify this one line instead of a file")
    p.add_argument("--as", dest="role", default="customer", choices=sorted(ROLES), help="who said --text")
    p.add_argument("--explain", action="store_true", help="show the words or features that decided each label")
    p.set_defaults(handler=cmd_classify)


def _classifier(config, t) -> Classifier | None:
    try:
        return Classifier.from_config(config)
    except PackErrors as exc:
        print(t("conversation.cli.packs_broken"), file=sys.stderr)
        for err in exc.errors:
            print(str(err), file=sys.stderr)
        return None


def cmd_classify(args: argparse.Namespace) -> int:
    config = config_from(args)
    t = Prompts(config.bot.locale).t
    if args.text is None and args.input is None:
        print(t("conversation.cli.no_input"), file=sys.stderr)
        return 2
    clf = _classifier(config, t)
    if clf is None:
        return 1
    if args.text is not None:
        return _one(clf, args, t)
    return _batch(clf, args, t)


def _one(clf: Classifier, args: argparse.Namespace, t) -> int:
    got = clf.classify(args.text, args.role, explain=args.explain)
    print(t("conversation.cli.turn_line", text=args.text, role=t(f"conversation.role.{args.role}")))
    if not got.labels:
        print(t("conversation.cli.no_labels"))
    for label in got.labels:
        print(t("conversation.cli.label_line", label=label, name=t(display_key(label))))
        if args.explain and got.evidence.get(label):
            print(t("conversation.cli.because", evidence="；".join(got.evidence[label])))
    if args.explain:
        for key, words in got.evidence.items():
            if key.startswith("~"):
                print(f"✘ {key[1:]}（{t(display_key(key[1:]))}）")
                print(t("conversation.cli.because", evidence="；".join(words)))
    return 0


def _read_lines(path: Path):
    if str(path) == "-":
        yield from sys.stdin
        return
    with path.open(encoding="utf-8", errors="strict") as fh:
        yield from fh


def _batch(clf: Classifier, args: argparse.Namespace, t) -> int:
    out = args.output.open("w", encoding="utf-8") if args.output else sys.stdout
    done = skipped = 0
    try:
        try:
            for n, line in enumerate(_read_lines(args.input), start=1):
                if not line.strip():
                    continue
                item, reason = _parse(line, t)
                if item is None:
                    print(t("conversation.cli.bad_line", line=n, reason=reason), file=sys.stderr)
                    skipped += 1
                    continue
                got = clf.classify(item["text"], item["role"], explain=args.explain)
                evidence = {k: list(v) for k, v in got.evidence.items() if not k.startswith("~")} if args.explain else {}
                out.write(json.dumps({"id": item["id"], "labels": list(got.labels), "evidence": evidence},
                                     ensure_ascii=False) + "\n")
                done += 1
        except (OSError, UnicodeDecodeError) as exc:
            print(t("conversation.cli.cannot_read", path=args.input, reason=os_reason(exc, t)),
                  file=sys.stderr)
            return 1
    finally:
        if out is not sys.stdout:
            out.close()
    print(t("conversation.cli.summary", done=done, skipped=skipped), file=sys.stderr)
    return 1 if skipped else 0


def _parse(line: str, t) -> tuple[dict | None, str]:
    try:
        obj = json.loads(line)
    except ValueError:
        return None, t("conversation.cli.bad_json")
    if not isinstance(obj, dict):
        return None, t("conversation.cli.bad_object")
    if obj.get("role") not in ROLES:
        return None, t("conversation.cli.bad_role")
    if not isinstance(obj.get("text"), str):
        return None, t("conversation.cli.bad_text")
    if "id" not in obj or obj["id"] is None or isinstance(obj["id"], dict | list):
        return None, t("conversation.cli.bad_id")
    return obj, ""
