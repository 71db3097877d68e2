"""/备注 with ordinary sales sentences (issue 13, defect 10): a budget changes the amount, a signing date the
expected close, a meeting date the next-meeting condition, a decision-maker's return moves an earlier expected
close; the reply says what changed in the deal and in the forecast."""

from __future__ import annotations

from datetime import date

from conftest import T0
from test_forecast_chat import ask, seed

from handlers.forecast import notes, periods
from store import deals as deal_store

TODAY = date(2026, 3, 2)  # T0 is Monday 2026-03-02 09:00 in Shanghai


def _close(store, lead_id):
    d = deal_store.get(store, lead_id)
    return periods.local_date(d.expected_close_at, __import__("zoneinfo").ZoneInfo("Asia/Shanghai"))


async def test_budget_cut_and_signing_date_update_the_deal(runtime):
    seed(runtime.store)
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 客户说预算从100万降到80万，下周三签合同")
    d = deal_store.get(runtime.store, "L1")
    assert d.amount == 800_000
    assert _close(runtime.store, "L1") == date(2026, 3, 11)
    assert "没有识别" not in text and "没看懂" not in text
    assert "35万 → 80万" in text and "2026-03-11" in text and "/预测" in text


async def test_confirmed_budget_and_a_meeting(runtime):
    seed(runtime.store)
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 预算确认150万")
    assert deal_store.get(runtime.store, "L1").amount == 1_500_000 and "没有识别" not in text
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 下周二开会")
    assert deal_store.get(runtime.store, "L1").details.has_next_meeting is True
    assert "没有识别" not in text and "2026-03-10" in text


async def test_cfo_back_next_week_moves_an_earlier_close(runtime):
    seed(runtime.store)
    with runtime.store.transaction():
        deal_store.set_expected_close(runtime.store, "L1", T0 + 3 * 86_400_000)  # Thursday this week
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 客户CFO下周回国")
    assert _close(runtime.store, "L1") == date(2026, 3, 16)  # back Monday 03-09, a week to sign
    assert "预计成交日" in text


def test_parse_reads_numbers_and_dates_without_guessing():
    from store.deals import Details

    cur = Details()
    p = notes.parse("预算从100万降到80万", TODAY, cur, use_snownlp=False)
    assert [c.amount for c in p.changes] == [800_000]
    p = notes.parse("下周三签合同", TODAY, cur, use_snownlp=False)
    assert [c.close for c in p.changes] == [date(2026, 3, 11)]
    p = notes.parse("还没定什么时候签合同", TODAY, cur, use_snownlp=False)
    assert not any(c.close for c in p.changes)
    p = notes.parse("预算削减", TODAY, cur, use_snownlp=False)
    assert not any(c.amount for c in p.changes)


async def test_a_decision_put_off_moves_the_close_later_never_earlier(runtime):
    """"客户说下个月再说吧" was not understood; a customer putting the decision off is exactly what the forecast needs."""
    seed(runtime.store)
    with runtime.store.transaction():
        deal_store.set_expected_close(runtime.store, "L1", T0 + 3 * 86_400_000)  # Thursday this week
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 客户说下个月再说吧")
    assert _close(runtime.store, "L1") == date(2026, 4, 1) and "没看懂" not in text
    assert "推到下个月" in text and "2026-04-01" in text
    assert deal_store.get(runtime.store, "L1").details.sentiment == -1
    with runtime.store.transaction():
        deal_store.set_expected_close(runtime.store, "L1", T0 + 60 * 86_400_000)  # already later: left as it is
    await ask(runtime, "张伟", "/备注 华东电网巡检 推到月底")
    assert _close(runtime.store, "L1") == date(2026, 5, 1)


def test_deferrals_are_read_and_negated_ones_are_not():
    from store.deals import Details

    cur = Details()
    for text, close in (("客户说下个月再说吧", date(2026, 4, 1)), ("国庆后再定", date(2026, 10, 8)),
                        ("推到月底", date(2026, 3, 31)), ("项目推迟到下周五", date(2026, 3, 13))):
        p = notes.parse(text, TODAY, cur, use_snownlp=False)
        assert [c.close for c in p.changes if c.key == "n_deferred"] == [close], text
    for text in ("不用推到下个月", "别拖到月底", "下周三签合同"):
        p = notes.parse(text, TODAY, cur, use_snownlp=False)
        assert not any(c.key == "n_deferred" for c in p.changes), text


