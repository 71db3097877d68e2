"""Read deals from CSV or XLSX through a column mapping (mappings/*.toml).

The mapping names, for each of our fields, the source column; maps the source's stage values to open/won/lost;
and may fill fields from lookup files next to the deals file (Maven: a deal's list price from products.csv, its
industry from accounts.csv). Bad rows are reported with their line numbers and skipped, the rest are read.

Exports that lack a column get it from the mapping: `[constants]` (the same value on every row: Olist has no deal
amount, so each won seller counts 1), `[defaults]` (the value when the cell is empty), a lookup with `found = "…"`
(the value when the deal's key is present in a second file: Olist's stage is "won" exactly when the lead is in the
closed-deals file), and `[rules] lost_after_days = N` (a deal not won within N days of its creation is lost on day
N — but only once day N has passed by the export date; a younger deal stays open, so a backtest at an earlier
date sees it open exactly as it was; a win after day N is that loss too). Messages come from prompts/ (dealfile.*), in the caller's locale.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import to_ms
from bot.errors import BadPayload
from handlers.forecast.book import DealRow
from prompts import Prompts
from prompts.library import toml_detail

DAY_MS = 86_400_000

CORE_FIELDS = ("id", "title", "owner", "team", "customer", "industry", "product", "stage", "status", "amount",
               "list_amount", "created_at", "expected_close_at", "closed_at")
DETAIL_FIELDS = ("intent_letter", "has_seal", "has_budget_range", "has_named_contact", "has_next_meeting",
                 "intent_force", "decision_people", "decision_rank", "rank_change", "approver_met", "competitors",
                 "competitor_move", "tech_validation", "disputed_clauses", "legal_review", "payment_punctuality",
                 "years_cooperation", "budget_share")
# Columns a deal can be read without: a mapped one the file lacks is left out (as if its mapping line were deleted)
# and named in one notice, so the generic template maps a partial CRM export as it is. The rest — id, stage or
# status, amounts and dates — decide how a deal counts: a mapped one missing is an error (a typo there must not
# turn every deal open or valueless).
OPTIONAL_FIELDS = frozenset({"title", "owner", "customer", "industry", "product", "team", "expected_close_at",
                             *DETAIL_FIELDS})
BOOL_DETAILS = {"intent_letter", "has_seal", "has_budget_range", "has_named_contact", "has_next_meeting",
                "approver_met", "competitor_move"}
INT_DETAILS = {"decision_people", "decision_rank", "rank_change", "competitors", "disputed_clauses"}
FLOAT_DETAILS = {"tech_validation", "payment_punctuality", "years_cooperation", "budget_share"}
INT_RANGES = {"decision_rank": (0, 5), "rank_change": (-1, 1)}  # the rest: counts, 0 and up
FRACTIONS = {"tech_validation", "payment_punctuality", "budget_share"}
_TRUE = {"1", "true", "yes", "y", "是", "有", "已", "✓", "√", "x"}
_FALSE = {"0", "false", "no", "n", "否", "无", "未", ""}
LEGAL = {"": "", "pending": "pending", "审核中": "pending", "passed": "passed", "通过": "passed", "已通过": "passed",
         "failed": "failed", "未通过": "failed", "驳回": "failed"}


class RowError(ValueError):
    """Why one row cannot be read, as a prompt key (dealfile.<key>) and its values; worded in the caller's locale."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key, self.values = key, values


@dataclass
class Mapping:
    columns: dict[str, str]
    status: dict[str, str]
    date_formats: tuple[str, ...]
    tz: ZoneInfo
    lookups: list[dict[str, Any]]
    sheet: str = ""
    encoding: str = "utf-8-sig"
    path: str = ""
    constants: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    lost_after_days: int | None = None
    export_date: str = ""  # "" = the latest date in the file and its lookups
    t: Any = field(default=None, repr=False, compare=False)  # the prompts lookup messages are worded with


def _t(mapping: Any):
    return getattr(mapping, "t", None) or Prompts().t


@dataclass
class ParsedDeal:
    line: int
    row: DealRow
    title: str
    team: str
    details: dict[str, Any] = field(default_factory=dict)
    has_created: bool = True


