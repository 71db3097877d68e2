"""What a sales manager types and sees, found wrong in the forecast audit: negated notes, /adjust values, past
periods and period words, capped probabilities explained, red health reasons, import rows that broke the import."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import T0
from test_forecast_chat import ask, seed

from bot.config import ForecastHealthSection
from handlers.forecast import calendar, dealfile, health, notes, periods
from store import deals as deal_store
from store import leads as lead_store
from store import revisions as rev_store
from store.deals import Deal, Details

TODAY = date(2026, 3, 4)  # a Wednesday
ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "mappings" / "generic_deals_template.csv"
GENERIC = ROOT / "mappings" / "generic.toml"
DAY = 86_400_000


# ------------------------------------------------------------------ /note: a negation turns the meaning around
@pytest.mark.parametrize("text,keys,fields", [
    ("还没见过终审人", ["n_not_met"], {"approver_met": False}),
    ("终审人还没见面", ["n_not_met"], {"approver_met": False}),
    ("CFO下周不能见", ["n_unavailable"], {}),
    ("CFO不回国了", ["n_unavailable"], {}),
    ("终审人暂时见不到", ["n_unavailable"], {}),
    ("客户没有盖章", ["n_negated"], {}),
    ("合同还没签字", ["n_negated"], {}),
    ("没有竞争对手", ["n_negated"], {}),
    ("竞争对手没什么动作", ["n_negated"], {}),
    ("项目推进不顺利", ["n_bad"], {"sentiment": -1}),
    ("客户不太满意", ["n_bad"], {"sentiment": -1}),
    ("没有推迟", ["n_negated"], {}),
    ("法务审核没通过", ["n_legal_fail"], {"legal_review": "failed"}),
    ("客户说下周盖章", ["n_planned"], {}),  # a plan, not a seal yet
    ("客户CFO下周回国", ["n_available"], {"decision_people": 1, "rank_change": 1}),
    ("合同已盖章", ["n_sealed"], {"has_seal": True}),
])
def test_note_negations_are_not_read_as_the_opposite(text, keys, fields):
    parsed = notes.parse(text, TODAY, Details(), use_snownlp=False)
    assert [c.key for c in parsed.changes] == keys
    assert {k: v for c in parsed.changes for k, v in c.fields.items()} == fields
    assert parsed.not_understood == []


async def test_note_not_met_echoes_and_records_it(runtime):
    seed(runtime.store)
    with runtime.store.transaction():
        deal_store.upsert_details(runtime.store, "L1", T0, approver_met=True)
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 其实还没见过终审人，合同还没签字")
    assert "尚未见到终审人" in text and "「没签字」是否定说法（未改动）" in text
    d = deal_store.get(runtime.store, "L1")
    assert d.details.approver_met is False and not d.details.has_seal


# ------------------------------------------------------------------ /adjust: values that must be refused
@pytest.mark.parametrize("value", ["nan", "inf", "-5万", "0", "2020-01-01", "2026-02-30"])
async def test_adjust_refuses_values_that_make_no_sense(runtime, value):
    seed(runtime.store)
    field = "日期" if "-" in value and value[0] == "2" else "金额"
    texts = await ask(runtime, "张伟", f"/调整 华东电网巡检 {field} {value} 3")
    assert "不是有效的" in texts[-1]
    assert rev_store.for_lead(runtime.store, "L1") == []
    d = deal_store.get(runtime.store, "L1")
    assert d.amount == 350_000 and d.expected_close_at == T0 + 20 * DAY


async def test_adjust_to_the_value_it_already_has_records_nothing(runtime):
    """"500万 → 500万" was accepted and kept as a revision with a reason for a change that never happened."""
    seed(runtime.store)
    texts = await ask(runtime, "王经理", "/调整 华东电网巡检 金额 35万 9")
    assert "已经是 35万，没有变化" in texts[-1]
    assert rev_store.for_lead(runtime.store, "L1") == []
    (text,) = await ask(runtime, "王经理", "/调整 华东电网巡检 金额 36万 9")  # a real change still goes through
    assert "→ 36万" in text and len(rev_store.for_lead(runtime.store, "L1")) == 1


async def test_adjust_accepts_chinese_dates(runtime):
    seed(runtime.store)
    (text,) = await ask(runtime, "张伟", "/调整 华东电网巡检 日期 4月30日 3")
    assert "→ 2026-04-30" in text
    (rev,) = rev_store.for_lead(runtime.store, "L1")
    assert rev.new_value == "2026-04-30" and rev.reason == "预算削减"


async def test_adjust_explains_when_the_intent_cap_overrides_the_new_probability(runtime):
    seed(runtime.store)
    with runtime.store.transaction():
        deal_store.upsert_details(runtime.store, "L1", T0, intent_letter=True, has_seal=True, has_budget_range=True,
                                  has_named_contact=True, has_next_meeting=False)
    (text,) = await ask(runtime, "王经理", "/调整 华东电网巡检 概率 60% 8")  # a manager: applies at once
    assert "→ 35%" in text and "意向书缺少约定下次会议时间，赢单概率封顶35%" in text
    (text,) = await ask(runtime, "张伟", "/商机 华东电网巡检")
    assert "赢单概率 35%（模型估计" in text  # the product of the factors is not shown as equal to 35%


# ------------------------------------------------------------------ /forecast: period words and past periods
@pytest.mark.parametrize("text,label", [
    ("6月", "2026-06"), ("六月", "2026-06"), ("2026年6月", "2026-06"), ("2026/06", "2026-06"),
    ("三季度", "2026Q3"), ("第三季度", "2026Q3"), ("2026年第三季度", "2026Q3"), ("下个季度", "2026Q3"),
    ("上个月", "2026-04"), ("Q3", "2026Q3"), ("2017-06", "2017-06"),
])
def test_period_words_a_manager_types(text, label):
    assert periods.parse(text, date(2026, 5, 20)).label == label


@pytest.mark.parametrize("text", ["3", "2026", "2026-13", "第5季度", "华东一组"])
def test_not_a_period(text):
    assert periods.parse(text, date(2026, 5, 20)) is None


async def test_a_past_period_gets_its_actual_not_a_forecast(runtime):
    seed(runtime.store)
    with runtime.store.transaction():
        lead_store.upsert(runtime.store, "W1", "c1", "r1", "上月单", T0 - 60 * DAY, status="won", amount=80_000,
                          closed_at=T0 - 10 * DAY)
    body = "\n".join(await ask(runtime, "王经理", "/预测 上月"))
    assert "2026-02已结束" in body and "实际回款8万" in body
    assert "预计回款" not in body and "置信度不更高" not in body and "正在模拟" not in body


async def test_two_periods_are_refused_with_a_clear_answer(runtime):
    seed(runtime.store)
    texts = await ask(runtime, "王经理", "/预测 本季 本月")
    assert "一次只能预测一个期间" in texts[-1] and "不认识" not in texts[-1]


async def test_forecast_reasons_name_the_weight_cut(runtime):
    seed(runtime.store)
    body = "\n".join(await ask(runtime, "王经理", "/预测 本季"))
    assert "权重平均扣减" in body  # "终审人尚未见面，权重扣减18%" style, not just a count


async def test_customer_service_is_told_no_permission_for_a_deal(runtime):
    seed(runtime.store)
    (text,) = await ask(runtime, "赵客服", "/商机 华东电网")
    assert "没有权限" in text


# ------------------------------------------------------------------ /health: a red reason says why it is red
def test_red_approver_reason_says_the_close_is_near():
    deal = Deal("L1", "商机", "c1", "客户", "", "r1", "open", "", "", 1.0, 0, 5 * DAY, None, None,
                Details(approver_met=False, tech_validation=0.9, legal_review="passed"))
    h = health.assess(deal, 0, ForecastHealthSection(), 0)
    assert h.colour == "red" and h.issues[0][1] == "h_approver_near" and h.issues[0][2] == {"days": 5}
    h = health.assess(deal, 8 * DAY, ForecastHealthSection(), 8 * DAY)
    assert h.issues[0][1] == "h_approver_overdue" and h.issues[0][2] == {"days": 3}


# ------------------------------------------------------------------ imports: bad rows, line numbers, encodings
def test_bad_numbers_are_row_errors_with_the_right_line_numbers(tmp_path):
    t = TEMPLATE.read_text(encoding="utf-8").splitlines()
    rows = [t[0], t[1], "",  # a blank line: csv skips it, the line numbers must not
            t[1].replace("D-001", "D-010").replace("35万", "nan"),
            t[1].replace("D-001", "D-011").replace("35万", "inf"),
            t[1].replace("D-001", "D-012").replace("60%", "160%"),
            t[1].replace("D-001", "D-014").replace("华东电网 智能巡检", '"华东电网\n智能巡检"'),
            t[1].replace("D-001", "D-015").replace(",3,4,", ",x,4,"),
            t[2].replace("D-002", "D-013")]
    f = tmp_path / "deals.csv"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    parsed = dealfile.read(f, dealfile.load_mapping(GENERIC))
    assert [d.row.id for d in parsed.deals] == ["D-001", "D-014", "D-013"]
    assert [e.split(": ", 1)[0] for e in parsed.errors] == [f"{f}:{n}" for n in (4, 5, 6, 9)]
    assert "nan" in parsed.errors[0] and "160%" in parsed.errors[2] and "decision_people" in parsed.errors[3]


def test_gbk_csv_from_excel_is_read(tmp_path, store):
    f = tmp_path / "deals.csv"
    f.write_bytes(TEMPLATE.read_text(encoding="utf-8").encode("gbk"))
    parsed = dealfile.read(f, dealfile.load_mapping(GENERIC))
    assert parsed.errors == [] and parsed.deals[0].title == "华东电网 智能巡检"
    cal = tmp_path / "cal.csv"
    cal.write_bytes("name,start,end,customer,industry,kind\n教育局采购窗口,09-15,09-30,,教育,window\n".encode("gbk"))
    assert calendar.import_file(store, cal) == 1


def test_a_broken_xlsx_is_a_clear_error(tmp_path):
    f = tmp_path / "deals.xlsx"
    f.write_text("not a spreadsheet")
    with pytest.raises(Exception) as err:
        dealfile.read(f, dealfile.load_mapping(GENERIC))
    assert "不是能读的 XLSX" in str(err.value)


def test_procurement_csv_line_numbers_survive_blank_lines(tmp_path, store):
    cal = tmp_path / "cal.csv"
    cal.write_text("name,start,end,customer,industry,kind\n教育局采购窗口,09-15,09-30,,教育,window\n\n"
                   "坏行,13-01,09-30,,教育,window\n", encoding="utf-8")
    with pytest.raises(Exception) as err:
        calendar.import_file(store, cal)
    assert f"{cal}:4：" in str(err.value)
