"""Debriefs end to end through the console: a customer meeting ends → the card → answers by text and voice
(VoiceTranscript events, the speech pipeline's boundary) → the deal, its intent conditions and the timeline change;
reminder once, one debrief per meeting, offline capture, corrections, /复盘率 and wrong arguments."""

from __future__ import annotations

import json

from conftest import T0

from bot.events import Actor, CalendarEvent, CallRecord, VoiceTranscript
from handlers.forecast.model import intent_incomplete
from store import customers as customer_store
from store import deals as deal_store
from store import debrief as debrief_store
from store import leads as lead_store

MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000


def seed(store) -> None:
    with store.transaction():
        customer_store.upsert(store, "c1", "华东电网", industry="能源")
        customer_store.add_key(store, "external_id", "wmHD", "c1")
        lead_store.upsert(store, "L1", "c1", "r1", "华东电网巡检", T0 - 20 * DAY, amount=300_000)
        deal_store.upsert_details(store, "L1", T0, intent_letter=True, has_seal=True, has_budget_range=True)
        customer_store.upsert(store, "c2", "明德中学", industry="教育")
        customer_store.add_key(store, "external_id", "wmMD", "c2")
        lead_store.upsert(store, "L2", "c2", "r1", "明德中学大屏", T0 - 20 * DAY, amount=100_000)


def meeting(runtime, n: int, start: int, end: int, external: str = "wmHD", organiser: str = "zhangwei") -> None:
    runtime.console.ctx.accept("wecom", f"cal{n}", {}, CalendarEvent(
        event_id=f"wecom:cal{n}", platform="wecom", occurred_at=start, received_at=start,
        actor=Actor(platform_id=organiser), title="方案交流", starts_at=start, ends_at=end,
        attendees=(organiser, external)))


def voice(runtime, n: int, text: str, *, recorded_at: int, duration_ms: int = 9_000, status: str = "ok",
          user: str = "r1") -> None:
    now = runtime.clock.now_ms()
    runtime.console.ctx.accept("console", f"vt{n}", {}, VoiceTranscript(
        event_id=f"console:vt{n}", platform="console", occurred_at=now, received_at=now,
        actor=Actor(platform_id=user), message_event_id=f"console:v{n}", text=text, status=status, source="demo",
        recorded_at=recorded_at, duration_ms=duration_ms, speech_ms=duration_ms - 1000, audio_ref=f"audio/v{n}.wav"))


async def jump(runtime, at: int) -> None:
    """Move virtual time far ahead at once: the scheduler catches up its latest due times (advance_to would stop at
    every minute of every per-minute job)."""
    runtime.clock.set(at)
    await runtime.settle()


async def say(runtime, who: str, text: str) -> list[str]:
    n = len(runtime.console.delivered)
    runtime.console.type_line(who, text)
    await runtime.settle()
    return [d.text for d in runtime.console.delivered[n:]]


def sent_since(runtime, n: int) -> list:
    return runtime.console.delivered[n:]


def cards_to(runtime, person: str, title_part: str) -> list:
    return [d for d in runtime.console.delivered
            if d.target.person_id == person and d.reply.title and title_part in d.reply.title]


async def test_meeting_end_sends_the_card_once_and_one_reminder(runtime, store):
    seed(store)
    await runtime.settle()
    meeting(runtime, 1, T0 + HOUR, T0 + 2 * HOUR)
    meeting(runtime, 2, T0 + HOUR, T0 + 2 * HOUR + 10 * MINUTE)  # the same meeting updated: another event id
    runtime.console.ctx.accept("console", "call1", {}, CallRecord(  # a call made from the visit
        event_id="console:call1", platform="console", occurred_at=T0 + HOUR, actor=Actor(platform_id="r1"),
        direction="outbound", customer_phone="", answered=True, duration_s=900))
    await runtime.advance_to(T0 + 2 * HOUR)
    assert cards_to(runtime, "r1", "会后复盘") == []  # the meeting has not ended + 5 min yet
    await runtime.advance_to(T0 + 2 * HOUR + 6 * MINUTE)
    (card,) = cards_to(runtime, "r1", "会后复盘")
    assert "客户最担心什么" in card.text and "我用了哪条证据回应" in card.text and "下一步他答应做什么" in card.text
    assert [b.text for b in card.reply.buttons] == ["开始语音复盘", "文字复盘", "稍后"]
    await jump(runtime, T0 + 2 * HOUR + 6 * MINUTE + 2 * HOUR)
    reminders = [c for c in cards_to(runtime, "r1", "会后复盘") if "提醒" in c.text]
    assert len(reminders) == 1
    await jump(runtime, T0 + 2 * DAY)
    assert len(cards_to(runtime, "r1", "会后复盘")) == 2  # the card and one reminder, nothing more
    rows = store.conn.execute("SELECT COUNT(*) FROM debriefs").fetchone()[0]
    assert rows == 1


