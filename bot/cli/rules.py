"""`salespulse rules check [FILES…]` and `salespulse rules try TEXT --as ROLE …`: let an admin validate a pack
before saving it and see which tags a line would get, and why, without running the bot.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.support import config_from
from bot.config import Config
from handlers.conversation.checks import example_failures
from handlers.conversation.classifier import Classifier, config_pack_paths, shipped_model
from handlers.conversation.lexicon import PackErrors, load_lexicon
from prompts import Prompts
from rules import Engine, EventView, MemoryHistory, RulePackErrors, load_files, pack_files
from rules.engine import DAY_MS
from rules.loader import parse_catalog_entries

# "客户:附件:XX型号参数.pdf" — a speaker prefix sets the role.
ROLE_PREFIXES = {"客户": "customer", "销售": "rep", "主管": "manager", "经理": "manager", "客服": "cs",
                 "同事": "colleague", "技术": "colleague", "customer": "customer", "rep": "rep"}
TRY_AT = 1_772_413_200_000
TRY_LEAD = "try-lead"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rules", help="check rule packs, or try a line against them")
    rsub = p.add_subparsers(dest="rules_command", metavar="ACTION", required=True)

    c = rsub.add_parser("check", help="validate rule packs; errors read file:line: rule <id>: message")
    c.add_argument("files", nargs="*", type=Path, help="extra pack files to check with the configured ones")
    c.set_defaults(handler=cmd_check)

    t = rsub.add_parser("try", help="show which tags a line would get, and why")
    t.add_argument("text", help='the line, e.g. "客户:附件:XX型号参数.pdf" (a 客户:/销售: prefix sets the role)')
    t.add_argument("--as", dest="role", default=None,
                   choices=["customer", "rep", "manager", "cs", "colleague", "unknown"], help="who did it")
    t.add_argument("--type", default="message", choices=["message", "call", "calendar", "document_open"])
    t.add_argument("--kind", default="text", choices=["text", "file", "image", "voice", "recall"],
                   help="message kind (a --file makes it 'file')")
    t.add_argument("--file", default="", help="attachment file name")
    t.add_argument("--duration", type=float, default=None, help="call / voice duration in seconds")
    t.add_argument("--answered", default="true", choices=["true", "false"], help="call answered")
    t.add_argument("--direction", default="outbound", choices=["inbound", "outbound"], help="call direction")
    t.add_argument("--department", default="", help="the actor's department")
    t.add_argument("--attendee-department", action="append", default=[], help="a meeting attendee's department")
    t.add_argument("--internal", action="store_true", help="no customer involved (internal chat)")
    t.add_argument("--group", action="store_true", help="a group chat")
    t.add_argument("--prior", action="append", default=[], metavar="TAG=N",
                   help="history: N earlier events with TAG on the lead (one day before)")
    t.add_argument("--opens", type=int, default=0, help="history: earlier opens of the same document")
    t.add_argument("--seen", default="", help="history: products already asked about, comma separated")
    t.add_argument("--all", action="store_true", help="also list the rules that did not fire, with the reason")
    t.add_argument("files", nargs="*", type=Path, default=[], help=argparse.SUPPRESS)
    t.set_defaults(handler=cmd_try)


def _paths(config: Config, extra: list[Path]) -> list[Path]:
    cfg = config.rules
    base = Path(config.source).parent if config.source and not config.source.startswith("<") else None
    paths = pack_files(cfg.packs_dirs, cfg.extra_files, cfg.use_default_pack, base)
    resolved = {p.resolve() for p in paths if p.exists()}
    return paths + [p for p in extra if not (p.exists() and p.resolve() in resolved)]


def _catalogs(config: Config) -> dict:
    return {"products": parse_catalog_entries(list(config.rules.products))}


def cmd_check(args: argparse.Namespace) -> int:
    config = config_from(args)
    t = Prompts(config.bot.locale).t
    rule_files = [p for p in args.files if not _is_conversation_pack(p)]
    conversation_files = [p for p in args.files if _is_conversation_pack(p)]
    paths = _paths(config, rule_files)
    try:
        rules, catalogs = load_files(paths, _catalogs(config))
    except RulePackErrors as exc:
        for err in exc.errors:
            print(err.render(t) if hasattr(err, "render") else str(err))
        print(t("cli.rules_errors", n=len(exc.errors), files=len(paths)), file=sys.stderr)
        check_conversation_packs(config, conversation_files, quiet_ok=True)
        return 1
    keywords = sum(len(r.keywords) for r in rules)
    print(t("cli.rules_ok", rules=len(rules), keywords=keywords, entries=sum(len(v) for v in catalogs.values()),
            files=len(paths)))
    for p in paths:
        print(f"  {p}")
    return 0 if check_conversation_packs(config, conversation_files) else 1


def _is_conversation_pack(path: Path) -> bool:
    """A classifier pack (cues / negations / examples) rather than a rule pack, told apart by its sections."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return any(line.strip() in ("[[cue]]", "[[negation]]", "[[example]]", "[names]") for line in text.splitlines())


