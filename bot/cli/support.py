"""Helpers shared by CLI modules: config resolution, opening the store, progress bars."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bot.config import Config, load_config
from store import Store, open_store


def config_from(args: argparse.Namespace) -> Config:
    """--config, else ./bot.toml when present, else the embedded defaults."""
    if getattr(args, "config", None):
        return load_config(args.config)
    if Path("bot.toml").is_file():
        return load_config("bot.toml")
    return load_config(None)


def existing_db(config: Config, override: str | None = None, *, new_for_org: bool = False) -> str:
    """The database a reading command works on; a missing file is refused with one sentence.

    Why: open_store() creates what it is given, so a mistyped `--db` used to leave a new empty database behind and
    then talk about an org nobody recognised. When the demo's database exists, the sentence points at it.
    `new_for_org`: the configured database (no --db) may be created when bot.toml lists people in [org] — the
    first `salespulse chat --as 张伟` of a new installation."""
    from bot.errors import UserInputError
    from prompts import Prompts

    db = override or config.bot.database
    if db == ":memory:" or Path(db).is_file():
        return db
    if new_for_org and not override and config.org.people:
        return db
    t = Prompts(config.bot.locale).t
    hint = t("cli.db_missing_demo", demo=DEMO_DB) if Path(DEMO_DB).is_file() else t("cli.db_missing_hint")
    source = t("cli.db_from_flag") if override else t("cli.db_from_config", source=config.source)
    raise UserInputError(t("cli.db_missing", db=db, source=source, hint=hint))


DEMO_DB = "demo-out/salespulse-demo.db"


def data_dir_for(config: Config, store: Store) -> str:
    """Where this database's files (charts, audio) live: next to a demo database (the demo writes them there),
    else [bot] data_dir."""
    from bot.demo.replay import DEMO_MARK
    from store import kv

    if kv.get(store, DEMO_MARK) is not None:
        return str(Path(store.path).parent / "salespulse-data")
    return config.bot.data_dir


def store_from(config: Config, override: str | None = None) -> Store:
    return open_store(override or config.bot.database)


def progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    transient=True)
