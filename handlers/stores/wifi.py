"""Wi-Fi dwell (场效): probe records from an in-store sensor → customer visits → average dwell per store and day.

A probe record says "device D was heard by the sensor of store S at time T (with signal RSSI)". What is wanted is
how long customers stay, so the pipeline throws away everything that is not a customer visit:

- records outside the store's opening hours (cleaners, the night guard, the neighbour's phone at 3 am);
- staff and vendor devices: a device heard over most of the opening hours (first to last record of the day ≥
  `staff_span_share` of the hours) on at least `staff_min_days` days and on most of the days it was heard at all
  (`staff_day_share`) is a clerk's phone, a POS terminal or the promoter of a brand, never a customer. The real
  sample (../shared/data/wifi_probe_sample) has such devices heard from 9:00 to 17:00 every day;
- passers-by: a visit shorter than `min_visit_s`, with fewer than `min_records` distinct records, or whose
  strongest signal is weaker than `min_rssi` (heard through the shop window from the street);
- a visit longer than `max_visit_min` (a device left in a locker, a staff phone on its first day).

A device's records at one store are split into visits where two consecutive records are more than `gap_min`
apart, and never across a closing time. Dwell = last − first record of the visit.

Why numpy: a chain's sensors produce millions of records a day. Everything after reading is array work — one
lexsort by (store, device, time), group boundaries from `diff`, per-group first/last/count with `reduceat` — so
the cost is a sort, not a Python loop per record (bench/wifi.py: target ≥ 500,000 records/s on one core).

Reading: `read_probe_csv` takes any vendor's export through a column mapping (`ProbeColumns`; common header
names, including the Japanese ones of the public sample, are recognised without one). Naive times are local
times of the store's timezone. A bad row is reported as "line N: why" and skipped; the rest is read.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from prompts import Keyed

MINUTE_MS = 60_000
DAY_MS = 86_400_000


# ---------------------------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class ProbeRecords:
    """Probe records as parallel arrays. `stores[store_code[i]]` is record i's store id, `devices[device_code[i]]`
    its device hash; `rssi` is NaN where the export has none."""

    ts_ms: np.ndarray  # int64, UTC epoch milliseconds
    store_code: np.ndarray  # int32
    device_code: np.ndarray  # int32
    rssi: np.ndarray  # float32 (dBm), NaN = unknown
    stores: tuple[str, ...]
    devices: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.ts_ms.shape[0])

    @classmethod
    def from_rows(cls, rows: Iterable[tuple]) -> ProbeRecords:
        """From (ts_ms, store, device) or (ts_ms, store, device, rssi) tuples — for tests and small imports."""
        ts: list[int] = []
        st: list[str] = []
        dv: list[str] = []
        rs: list[float] = []
        for row in rows:
            ts.append(int(row[0]))
            st.append(str(row[1]))
            dv.append(str(row[2]))
            r = row[3] if len(row) > 3 else None
            rs.append(math.nan if r is None else float(r))
        return cls.from_arrays(np.asarray(ts, dtype=np.int64), st, dv, np.asarray(rs, dtype=np.float32))

    @classmethod
    def from_arrays(cls, ts_ms: np.ndarray, stores: Sequence[str], devices: Sequence[str],
                    rssi: np.ndarray | None = None) -> ProbeRecords:
        s_names, s_codes = np.unique(np.asarray(stores, dtype=object).astype(str), return_inverse=True)
        d_names, d_codes = np.unique(np.asarray(devices, dtype=object).astype(str), return_inverse=True)
        n = len(ts_ms)
        r = np.full(n, np.nan, dtype=np.float32) if rssi is None else np.asarray(rssi, dtype=np.float32)
        return cls(np.asarray(ts_ms, dtype=np.int64), s_codes.astype(np.int32), d_codes.astype(np.int32), r,
                   tuple(str(s) for s in s_names), tuple(str(d) for d in d_names))


# ---------------------------------------------------------------------------------------------------------------
# Reading vendors' CSV exports


TIME_HEADERS = ("time", "timestamp", "ts", "datetime", "seen_at", "时间", "時間", "采集时间", "日時")
STORE_HEADERS = ("store", "store_id", "sensor", "sensor_id", "site", "shop", "门店", "门店编号", "探针", "施設no", "施設")
DEVICE_HEADERS = ("device", "device_hash", "mac", "mac_hash", "device_id", "user", "设备", "设备号", "ユーザー情報")
RSSI_HEADERS = ("rssi", "signal", "信号强度", "信号", "電波強度")


@dataclass(frozen=True)
class ProbeColumns:
    """Which CSV column holds what. None = recognise it from the header (the *_HEADERS names, any case).

    `sensors` maps a sensor id to its store id, for vendors whose export names the sensor, not the store.
    `store` may be omitted when the file is one store's export: pass `default_store`.
    """

    time: str | None = None
    store: str | None = None
    device: str | None = None
    rssi: str | None = None
    default_store: str | None = None
    sensors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RowError:
    """One unreadable row: `line` is the file line it starts on; `reason` a short code (prompts: wifi.row_<reason>)."""

    line: int
    reason: str  # "time" | "device" | "store" | "rssi" | "columns"
    value: str = ""

    def text(self, prompts=None) -> str:
        from prompts import Prompts

        p = prompts or Prompts()
        return p.t("wifi.row_error", line=self.line, why=p.t(f"wifi.row_{self.reason}", value=self.value))


@dataclass(frozen=True)
class ProbeFile:
    records: ProbeRecords
    errors: list[RowError]
    rows: int  # data rows seen (good + bad)


class ProbeFormatError(ValueError):
    """The file as a whole cannot be read (no header, a needed column missing). Message names the file."""


def _pick(header: Sequence[str], wanted: str | None, names: Sequence[str], what: str, path: Path,
          required: bool = True) -> int | None:
    low = [h.strip().lower().lstrip("\ufeff") for h in header]
    if wanted is not None:
        if wanted.strip().lower() in low:
            return low.index(wanted.strip().lower())
        raise ProbeFormatError(Keyed("stores_cli.column_absent", path=path, column=wanted, field=what, mapping="--map",
                                     header=",".join(header)))
    for n in names:
        if n in low:
            return low.index(n)
    if required:
        raise ProbeFormatError(Keyed("stores_cli.column_missing", path=path, fields=what, header=",".join(header)))
    return None


def read_probe_csv(path: Path | str, columns: ProbeColumns | None = None, *, tz: tzinfo | str = "Asia/Shanghai",
                   encoding: str = "utf-8-sig") -> ProbeFile:
    """Read one export. Times: ISO 8601 (with or without offset; naive = local time in `tz`), "YYYY/MM/DD HH:MM:SS",
    or epoch seconds / milliseconds. Bad rows become RowError(line, reason) and are skipped."""
    path = Path(path)
    cols = columns or ProbeColumns()
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header:
            raise ProbeFormatError(Keyed("stores_cli.empty_file", path=path))
        i_t = _pick(header, cols.time, TIME_HEADERS, "time", path)
        i_d = _pick(header, cols.device, DEVICE_HEADERS, "device", path)
        i_s = _pick(header, cols.store, STORE_HEADERS, "store", path, required=cols.default_store is None)
        i_r = _pick(header, cols.rssi, RSSI_HEADERS, "rssi", path, required=cols.rssi is not None)
        need = max(i for i in (i_t, i_d, i_s, i_r) if i is not None) + 1
        times: list[str] = []
        stores: list[str] = []
        devices: list[str] = []
        rssi: list[float] = []
        lines: list[int] = []
        errors: list[RowError] = []
        rows = 0
        prev_end = 1
        for row in reader:
            line = prev_end + 1
            prev_end = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            rows += 1
            if len(row) < need:
                errors.append(RowError(line, "columns", str(len(row))))
                continue
            dev = row[i_d].strip()
            if not dev:
                errors.append(RowError(line, "device"))
                continue
            store = row[i_s].strip() if i_s is not None else (cols.default_store or "")
            store = cols.sensors.get(store, store)
            if not store:
                errors.append(RowError(line, "store"))
                continue
            r = math.nan
            if i_r is not None and row[i_r].strip():
                try:
                    r = float(row[i_r])
                except ValueError:
                    errors.append(RowError(line, "rssi", row[i_r][:40]))
                    continue
                if not -130.0 <= r <= 0.0:
                    errors.append(RowError(line, "rssi", row[i_r][:40]))
                    continue
            times.append(row[i_t].strip())
            stores.append(store)
            devices.append(dev)
            rssi.append(r)
            lines.append(line)
    ts, bad = parse_times(times, zone)
    if bad.any():
        for k in np.flatnonzero(bad):
            errors.append(RowError(lines[k], "time", times[k][:40]))
        keep = ~bad
        ts = ts[keep]
        stores = [s for s, k in zip(stores, keep, strict=True) if k]
        devices = [d for d, k in zip(devices, keep, strict=True) if k]
        rssi = [r for r, k in zip(rssi, keep, strict=True) if k]
    errors.sort(key=lambda e: e.line)
    recs = ProbeRecords.from_arrays(ts, stores, devices, np.asarray(rssi, dtype=np.float32))
    return ProbeFile(recs, errors, rows)


_NAIVE_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?")
_YEAR_MIN_MS = 946_684_800_000  # 2000-01-01: anything earlier is a broken clock, not a probe
_YEAR_MAX_MS = 4_102_444_800_000  # 2100-01-01


def parse_times(texts: Sequence[str], tz: tzinfo) -> tuple[np.ndarray, np.ndarray]:
    """UTC epoch ms for each text and a mask of the unreadable ones. Naive local times are converted with one
    zone lookup per distinct local hour (DST-correct, not one per record)."""
    n = len(texts)
    out = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    naive_idx: list[int] = []
    naive_s: list[int] = []
    epoch = datetime(1970, 1, 1)
    fast = n > 0 and all(map(_NAIVE_ISO.fullmatch, texts))
    local_fast = np.zeros(0, dtype=np.int64)
    if fast:  # the common export: one vectorised parse instead of a datetime per row
        try:
            local_fast = np.asarray(texts, dtype="datetime64[ms]").astype(np.int64)
            naive_idx = list(range(n))
        except ValueError:  # 2024-02-30 and the like: find which rows, one by one
            fast = False
    for i, raw in enumerate(() if fast else texts):
        t = raw.replace("/", "-")
        if t.isdigit():
            v = int(t)
            out[i] = v if v > 100_000_000_000 else v * 1000
            continue
        try:
            d = datetime.fromisoformat(t)
        except ValueError:
            bad[i] = True
            continue
        if d.tzinfo is not None:
            out[i] = int(d.timestamp() * 1000)
        else:
            naive_idx.append(i)
            naive_s.append((d - epoch) // timedelta(milliseconds=1))
    if naive_idx:
        local = local_fast if fast else np.asarray(naive_s, dtype=np.int64)
        hours = local // 3_600_000
        uniq, inv = np.unique(hours, return_inverse=True)
        offsets = np.empty(len(uniq), dtype=np.int64)
        for k, h in enumerate(uniq.tolist()):
            try:
                wall = epoch + timedelta(hours=h)
            except OverflowError:
                offsets[k] = 0
                continue
            off = wall.replace(tzinfo=tz).utcoffset() or timedelta(0)
            offsets[k] = off // timedelta(milliseconds=1)
        out[np.asarray(naive_idx)] = local - offsets[inv]
    bad |= (out < _YEAR_MIN_MS) | (out > _YEAR_MAX_MS)
    return out, bad


# ---------------------------------------------------------------------------------------------------------------
# Visits


@dataclass(frozen=True)
class DwellParams:
    """Visit rules; every value is configurable (bot.toml [stores.wifi] in the stores capability)."""

    gap_min: float = 10.0  # a silence longer than this ends a visit
    min_visit_s: float = 60.0  # shorter: a passer-by
    min_records: int = 2  # distinct records per visit; one ping is a passer-by
    min_rssi: float = -85.0  # dBm; a visit whose strongest record is weaker was heard from the street
    max_visit_min: float = 240.0  # longer: a device left behind or staff, not a customer
    staff_span_share: float = 0.5  # heard from first to last over ≥ this share of the day's opening hours …
    staff_min_days: int = 2  # … on at least this many days …
    staff_day_share: float = 0.5  # … and on at least this share of the days it was heard at all: staff / vendor


@dataclass(frozen=True)
class Visit:
    store_id: str
    device: str
    start_ms: int
    end_ms: int

    @property
    def dwell_min(self) -> float:
        return (self.end_ms - self.start_ms) / MINUTE_MS


Hours = tuple[time, time]


@dataclass(frozen=True)
class VisitArrays:
    """compute_visits' result as arrays (for callers that aggregate millions of visits without objects)."""

    store_code: np.ndarray
    device_code: np.ndarray
    start_ms: np.ndarray
    end_ms: np.ndarray
    stores: tuple[str, ...]
    devices: tuple[str, ...]
    staff_devices: frozenset[tuple[str, str]]  # (store_id, device) pairs dropped as staff / vendor
    dropped: dict[str, int]  # records or visits dropped, per reason

    def visits(self) -> list[Visit]:
        s, d = self.stores, self.devices
        return [Visit(s[a], d[b], c, e) for a, b, c, e in zip(self.store_code.tolist(), self.device_code.tolist(),
                                                               self.start_ms.tolist(), self.end_ms.tolist(),
                                                               strict=True)]