async def test_internal_meeting_starts_no_debrief(runtime, store):
    seed(store)
    await runtime.settle()
    runtime.console.ctx.accept("wecom", "cal9", {}, CalendarEvent(
        event_id="wecom:cal9", platform="wecom", occurred_at=T0, actor=Actor(platform_id="zhangwei"), title="周会",
        starts_at=T0, ends_at=T0 + HOUR, attendees=("zhangwei", "lina")))
    await runtime.advance_to(T0 + 3 * HOUR)
    assert store.conn.execute("SELECT COUNT(*) FROM debriefs").fetchone()[0] == 0


async def test_text_debrief_in_pieces_updates_deal_conditions_and_timeline(runtime, store):
    seed(store)
    await runtime.settle()
    assert intent_incomplete(deal_store.get(store, "L1")) == ["named_contact", "next_meeting"]
    meeting(runtime, 1, T0, T0 + HOUR)
    await runtime.advance_to(T0 + HOUR + 6 * MINUTE)
    texts = await say(runtime, "r1", "2")  # 文字复盘
    assert "打字" in texts[0]
    texts = await say(runtime, "r1", "嗯客户主要是担心价格比友商贵两成")
    assert "还差 2 个问题" in texts[0] and "证据" in texts[0]
    texts = await say(runtime, "r1", "我给他看了三一重工的案例")
    assert "还差 1 个问题" in texts[0]
    texts = await say(runtime, "r1", "他答应下周三带李总来公司看演示")
    echo = texts[0]
    assert "复盘已记录" in echo and "带李总来公司看演示" in echo and "2026-03-11" in echo and "李总" in echo
    assert "改一下" in echo
    assert "预算/价格" in echo and "竞品" in echo and "案例佐证" in echo  # the classifier's labels, by name
    deal = deal_store.get(store, "L1")
    assert deal.details.has_named_contact and deal.details.has_next_meeting
    assert intent_incomplete(deal) == []  # the 35 % cap no longer applies
    assert debrief_store.next_step_of(store, "L1")[:3] == ("带李总来公司看演示", "2026-03-11", "李总")
    timeline = await say(runtime, "r1", "/时间线 华东电网巡检")
    assert "会后复盘" in timeline[0] and "价格比友商贵" in timeline[0]
    listing = await say(runtime, "r1", "/复盘 列表")
    assert "已完成" in listing[0] and "带李总来公司看演示" in listing[0]


async def test_voice_debrief_three_short_notes_and_bad_notes(runtime, store):
    seed(store)
    await runtime.settle()
    meeting(runtime, 1, T0, T0 + HOUR)
    await runtime.advance_to(T0 + HOUR + 6 * MINUTE)
    now = runtime.clock.now_ms()
    n = len(runtime.console.delivered)
    voice(runtime, 1, "", recorded_at=now, duration_ms=62_000, status="too_long")
    voice(runtime, 2, "", recorded_at=now, status="silent")
    voice(runtime, 3, "", recorded_at=now, status="undecodable")
    voice(runtime, 4, "", recorded_at=now, status="no_recogniser")
    await runtime.settle()
    answers = [d.text for d in sent_since(runtime, n)]
    assert len(answers) == 4
    # the note's length is not said: a note past the limit is decoded only up to it, so the measured length of a
    # 62-second note would read "47 秒"; what is known for sure is that it went over
    assert "超过了 45 秒" in answers[0] and "15 秒" in answers[0] and "62 秒" not in answers[0]
    assert "没听到" in answers[1] and "无法解码" in answers[2] and "打字" in answers[3]
    assert debrief_store.get(store, 1).status == "asked"  # nothing was taken as an answer
    voice(runtime, 5, "嗯那个客户最单心的是交付周期太长", recorded_at=now + MINUTE)
    voice(runtime, 6, "我就讲了我们给美的做的项目三十天上线", recorded_at=now + 2 * MINUTE)
    voice(runtime, 7, "下一部他说月底前对接人张明把需求清单发过来", recorded_at=now + 3 * MINUTE)
    await runtime.settle()
    d = debrief_store.get(store, 1)
    assert d.status == "done"
    understood = json.loads(d.understood)
    assert understood["next_step"]["date"] == "2026-03-31" and understood["next_step"]["person"] == "张明"
    assert "交付周期" in understood["worry"]["text"]
    assert deal_store.get(store, "L1").details.has_named_contact
    assert not deal_store.get(store, "L1").details.has_next_meeting  # sending a list is not a meeting
    kept = store.conn.execute("SELECT COUNT(*) FROM debrief_answers WHERE kind = 'voice'").fetchone()[0]
    assert kept == 4  # three answers plus the note kept for a later recognition


