"""Files into the stores tables: `salespulse import stores`, `import store-daily`, `import wifi`.

CSV (UTF-8, or GBK as Excel in China saves it) and XLSX are read by the deal importer's reader
(handlers/forecast/dealfile.py: line numbers that survive quoted multi-line cells, blank rows skipped). Columns are
found by their usual Chinese or English header names; a mapping file (`--map mapping.toml` with a [columns]
table, field = "source column", and optionally [source] sheet / encoding) names them when the export differs.
A bad row is reported as "file:line: why" and skipped; the good rows are imported.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bot import crashpoints
from bot.errors import BadPayload
from handlers.forecast import dealfile
from handlers.stores import health
from handlers.stores.registry import StoreSpec, check_spec
from prompts import Keyed, Prompts, render
from store import stores as stores_store
from store.db import Store

STORE_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "门店编号", "门店id", "store_id", "编号"),
    "name": ("name", "门店名称", "门店", "店名", "store"),
    "area": ("area", "区域", "大区"),
    "type": ("type", "门店类型", "店型", "store_type"),
    "manager": ("manager", "店长"),
    "clerks": ("clerks", "店员"),
    "opens": ("opens", "开门", "营业开始", "开店时间"),
    "closes": ("closes", "打烊", "营业结束", "关店时间"),
    "city": ("city", "城市"),
    "timezone": ("timezone", "时区"),
    "latitude": ("latitude", "纬度", "lat"),
    "longitude": ("longitude", "经度", "lon", "lng"),
    "video_url": ("video_url", "视频", "示范视频"),
    "area_manager": ("area_manager", "区域经理"),
}
DAILY_FIELDS: dict[str, tuple[str, ...]] = {
    "store": ("store", "门店", "门店编号", "门店名称", "store_id"),
    "date": ("date", "日期", "营业日"),
    "receptions": ("receptions", "接待人数", "接待", "客流", "进店人数"),
    "staff": ("staff", "在岗人数", "店员人数", "人数"),
    "dwell_min": ("dwell_min", "平均停留分钟", "平均停留", "停留时长"),
    "visits": ("visits", "到访数", "到访"),
}
_SPLIT = ("、", ",", "，", ";", "；", "/", "|")


@dataclass
class Mapped:
    rows: list[tuple[int, dict[str, str]]]
    errors: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # our field → the file's header for it

    def column(self, name: str, t: Any) -> str:
        """How a row error names a field: the file's own header (接待人数, 客流…), else the field's usual name in
        the reader's language — never our internal key."""
        return self.columns.get(name) or t(f"stores_cli.field_{name}")