def check_conversation_packs(config: Config, extra: list[Path], quiet_ok: bool = False) -> bool:
    """Load the classifier packs of `[conversation]` (+ extra files) and run every pack example; print errors as
    file:line and one summary line. True when all is well."""
    t = Prompts(config.bot.locale).t
    paths = config_pack_paths(config) + [p for p in extra if p not in config_pack_paths(config)]
    try:
        lexicon = load_lexicon(paths)
    except PackErrors as exc:
        for err in exc.errors:
            print(err.render(t) if hasattr(err, "render") else str(err))
        print(t("conversation.check.failed", n=len(exc.errors)), file=sys.stderr)
        return False
    clf = Classifier(lexicon, shipped_model() if config.conversation.use_model else None,
                     model_min_prob=config.conversation.model_min_prob,
                     text_max_chars=config.conversation.text_max_chars)
    failures = example_failures(clf, t)
    for line in failures:
        print(line)
    if failures:
        print(t("conversation.check.failed", n=len(failures)), file=sys.stderr)
        return False
    if not quiet_ok:
        print(t("conversation.check.ok", cues=len(lexicon.cues), negations=len(lexicon.negations),
                examples=len(lexicon.examples), files=len(lexicon.files)))
    return True


def build_view(args: argparse.Namespace) -> EventView:
    text = args.text
    role = args.role
    head, sep, rest = text.partition(":")
    if not sep:
        head, sep, rest = text.partition("：")
    if sep and head.strip() in ROLE_PREFIXES:
        role = role or ROLE_PREFIXES[head.strip()]
        text = rest
    role = role or ("customer" if args.type == "document_open" else "rep")
    kind = "file" if args.file and args.kind == "text" else args.kind
    fields: dict = {"length": len(text), "with_customer": not args.internal, "is_group": args.group}
    if args.type == "call":
        fields.update(duration_s=args.duration or 0, answered=args.answered == "true", direction=args.direction)
        if role == "customer":
            role = "rep"  # calls are recorded on the rep's side; --direction says who called
    elif args.duration is not None:
        fields["duration_s"] = args.duration
    if args.type == "calendar":
        fields.update(attendees=1 + len(args.attendee_department), external_attendees=0 if args.internal else 1)
    searchable = "\n".join(p for p in (text, args.file) if p)
    return EventView(args.type, role, kind if args.type == "message" else "", searchable,
                     (args.file,) if args.file else (), fields, args.department,
                     frozenset(args.attendee_department), text if args.type == "document_open" else "",
                     TRY_LEAD, TRY_AT)


def build_history(args: argparse.Namespace, engine: Engine, view: EventView) -> MemoryHistory:
    history = MemoryHistory()
    for item in args.prior:
        tag, _, n = item.partition("=")
        for i in range(int(n or 1)):
            history.add_tag(TRY_LEAD, tag.strip(), TRY_AT - DAY_MS + i)
    for i in range(args.opens):
        history.add_open(TRY_LEAD, view.document or (view.names[0] if view.names else ""), TRY_AT - DAY_MS + i)
    seen = [s.strip() for s in args.seen.replace("，", ",").split(",") if s.strip()]
    for rule in engine.rules:
        if any(w.kind == "distinct" for w in rule.windows):
            for value in seen:
                history.add_value(TRY_LEAD, rule.id, value, TRY_AT - DAY_MS)
    return history


def cmd_try(args: argparse.Namespace) -> int:
    config = config_from(args)
    t = Prompts(config.bot.locale).t
    paths = _paths(config, list(args.files))
    try:
        rules, catalogs = load_files(paths, _catalogs(config))
    except RulePackErrors as exc:
        for err in exc.errors:
            print(err.render(t) if hasattr(err, "render") else str(err))
        return 1
    engine = Engine(rules, catalogs)
    view = build_view(args)
    history = build_history(args, engine, view)
    traces = engine.explain(view, history)
    kind = t("cli.rules_try_kind", kind=view.kind) if view.kind else ""
    print(t("cli.rules_try_event", type=view.type, role=view.role, kind=kind, text=repr(view.text)))
    fired = [tr for tr in traces if tr.fired]
    for tr in fired:
        r = tr.rule
        print(t("cli.rules_try_fired", tag=tr.tag, category=r.category, weight=f"{r.weight:g}", id=r.id,
                file=Path(r.file).name, line=r.line))
        print(t("cli.rules_try_because", reasons=t("core.clause_sep").join(tr.reasons)))
    if not fired:
        print(t("cli.rules_try_none"))
    if args.all:
        for tr in traces:
            if not tr.fired and view.type in tr.rule.types:
                print(t("cli.rules_try_not", tag=tr.rule.tag, id=tr.rule.id, why=tr.failed))
    return 0