async def test_one_long_note_covers_all_three(runtime, store):
    seed(store)
    await runtime.settle()
    meeting(runtime, 1, T0, T0 + HOUR)
    await runtime.advance_to(T0 + HOUR + 6 * MINUTE)
    voice(runtime, 1, "就是客户他他担心售后响应慢我用了二十四小时到场的承诺还有苏州工厂的案例下一步他们答应周五前给预算范围",
          recorded_at=runtime.clock.now_ms(), duration_ms=38_000)
    await runtime.settle()
    d = debrief_store.get(store, 1)
    assert d.status == "done"
    assert "售后响应慢" in d.worry and "二十四小时到场" in d.evidence and "预算范围" in d.next_step
    assert json.loads(d.understood)["next_step"]["date"] == "2026-03-06"


async def test_offline_note_lands_on_the_meeting_it_was_recorded_after(runtime, store):
    seed(store)
    await runtime.settle()
    meeting(runtime, 1, T0, T0 + HOUR, external="wmHD")  # 华东电网 10:00
    meeting(runtime, 2, T0 + 4 * HOUR, T0 + 5 * HOUR, external="wmMD")  # 明德中学 14:00
    await jump(runtime, T0 + 7 * HOUR)
    by_lead = {d.lead_id: d.id for d in debrief_store.open_of(store, "r1", runtime.clock.now_ms())}
    # recorded in the lift after the first meeting, delivered when the phone found a network hours later
    voice(runtime, 1, "客户担心价格太贵我拿了三年总成本对比下一步他答应下周一给答复", recorded_at=T0 + HOUR + 10 * MINUTE,
          duration_ms=30_000)
    await runtime.settle()
    assert debrief_store.get(store, by_lead["L1"]).status == "done"
    assert debrief_store.get(store, by_lead["L2"]).status == "asked"
    # a note recorded long after the offline window finds nothing to land on
    await jump(runtime, T0 + 8 * DAY)
    n = len(runtime.console.delivered)
    voice(runtime, 2, "客户担心交付", recorded_at=T0 + 8 * DAY)
    await runtime.settle()
    assert debrief_store.get(store, by_lead["L2"]).status == "expired"
    assert not any("复盘" in d.text for d in sent_since(runtime, n))


async def test_late_note_reopens_an_expired_debrief_within_offline_days(runtime, store):
    seed(store)
    await runtime.settle()
    meeting(runtime, 1, T0, T0 + HOUR)
    await runtime.advance_to(T0 + HOUR + 6 * MINUTE)
    await jump(runtime, T0 + 3 * DAY + 2 * HOUR)  # expired after [debrief] expire_days
    assert debrief_store.get(store, 1).status == "expired"
    voice(runtime, 1, "客户担心交付周期我给他看了美的的案例下一步他答应下周二来工厂考察", recorded_at=T0 + 2 * HOUR,
          duration_ms=20_000)
    await runtime.settle()
    assert debrief_store.get(store, 1).status == "done"


async def test_correction_card_replaces_an_answer_and_undoes_its_effects(runtime, store):
    seed(store)
    await runtime.settle()
    await say(runtime, "r1", "/复盘 华东电网")
    await say(runtime, "r1", "客户担心价格，我用了三一的案例，他答应下周三和王总见面")
    assert deal_store.get(store, "L1").details.has_named_contact
    texts = await say(runtime, "r1", "1")  # 改一下
    assert "要改哪一项" in texts[0]
    texts = await say(runtime, "r1", "3")  # 下一步
    assert "原来" in texts[0]
    texts = await say(runtime, "r1", "下周三发报价单")
    assert "发报价单" in texts[0]
    deal = deal_store.get(store, "L1")
    assert not deal.details.has_named_contact and not deal.details.has_next_meeting  # the misheard name is gone
    assert debrief_store.next_step_of(store, "L1")[0] == "发报价单"
    texts = await say(runtime, "r1", "随便说点什么")  # the debrief is done: text is not taken as an answer
    assert "复盘" not in texts[0]


async def test_later_button_and_one_open_debrief_per_meeting(runtime, store):
    seed(store)
    await runtime.settle()
    meeting(runtime, 1, T0, T0 + HOUR)
    await runtime.advance_to(T0 + HOUR + 6 * MINUTE)
    texts = await say(runtime, "r1", "3")  # 稍后
    assert "再提醒你一次" in texts[0]
    await say(runtime, "r1", "/复盘 华东电网")  # the meeting's debrief again, not a second one
    assert store.conn.execute("SELECT COUNT(*) FROM debriefs").fetchone()[0] == 1