async def test_a_customer_worry_in_a_note_is_read_by_the_classifier(runtime):
    """"客户要再比较一下" / "报价太高" were not understood; the objection classifier reads them as the customer's
    words (with its negation: "价格不是问题" is no worry)."""
    seed(runtime.store)
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 客户要再比较一下")
    assert "客户有顾虑：犹豫" in text and "没看懂" not in text
    assert deal_store.get(runtime.store, "L1").details.sentiment == -1
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 别家报价比我们低两成")
    d = deal_store.get(runtime.store, "L1").details
    assert "竞" in text and d.competitor_move is True and d.competitors >= 1


def test_worries_and_non_worries():
    from store.deals import Details

    cur = Details()
    for text, label in (("老板还在考虑", "hesitation"), ("报价太高要降10%", "price_objection"),
                        ("客户担心交付来不及", "delivery_concern")):
        p = notes.parse(text, TODAY, cur, use_snownlp=False)
        assert [c.values.get("label") for c in p.changes if c.key == "n_objection"] == [label], text
    for text in ("价格不是问题", "好的", "下周三签合同"):
        p = notes.parse(text, TODAY, cur, use_snownlp=False)
        assert not any(c.key == "n_objection" for c in p.changes), text


def test_month_only_dates_and_budget_words():
    from store.deals import Details

    cur = Details()
    assert notes.parse_when("招标延期到6月", TODAY)[0] == date(2026, 6, 1)
    assert notes.parse_when("六月底签合同", TODAY)[0] == date(2026, 6, 30)  # not this month's end
    assert notes.parse_when("两个月后再说", TODAY)[0] == date(2026, 5, 1)
    assert notes.parse_when("2月再说", TODAY)[0] == date(2027, 2, 1)  # a month already past: next year's
    assert notes.parse_when("5月20号开会", TODAY)[0] == date(2026, 5, 20)  # a full date stays a full date
    assert notes.parse_when("13月", TODAY) == (None, "")
    for text in ("预算下来了", "预算已经批复了"):
        p = notes.parse(text, TODAY, cur, use_snownlp=False)
        assert [c.key for c in p.changes] == ["n_budget"], text


def test_a_bare_sign_after_a_date_is_a_signing_date():
    from store.deals import Details

    cur = Details()
    for text, close in (("8月15日签", date(2026, 8, 15)), ("合同下周签", date(2026, 3, 9)), ("月底签", date(2026, 3, 31))):
        p = notes.parse(text, TODAY, cur, use_snownlp=False)
        assert [c.close for c in p.changes if c.key == "n_sign_date"] == [close], text
    for text in ("明天签收", "下周三签字"):  # a delivery receipt; a signature is the seal rule's
        p = notes.parse(text, TODAY, cur, use_snownlp=False)
        assert not any(c.key == "n_sign_date" for c in p.changes), text


def test_the_bots_own_classifier_with_the_company_pack_reads_the_worry(tmp_path):
    """/备注 uses the classifier the bot built (shipped pack + the company's packs), not the shipped pack alone."""
    from handlers.conversation.classifier import Classifier
    from handlers.conversation.lexicon import pack_paths
    from store.deals import Details

    pack = tmp_path / "company.toml"
    pack.write_text('[[cue]]\nlabel = "hesitation"\nregex = ["报集团备案"]\n\n[[example]]\nrole = "customer"\n'
                    'text = "这个要报集团备案"\nlabels = ["hesitation"]\n', encoding="utf-8")
    company = Classifier.from_paths(pack_paths(extra=[str(pack)]))
    plain = notes.parse("这个要报集团备案", TODAY, Details(), use_snownlp=False)
    assert plain.not_understood == ["这个要报集团备案"]
    with_pack = notes.parse("这个要报集团备案", TODAY, Details(), use_snownlp=False, classifier=company)
    assert [c.values.get("label") for c in with_pack.changes] == ["hesitation"]
