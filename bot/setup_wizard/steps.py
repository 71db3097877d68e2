"""What is left in the platform's console after the wizard: the exact callback URL to paste (when the mode has
one) and the console steps, per platform and mode (texts in prompts/locales/*/setup.toml, after
docs/platforms/*.md)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Config
from bot.setup_wizard.platforms import SPECS


@dataclass(frozen=True)
class ConsoleTodo:
    platform: str
    mode: str
    callback_url: str | None  # None: the bot connects out (DingTalk stream, Feishu ws)
    steps_key: str  # prompts key of the list of steps


def mode_of(config: Config, platform: str) -> str:
    return getattr(getattr(config, platform), "mode", "")


def callback_url(config: Config, platform: str) -> str:
    return config.server.public_base_url.rstrip("/") + getattr(config, platform).callback_path


def todo(config: Config, platform: str) -> ConsoleTodo:
    mode = mode_of(config, platform)
    url = callback_url(config, platform) if SPECS[platform].needs_public_url(mode) else None
    key = f"setup.steps_{platform}" + (f"_{mode}" if mode else "")
    return ConsoleTodo(platform, mode, url, key)