def _zone(tz: tzinfo | str | Mapping[str, tzinfo | str], store: str) -> tzinfo:
    z = tz.get(store, "Asia/Shanghai") if isinstance(tz, Mapping) else tz
    return ZoneInfo(z) if isinstance(z, str) else z


def _hours(opening_hours: Hours | Mapping[str, Hours | None], store: str) -> Hours | None:
    if isinstance(opening_hours, Mapping):
        return opening_hours.get(store)
    return opening_hours


def _opening_windows(lo_ms: int, hi_ms: int, hours: Hours, zone: tzinfo) -> tuple[np.ndarray, np.ndarray]:
    """Open and close instants (UTC ms) of every business day overlapping [lo, hi]; close ≤ open wraps midnight."""
    first = datetime.fromtimestamp(lo_ms / 1000, UTC).astimezone(zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(hi_ms / 1000, UTC).astimezone(zone).date() + timedelta(days=1)
    opens, closes = [], []
    d = first
    while d <= last:
        o = datetime.combine(d, hours[0], zone)
        c = datetime.combine(d + timedelta(days=1) if hours[1] <= hours[0] else d, hours[1], zone)
        opens.append(int(o.timestamp() * 1000))
        closes.append(int(c.timestamp() * 1000))
        d += timedelta(days=1)
    return np.asarray(opens, dtype=np.int64), np.asarray(closes, dtype=np.int64)


def compute_visit_arrays(records: ProbeRecords, *, opening_hours: Hours | Mapping[str, Hours | None],
                         tz: tzinfo | str | Mapping[str, tzinfo | str] = "Asia/Shanghai",
                         params: DwellParams = DwellParams()) -> VisitArrays:
    """The pipeline of the module docstring, on arrays. `opening_hours` is one (open, close) for every store or a
    mapping store id → (open, close); a store missing from the mapping (or mapped to None) has no visits."""
    n = len(records)
    ts, sc, dc, rs = records.ts_ms, records.store_code, records.device_code, records.rssi
    dropped = {"outside_hours": 0, "duplicate": 0, "staff": 0, "passer_by": 0, "too_long": 0}
    empty = VisitArrays(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.int64),
                        records.stores, records.devices, frozenset(), dropped)
    if n == 0:
        return empty
    # 1. Business day of each record (global index into the per-store window lists) and the in-hours mask.
    day = np.full(n, -1, dtype=np.int64)
    open_len: list[np.ndarray] = []
    base = 0
    single = len(records.stores) == 1
    for code, store in enumerate(records.stores):
        hours = _hours(opening_hours, store)
        if hours is None:
            continue
        idx = None if single else np.flatnonzero(sc == code)
        t = ts if idx is None else ts[idx]
        if t.size == 0:
            continue
        opens, closes = _opening_windows(int(t.min()), int(t.max()), hours, _zone(tz, store))
        k = np.searchsorted(opens, t, side="right") - 1
        inside = (k >= 0) & (t < closes[np.clip(k, 0, None)])
        got = np.where(inside, k + base, -1)
        if idx is None:
            day = got
        else:
            day[idx] = got
        open_len.append(closes - opens)
        base += len(opens)
    keep = day >= 0
    dropped["outside_hours"] = int(n - keep.sum())
    if not keep.any():
        return empty
    lengths = np.concatenate(open_len)
    ts, sc, dc, rs, day = ts[keep], sc[keep], dc[keep], rs[keep], day[keep]
    # 2. Sort by (store, device, time); drop exact repeats (the sample repeats over half its rows).
    order = np.lexsort((ts, dc, sc))
    ts, sc, dc, rs, day = ts[order], sc[order], dc[order], rs[order], day[order]
    same = np.empty(len(ts), dtype=bool)
    same[0] = False
    same[1:] = (ts[1:] == ts[:-1]) & (dc[1:] == dc[:-1]) & (sc[1:] == sc[:-1])
    if same.any():
        # keep the strongest signal of the repeats on the first one
        dropped["duplicate"] = int(same.sum())
        first = ~same
        grp = np.cumsum(first) - 1
        if not np.isnan(rs).all():
            best = np.full(int(first.sum()), -np.inf, dtype=np.float32)
            np.maximum.at(best, grp, np.where(np.isnan(rs), -np.inf, rs))
            rs = np.where(np.isinf(best), np.nan, best).astype(np.float32)
        else:
            rs = rs[first]
        ts, sc, dc, day = ts[first], sc[first], dc[first], day[first]
    m = len(ts)
    pair_start = np.empty(m, dtype=bool)
    pair_start[0] = True
    pair_start[1:] = (dc[1:] != dc[:-1]) | (sc[1:] != sc[:-1])
    # 3. Staff / vendor: per (store, device, business day) the first-to-last span against the opening hours.
    pd_start = pair_start.copy()
    pd_start[1:] |= day[1:] != day[:-1]
    b = np.flatnonzero(pd_start)
    e = np.append(b[1:], m) - 1
    span = ts[e] - ts[b]
    staff_day = span >= params.staff_span_share * lengths[day[b]]
    pair_of_group = np.cumsum(pair_start)[b] - 1
    n_pairs = int(pair_start.sum())
    days_seen = np.bincount(pair_of_group, minlength=n_pairs)
    days_staff = np.bincount(pair_of_group, weights=staff_day, minlength=n_pairs)
    staff_pair = (days_staff >= params.staff_min_days) & (days_staff >= params.staff_day_share * days_seen)
    pair_idx = np.cumsum(pair_start) - 1
    is_staff = staff_pair[pair_idx]
    ps = np.flatnonzero(pair_start)
    staff_set = frozenset((records.stores[sc[i]], records.devices[dc[i]]) for i in ps[staff_pair].tolist())
    dropped["staff"] = int(is_staff.sum())
    if is_staff.any():
        ok = ~is_staff
        ts, sc, dc, rs, day, pd_start = ts[ok], sc[ok], dc[ok], rs[ok], day[ok], pd_start[ok]
        m = len(ts)
        if m == 0:
            return _with(empty, staff_set, dropped)
    # 4. Visits: a new one at a new (store, device, day) or after a gap.
    v_start = pd_start.copy()
    if m > 1:
        v_start[1:] |= np.diff(ts) > params.gap_min * MINUTE_MS
    vb = np.flatnonzero(v_start)
    ve = np.append(vb[1:], m) - 1
    start, end = ts[vb], ts[ve]
    count = ve - vb + 1
    if np.isnan(rs).all():
        strong = np.ones(len(vb), dtype=bool)
    else:
        best = np.fmax.reduceat(np.where(np.isnan(rs), -np.inf, rs), vb)
        # no RSSI in a visit at all counts as strong enough (the vendor does not report it)
        strong = (best >= params.min_rssi) | np.isneginf(best)
    dwell = end - start
    real = (dwell >= params.min_visit_s * 1000) & (count >= params.min_records) & strong
    short_ok = dwell <= params.max_visit_min * MINUTE_MS
    dropped["passer_by"] = int((~real).sum())
    dropped["too_long"] = int((real & ~short_ok).sum())
    ok = real & short_ok
    return VisitArrays(sc[vb][ok], dc[vb][ok], start[ok], end[ok], records.stores, records.devices, staff_set,
                       dropped)


