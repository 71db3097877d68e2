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


def store_from(config: Config, override: str | None = None) -> Store:
    return open_store(override or config.bot.database)


def progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    transient=True)
