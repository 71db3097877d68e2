"""Procurement calendar: customers' yearly buying windows and budget events (ICS or CSV).

A deal whose expected close falls outside every window of its customer (or its customer's industry) cannot
close then: its timing moves to the start of the next window, and /deal and /forecast say so. A budget event
(kind = budget, e.g. Q2末设备更新专项拨款) is money arriving: a deal without a confirmed budget range whose expected
close falls in the BUDGET_LEAD_DAYS before it waits for it, so its timing moves to the event's start. An industry
given on a window matches a customer industry that contains it or is contained in it (制造 ~ 制造业).
CSV columns: name,start,end[,customer][,industry][,kind] with dates as MM-DD or YYYY-MM-DD (the year is ignored:
windows repeat yearly). ICS: each VEVENT's DTSTART/DTEND/SUMMARY; CATEGORIES or X-SALESPULSE-CUSTOMER /
X-SALESPULSE-INDUSTRY say whom it applies to.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bot.errors import BadPayload
from prompts import Prompts
from store import procurement
from store.db import Store

Translate = Callable[..., str]


@dataclass(frozen=True)
class Shift:
    original: date
    shifted: date
    window: str


def _md(text: str, where: str, say: Translate) -> str:
    t = text.strip().replace("/", "-")
    m = re.match(r"^(?:\d{4}-?)?(\d{1,2})-?(\d{1,2})$", t) or re.match(r"^(?:\d{4})(\d{2})(\d{2})(?:T.*)?$", t)
    if not m:
        raise BadPayload(say("forecast.procurement_bad_date", where=where, text=text))
    mo, d = int(m.group(1)), int(m.group(2))
    try:
        date(2024, mo, d)
    except ValueError:
        raise BadPayload(say("forecast.procurement_no_day", where=where, text=text)) from None
    return f"{mo:02d}-{d:02d}"


def _text(path: Path, say: Translate) -> str:
    """UTF-8, else GBK (what Excel in China saves CSV as), else a clear error instead of a traceback."""
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise BadPayload(say("forecast.procurement_encoding", path=path))


def import_csv(store: Store, path: Path, say: Translate) -> int:
    n, errors = 0, []
    reader = csv.DictReader(io.StringIO(_text(path, say), newline=""))
    with store.transaction():
        for row in reader:
            where = f"{path}:{reader.line_num}"  # the file line (blank lines are skipped, not counted)
            try:
                name = (row.get("name") or "").strip()
                if not name:
                    raise BadPayload(say("forecast.procurement_empty_name", where=where))
                procurement.add(store, name, _md(row.get("start") or "", where, say),
                                _md(row.get("end") or "", where, say),
                                customer_id=(row.get("customer") or "").strip(),
                                industry=(row.get("industry") or "").strip(),
                                kind=(row.get("kind") or "window").strip() or "window", source=str(path))
                n += 1
            except BadPayload as exc:
                errors.append(str(exc))
    if errors:
        raise BadPayload("\n".join(errors) + "\n" + say("forecast.procurement_partly", n=n))
    return n


def import_ics(store: Store, path: Path, say: Translate) -> int:
    text = _text(path, say)
    text = re.sub(r"\r?\n[ \t]", "", text)  # unfold continued lines
    n = 0
    with store.transaction():
        for block in re.findall(r"BEGIN:VEVENT(.*?)END:VEVENT", text, flags=re.S):
            props: dict[str, str] = {}
            for line in block.strip().splitlines():
                if ":" in line:
                    key, _, value = line.partition(":")
                    props[key.split(";")[0].upper()] = value.strip()
            if "DTSTART" not in props or "SUMMARY" not in props:
                raise BadPayload(say("forecast.procurement_vevent", path=path))
            start = _md(props["DTSTART"], str(path), say)
            end_raw = props.get("DTEND", props["DTSTART"])
            end = _md(end_raw, str(path), say)
            if "DTEND" in props and len(end_raw.split("T")[0]) == 8 and "T" not in end_raw:  # all-day DTEND exclusive
                y, mo, d = int(end_raw[:4]), int(end_raw[4:6]), int(end_raw[6:8])
                e = date(y, mo, d) - timedelta(days=1)
                end = f"{e.month:02d}-{e.day:02d}"
            procurement.add(store, props["SUMMARY"], start, end,
                            customer_id=props.get("X-SALESPULSE-CUSTOMER", ""),
                            industry=props.get("X-SALESPULSE-INDUSTRY", props.get("CATEGORIES", "")),
                            kind="budget" if "拨款" in props["SUMMARY"] or "预算" in props["SUMMARY"] else "window",
                            source=str(path))
            n += 1
    return n


def import_file(store: Store, path: Path, say: Translate | None = None) -> int:
    """Windows from an ICS or CSV file; problems are reported in `say`'s locale (default zh-CN)."""
    say = say or Prompts().t
    if not path.is_file():
        raise BadPayload(say("core.file_missing", path=path))
    return import_ics(store, path, say) if path.suffix.lower() == ".ics" else import_csv(store, path, say)


def _span(w: procurement.Window, year: int) -> tuple[date, date]:
    sm, sd = (int(x) for x in w.starts_md.split("-"))
    em, ed = (int(x) for x in w.ends_md.split("-"))
    start = date(year, sm, sd)
    end = date(year + (1 if (em, ed) < (sm, sd) else 0), em, ed)
    return start, end


BUDGET_LEAD_DAYS = 90  # a deal expected to close this close before money arrives waits for it


def _industry_matches(window_industry: str, industry: str) -> bool:
    a, b = window_industry.strip(), industry.strip()
    return bool(a and b) and (a in b or b in a)


def applicable(windows: list[procurement.Window], customer_id: str, industry: str,
               kind: str = "window") -> list[procurement.Window]:
    """The customer's own entries of this kind, else its industry's."""
    own = [w for w in windows if w.kind == kind and w.customer_id and w.customer_id == customer_id]
    if own:
        return own
    return [w for w in windows if w.kind == kind and not w.customer_id and _industry_matches(w.industry, industry)]


def shift_close(windows: list[procurement.Window], customer_id: str, industry: str, expected: date,
                budget_confirmed: bool = False) -> Shift | None:
    """None when nothing moves the date; else where it moves: the next buying-window start when the date is
    outside every window, or (budget not confirmed) the start of a budget event the date falls shortly before."""
    best: tuple[date, str] | None = None
    inside = False
    for w in applicable(windows, customer_id, industry):
        for year in (expected.year - 1, expected.year, expected.year + 1):
            start, end = _span(w, year)
            if start <= expected <= end:
                inside = True
            elif start > expected and (best is None or start < best[0]):
                best = (start, w.name)
    if best and not inside:
        return Shift(expected, best[0], best[1])
    if budget_confirmed:
        return None
    waits: tuple[date, str] | None = None
    for w in applicable(windows, customer_id, industry, kind="budget"):
        for year in (expected.year, expected.year + 1):
            start, end = _span(w, year)
            if start <= expected <= end:
                return None  # the money is there when it closes
            if expected < start <= expected + timedelta(days=BUDGET_LEAD_DAYS) and (waits is None or start < waits[0]):
                waits = (start, w.name)
    return Shift(expected, waits[0], waits[1]) if waits else None
