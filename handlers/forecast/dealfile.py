"""Read deals from CSV or XLSX through a column mapping (mappings/*.toml).

The mapping names, for each of our fields, the source column; maps the source's stage values to open/won/lost;
and may fill fields from lookup files next to the deals file (Maven: a deal's list price from products.csv, its
industry from accounts.csv). Bad rows are reported with their line numbers and skipped, the rest are read.
"""

from __future__ import annotations

import csv
import math
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import to_ms
from bot.errors import BadPayload
from handlers.forecast.book import DealRow
from prompts import DEFAULT_LOCALE, Prompts

CORE_FIELDS = ("id", "title", "owner", "team", "customer", "industry", "product", "stage", "status", "amount",
               "list_amount", "created_at", "expected_close_at", "closed_at")
DETAIL_FIELDS = ("intent_letter", "has_seal", "has_budget_range", "has_named_contact", "has_next_meeting",
                 "intent_force", "decision_people", "decision_rank", "rank_change", "approver_met", "competitors",
                 "competitor_move", "tech_validation", "disputed_clauses", "legal_review", "payment_punctuality",
                 "years_cooperation", "budget_share")
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
    locale: str = DEFAULT_LOCALE  # the language of the errors read() reports

    def t(self, key: str, **values: Any) -> str:
        return Prompts(self.locale).t(key, **values)


@dataclass
class ParsedDeal:
    line: int
    row: DealRow
    title: str
    team: str
    details: dict[str, Any] = field(default_factory=dict)
    has_created: bool = True


