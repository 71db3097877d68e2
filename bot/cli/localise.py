"""The command line in the configured language: --help texts and argparse's own words ("usage:", "options:",
"show this help message and exit", error lines).

Why it is built this way: argparse formats its words through the module-level `gettext` it imported, and subcommand
modules give their help texts as English literals (the init wizard and future modules too). Rather than threading a
translator through every register(), the finished parser is walked once and each help / description is looked up in
prompts/locales/<locale>/cli_help.toml by its place — "<command>[.<sub>].<dest>", "._help" for a command's line in
its parent's list, "._description" for its own page, "_common.<dest>" for options many commands share (--db). The
argparse words are looked up in cli_argparse.toml by their English text. A text with no entry stays as written, and
tests/test_cli_chinese.py fails on it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from prompts import DEFAULT_LOCALE, Prompts


def locale_for(argv: Sequence[str]) -> str:
    """The locale of the config `salespulse` will use (-c/--config, else ./bot.toml, else the default), read before
    the parser exists; a config that cannot be read yet (it is reported later, in its language) means zh-CN."""
    from bot.cli.support import config_from

    path = None
    for i, arg in enumerate(argv):
        if arg in ("-c", "--config") and i + 1 < len(argv):
            path = argv[i + 1]
        elif arg.startswith("--config="):
            path = arg.split("=", 1)[1]
    if path is not None and not Path(path).is_file():
        return DEFAULT_LOCALE
    try:
        return config_from(argparse.Namespace(config=path)).bot.locale
    except Exception:  # noqa: BLE001 — any unreadable config: the command itself will say why
        return DEFAULT_LOCALE


_current: list[Prompts] = []


def current_prompts() -> Prompts:
    """The prompts the command line was built with (argument type errors use them)."""
    return _current[-1] if _current else Prompts()


def install_argparse_words(prompts: Prompts) -> None:
    """argparse's own words in this locale (it looks `_` / `ngettext` up as module globals at each call)."""
    _current[:] = [prompts]

    def gettext(message: str) -> str:
        key = f"cli_argparse.msg.{message}"
        return prompts.t(key) if prompts.has(key) else message

    def ngettext(singular: str, plural: str, n: int) -> str:
        return gettext(singular if n == 1 else plural)

    argparse._ = gettext  # type: ignore[attr-defined]
    argparse.ngettext = ngettext  # type: ignore[attr-defined]


def localise(parser: argparse.ArgumentParser, prompts: Prompts, path: str = "") -> None:
    """Replace help texts and descriptions by their entries in cli_help.toml, recursively."""

    def look(key: str, current: str | None) -> str | None:
        full = f"cli_help.{key}"
        return prompts.t(full, _="") if prompts.has(full) else current  # formatted: "{{" in the file is "{"

    parser.description = look(f"{path}._description" if path else "_description", parser.description)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            listing = {a.dest: a for a in action._choices_actions}
            for name, sub in action.choices.items():
                where = f"{path}.{name}" if path else name
                if name in listing:
                    listing[name].help = look(f"{where}._help", listing[name].help)
                localise(sub, prompts, where)
            continue
        if action.help is argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
            continue
        own = f"{path}.{action.dest}" if path else action.dest
        action.help = look(own, look(f"_common.{action.dest}", action.help))
