"""`salespulse import calls FILE.csv [--map mapping.toml]`: call records from a phone-system export.

Each good row becomes a CallRecord accepted into the inbox (platform "telephony", external id = call_id), exactly
as if the telephony webhook had delivered it, so a re-import of the same file adds nothing and the running bot
picks the rows up on its next pass. Bad rows are reported with their line numbers and skipped; the rest are
imported. The column mapping (default names, renaming, value words like 已接/未接, timestamps) is documented in
docs/call-import.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.telephony import FIELDS, PLATFORM, REQUIRED, call_from_record
from bot import crashpoints
from bot.cli.support import config_from, store_from
from bot.clock import SystemClock
from bot.errors import BadPayload
from prompts import Keyed, Prompts
from prompts.library import os_reason
from store import inbox as inbox_store
from store.db import Store

Translate = Callable[..., str]

_VALUE_FIELDS = ("direction", "answered")
_OPTIONS = ("timezone", "time_format", "encoding", "delimiter")


@dataclass(frozen=True)
class CallMapping:
    """A parsed mapping file: our field → their column, value words, reading options."""

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    timezone: str = ""
    time_format: str = ""
    encoding: str = ""
    delimiter: str = ","


@dataclass
class ImportResult:
    imported: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def bad(self) -> int:
        return len(self.errors)


def load_mapping(path: Path) -> CallMapping:
    """Read and check a mapping TOML; a wrong key names the file and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadPayload(Keyed("calls.map_missing", path=path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise BadPayload(Keyed("calls.map_toml", path=path, why=exc)) from None
    for key in data:
        if key not in ("columns", "values", "options"):
            raise BadPayload(Keyed("calls.map_table", path=path, table=key))
    columns = data.get("columns", {})
    for ours, theirs in columns.items():
        if ours not in FIELDS:
            raise BadPayload(Keyed("calls.map_field", path=path, field=ours, known=",".join(FIELDS)))
        if not isinstance(theirs, str) or not theirs:
            raise BadPayload(Keyed("calls.map_column", path=path, field=ours))
    values = data.get("values", {})
    for name, table in values.items():
        if name not in _VALUE_FIELDS:
            raise BadPayload(Keyed("calls.map_values", path=path, name=name, known=",".join(_VALUE_FIELDS)))
        if not isinstance(table, dict):
            raise BadPayload(Keyed("calls.map_values_table", path=path, name=name))
    options = data.get("options", {})
    for key, value in options.items():
        if key not in _OPTIONS:
            raise BadPayload(Keyed("calls.map_option", path=path, option=key, known=",".join(_OPTIONS)))
        if not isinstance(value, str):
            raise BadPayload(Keyed("calls.map_option_string", path=path, option=key))
    if len(options.get("delimiter", ",")) != 1:
        raise BadPayload(Keyed("calls.map_delimiter", path=path))
    return CallMapping(columns=dict(columns), values={k: dict(v) for k, v in values.items()},
                    timezone=options.get("timezone", ""), time_format=options.get("time_format", ""),
                    encoding=options.get("encoding", ""), delimiter=options.get("delimiter", ","))


def _decode(raw: bytes, encoding: str) -> str:
    """The stated encoding, else UTF-8 (with or without BOM), else GB18030 (Excel exports on Chinese Windows)."""
    if encoding:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise BadPayload(Keyed("calls.map_encoding", encoding=encoding)) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="strict")


def read_calls(path: Path, mapping: CallMapping, tz: str, now_ms: int, t: Translate | None = None):
    """Yield (line number, raw row, CallRecord or BadPayload) for every data row of the CSV."""
    t = t or Prompts().t
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadPayload(t("core.file_missing", path=path)) from None
    except OSError as exc:  # a folder, no permission, …: a short answer, not a traceback
        raise BadPayload(t("core.file_unreadable", path=path, error=os_reason(exc, t))) from None
    try:
        text = _decode(raw, mapping.encoding)
    except UnicodeDecodeError:
        raise BadPayload(t("calls.import_encoding", path=path)) from None
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    column_of = {f: mapping.columns.get(f, f) for f in FIELDS}
    missing = [f"{f} ({column_of[f]})" if column_of[f] != f else f for f in REQUIRED if column_of[f] not in header]
    if missing:
        raise BadPayload(t("calls.import_missing_columns", path=path, missing=", ".join(missing),
                           header=",".join(header) or "—"))
    for row in reader:
        record = {f: (row.get(col) or "").strip() for f, col in column_of.items() if col in header}
        try:
            event = call_from_record(record, tz=mapping.timezone or tz, received_at=now_ms, value_maps=mapping.values,
                                     time_format=mapping.time_format)
        except BadPayload as exc:
            yield reader.line_num, row, exc
            continue
        yield reader.line_num, row, event


def import_calls_csv(store: Store, path: Path, mapping: CallMapping, tz: str, now_ms: int, *,
                     dry_run: bool = False, t: Translate | None = None) -> ImportResult:
    """Accept every good row into the inbox in one transaction; bad rows are listed as "FILE:LINE: reason" (in t's
    locale)."""
    t = t or Prompts().t
    result = ImportResult()
    with store.transaction():
        for line, row, outcome in read_calls(path, mapping, tz, now_ms, t):
            if isinstance(outcome, BadPayload):
                why = t(outcome.key, **outcome.values) if outcome.key else str(outcome)
                result.errors.append(t("calls.import_bad_row", path=path, line=line, why=why))
                continue
            if dry_run:
                result.imported += 1
                continue
            external_id = outcome.event_id.removeprefix(f"{PLATFORM}:")
            payload: Mapping[str, Any] = {"source": str(path.name), "line": line, "row": row}
            if inbox_store.accept(store, PLATFORM, external_id, dict(payload), outcome.to_dict(), now_ms):
                result.imported += 1
            else:
                result.duplicates += 1
            crashpoints.reached("import.row")
    return result


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="CSV export of the phone system (header row required)")
    p.add_argument("--map", dest="mapping", type=Path, default=None,
                   help="mapping TOML: column names and value words of your export (docs/call-import.md)")
    p.add_argument("--dry-run", action="store_true", help="check the file and report bad rows; import nothing")
    p.add_argument("--db", default=None)


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    t = Prompts(config.bot.locale).t
    mapping = load_mapping(args.mapping) if args.mapping else CallMapping()
    store = store_from(config, args.db)
    try:
        result = import_calls_csv(store, args.file, mapping, config.telephony.timezone, SystemClock().now_ms(),
                                  dry_run=args.dry_run, t=t)
    finally:
        store.close()
    for line in result.errors:
        print(line, file=sys.stderr)
    print(t("calls.import_dry_run" if args.dry_run else "calls.import_done", n=result.imported, file=args.file,
            known=result.duplicates, bad=result.bad))
    return 1 if result.errors else 0