def _with(empty: VisitArrays, staff: frozenset, dropped: dict[str, int]) -> VisitArrays:
    return VisitArrays(empty.store_code, empty.device_code, empty.start_ms, empty.end_ms, empty.stores,
                       empty.devices, staff, dropped)


def compute_visits(records: ProbeRecords, *, opening_hours: Hours | Mapping[str, Hours | None],
                   tz: tzinfo | str | Mapping[str, tzinfo | str] = "Asia/Shanghai",
                   params: DwellParams = DwellParams()) -> list[Visit]:
    """Customer visits, ordered by store, device and start (see compute_visit_arrays)."""
    return compute_visit_arrays(records, opening_hours=opening_hours, tz=tz, params=params).visits()


def dwell_by_store_day(visits: Iterable[Visit], tz: tzinfo | str | Mapping[str, tzinfo | str] = "Asia/Shanghai"
                       ) -> dict[tuple[str, date], float]:
    """Average dwell in minutes per (store, local date of the visit's start)."""
    total: dict[tuple[str, date], float] = {}
    count: dict[tuple[str, date], int] = {}
    zones: dict[str, tzinfo] = {}
    for v in visits:
        z = zones.get(v.store_id)
        if z is None:
            z = zones[v.store_id] = _zone(tz, v.store_id)
        d = datetime.fromtimestamp(v.start_ms / 1000, UTC).astimezone(z).date()
        key = (v.store_id, d)
        total[key] = total.get(key, 0.0) + (v.end_ms - v.start_ms) / MINUTE_MS
        count[key] = count.get(key, 0) + 1
    return {k: total[k] / count[k] for k in sorted(total)}