@dataclass
class ReadResult:
    deals: list[ParsedDeal]
    errors: list[str]
    notes: list[str] = field(default_factory=list)  # what was read differently from the mapping (left-out columns)


def _line_of(text: str, section: str, key: str | None = None) -> int:
    """The line of `[section]` (or of `key` inside it) in the mapping text, for "file:line: why" messages."""
    lines = text.splitlines()
    head = next((i for i, ln in enumerate(lines) if ln.strip().startswith(f"[{section}]")), None)
    if head is None:
        return 1
    if key is None:
        return head + 1
    for i in range(head + 1, len(lines)):
        ln = lines[i].strip()
        if ln.startswith("["):
            break
        if ln.split("=", 1)[0].strip().strip('"') == key:
            return i + 1
    return head + 1


def load_mapping(path: str | Path, t=None) -> Mapping:
    """The mapping file, checked: every mistake is one "mapping.toml:line: why" sentence (BadPayload)."""
    t = t or Prompts().t
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadPayload(t("dealfile.map_missing", path=p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadPayload(t("dealfile.map_unreadable", path=p, error=exc)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise BadPayload(t("dealfile.map_toml", path=p, line=m.group(1) if m else 1,
                           error=toml_detail(exc, t))) from None  # tomllib's words in the admin's language

    def bad(where: str, key: str | None, msg: str, **values: Any) -> BadPayload:
        return BadPayload(f"{p}:{_line_of(text, where, key)}: " + t(f"dealfile.{msg}", **values))

    def unknown_field(section: str, key: str | None, name: str) -> BadPayload:
        """The field they probably meant, and the short list: all 32 names in one line were cut by the echo limit."""
        near = difflib.get_close_matches(name, CORE_FIELDS + DETAIL_FIELDS, n=2, cutoff=0.6)
        return bad(section, key, "map_unknown_field", section=section, name=name, core=", ".join(CORE_FIELDS),
                   near=t("dealfile.map_did_you_mean", names=" / ".join(near)) if near else "")
    tables = {}
    for section in ("columns", "constants", "defaults", "status", "source", "rules", "lookups"):
        v = data.get(section, {})
        if not isinstance(v, dict):
            raise bad(section, None, "map_not_table", section=section)
        tables[section] = v
    cols = {str(k): str(v) for k, v in tables["columns"].items()}
    consts = {str(k): str(v) for k, v in tables["constants"].items()}
    defaults = {str(k): str(v) for k, v in tables["defaults"].items()}
    for section, fields in (("columns", cols), ("constants", consts), ("defaults", defaults)):
        for name in fields:
            if name not in CORE_FIELDS and name not in DETAIL_FIELDS:
                raise unknown_field(section, name, name)
    for name in consts:
        if name in cols:
            raise bad("constants", name, "map_const_and_column", name=name)
    if "id" not in cols:
        raise bad("columns", None, "map_needs_column", name="id")
    if "created_at" not in cols and "created_at" not in consts:
        raise bad("columns", None, "map_needs_column", name="created_at")
    src = tables["source"]
    fmts = src.get("date_formats", ["%Y-%m-%d", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"])
    status = {str(k): str(v) for k, v in tables["status"].items()}
    for k, v in status.items():
        if v not in ("open", "won", "lost"):
            raise bad("status", k, "map_bad_status", stage=k, value=v)
    lookups = []
    for name, spec in tables["lookups"].items():
        if not isinstance(spec, dict):
            raise bad("lookups", None, "map_not_table", section=f"lookups.{name}")
        for key in ("file", "key", "match", "field"):
            if key not in spec:
                raise bad(f"lookups.{name}", None, "map_lookup_needs", name=name, key=key)
        if ("value" in spec) == ("found" in spec):
            raise bad(f"lookups.{name}", None, "map_lookup_value_or_found", name=name)
        if spec["field"] not in CORE_FIELDS and spec["field"] not in DETAIL_FIELDS:
            raise unknown_field(f"lookups.{name}", "field", spec["field"])
        lookups.append(dict(spec, name=name))
    rules = tables["rules"]
    lost_after = rules.get("lost_after_days")
    if lost_after is not None and (isinstance(lost_after, bool) or not isinstance(lost_after, int) or lost_after < 1):
        raise bad("rules", "lost_after_days", "map_lost_after", value=lost_after)
    unknown_rules = set(rules) - {"lost_after_days"}
    if unknown_rules:
        raise bad("rules", sorted(unknown_rules)[0], "map_unknown_rule", name=sorted(unknown_rules)[0])
    try:
        tz = ZoneInfo(str(src.get("timezone", "Asia/Shanghai")))
    except (ValueError, KeyError):
        raise bad("source", "timezone", "map_bad_timezone", value=src.get("timezone")) from None
    mapping = Mapping(cols, status, tuple(fmts), tz, lookups, sheet=str(src.get("sheet", "")),
                      encoding=str(src.get("encoding", "utf-8-sig")), path=str(p), constants=consts,
                      defaults=defaults, lost_after_days=lost_after, export_date=str(src.get("export_date", "")), t=t)
    if mapping.export_date:
        try:
            parse_date(mapping.export_date, mapping)
        except RowError:
            raise bad("source", "export_date", "map_bad_export_date", value=mapping.export_date,
                      formats=", ".join(fmts)) from None
    return mapping


def _rows(path: Path, mapping: Mapping) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx_rows(path, mapping)
    try:
        return _csv_rows(path, mapping.encoding)
    except UnicodeDecodeError:
        pass
    if mapping.encoding.lower().replace("_", "-") in ("utf-8-sig", "utf-8", "utf8"):
        try:  # Excel in China saves CSV as GBK; gb18030 is its superset
            return _csv_rows(path, "gb18030")
        except UnicodeDecodeError:
            pass
    raise BadPayload(_t(mapping)("dealfile.file_encoding", path=path, encoding=mapping.encoding, mapping=mapping.path))


def _csv_rows(path: Path, encoding: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Rows with the file line each starts on (csv skips blank lines and quoted fields may span lines, so a
    record count is not a line number)."""
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        out = []
        for r in reader:
            spans = sum(v.count("\n") for k, v in r.items() if k is not None and isinstance(v, str))
            out.append((reader.line_num - spans, {k.strip(): (v or "").strip() for k, v in r.items() if k}))
        return header, out


def _xlsx_rows(path: Path, mapping: Mapping) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, OSError) as exc:
        raise BadPayload(_t(mapping)("dealfile.file_xlsx", path=path, error=exc)) from None
    try:
        if mapping.sheet and mapping.sheet not in wb.sheetnames:
            raise BadPayload(_t(mapping)("dealfile.file_sheet", path=path, sheet=mapping.sheet,
                                         sheets=", ".join(wb.sheetnames)))
        ws = wb[mapping.sheet] if mapping.sheet else wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = [str(h or "").strip() for h in next(it, ())]
        out = []
        for n, values in enumerate(it, start=2):
            if values is None or all(v is None or v == "" for v in values):
                continue
            out.append((n, {h: _cell(v) for h, v in zip(header, values, strict=False)}))
        return header, out
    finally:
        wb.close()


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _lookup_tables(base: Path, mapping: Mapping) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """Each lookup as key → value (or key → the `found` value: the key's presence is what it says)."""
    t = _t(mapping)
    out = []
    cache: dict[Path, tuple[list[str], list[tuple[int, dict[str, str]]]]] = {}
    for spec in mapping.lookups:
        f = (base / spec["file"]) if not Path(spec["file"]).is_absolute() else Path(spec["file"])
        if not f.is_file():
            raise BadPayload(t("dealfile.lookup_missing", mapping=mapping.path, name=spec["name"], path=f))
        if f not in cache:
            cache[f] = _csv_rows(f, "utf-8-sig")
        header, rows = cache[f]
        for col in (spec["key"], spec.get("value")):
            if col is not None and col not in header:
                raise BadPayload(t("dealfile.lookup_column", mapping=mapping.path, name=spec["name"], path=f,
                                   column=col, header=",".join(header)))
        found = spec.get("found")
        table = {r.get(spec["key"], ""): str(found) if found is not None else r.get(spec["value"], "")
                 for _line, r in rows}
        out.append((spec, table))
    return out


def parse_date(text: str, mapping: Mapping) -> int | None:
    if not text:
        return None
    for fmt in mapping.date_formats:
        try:
            dt = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return to_ms(dt.replace(tzinfo=mapping.tz))
    raise RowError("row_bad_date", text=text, formats=", ".join(mapping.date_formats))


# How exports write money: "¥1,234", "1 234 元", "12.5万", "1.2亿", "3.5k", "RMB 5000", full-width "１２，０００"
_CURRENCY = re.compile(r"^(?:US\$|HK\$|RMB|CNY|USD|EUR|R\$|[$¥€£])\s*|\s*(?:元|块|RMB|CNY|USD|EUR)$", re.I)
_UNITS = {"万": 10_000.0, "w": 10_000.0, "亿": 100_000_000.0, "千": 1_000.0, "k": 1_000.0}


def _num(text: str, what: str = "amount") -> float | None:
    t = unicodedata.normalize("NFKC", text).strip()
    t = _CURRENCY.sub("", _CURRENCY.sub("", t)).replace(",", "").replace(" ", "").strip()
    if not t:
        return None
    mult = 1.0
    if t[-1:].lower() in _UNITS:
        t, mult = t[:-1], _UNITS[t[-1].lower()]
    try:
        v = float(t) * mult
    except ValueError:
        raise RowError("row_not_number", name=what, text=text) from None
    if not math.isfinite(v):  # "nan" / "inf" parse as floats but would break the whole import at the database
        raise RowError("row_not_number", name=what, text=text)
    return v


def _detail(name: str, text: str) -> Any:
    t = text.strip().lower()
    if name in BOOL_DETAILS:
        if name == "approver_met" and t == "":
            return None
        if t in _TRUE:
            return True
        if t in _FALSE:
            return False
        raise RowError("row_not_yes_no", name=name, text=text)
    if name in INT_DETAILS:
        v = _num(t, name) if t else 0.0
        low, high = INT_RANGES.get(name, (0, math.inf))
        if v is None or not low <= v <= high:
            raise RowError("row_out_of_range", name=name, text=text)
        return int(v)
    if name in FLOAT_DETAILS:
        if not t:
            return None
        v = _num(t.rstrip("%"), name) / (100 if t.endswith("%") else 1)
        if v < 0 or (name in FRACTIONS and v > 1):  # 60% and 0.6 both mean 0.6; 150% means a typo
            raise RowError("row_out_of_percent" if name in FRACTIONS else "row_negative", name=name, text=text)
        return v
    if name == "legal_review":
        if t not in LEGAL and text.strip() not in LEGAL:
            raise RowError("row_legal", text=text)
        return LEGAL.get(text.strip(), LEGAL.get(t, ""))
    if name == "intent_force":
        if text.strip() not in ("", "法律约束", "框架共识", "初步探讨"):
            raise RowError("row_intent_force", text=text)
        return text.strip()
    return text


def read(path: str | Path, mapping: Mapping) -> ReadResult:
    """Every row as a ParsedDeal; rows that cannot be read become "file:line: why" errors."""
    t = _t(mapping)
    path = Path(path)
    if not path.is_file():
        raise BadPayload(t("dealfile.file_missing", path=path))
    header, rows = _rows(path, mapping)
    missing = [c for f, c in mapping.columns.items() if c not in header and f not in OPTIONAL_FIELDS]
    if missing:
        raise BadPayload(t("dealfile.file_columns", path=path, missing=",".join(missing), mapping=mapping.path,
                           header=",".join(header)))
    left_out = [c for c in mapping.columns.values() if c not in header]
    notes = [t("dealfile.columns_left_out", path=path, columns=",".join(left_out), mapping=mapping.path)] \
        if left_out else []
    if left_out:
        mapping = dataclasses.replace(mapping, columns={f: c for f, c in mapping.columns.items() if c in header})
    tables = _lookup_tables(path.parent, mapping)
    deals, errors = [], []
    for line, raw in rows:
        try:
            deals.append(_one(line, raw, mapping, tables))
        except RowError as exc:
            errors.append(f"{path}:{line}: " + t(f"dealfile.{exc.key}", **exc.values))
    if mapping.lost_after_days is not None:
        deals = _lost_after(deals, mapping, tables)
    return ReadResult(deals, errors, notes)


def export_ms(deals: list[ParsedDeal], mapping: Mapping, tables=()) -> int:
    """The export date: `[source] export_date`, else the latest date the file (and its date lookups) shows."""
    if mapping.export_date:
        return parse_date(mapping.export_date, mapping) or 0
    latest = max((max(d.row.created_at, d.row.closed_at or 0) for d in deals), default=0)
    for spec, table in tables:
        if spec["field"] in ("closed_at", "created_at", "expected_close_at") and "value" in spec:
            for v in table.values():
                try:
                    latest = max(latest, parse_date(v, mapping) or 0)
                except RowError:
                    continue
    return latest


def _lost_after(deals: list[ParsedDeal], mapping: Mapping, tables) -> list[ParsedDeal]:
    """A deal not won within N days of its creation is lost on day N — once day N has passed by the export date
    (a younger open deal stays open). A win after day N counts as that loss too: at any date between day N and the
    win, the rule had already called the deal lost, and a backtest must not see it open there because of a win
    that came later."""
    limit = mapping.lost_after_days * DAY_MS
    export = export_ms(deals, mapping, tables)
    out = []
    for d in deals:
        r = d.row
        day_n = r.created_at + limit
        late_win = r.status == "won" and r.closed_at is not None and r.closed_at > day_n
        if d.has_created and ((r.status == "open" and day_n <= export) or late_win):
            d = dataclasses.replace(d, row=dataclasses.replace(r, status="lost", closed_at=day_n,
                                                               amount=r.list_amount if r.list_amount is not None
                                                               else r.amount))
        out.append(d)
    return out


def _one(line: int, raw: dict[str, str], mapping: Mapping, tables) -> ParsedDeal:
    v = {f: raw.get(c, "").strip() for f, c in mapping.columns.items()}
    v.update(mapping.constants)
    for spec, table in tables:
        key = v.get(spec["match"], "")
        key = spec.get("aliases", {}).get(key, key)
        if key in table and not v.get(spec["field"]):
            v[spec["field"]] = table[key]
    for f, value in mapping.defaults.items():
        if not v.get(f):
            v[f] = value
    if not v.get("id"):
        raise RowError("row_empty_id")
    stage = v.get("stage", "")
    status = v.get("status") or mapping.status.get(stage, "") or ("open" if not stage else "")
    if status not in ("open", "won", "lost"):
        raise RowError("row_bad_stage", stage=stage)
    list_amount = _num(v.get("list_amount", ""), "list_amount")
    amount = _num(v.get("amount", ""))
    if amount is None or (amount == 0 and status != "won"):
        amount = list_amount
    if amount is None:
        raise RowError("row_no_amount")
    if amount < 0:
        raise RowError("row_negative_amount", amount=amount)
    created = parse_date(v.get("created_at", ""), mapping)
    closed = parse_date(v.get("closed_at", ""), mapping)
    expected = parse_date(v.get("expected_close_at", ""), mapping)
    if status != "open" and closed is None:
        raise RowError("row_no_close_date", status=status)
    if created is not None and closed is not None and closed < created:
        raise RowError("row_closed_before_created")
    details = {f: _detail(f, v[f]) for f in DETAIL_FIELDS if f in v}
    row = DealRow(id=v["id"], created_at=created or 0, status=status, amount=float(amount),
                  closed_at=closed if status != "open" else None, expected_close_at=expected, owner=v.get("owner", ""),
                  product=v.get("product", ""), customer=v.get("customer", ""), industry=v.get("industry", ""),
                  stage=stage, list_amount=list_amount if list_amount is not None else float(amount))
    title = v.get("title") or " · ".join(x for x in (v.get("customer", ""), v.get("product", "")) if x) or v["id"]
    return ParsedDeal(line, row, title, v.get("team", ""), details, has_created=created is not None)
