"""/备注 reads the three kinds of sentence reps write every day that it used to call "not understood": money paid
(定金/预付款/首付款), the deal called off (项目取消了/选了别家/丢单了) and tenders (开标 dates, 中标/没中标/流标).

A deposit or a won tender lifts the intent-letter cap and never marks the deal won; a loss never closes the deal
(it is marked stalled and the reply says how to close it for real); a bid-opening date is a floor for the expected
close. Each has negated, hedged and look-alike sentences that must not fire."""

from __future__ import annotations

import dataclasses
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
from conftest import T0
from test_forecast_chat import ask, seed

from handlers.forecast import model, notes, periods
from store import deals as deal_store
from store.deals import Deal, Details

TODAY = date(2026, 3, 2)  # T0 is Monday 2026-03-02 09:00 in Shanghai
DAY = 86_400_000


def _keys(text: str, cur: Details | None = None) -> list[str]:
    return [c.key for c in notes.parse(text, TODAY, cur or Details(), use_snownlp=False).changes]


def _changes(text: str, key: str) -> list[notes.Change]:
    return [c for c in notes.parse(text, TODAY, Details(), use_snownlp=False).changes if c.key == key]


# ------------------------------------------------------------------ deposits
def test_a_deposit_paid_commits_the_deal_and_the_sum_is_not_its_amount():
    for text, said in (("客户已付定金", "已付定金"), ("预付款30%到账了", "预付款30%到账"), ("首付款已打", "首付款已打"),
                       ("定金5万收到", "定金5万收到"), ("收到了5万定金", "收到了5万定金"), ("客户预付了30%", "预付了30%"),
                       ("订金已经到账", "订金已经到")):
        (ch,) = _changes(text, "n_deposit")
        assert ch.values == {"text": said}, text
        assert ch.fields == {"has_budget_range": True, "intent_force": "法律约束", "committed": True,
                             "called_off": False, "sentiment": 1}  # money paid: on again if a note had called it off
        assert ch.amount is None and ch.close is None, text  # 30 % or 5万 of a deal is not the deal
        assert "n_budget_amount" not in _keys(text)


def test_deposit_words_without_a_payment_are_not_a_deposit():
    for text in ("定金比例还没谈", "定金付多少还没定", "付定金的事下周再说", "合同里有定金条款"):
        assert "n_deposit" not in _keys(text), text
    for text, said in (("定金还没到账", "定金还没到账"), ("还没付定金", "没付定金"), ("首付款没有打", "首付款没有打")):
        assert [c.values["text"] for c in _changes(text, "n_negated")] == [said], text
        assert "n_deposit" not in _keys(text), text
    for text in ("定金到账了吗", "定金到账了没有"):  # a question is no news
        assert "n_deposit" not in _keys(text), text
    assert "n_deposit" in _keys("首付款3成已到")
    assert [c.values["text"] for c in _changes("等定金到账", "n_pending")] == ["等定金到账"]
    assert [c.values["text"] for c in _changes("如果中标了", "n_hedged")] == ["如果中标了"]
    for text in ("下周付定金", "客户同意付定金", "等定金到账", "定金到账后再签合同"):  # wanted or awaited, not paid
        changes = notes.parse(text, TODAY, Details(), use_snownlp=False).changes
        assert [c.key for c in changes if c.key in ("n_planned", "n_pending")] != [], text
        assert not any(c.fields.get("committed") for c in changes), text


def test_committed_lifts_the_intent_letter_cap_in_both_model_paths():
    letter = Deal(id="L1", title="商机", customer_id="c1", customer_name="客户", customer_industry="教育", owner_id="r1",
                  status="open", stage="", product="XD-3", amount=100_000.0, created_at=1, expected_close_at=None,
                  closed_at=None, last_activity_at=None, details=Details(intent_letter=True))
    committed = dataclasses.replace(letter, id="L2", details=Details(intent_letter=True, committed=True))
    assert model.intent_incomplete(letter) == ["seal", "budget_range", "named_contact", "next_meeting"]
    assert model.intent_incomplete(committed) == []
    m = model.fit([], prior=0.8)
    assert m.explain(letter).probability == 0.35 and m.explain(letter).capped
    assert m.explain(committed).probability > 0.35 and not m.explain(committed).capped
    many = m.explain_many([letter, committed], np.zeros(2), np.zeros(2))  # the forecast's vectorised path agrees
    assert [bool(c) for c in many.capped] == [True, False]
    assert abs(float(many.probability[1]) - m.explain(committed).probability) < 1e-9