class RowError(ValueError):
    """Why one row cannot be read, as a prompts key (deal_import.row_*) and its values: rendered in the admin's
    locale by read()."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(Prompts().t(key, **values))
        self.key, self.values = key, values


@dataclass
class ReadResult:
    deals: list[ParsedDeal]
    errors: list[str]


def load_mapping(path: str | Path, locale: str = DEFAULT_LOCALE) -> Mapping:
    p = Path(path)
    t = Prompts(locale).t
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadPayload(t("deal_import.mapping_missing", path=p)) from None
    except tomllib.TOMLDecodeError as exc:
        raise BadPayload(t("deal_import.mapping_not_toml", path=p, error=exc)) from None
    cols = {str(k): str(v) for k, v in data.get("columns", {}).items()}
    unknown = set(cols) - set(CORE_FIELDS) - set(DETAIL_FIELDS)
    if unknown:
        raise BadPayload(t("deal_import.mapping_unknown_fields", path=p, fields=", ".join(sorted(unknown)),
                           known=", ".join(CORE_FIELDS + DETAIL_FIELDS)))
    for need in ("id", "created_at"):
        if need not in cols:
            raise BadPayload(t("deal_import.mapping_needs_column", path=p, field=need))
    src = data.get("source", {})
    fmts = src.get("date_formats", ["%Y-%m-%d", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"])
    status = {str(k): str(v) for k, v in data.get("status", {}).items()}
    bad = {v for v in status.values() if v not in ("open", "won", "lost")}
    if bad:
        raise BadPayload(t("deal_import.mapping_bad_status", path=p, values=", ".join(sorted(bad))))
    lookups = []
    for name, spec in data.get("lookups", {}).items():
        for key in ("file", "key", "value", "match", "field"):
            if key not in spec:
                raise BadPayload(t("deal_import.mapping_lookup_needs", path=p, name=name, key=key))
        lookups.append(dict(spec, name=name))
    return Mapping(cols, status, tuple(fmts), ZoneInfo(src.get("timezone", "Asia/Shanghai")), lookups,
                   sheet=str(src.get("sheet", "")), encoding=str(src.get("encoding", "utf-8-sig")), path=str(p),
                   locale=locale)


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
    raise BadPayload(mapping.t("deal_import.file_encoding", path=path, encoding=mapping.encoding, mapping=mapping.path))


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
        raise BadPayload(mapping.t("deal_import.file_not_xlsx", path=path, error=exc)) from None
    try:
        if mapping.sheet and mapping.sheet not in wb.sheetnames:
            raise BadPayload(mapping.t("deal_import.file_no_sheet", path=path, sheet=mapping.sheet,
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
    out = []
    for spec in mapping.lookups:
        f = (base / spec["file"]) if not Path(spec["file"]).is_absolute() else Path(spec["file"])
        if not f.is_file():
            raise BadPayload(mapping.t("deal_import.lookup_missing", path=mapping.path, name=spec["name"], file=f))
        with f.open(encoding="utf-8-sig", newline="") as fh:
            table = {(r.get(spec["key"]) or "").strip(): (r.get(spec["value"]) or "").strip() for r in csv.DictReader(fh)}
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
    raise RowError("deal_import.row_date", text=text, formats=", ".join(mapping.date_formats))


def _num(text: str, what: str = "amount") -> float | None:
    t = text.replace(",", "").replace("¥", "").replace("￥", "").replace("元", "").strip()
    if not t:
        return None
    mult = 1.0
    if t.endswith("万"):
        t, mult = t[:-1], 10_000.0
    try:
        v = float(t) * mult
    except ValueError:
        raise RowError("deal_import.row_not_number", what=what, text=text) from None
    if not math.isfinite(v):  # "nan" / "inf" parse as floats but would break the whole import at the database
        raise RowError("deal_import.row_not_number", what=what, text=text)
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
        raise RowError("deal_import.row_not_yes_no", name=name, text=text)
    if name in INT_DETAILS:
        v = _num(t, name) if t else 0.0
        low, high = INT_RANGES.get(name, (0, math.inf))
        if v is None or not low <= v <= high:
            raise RowError("deal_import.row_out_of_range", name=name, text=text)
        return int(v)
    if name in FLOAT_DETAILS:
        if not t:
            return None
        v = _num(t.rstrip("%"), name) / (100 if t.endswith("%") else 1)
        if v < 0 or (name in FRACTIONS and v > 1):  # 60% and 0.6 both mean 0.6; 150% means a typo
            raise RowError("deal_import.row_not_fraction" if name in FRACTIONS else "deal_import.row_negative",
                           name=name, text=text)
        return v
    if name == "legal_review":
        if t not in LEGAL and text.strip() not in LEGAL:
            raise RowError("deal_import.row_legal", text=text)
        return LEGAL.get(text.strip(), LEGAL.get(t, ""))
    if name == "intent_force":
        if text.strip() not in ("", "法律约束", "框架共识", "初步探讨"):
            raise RowError("deal_import.row_intent", text=text)
        return text.strip()
    return text


def read(path: str | Path, mapping: Mapping) -> ReadResult:
    """Every row as a ParsedDeal; rows that cannot be read become "file:line: why" errors (in the mapping's
    locale)."""
    path = Path(path)
    t = mapping.t
    if not path.is_file():
        raise BadPayload(t("deal_import.file_missing", path=path))
    header, rows = _rows(path, mapping)
    missing = [c for f, c in mapping.columns.items() if c not in header]
    if missing:
        raise BadPayload(t("deal_import.file_columns_missing", path=path, missing=", ".join(missing),
                             mapping=mapping.path, header=", ".join(header)))
    tables = _lookup_tables(path.parent, mapping)
    deals, errors = [], []
    for line, raw in rows:
        try:
            deals.append(_one(line, raw, mapping, tables))
        except RowError as exc:
            errors.append(t("deal_import.row_error", path=path, line=line, why=t(exc.key, **exc.values)))
        except (ValueError, KeyError) as exc:
            errors.append(t("deal_import.row_error", path=path, line=line, why=exc))
    return ReadResult(deals, errors)


def _one(line: int, raw: dict[str, str], mapping: Mapping, tables) -> ParsedDeal:
    v = {f: raw.get(c, "").strip() for f, c in mapping.columns.items()}
    for spec, table in tables:
        key = v.get(spec["match"], "")
        key = spec.get("aliases", {}).get(key, key)
        if key in table and not v.get(spec["field"]):
            v[spec["field"]] = table[key]
    if not v.get("id"):
        raise RowError("deal_import.row_empty_id")
    stage = v.get("stage", "")
    status = v.get("status") or mapping.status.get(stage, "") or ("open" if not stage else "")
    if status not in ("open", "won", "lost"):
        raise RowError("deal_import.row_stage", stage=stage)
    list_amount = _num(v.get("list_amount", ""), "list_amount")
    amount = _num(v.get("amount", ""))
    if amount is None or (amount == 0 and status != "won"):
        amount = list_amount
    if amount is None:
        raise RowError("deal_import.row_no_amount")
    if amount < 0:
        raise RowError("deal_import.row_negative_amount", amount=amount)
    created = parse_date(v.get("created_at", ""), mapping)
    closed = parse_date(v.get("closed_at", ""), mapping)
    expected = parse_date(v.get("expected_close_at", ""), mapping)
    if status != "open" and closed is None:
        raise RowError("deal_import.row_no_close", status=status)
    if created is not None and closed is not None and closed < created:
        raise RowError("deal_import.row_closed_before")
    details = {f: _detail(f, v[f]) for f in DETAIL_FIELDS if f in v}
    row = DealRow(id=v["id"], created_at=created or 0, status=status, amount=float(amount),
                  closed_at=closed if status != "open" else None, expected_close_at=expected, owner=v.get("owner", ""),
                  product=v.get("product", ""), customer=v.get("customer", ""), industry=v.get("industry", ""),
                  stage=stage, list_amount=list_amount if list_amount is not None else float(amount))
    title = v.get("title") or " · ".join(x for x in (v.get("customer", ""), v.get("product", "")) if x) or v["id"]
    return ParsedDeal(line, row, title, v.get("team", ""), details, has_created=created is not None)
