"""Wi-Fi dwell (handlers/stores/wifi.py): constructed cases for every filter, the CSV reader's mapping and bad
rows, and a slice of the real probe sample (../shared/data/wifi_probe_sample)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED

from handlers.stores import wifi

TZ = "Asia/Shanghai"
HOURS = (time(10, 0), time(22, 0))
SAMPLE = SHARED / "data" / "wifi_probe_sample"


def ms(day: int, hh: int, mm: int = 0, ss: int = 0) -> int:
    """Local Shanghai wall time on 2026-03-<day> as UTC ms."""
    return int(datetime(2026, 3, day, hh - 8, mm, ss, tzinfo=UTC).timestamp() * 1000) if hh >= 8 else \
        int(datetime(2026, 3, day - 1, hh + 16, mm, ss, tzinfo=UTC).timestamp() * 1000)


def pings(store: str, dev: str, day: int, start: tuple[int, int], minutes: int, every: int = 1, rssi=None):
    h, m = start
    return [(ms(day, h + (m + k) // 60, (m + k) % 60), store, dev, rssi) for k in range(0, minutes + 1, every)]


def visits(rows, **kw):
    return wifi.compute_visits(wifi.ProbeRecords.from_rows(rows), opening_hours=HOURS, tz=TZ, **kw)


def test_customer_visit_dwell_is_last_minus_first():
    out = visits(pings("S1", "cust", 2, (14, 0), 12))
    assert [(v.store_id, v.device, v.dwell_min) for v in out] == [("S1", "cust", 12.0)]
    assert wifi.dwell_by_store_day(out, TZ) == {("S1", date(2026, 3, 2)): 12.0}


def test_gap_splits_a_device_into_two_visits():
    rows = pings("S1", "d", 2, (11, 0), 5) + pings("S1", "d", 2, (11, 30), 8)
    out = visits(rows)
    assert [v.dwell_min for v in out] == [5.0, 8.0]
    # with a gap threshold longer than the 25-minute silence it is one visit
    assert [v.dwell_min for v in visits(rows, params=wifi.DwellParams(gap_min=30))] == [38.0]


def test_staff_device_seen_most_hours_most_days_is_dropped():
    rows = []
    for day in (2, 3, 4):
        rows += pings("S1", "clerk", day, (10, 5), 11 * 60, every=7)  # 10:05 to 21:05 every day
        rows += pings("S1", f"cust{day}", day, (15, 0), 6)
    out = visits(rows)
    assert {v.device for v in out} == {"cust2", "cust3", "cust4"}
    va = wifi.compute_visit_arrays(wifi.ProbeRecords.from_rows(rows), opening_hours=HOURS, tz=TZ)
    assert va.staff_devices == {("S1", "clerk")}
    # the same long presence on a single day is a (long) customer, not staff, unless it exceeds max_visit_min
    one_day = pings("S1", "shopper", 2, (10, 0), 200, every=5)
    assert [v.device for v in visits(one_day)] == ["shopper"]
    assert visits(one_day, params=wifi.DwellParams(max_visit_min=120)) == []


def test_passers_by_short_single_or_weak_are_dropped():
    rows = (pings("S1", "walker", 2, (12, 0), 0)                    # one ping
            + pings("S1", "fast", 2, (12, 0), 0) + [(ms(2, 12, 0, 30), "S1", "fast", None)]  # 30 s
            + pings("S1", "street", 2, (13, 0), 10, rssi=-92)       # heard through the window
            + pings("S1", "inside", 2, (13, 0), 10, rssi=-60))
    assert [v.device for v in visits(rows)] == ["inside"]


def test_records_outside_opening_hours_are_ignored_and_visits_stop_at_closing():
    rows = pings("S1", "night", 2, (23, 0), 30) + pings("S1", "late", 2, (21, 50), 20)
    out = visits(rows)
    assert [(v.device, v.dwell_min) for v in out] == [("late", 9.0)]  # 21:50-21:59, the rest after closing


def test_hours_per_store_and_a_store_without_hours():
    rows = pings("A", "x", 2, (8, 30), 10) + pings("B", "y", 2, (8, 30), 10)
    out = wifi.compute_visits(wifi.ProbeRecords.from_rows(rows), tz=TZ,
                              opening_hours={"A": (time(8, 0), time(20, 0))})
    assert [v.store_id for v in out] == ["A"]


def test_overnight_hours_wrap_midnight():
    rows = pings("bar", "d", 2, (23, 50), 0) + [(ms(3, 0, 20), "bar", "d", None)]
    out = wifi.compute_visits(wifi.ProbeRecords.from_rows(rows), tz=TZ, opening_hours=(time(18), time(2)),
                              params=wifi.DwellParams(gap_min=60))
    assert [v.dwell_min for v in out] == [30.0]


def test_exact_duplicates_do_not_count_as_records():
    rows = pings("S1", "d", 2, (12, 0), 0) * 5 + [(ms(2, 12, 0, 0), "S1", "d", None)]
    assert visits(rows) == []  # six copies of one ping are still one ping


def test_reader_maps_columns_reports_bad_rows_with_lines(tmp_path: Path):
    f = tmp_path / "vendor.csv"
    f.write_text("采集时间,探针,MAC,信号强度\n"
                 "2026-03-02 14:00:00,P-01,aa,-60\n"
                 "yesterday,P-01,bb,-60\n"
                 "2026-03-02 14:05:00,P-01,,-60\n"
                 "\n"
                 "2026-03-02 14:06:00,P-01,aa,strong\n"
                 "2026-03-02T14:07:00+08:00,P-01,aa,-58\n"
                 "1772431680,P-01,aa,\n", encoding="utf-8")
    cols = wifi.ProbeColumns(device="MAC", sensors={"P-01": "S1"})
    got = wifi.read_probe_csv(f, cols, tz=TZ)
    assert [(e.line, e.reason) for e in got.errors] == [(3, "time"), (4, "device"), (6, "rssi")]
    assert got.rows == 6  # the blank line is no row
    assert got.records.stores == ("S1",)
    assert got.records.ts_ms.tolist() == [ms(2, 14, 0), ms(2, 14, 7), 1772431680000]
    assert np.isnan(got.records.rssi[2]) and got.records.rssi[0] == -60
    assert got.errors[0].text().startswith("第 3 行")


def test_reader_names_a_missing_column(tmp_path: Path):
    f = tmp_path / "x.csv"
    f.write_text("when,who\n1,2\n", encoding="utf-8")
    with pytest.raises(wifi.ProbeFormatError, match="x.csv"):
        wifi.read_probe_csv(f)


def test_impossible_date_falls_back_to_row_errors(tmp_path: Path):
    f = tmp_path / "y.csv"
    f.write_text("time,store,device\n2026-02-30 10:00:00,S,a\n2026-03-02 10:00:00,S,a\n", encoding="utf-8")
    got = wifi.read_probe_csv(f)
    assert [(e.line, e.reason) for e in got.errors] == [(2, "time")]
    assert len(got.records) == 1


@pytest.mark.skipif(not SAMPLE.is_dir(), reason=f"probe sample not found at {SAMPLE}")
def test_real_sample_day_drops_staff_and_keeps_plausible_visits():
    got = wifi.read_probe_csv(SAMPLE / "kitokito_market_20241002.csv", tz="Asia/Tokyo")
    assert got.errors == [] and got.rows == 10185
    va = wifi.compute_visit_arrays(got.records, opening_hours=(time(9), time(17)), tz="Asia/Tokyo",
                                   params=wifi.DwellParams(staff_min_days=1))
    out = va.visits()
    dwell = np.array([v.dwell_min for v in out])
    # the README's quirk: raw first-to-last spans reach 8 h; the staff filter leaves customer-sized visits
    assert len(va.staff_devices) >= 3 and va.dropped["duplicate"] > 3000
    assert 20 < len(out) < 200 and np.median(dwell) < 30 and dwell.max() <= 240


def test_bot_toml_stores_wifi_section_sets_every_visit_rule(tmp_path):
    """[stores.wifi] carries exactly the visit rules of DwellParams, with the same defaults, and a value set there
    reaches them (the sweep and `import wifi` pass it to compute_visits)."""
    import dataclasses

    from bot.config import StoreWifiSection, load_config
    from handlers.stores.wifi import DwellParams

    assert DwellParams(**dataclasses.asdict(StoreWifiSection())) == DwellParams()
    path = tmp_path / "bot.toml"
    path.write_text("[stores.wifi]\nmin_visit_s = 120.0\n", encoding="utf-8")
    settings = load_config(path).stores.wifi
    assert DwellParams(**dataclasses.asdict(settings)).min_visit_s == 120.0