async def test_a_deposit_in_chat_lifts_the_cap_and_leaves_the_deal_open(runtime):
    seed(runtime.store)
    with runtime.store.transaction():  # 李娜's deal is a strong one held at 35 % by an incomplete intent letter
        deal_store.upsert_details(runtime.store, "L2", T0, intent_letter=True)
    (before,) = await ask(runtime, "李娜", "/商机 明德中学")
    assert "赢单概率封顶35%" in before
    (text,) = await ask(runtime, "李娜", "/备注 明德中学大屏 预付款30%到账了")
    d = deal_store.get(runtime.store, "L2")
    assert d.status == "open" and d.amount == 120_000
    assert d.details.committed is True and d.details.has_budget_range is True and d.details.intent_force == "法律约束"
    assert "预付款30%到账" in text and "未标为赢单" in text and "没看懂" not in text
    assert "概率 35% →" in text and "概率 35% → 35%" not in text
    (after,) = await ask(runtime, "李娜", "/商机 明德中学")
    assert "赢单概率封顶" not in after and "意向书的四项条件不再限制赢单概率" in after


# ------------------------------------------------------------------ cancellations / losses
def test_the_deal_called_off_is_a_loss_signal_and_look_alikes_are_not():
    for text, said, rival in (("项目取消了", "项目取消", False), ("客户不做了", "不做了", False), ("黄了", "黄了", False),
                              ("选了别家", "选了别家", True), ("被竞品拿下了", "被竞品拿下", True), ("丢单了", "丢单", False),
                              ("客户要求取消项目", "取消项目", False), ("签了别家", "签了别家", True),
                              ("客户选了别家的方案", "选了别家", True), ("听说项目被华为拿下了", "被华为拿下", True)):
        (ch,) = _changes(text, "n_lost")
        assert ch.values == {"text": said} and ch.fields["sentiment"] == -1, text
        assert ch.fields.get("competitor_move", False) is rival, text
        assert not any(k in _keys(text) for k in ("n_sealed", "n_competitor")), text  # "签了别家" seals nothing
    for text in ("项目没取消", "客户没选别家", "项目不会取消", "差点丢单", "客户没有放弃采购"):
        assert "n_lost" not in _keys(text) and "n_negated" in _keys(text), text
        assert not any(c.fields for c in notes.parse(text, TODAY, Details(), use_snownlp=False).changes), text
    for text, said in (("定金退了", "定金退"), ("客户要求退定金", "退定金")):  # the money goes back
        assert [c.values["text"] for c in _changes(text, "n_lost")] == [said], text
    for text in ("取消了周三的会议", "客户取消了采购会议", "二期不做了", "之前用了别家", "老黄了解情况", "客户把需求砍了一半",
                 "项目取消了吗", "黄了吗", "订单取消了一部分"):
        assert not any(k in ("n_lost", "n_loss_risk") for k in _keys(text)), text
    for text, said in (("客户可能选别家", "可能选别家"), ("怕被竞品拿下", "怕被竞品拿下"), ("项目要黄了", "要黄了"),
                       ("有丢单风险", "丢单风险")):  # a risk, not a loss: echoed with the words that make it one
        assert [c.values["text"] for c in _changes(text, "n_loss_risk")] == [said], text
        assert "n_lost" not in _keys(text), text


def test_a_cancelled_meeting_is_no_agreed_meeting():
    changes = notes.parse("取消了周三的会议", TODAY, Details(), use_snownlp=False).changes
    assert [c.key for c in changes] == ["n_meeting_off"] and changes[0].fields == {}
    assert _keys("会议没取消，周三照常开会") == ["n_meeting"]


