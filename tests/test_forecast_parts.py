"""Notes parsing table, procurement-window shifts, health colours."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from bot.config import ForecastHealthSection
from handlers.forecast import calendar, health, notes
from store import procurement
from store.deals import Deal, Details

TODAY = date(2026, 3, 4)  # a Wednesday

NOTES = [  # text, expected change keys, expected date, not understood clauses
    ("客户CFO下周回国", ["n_available"], date(2026, 3, 9), []),
    ("终审人月底有空", ["n_available"], date(2026, 3, 31), []),
    ("国庆后采购经理约好再谈", ["n_available"], date(2026, 10, 8), []),
    ("今天见了老板，很认可我们的方案", ["n_met", "n_good"], date(2026, 3, 4), []),
    ("法务审核通过，合同已盖章", ["n_legal_pass", "n_sealed"], None, []),
    ("竞争对手报了低价", ["n_competitor"], None, []),
    ("项目受阻，预算冻结", ["n_bad", "n_bad"], None, []),
    ("POC测试通过", ["n_tech_pass"], None, []),
    ("3天后客户来参观", [], date(2026, 3, 7), ["3天后客户来参观"]),
    ("他们的前台换了新装修", [], None, ["他们的前台换了新装修"]),
]


@pytest.mark.parametrize("text,keys,when,unknown", NOTES)
def test_note_parsing_table(text, keys, when, unknown):
    parsed = notes.parse(text, TODAY, Details(), use_snownlp=False)
    assert [c.key for c in parsed.changes] == keys
    assert parsed.event_date == when
    assert parsed.not_understood == unknown


def test_note_marks_the_approver_met():
    parsed = notes.parse("拜访了董事长", TODAY, Details(), use_snownlp=False)
    fields = {k: v for c in parsed.changes for k, v in c.fields.items()}
    assert fields["approver_met"] is True and fields["decision_people"] == 1


def test_procurement_window_shifts_expected_close(store, tmp_path: Path):
    csv_file = tmp_path / "cal.csv"
    csv_file.write_text("name,start,end,customer,industry,kind\n教育局采购窗口,09-15,09-30,,教育,window\n"
                        "坏行,13-01,09-30,,教育,window\n", encoding="utf-8")
    with pytest.raises(Exception) as err:
        calendar.import_file(store, csv_file)
    assert ":3：" in str(err.value) and "已导入 1 个采购窗口" in str(err.value)
    windows = procurement.all_windows(store)
    shift = calendar.shift_close(windows, "c9", "教育", date(2026, 7, 10))
    assert shift and shift.shifted == date(2026, 9, 15) and shift.window == "教育局采购窗口"
    assert calendar.shift_close(windows, "c9", "教育", date(2026, 9, 20)) is None
    assert calendar.shift_close(windows, "c9", "制造", date(2026, 7, 10)) is None
    assert calendar.shift_close(windows, "c9", "教育", date(2026, 10, 2)).shifted == date(2027, 9, 15)
    ics = tmp_path / "cal.ics"
    ics.write_text("BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:市医院年度采购\nDTSTART;VALUE=DATE:20260601\n"
                   "DTEND;VALUE=DATE:20260616\nX-SALESPULSE-CUSTOMER:c7\nEND:VEVENT\nEND:VCALENDAR\n", encoding="utf-8")
    assert calendar.import_file(store, ics) == 1
    windows = procurement.all_windows(store)
    assert calendar.shift_close(windows, "c7", "医疗", date(2026, 6, 20)).shifted == date(2027, 6, 1)
    assert calendar.shift_close(windows, "c7", "医疗", date(2026, 6, 15)) is None


def test_budget_event_holds_deals_without_a_confirmed_budget(store, tmp_path: Path):
    """C2: 'Q2末设备更新专项拨款' recalibrates close dates — a manufacturing deal expected shortly before the money
    arrives waits for it, unless its budget range is already confirmed; an industry on the calendar ('制造')
    matches the customers' longer name ('制造业')."""
    csv_file = tmp_path / "budget.csv"
    csv_file.write_text("name,start,end,customer,industry,kind\nQ2末设备更新专项拨款,06-01,06-30,,制造,budget\n",
                        encoding="utf-8")
    assert calendar.import_file(store, csv_file) == 1
    windows = procurement.all_windows(store)
    shift = calendar.shift_close(windows, "c1", "制造业", date(2026, 4, 20))
    assert shift and shift.shifted == date(2026, 6, 1) and shift.window == "Q2末设备更新专项拨款"
    assert calendar.shift_close(windows, "c1", "制造业", date(2026, 4, 20), budget_confirmed=True) is None
    assert calendar.shift_close(windows, "c1", "制造业", date(2026, 6, 10)) is None  # the money is there
    assert calendar.shift_close(windows, "c1", "制造业", date(2026, 1, 10)) is None  # too far ahead to wait for
    assert calendar.shift_close(windows, "c1", "制造业", date(2026, 7, 10)) is None  # after it: not next year's
    assert calendar.shift_close(windows, "c1", "零售连锁", date(2026, 4, 20)) is None
    assert calendar.shift_close(windows, "c1", "", date(2026, 4, 20)) is None


def _deal(**details) -> Deal:
    return Deal("L1", "商机", "c1", "客户", "", "r1", "open", "", "", 1.0, 0, 40 * 86_400_000, None, None,
                Details(**details))


@pytest.mark.parametrize("details,last_days,colour,keys", [
    (dict(approver_met=True, tech_validation=0.9, legal_review="passed"), 1, "green", []),
    (dict(approver_met=None, tech_validation=0.9), 1, "yellow", ["h_approver"]),
    (dict(approver_met=True, disputed_clauses=3), 1, "red", ["h_disputed"]),
    (dict(approver_met=True, legal_review="failed"), 1, "red", ["h_legal_failed"]),
    (dict(approver_met=True, tech_validation=0.5), 1, "yellow", ["h_tech"]),
    (dict(approver_met=True), 15, "red", ["h_silent"]),
    (dict(approver_met=True, close_slips=1), 1, "yellow", ["h_slips"]),
])
def test_health_colours(details, last_days, colour, keys):
    now = 0
    h = health.assess(_deal(**details), now, ForecastHealthSection(), now - last_days * 86_400_000)
    assert h.colour == colour
    assert [k for _c, k, _v in h.issues] == keys


def test_health_thresholds_come_from_config():
    cfg = dataclasses.replace(ForecastHealthSection(), disputed_red=10)
    assert health.assess(_deal(approver_met=True, disputed_clauses=3), 0, cfg).colour == "yellow"