async def test_rate_per_rep_and_team(runtime, store):
    seed(store)
    await runtime.settle()
    meeting(runtime, 1, T0, T0 + HOUR)
    meeting(runtime, 2, T0 + 5 * HOUR, T0 + 6 * HOUR, external="wmMD")
    await runtime.advance_to(T0 + HOUR + 6 * MINUTE)
    await say(runtime, "r1", "客户担心价格我用了案例他答应下周三见面")
    await jump(runtime, T0 + 3 * DAY)
    texts = await say(runtime, "m1", "/复盘率")
    assert "张伟：1/2（50%）" in texts[0] and "华东一组" in texts[0]
    texts = await say(runtime, "r1", "/复盘率 本周")
    assert "张伟：1/2（50%）" in texts[0]
    texts = await say(runtime, "m2", "/复盘率")  # another team's manager does not see 张伟
    assert "张伟" not in texts[0]


async def test_chinese_commands_with_wrong_arguments(runtime, store):
    seed(store)
    await runtime.settle()
    assert "用法" in (await say(runtime, "m1", "/复盘率 很多天"))[0]
    assert "用法" in (await say(runtime, "m1", "/复盘率 7 8"))[0]
    assert "没找到" in (await say(runtime, "r1", "/复盘 不存在的客户"))[0]
    assert "没有待复盘" in (await say(runtime, "r1", "/复盘"))[0]
    assert "只对销售" in (await say(runtime, "cs1", "/复盘 华东电网"))[0]
    assert "不是你的" in (await say(runtime, "r2", "/复盘 列表") + await _press_foreign(runtime))[-1]


async def _press_foreign(runtime) -> list[str]:
    """李娜 presses a button of 张伟's card (a forged or forwarded callback)."""
    from bot.events import CardAction

    await say(runtime, "r1", "/复盘 华东电网")
    now = runtime.clock.now_ms()
    runtime.console.ctx.accept("console", "forged", {}, CardAction(
        event_id="console:forged", platform="console", occurred_at=now, actor=Actor(platform_id="r2"),
        action="debrief.text", value={"id": 1}))
    n = len(runtime.console.delivered)
    await runtime.settle()
    return [d.text for d in runtime.console.delivered[n:]]


async def test_echo_offers_a_snippet_for_the_same_worry_and_files_the_debrief(runtime, store):
    from handlers.coaching import library

    seed(store)
    await runtime.settle()
    with store.transaction():
        sid = library.add_debrief_snippet(store, lead_id="L2", person_id="r2", objection_labels=["competitor"],
                                          worry_text="别家便宜两成", evidence_text="我们的维护费三年省下十二万，总成本反而更低",
                                          strategy_labels=["value_argument"], occurred_at=T0 - DAY)
        library.restar(store, sid, True, "m1")
    await say(runtime, "r1", "/复盘 华东电网")
    texts = await say(runtime, "r1", "客户担心价格比友商贵两成，我给他看了三一重工的案例，他答应下周三来公司看演示")
    assert "同类顾虑（竞品" in texts[0] and "维护费三年省下十二万" in texts[0]
    filed = store.conn.execute("SELECT source, objection_text, response_text FROM coach_snippets WHERE lead_id = 'L1'"
                               ).fetchall()
    assert [tuple(r) for r in filed] == [("debrief", "客户担心价格比友商贵两成", "我给他看了三一重工的案例")]


async def test_rate_this_week_and_this_month_are_calendar_periods(runtime, store):
    """"/复盘率 本周" on a Monday is this week since Monday 00:00, not the last 7 days (which reach back into last
    week); "本月" is since the 1st. The title says which."""
    seed(store)
    await runtime.settle()
    meeting(runtime, 1, T0, T0 + HOUR)  # Monday 2 March
    await runtime.advance_to(T0 + HOUR + 6 * MINUTE)
    await say(runtime, "r1", "客户担心价格我用了案例他答应下周三见面")
    await jump(runtime, T0 + 7 * DAY + 2 * HOUR)  # Monday 9 March, 11:00
    text = (await say(runtime, "m1", "/复盘率 本周"))[0]
    assert "本周" in text and "03-09" in text and "张伟" not in text, text
    text = (await say(runtime, "m1", "/复盘率 本月"))[0]
    assert "本月" in text and "03-01" in text and "张伟：1/1（100%）" in text, text
    text = (await say(runtime, "m1", "/复盘率 7"))[0]
    assert "近 7 天" in text and "张伟" not in text, text
    text = (await say(runtime, "m1", "/复盘率 8"))[0]
    assert "张伟：1/1（100%）" in text, text


async def test_rate_usage_says_the_days_it_takes(runtime, store):
    """"/复盘率 400" and "/复盘率 0" got the same usage line that had just been followed ("[天数]"); it now says
    which numbers of days it takes."""
    seed(store)
    await runtime.settle()
    for line in ("/复盘率 400", "/复盘率 0"):
        text = (await say(runtime, "m1", line))[0]
        assert "用法" in text and "1–365" in text, text