def read_mapped(path: Path, fields: dict[str, tuple[str, ...]], required: tuple[str, ...],
                mapping: Path | None = None, t: Any = None) -> Mapped:
    """Rows of our field names → cell text, with their file line numbers. Problems with the file as a whole
    (empty, not text, a required column missing) are one sentence in t's locale."""
    t = t or Prompts().t
    columns: dict[str, str] = {}
    source: dict = {}
    if mapping is not None:
        try:
            data = tomllib.loads(Path(mapping).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BadPayload(Keyed("stores_cli.map_missing", path=mapping)) from None
        except tomllib.TOMLDecodeError as exc:
            raise BadPayload(Keyed("stores_cli.map_toml", path=mapping, why=exc)) from None
        columns = {str(k): str(v) for k, v in data.get("columns", {}).items()}
        unknown = sorted(set(columns) - set(fields))
        if unknown:
            raise BadPayload(Keyed("stores_cli.map_unknown", path=mapping, fields=", ".join(unknown),
                                         known=",".join(fields)))
        source = data.get("source", {})
    if not Path(path).is_file():
        raise BadPayload(Keyed("stores_cli.file_missing", path=path))
    reader = SimpleNamespace(encoding=str(source.get("encoding", "utf-8-sig")), sheet=str(source.get("sheet", "")),
                             path=str(mapping) if mapping else t("stores_cli.map_file"))
    header, raw_rows = dealfile._rows(Path(path), reader)  # the deal importer's CSV/XLSX reader
    if not any(header):
        raise BadPayload(Keyed("stores_cli.empty_file", path=path))
    low = {h.strip().lower(): h for h in header}
    chosen: dict[str, str] = {}
    for name, names in fields.items():
        if name in columns:
            if columns[name] not in header:
                raise BadPayload(Keyed("stores_cli.column_absent", path=path, column=columns[name], field=name,
                                       mapping=mapping, header=",".join(header)))
            chosen[name] = columns[name]
            continue
        for candidate in names:
            if candidate.lower() in low:
                chosen[name] = low[candidate.lower()]
                break
    missing = [f for f in required if f not in chosen]
    if missing:
        raise BadPayload(Keyed("stores_cli.column_missing", path=path, header=",".join(header),
                               fields=t("core.list_sep").join(t("stores_cli.field_named", name=t(f"stores_cli.field_{f}"),
                                                                field=f) for f in missing)))
    return Mapped([(line, {f: raw.get(c, "").strip() for f, c in chosen.items()}) for line, raw in raw_rows],
                  columns=chosen)


def _float(text: str, what: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise ValueError(Keyed("stores_cli.row_not_number", what=what, text=text)) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(Keyed("stores_cli.row_not_number", what=what, text=text))
    return value


def _hhmm(text: str, default: str) -> str:
    text = text.strip() or default
    if len(text) >= 8 and text[2] == ":" and text[5] == ":":  # 10:00:00 from Excel
        text = text[:5]
    return text


def import_stores(store: Store, path: Path, mapping: Path | None, now_ms: int,
                  t: Any = None) -> tuple[int, list[str], list[str]]:
    """(stores imported, people created, errors)."""
    t = t or Prompts().t
    mapped = read_mapped(path, STORE_FIELDS, ("id", "name"), mapping, t)

    def column(name: str) -> str:
        return mapped.column(name, t)

    specs: list[tuple[StoreSpec, str]] = []
    errors = list(mapped.errors)
    seen: set[str] = set()
    for line, v in mapped.rows:
        try:
            clerks = v.get("clerks", "")
            for sep in _SPLIT[1:]:
                clerks = clerks.replace(sep, _SPLIT[0])
            spec = StoreSpec(
                id=v.get("id", ""), name=v.get("name", ""), area=v.get("area", ""), store_type=v.get("type", ""),
                manager=v.get("manager", ""), clerks=tuple(c.strip() for c in clerks.split(_SPLIT[0]) if c.strip()),
                opens=_hhmm(v.get("opens", ""), "10:00"), closes=_hhmm(v.get("closes", ""), "22:00"),
                city=v.get("city", ""), timezone=v.get("timezone", "") or "Asia/Shanghai",
                latitude=_float(v.get("latitude", ""), column("latitude")),
                longitude=_float(v.get("longitude", ""), column("longitude")),
                video_url=v.get("video_url", ""))
        except ValueError as exc:
            errors.append(t("stores_cli.row_error", path=path, line=line, why=render(exc, t)))
            continue
        problem = check_spec(spec, column)
        if problem is None and spec.id in seen:
            problem = Keyed("stores_cli.row_duplicate_id", id=spec.id, column=column("id"))
        if problem:
            errors.append(t("stores_cli.row_error", path=path, line=line, why=render(problem, t)))
            continue
        seen.add(spec.id)
        specs.append((spec, v.get("area_manager", "")))
    from handlers.stores.registry import person_id, save

    with store.transaction():
        created = save(store, [s for s, _m in specs], str(path), now_ms)
        for spec, area_manager in specs:
            crashpoints.reached("import.row")
            if spec.area and area_manager:
                stores_store.upsert_area(store, spec.area, person_id(store, area_manager, created), "")
    return len(specs), created, errors


def _day(text: str) -> str:
    text = text.strip().replace("/", "-").replace(".", "-")
    if " " in text:
        text = text.split(" ", 1)[0]
    try:
        return date.fromisoformat("-".join(p.zfill(2) for p in text.split("-"))).isoformat()
    except ValueError:
        try:
            return datetime.strptime(text, "%Y%m%d").date().isoformat()
        except ValueError:
            raise ValueError(Keyed("stores_cli.row_date", text=text)) from None


def import_daily(store: Store, path: Path, mapping: Path | None, now_ms: int, t: Any = None) -> tuple[int, list[str]]:
    """POS / CSV daily figures: receptions with people on duty (人效) and optionally the day's average dwell (场效).
    Returns (rows imported, errors)."""
    t = t or Prompts().t
    mapped = read_mapped(path, DAILY_FIELDS, ("store", "date"), mapping, t)
    col = {name: mapped.column(name, t) for name in DAILY_FIELDS}
    errors = list(mapped.errors)
    good = 0
    today = {}
    with store.transaction():
        for line, v in mapped.rows:
            try:
                if not v.get("store", ""):
                    raise ValueError(Keyed("stores_cli.row_empty", column=col["store"]))
                row = stores_store.find_store(store, v.get("store", ""))
                if row is None:
                    raise ValueError(Keyed("stores_cli.row_unknown_store", name=v.get("store", "")))
                day = _day(v.get("date", ""))
                if row.id not in today:
                    today[row.id] = health.local_day(now_ms, row.timezone)
                if day > today[row.id]:
                    raise ValueError(Keyed("stores_cli.row_future", day=day))
                receptions = _float(v.get("receptions", ""), col["receptions"])
                staff = _float(v.get("staff", ""), col["staff"])
                dwell = _float(v.get("dwell_min", ""), col["dwell_min"])
                visits = _float(v.get("visits", ""), col["visits"])
                if receptions is None and dwell is None:
                    raise ValueError(Keyed("stores_cli.row_no_figures", receptions=col["receptions"],
                                           dwell=col["dwell_min"]))
                if receptions is not None:
                    if receptions < 0 or receptions != int(receptions):
                        raise ValueError(Keyed("stores_cli.row_receptions", column=col["receptions"],
                                               text=v["receptions"]))
                    if staff is None or staff < 1 or staff != int(staff):
                        raise ValueError(Keyed("stores_cli.row_staff", receptions=col["receptions"],
                                               staff=col["staff"]))
                if dwell is not None and not 0 <= dwell <= 600:
                    raise ValueError(Keyed("stores_cli.row_dwell", column=col["dwell_min"], text=v["dwell_min"]))
            except ValueError as exc:
                errors.append(t("stores_cli.row_error", path=path, line=line, why=render(exc, t)))
                continue
            if receptions is not None:
                stores_store.put_receptions(store, row.id, day, "*", int(receptions), int(staff or 1), "import",
                                            now_ms)
            if dwell is not None:
                stores_store.put_dwell(store, row.id, day, dwell, int(visits or 0), "import", now_ms)
            good += 1
            crashpoints.reached("import.row")
    return good, errors


def import_wifi(store: Store, path: Path, now_ms: int, *, default_store: str | None, prompts,
                settings=None) -> tuple[int, int, list[str]]:
    """Probe records (the Wi-Fi algorithm's reader: handlers/stores/wifi.py) → kept per store, and each store-day's
    visits and average dwell computed at once. Returns (records kept, store-days with a dwell, errors)."""
    from handlers.stores import wifi

    rows = stores_store.all_stores(store)
    by_key = {r.id: r for r in rows} | {r.name: r for r in rows}
    fallback = by_key.get(default_store or "")
    if default_store and fallback is None:
        raise BadPayload(Keyed("stores_cli.no_store", store=default_store))
    tz = fallback.timezone if fallback else "Asia/Shanghai"
    try:
        probe_file = wifi.read_probe_csv(path, wifi.ProbeColumns(default_store=fallback.id if fallback else None),
                                         tz=tz)
    except wifi.ProbeFormatError as exc:
        raise BadPayload(exc.args[0]) from None
    errors = [f"{path}: {e.text(prompts)}" for e in probe_file.errors]
    records = probe_file.records
    unknown = sorted({s for s in records.stores if s not in by_key})
    for name in unknown:
        errors.append(prompts.t("stores_cli.wifi_unknown_store", path=path, name=name))
    kept = []
    for ts, sc, dc, rssi in zip(records.ts_ms.tolist(), records.store_code.tolist(), records.device_code.tolist(),
                                records.rssi.tolist(), strict=True):
        row = by_key.get(records.stores[sc])
        if row is not None:
            kept.append((row.id, int(ts), records.devices[dc], None if rssi != rssi else int(rssi)))
    with store.transaction():
        stores_store.add_probes(store, kept)
        used = {by_key[s].id: by_key[s] for s in records.stores if s in by_key}
        days = dwell_from_rows(store, used, kept, now_ms, settings)
    return len(kept), days, errors


def dwell_from_rows(store: Store, rows: dict[str, stores_store.StoreRow], probes: list[tuple], now_ms: int,
                    settings=None) -> int:
    """Visits and average dwell per store-day from probe rows (store_id, at, device, rssi); writes store_dwell.
    `settings`: bot.toml [stores.wifi] (None: the defaults)."""
    if not probes:
        return 0
    import dataclasses

    from handlers.stores import wifi

    params = wifi.DwellParams(**dataclasses.asdict(settings)) if settings is not None else wifi.DwellParams()
    from handlers.workcal import parse_hhmm

    records = wifi.ProbeRecords.from_rows((at, sid, dev, rssi) for sid, at, dev, rssi in probes)
    hours = {sid: (parse_hhmm(r.opens, "opens"), parse_hhmm(r.closes, "closes")) for sid, r in rows.items()}
    zones = {sid: r.timezone for sid, r in rows.items()}
    visits = wifi.compute_visits(records, opening_hours=hours, tz=zones, params=params)
    counts: dict[tuple[str, str], int] = {}
    for v in visits:
        key = (v.store_id, health.local_day(v.start_ms, zones[v.store_id]))
        counts[key] = counts.get(key, 0) + 1
    dwell = wifi.dwell_by_store_day(visits, zones)
    for (sid, day), minutes in dwell.items():
        stores_store.put_dwell(store, sid, day.isoformat(), float(minutes), counts.get((sid, day.isoformat()), 0),
                               "wifi", now_ms)
        crashpoints.reached("import.row")
    return len(dwell)