async def test_a_loss_in_chat_stalls_the_deal_and_says_how_to_close_it(runtime):
    seed(runtime.store)
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 客户最后选了别家")
    d = deal_store.get(runtime.store, "L1")
    assert d.status == "open" and d.closed_at is None  # never closed from a note
    assert d.details.sentiment == -1 and d.details.competitor_move is True
    assert "丢单信号（「选了别家」）" in text and "没看懂" not in text
    assert "聊天里没有关单命令" in text and "salespulse import deals" in text and "/调整 华东电网巡检 概率 0" in text
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 取消了周三的会议")
    assert "关单" not in text and deal_store.get(runtime.store, "L1").details.has_next_meeting is False
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 项目没取消")
    assert "关单" not in text and "项目没取消" in text


async def test_the_closing_advice_names_a_command_that_really_lowers_the_deal(runtime):
    """The reply's "/调整 <商机> 概率 0 <原因>" is a real command: with a preset reason it takes the deal out."""
    seed(runtime.store)
    (text,) = await ask(runtime, "张伟", "/调整 华东电网巡检 概率 0 数据录入更正")
    assert deal_store.get(runtime.store, "L1").details.probability_override == 0.0, text


# ------------------------------------------------------------------ tenders
def test_tender_dates_results_and_their_negations():
    (ch,) = _changes("下周三开标", "n_tender_date")
    assert ch.close == date(2026, 3, 11) and ch.values["word"] == "开标" and ch.fields == {}
    assert [c.close for c in _changes("6月10日投标", "n_tender_date")] == [date(2026, 6, 10)]
    assert [c.close for c in _changes("标书下周五截止", "n_tender_date")] == [date(2026, 3, 13)]
    assert [c.close for c in _changes("招标延期到6月", "n_deferred")] == [date(2026, 6, 1)]  # still a deferral
    assert "n_tender_date" not in _keys("下周不开标了") and "n_negated" in _keys("下周不开标了")
    for text in ("中标了", "我们已中标", "收到中标通知书", "我们公司中标了", "好消息，今天终于中标了", "中标通知书已经收到了"):
        (ch,) = _changes(text, "n_tender_won")
        assert ch.fields["committed"] is True and ch.fields["sentiment"] == 1, text
    assert [c.key for c in _changes("项目中标公示", "n_tender_won")] == ["n_tender_won"]
    for text in ("如果中标了", "争取中标", "等中标结果", "还没中标结果", "是不是中标了", "我们是第一中标候选人"):
        assert not any(c.fields for c in notes.parse(text, TODAY, Details(), use_snownlp=False).changes), text
    for text in ("华为中标了", "华为收到中标通知书"):  # someone else's win is never read as ours
        changes = notes.parse(text, TODAY, Details(), use_snownlp=False).changes
        assert [c.key for c in changes] == ["n_tender_who"] and changes[0].fields == {}, text
    for text in ("没中标", "流标了", "废标", "别家中标了"):
        assert "n_lost" in _keys(text) and "n_tender_won" not in _keys(text), text
    assert "n_lost" not in _keys("没流标")


async def test_a_bid_opening_date_is_a_floor_for_the_expected_close(runtime):
    seed(runtime.store)
    tz = ZoneInfo("Asia/Shanghai")
    with runtime.store.transaction():
        deal_store.set_expected_close(runtime.store, "L1", T0 + 3 * DAY)  # Thursday this week
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 下周三开标")
    close = periods.local_date(deal_store.get(runtime.store, "L1").expected_close_at, tz)
    assert close == date(2026, 3, 11) and "开标" in text and "2026-03-11" in text and "没看懂" not in text
    with runtime.store.transaction():
        deal_store.set_expected_close(runtime.store, "L1", T0 + 60 * DAY)  # already later: left as it is
    await ask(runtime, "张伟", "/备注 华东电网巡检 下周三开标")
    assert periods.local_date(deal_store.get(runtime.store, "L1").expected_close_at, tz) == date(2026, 5, 1)
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 下周三开标，月底签合同")  # the signing date, still ≥ 开标
    assert periods.local_date(deal_store.get(runtime.store, "L1").expected_close_at, tz) == date(2026, 3, 31)
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 中标了")
    d = deal_store.get(runtime.store, "L1")
    assert d.status == "open" and d.details.committed is True and "已中标（「中标了」）" in text


