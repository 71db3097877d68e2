"""Every user-visible string and card text, per locale (zh-CN first, en second), as data.

Layout: prompts/locales/<locale>/<area>.toml; a key `x` in `core.toml` is addressed as "core.x". A key missing in the
chosen locale falls back to zh-CN, then to the key itself (so a missing translation is visible, never a crash).
Command names and their Chinese aliases live in prompts/commands/<area>.toml. Log lines are the exception:
prompts/locales/<locale>/logs.toml maps each English log template to its translation (see log_templates).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

DEFAULT_LOCALE = "zh-CN"
LOG_AREA = "logs"  # not addressed by key: read by log_templates, applied by bot/logsetup.py


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, Any]) -> None:
    for key, value in table.items():
        dotted = f"{prefix}.{key}"
        if isinstance(value, dict):
            _flatten(dotted, value, out)
        else:
            out[dotted] = value


@lru_cache(maxsize=8)
def _catalog(locale: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    folder = resources.files("prompts").joinpath("locales", locale)
    if not folder.is_dir():
        return out
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml") and entry.name != f"{LOG_AREA}.toml":
            _flatten(entry.name[:-5], tomllib.loads(entry.read_text(encoding="utf-8")), out)
    return out


@lru_cache(maxsize=8)
def log_templates(locale: str | None) -> dict[str, str]:
    """English log template (the literal first argument of log.warning(...), %-placeholders included) → the same
    line in `locale`, with the same %-conversions in the same order.

    Why keyed by the English text, gettext-style, rather than by a prompts key: the code keeps its readable
    `log.warning("send %s failed (attempt %d): %s", ...)` and the logging hot path (a record filtered out by level
    is never formatted) is untouched; only the formatter looks the template up. No fallback to zh-CN here: a locale
    without logs.toml (en) keeps the code's own English."""
    return {key: value for key, value in _log_file(locale).items() if isinstance(value, str)}


@lru_cache(maxsize=8)
def log_level_names(locale: str | None) -> dict[str, str]:
    """"WARNING" → "警告" for the text log format in `locale` (its [levels] table); empty for en."""
    levels = _log_file(locale).get("levels", {})
    return {key: value for key, value in levels.items() if isinstance(value, str)}


def _log_file(locale: str | None) -> dict[str, Any]:
    if not locale:
        return {}
    entry = resources.files("prompts").joinpath("locales", locale, f"{LOG_AREA}.toml")
    return tomllib.loads(entry.read_text(encoding="utf-8")) if entry.is_file() else {}


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


ECHO_MAX = 300  # characters of one line of text a reply repeats back


def _clip(value: Any) -> Any:
    """A long one-line value (what someone typed, echoed in "没有这个命令：/…") is cut to its start and length.

    Why: a 10,000-character line used to come back whole. Multi-line values are composed by the bot itself (lists,
    digests) and are left alone."""
    if isinstance(value, str) and len(value) > ECHO_MAX and "\n" not in value:
        return f"{value[:60]}…（{len(value)}）"
    return value


class Prompts:
    """Text lookup for one locale: `p.t("core.help_title")`, `p.t("silence.alert", lead="…")`."""

    def __init__(self, locale: str = DEFAULT_LOCALE) -> None:
        self.locale = locale
        self._own = _catalog(locale)
        self._fallback = _catalog(DEFAULT_LOCALE)

    def raw(self, key: str) -> Any:
        if key in self._own:
            return self._own[key]
        return self._fallback.get(key, key)

    def t(self, key: str, **values: Any) -> str:
        text = self.raw(key)
        if not isinstance(text, str):
            text = str(text)
        if not values:
            return text
        return text.format_map(_SafeDict({k: _clip(v) for k, v in values.items()}))

    def has(self, key: str) -> bool:
        return key in self._own or key in self._fallback


@lru_cache(maxsize=1)
def command_specs() -> dict[str, dict[str, Any]]:
    """Canonical command name → {aliases, usage, summary_zh, summary_en, area, admin_only}."""
    specs: dict[str, dict[str, Any]] = {}
    folder = resources.files("prompts").joinpath("commands")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        for name, spec in tomllib.loads(entry.read_text(encoding="utf-8")).items():
            if name in specs:
                raise ValueError(f"command {name!r} defined twice (prompts/commands/{entry.name})")
            specs[name] = {**spec, "area": entry.name[:-5]}
    return specs


class Keyed(str):
    """English text (logs, str(), config errors) that keeps its prompts key and values, so a command can show it in
    the admin's locale with `render(t)`: `raise ValueError(Keyed("stores_cli.row_not_number", what=…, text=…))`."""

    key: str
    values: dict[str, Any]

    def __new__(cls, name: str, /, **values: Any) -> Keyed:
        obj = super().__new__(cls, Prompts("en").t(name, **values))
        obj.key, obj.values = name, values
        return obj

    def render(self, t: Any) -> str:
        from prompts.library import detail  # a tomllib / re error among the values: in t's locale too

        return t(self.key, **{k: detail(v, t) if isinstance(v, BaseException | Keyed) else v
                              for k, v in self.values.items()})


def render(value: Any, t: Any) -> str:
    """A Keyed (or an exception carrying one), a tomllib or re error, in t's locale; anything else as str()."""
    from prompts.library import detail

    if isinstance(value, BaseException) and value.args and isinstance(value.args[0], Keyed):
        value = value.args[0]
    return detail(value, t)
