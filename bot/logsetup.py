"""Log format for `serve`, the CLI and the console chat's log file: text for a terminal, or one JSON object per line
(`[logging] format = "json"`), in the admin's language (`[bot] locale`).

Why JSON: log shippers (Loki, ELK, 阿里云 SLS) index fields without fragile regexes, and an admin who sees
"ref 1a2b3c4d" in a platform console or "编号 1a2b3c4d" in a chat apology can find the matching line by its `ref`
field.

Why the language is applied here, gettext-style: the code logs readable English templates
(`log.warning("send %s failed (attempt %d): %s", ...)`) and prompts/locales/<locale>/logs.toml maps each template to
its translation with the same %-conversions. Only the formatter looks the template up, on a copy of the record, so
the logging call itself costs what it always did, a record filtered out by level is never translated, and other
handlers (a test's caplog, a second file) still see the original. A translation that does not fit the record's
arguments falls back to the English line: logging never raises because of a catalog. Arguments that carry their
own prompts key (a Keyed reason, a rule or classifier pack error: anything with `render(t)`) are shown in the
same locale; other arguments (ids, paths, a library's exception text) as they are.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime

from prompts import Keyed, Prompts, log_level_names, log_templates

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# "ref 1a2b3c4d" (English lines, HTTP refusal bodies) or "编号 1a2b3c4d" (Chinese lines); lookarounds rather than
# \b because a Chinese character next to the id counts as a word character.
_REF = re.compile(r"(?<![0-9A-Za-z_])(?:ref|编号)[ =:：]+([0-9a-f]{8})(?![0-9A-Za-z_])")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def _in_locale(value: object, t: Callable[..., str]) -> object:
    """A value that knows its prompts key (Keyed, rules' Say / RuleError, a classifier PackError, an exception
    raised with a Keyed reason) in t's locale; anything else, or a render that fails, as it is."""
    try:
        if isinstance(value, str | BaseException) and callable(getattr(type(value), "render", None)):
            return value.render(t)  # type: ignore[union-attr]
        if isinstance(value, BaseException) and value.args and isinstance(value.args[0], Keyed):
            return value.args[0].render(t)
    except Exception:  # noqa: BLE001 — a log line is never lost to a bad prompt
        return value
    return value


def localised(record: logging.LogRecord, templates: dict[str, str], level_names: dict[str, str] | None = None,
              t: Callable[..., str] | None = None) -> logging.LogRecord:
    """The record to format: the original when nothing applies, else a copy with the translated template, the
    args (those with a prompts key rendered by `t`) and the level name. A translation that fails with these args
    (a wrong placeholder count in the catalog) is dropped: the line comes out in English rather than not at all."""
    args = record.args
    if t is not None and isinstance(args, tuple) and args:
        shown = tuple(_in_locale(a, t) for a in args)
        args = shown if any(a is not b for a, b in zip(shown, args, strict=True)) else args
    template = templates.get(record.msg) if templates and isinstance(record.msg, str) else None
    if template is not None and args:
        try:
            template % args
        except Exception:  # noqa: BLE001 — whatever a bad catalog entry does, the English line still goes out
            template = None
    level = level_names.get(record.levelname) if level_names else None
    if template is None and level is None and args is record.args:
        return record
    out = copy.copy(record)
    out.args = args
    if template is not None:
        out.msg = template
    if level is not None:
        out.levelname = level
    return out


def _prompts_t(locale: str | None) -> Callable[..., str] | None:
    """Only a locale with a log catalog renders keyed args: with en (or none) a Keyed value is English already."""
    return Prompts(locale).t if log_templates(locale) else None


class TextFormatter(logging.Formatter):
    """`2026-12-03 09:00:00,000 警告 salespulse.sender: 发送 … 失败…` in zh-CN, the code's English in en."""

    def __init__(self, locale: str | None = None, fmt: str = TEXT_FORMAT) -> None:
        super().__init__(fmt)
        self.templates = log_templates(locale)
        self.level_names = log_level_names(locale)
        self.t = _prompts_t(locale)

    def format(self, record: logging.LogRecord) -> str:
        return super().format(localised(record, self.templates, self.level_names, self.t))


class JsonFormatter(logging.Formatter):
    """One JSON object per line; `msg` in the locale, `level` and `logger` stay machine values for filtering."""

    def __init__(self, locale: str | None = None) -> None:
        super().__init__()
        self.templates = log_templates(locale)
        self.t = _prompts_t(locale)

    def format(self, record: logging.LogRecord) -> str:
        record = localised(record, self.templates, None, self.t)
        message = record.getMessage()
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": message,
        }
        ref = getattr(record, "ref", None)
        if ref is None:
            match = _REF.search(message)
            ref = match.group(1) if match else None
        if ref:
            out["ref"] = ref
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def formatter(fmt: str, locale: str | None) -> logging.Formatter:
    return JsonFormatter(locale) if fmt == "json" else TextFormatter(locale)


def configure(fmt: str, level: str, locale: str | None = None) -> None:
    """Replace the root handlers' format (in `locale`); `level` applies to SalesPulse's own loggers."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig()
    for handler in root.handlers:
        handler.setFormatter(formatter(fmt, locale))
    logging.getLogger("salespulse").setLevel(_LEVELS.get(level, logging.INFO))