def test_the_closing_advice_uses_words_adjust_understands_in_both_locales():
    from handlers.forecast.commands import FIELD_WORDS
    from prompts import Prompts

    zh, en = (Prompts(loc).t("forecast.note_lost_howto", deal="Acme") for loc in ("zh-CN", "en"))
    assert "/调整 Acme 概率 0" in zh and "/adjust Acme probability 0" in en
    assert FIELD_WORDS["概率"] == FIELD_WORDS["probability"] == "probability"
    assert "salespulse import deals" in zh and "salespulse import deals" in en


# ------------------------------------------------------------------ called off: held low until the CRM closes it
def test_a_deal_called_off_is_held_low_in_both_model_paths_and_a_later_adjust_wins():
    """"项目取消了" only marked progress stalled: /商机 kept the deal at 97 % and /预测 counted it in full."""
    d = Deal(id="L1", title="商机", customer_id="c1", customer_name="客户", customer_industry="教育", owner_id="r1",
             status="open", stage="", product="XD-3", amount=100_000.0, created_at=1, expected_close_at=None,
             closed_at=None, last_activity_at=None, details=Details())
    off = dataclasses.replace(d, id="L2", details=Details(called_off=True))
    adjusted = dataclasses.replace(d, id="L3", details=Details(called_off=True, probability_override=0.6))
    m = model.fit([], prior=0.8)
    assert m.explain(d).probability > 0.5
    assert m.explain(off).probability == model.CALLED_OFF_CAP and m.explain(off).capped
    assert m.explain(adjusted).probability == 0.6  # the rep's /调整 after the note is the last word
    many = m.explain_many([d, off, adjusted], np.zeros(3), np.zeros(3))
    assert np.allclose(many.probability, [m.explain(x).probability for x in (d, off, adjusted)])
    assert not many.capped.any()  # /预测's "intent letter lacks conditions" reason counts letters only


def test_a_note_that_the_deal_is_back_lifts_the_mark_and_look_alikes_do_not():
    off = Details(called_off=True)
    for text, said in (("项目恢复了", "项目恢复"), ("客户又回来谈了", "又回来谈"), ("项目重新启动了", "项目重新启动"),
                       ("客户又联系我们了", "又联系我们了")):
        (ch,) = [c for c in notes.parse(text, TODAY, off, use_snownlp=False).changes if c.key == "n_revived"]
        assert ch.values == {"text": said} and ch.fields == {"called_off": False, "sentiment": 1}, text
    assert _keys("项目没恢复", off) == ["n_negated"]
    for text in ("客户数据恢复了", "系统重启了", "项目可能会恢复"):  # a fault fixed, a maybe: the mark stays
        assert not any(c.fields.get("called_off") is False
                       for c in notes.parse(text, TODAY, off, use_snownlp=False).changes), text
    (lost,) = _changes("项目取消了", "n_lost")
    assert lost.fields["called_off"] is True and lost.fields["committed"] is False
    assert not any("called_off" in c.fields for c in notes.parse("可能选别家", TODAY, Details(),
                                                                 use_snownlp=False).changes)  # a risk is not a loss


async def test_a_deal_called_off_in_chat_leaves_the_forecast_and_comes_back(runtime):
    seed(runtime.store)
    (before,) = await ask(runtime, "张伟", "/商机 华东电网巡检")
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 项目取消了")
    d = deal_store.get(runtime.store, "L1")
    assert d.status == "open" and d.details.called_off is True
    assert "赢单概率压到不超过10%" in text and "→ 10%" in text
    (shown,) = await ask(runtime, "张伟", "/商机 华东电网巡检")
    assert "赢单概率 10%（模型估计" in shown and "备注里说这单已取消或丢了" in shown and "/调整 华东电网巡检 概率" in shown
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 客户又回来谈了")
    assert "又有戏了（「又回来谈」）" in text and deal_store.get(runtime.store, "L1").details.called_off is False
    (again,) = await ask(runtime, "张伟", "/商机 华东电网巡检")
    assert "备注里说这单已取消" not in again and " = 基准" in again.splitlines()[2] and before
