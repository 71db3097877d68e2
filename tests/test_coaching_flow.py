"""Coaching end to end: chat through the real pipeline → sweep files snippets → the lead moves → outcome and
weight → a live objection on another lead pushes the best snippet privately to its rep, turning sentence marked;
rate limit, quiet hours and /教练 关; the "再比较一下" check with tags and a nudge."""

from __future__ import annotations

import pytest
from coaching_helpers import DAY, HOUR, MINUTE, add_customer, coaching_config, say, sent, set_stage
from conftest import T0

from store import coaching as coach_store


@pytest.fixture
def config(config, tmp_path):
    return coaching_config(config, str(tmp_path / "data"))


async def build_library(runtime, clock) -> None:
    """Two past leads where a delivery doubt was answered with a case and the customer agreed; both advanced."""
    store = runtime.store
    for i, (cid, name) in enumerate((("c1", "华鑫精密机械有限公司"), ("c2", "恒通机电有限公司"))):
        add_customer(store, cid, name, "r1", f"L{i + 1}", T0 - 30 * DAY)
        at = T0 + i * HOUR
        say(runtime, cid, "r1", "customer", "你们三周真能交货吗？上次别家拖了两个月", at)
        say(runtime, cid, "r1", "rep", "理解您的担心。苏州一家客户上个月也是这个顾虑，我们用了分批发货，他们两周就开始用上了。", at + 40_000)
        say(runtime, cid, "r1", "customer", "好的，那就按分批发货来，合同怎么走？", at + 5 * MINUTE)
    await runtime.settle()
    await runtime.advance_to(T0 + 3 * HOUR)  # the sweep files them
    assert coach_store.count(store) == 2
    set_stage(store, "L1", "方案报价")
    set_stage(store, "L2", "方案报价")
    await runtime.advance_to(T0 + 4 * HOUR)  # outcomes → weights


async def test_snippets_filed_with_latency_strategy_turn_and_scene(runtime, clock):
    await build_library(runtime, clock)
    rows = coach_store.search(runtime.store, objection="delivery_concern", keyword=None, rep_ids=None, limit=5)
    assert len(rows) == 2
    row = rows[0]
    assert row.rep_id == "r1" and row.team_id and row.industry == "制造业" and row.size == "中型"
    assert row.product_line == "GW-300" and row.latency_s == 40.0
    assert "social_proof" in row.strategies.split()
    assert "分批发货" in row.turning_sentence
    assert row.outcome == "advanced"
    assert coach_store.family_count(runtime.store) >= 1


async def test_live_objection_pushes_privately_once_per_window(runtime, clock):
    await build_library(runtime, clock)
    store = runtime.store
    add_customer(store, "c3", "远大阀门有限公司", "r1", "L3", T0)
    now = T0 + 5 * HOUR
    clock.set(now)
    say(runtime, "c3", "r1", "customer", "交期能保证吗？我们月底就要用", now)
    await runtime.settle()
    pushes = sent(runtime, "coach:")
    assert len(pushes) == 1 and pushes[0].target.person_id == "r1"
    text = pushes[0].text
    assert "【" in text and "分批发货" in text, "turning sentence marked"
    assert "推进" in text and "区间" in text
    # same objection on the same lead within the window: no second push
    clock.set(now + HOUR)
    say(runtime, "c3", "r1", "customer", "交期能保证吗？", now + HOUR)
    await runtime.settle()
    assert len(sent(runtime, "coach:")) == 1
    # after the window: pushes again
    later = now + 5 * HOUR
    clock.set(later)
    say(runtime, "c3", "r1", "customer", "交期那块你们到底能不能保证", later)
    await runtime.settle()
    assert len(sent(runtime, "coach:")) == 2


async def test_old_messages_quiet_hours_and_mute_do_not_push(runtime, clock, config, store):
    await build_library(runtime, clock)
    add_customer(store, "c3", "远大阀门有限公司", "r1", "L3", T0)
    now = T0 + 5 * HOUR
    clock.set(now)
    say(runtime, "c3", "r1", "customer", "交期能保证吗", now - 2 * DAY)  # an import of old archive records
    await runtime.settle()
    assert sent(runtime, "coach:") == []
    runtime.console.type_line("r1", "/教练 关")
    await runtime.settle()
    assert "关闭" in runtime.console.delivered[-1].text
    say(runtime, "c3", "r1", "customer", "交期能保证吗", now + MINUTE)
    await runtime.settle()
    assert sent(runtime, "coach:") == []
    runtime.console.type_line("r1", "/教练 开")
    await runtime.settle()
    say(runtime, "c3", "r1", "customer", "交期能保证吗", now + 2 * MINUTE)
    await runtime.settle()
    assert len(sent(runtime, "coach:")) == 1


async def test_quiet_hours_hold_pushes(store, clock, config, tmp_path):
    from coaching_helpers import coaching_config as cc
    from visibility_helpers import make_runtime
    rt = make_runtime(store, clock, cc(config, str(tmp_path / "d2"), quiet_hours="00:00-23:59"))
    try:
        await build_library(rt, clock)
        add_customer(store, "c3", "远大阀门有限公司", "r1", "L3", T0)
        clock.set(T0 + 5 * HOUR)
        say(rt, "c3", "r1", "customer", "交期能保证吗", T0 + 5 * HOUR)
        await rt.settle()
        assert sent(rt, "coach:") == []
    finally:
        rt.close()


async def test_hesitation_without_case_tags_and_nudges(runtime, clock, store):
    await build_library(runtime, clock)
    add_customer(store, "c4", "新锐零售有限公司", "r1", "L4", T0)
    now = T0 + 5 * HOUR
    clock.set(now)
    say(runtime, "c4", "r1", "customer", "我们再比较一下吧", now)
    first = say(runtime, "c4", "r1", "rep", "好的，您慢慢看", now + MINUTE)
    second = say(runtime, "c4", "r1", "rep", "有问题随时找我", now + 2 * MINUTE)
    await runtime.settle()
    tags = {r[0] for r in store.conn.execute(
        "SELECT t.tag FROM event_tags t JOIN events e ON e.id = t.event_rowid WHERE e.event_id = ?", (second,))}
    assert "犹豫后未举案例" in tags
    assert first != second
    nudges = sent(runtime, "coach-b7:")
    assert len(nudges) == 1 and nudges[0].target.person_id == "r1"
    assert "案例" in nudges[0].text


async def test_hesitation_with_case_in_second_message(runtime, clock, store):
    add_customer(store, "c5", "优品连锁有限公司", "r1", "L5", T0)
    say(runtime, "c5", "r1", "customer", "要跟老板商量一下，再比较一下", T0)
    say(runtime, "c5", "r1", "rep", "好的", T0 + MINUTE)
    case = say(runtime, "c5", "r1", "rep", "杭州一家连锁客户去年也比较了三家，用了我们之后门店盘点时间减少了一半。", T0 + 2 * MINUTE)
    await runtime.settle()
    tags = {r[0] for r in store.conn.execute(
        "SELECT t.tag FROM event_tags t JOIN events e ON e.id = t.event_rowid WHERE e.event_id = ?", (case,))}
    assert "犹豫后举案例" in tags
    assert sent(runtime, "coach-b7:") == []
    assert coach_store.hesitation_results(store)[0][2] == "case"


async def test_unanswered_hesitation_settled_by_sweep(runtime, clock, store):
    add_customer(store, "c6", "博远科技有限公司", "r1", "L6", T0)
    say(runtime, "c6", "r1", "customer", "我考虑考虑", T0)
    await runtime.settle()
    await runtime.advance_to(T0 + 25 * HOUR)
    assert coach_store.hesitation_results(store) and coach_store.hesitation_results(store)[0][2] == "no_case"


async def test_outcome_window_stalled_and_won(runtime, clock, store, config):
    add_customer(store, "c7", "鼎盛制造有限公司", "r2", "L7", T0)
    add_customer(store, "c8", "嘉禾电子有限公司", "r2", "L8", T0)
    for cid in ("c7", "c8"):
        say(runtime, cid, "r2", "customer", "太贵了，预算不够", T0)
        say(runtime, cid, "r2", "rep", "我们帮客户节省了30%的人工成本，一年就能回本。", T0 + MINUTE)
    await runtime.settle()
    await runtime.advance_to(T0 + HOUR)
    set_stage(store, "L8", "赢单", "won", T0 + 2 * DAY)
    clock.set(T0 + (config.coaching.outcome_days + 1) * DAY)  # one sweep after the window is enough
    await runtime.settle()
    outcomes = dict(store.conn.execute("SELECT lead_id, outcome FROM coach_snippets").fetchall())
    assert outcomes == {"L7": "stalled", "L8": "won"}


@pytest.mark.parametrize("line", ["/金句", "/金句 abc", "/金句 99999"])
async def test_star_wrong_arguments(runtime, clock, line):
    await build_library(runtime, clock)
    runtime.console.type_line("m1", line)
    await runtime.settle()
    text = runtime.console.delivered[-1].text
    assert "/金句" in text or "没有找到" in text


async def test_commands_in_chinese(runtime, clock, store):
    await build_library(runtime, clock)
    sid = coach_store.search(store, objection="delivery_concern", keyword=None, rep_ids=None, limit=1)[0].id
    runtime.console.type_line("r1", "/话术 交付")
    await runtime.settle()
    assert "分批发货" in runtime.console.delivered[-1].text and "【" in runtime.console.delivered[-1].text
    runtime.console.type_line("r1", "/话术")
    await runtime.settle()
    assert "用法" in runtime.console.delivered[-1].text
    runtime.console.type_line("r1", "/话术 不存在的词")
    await runtime.settle()
    assert "没有找到" in runtime.console.delivered[-1].text
    runtime.console.type_line("r1", f"/金句 {sid}")
    await runtime.settle()
    assert "主管" in runtime.console.delivered[-1].text, "reps cannot star"
    runtime.console.type_line("m1", f"/金句 {sid}")
    await runtime.settle()
    assert "标星" in runtime.console.delivered[-1].text and coach_store.get(store, sid).starred
    runtime.console.type_line("m2", f"/金句 {sid}")  # another team's manager
    await runtime.settle()
    assert "没有找到" in runtime.console.delivered[-1].text
    runtime.console.type_line("r1", "/教练 随便")
    await runtime.settle()
    assert "用法" in runtime.console.delivered[-1].text


async def test_objection_matrix_png_and_text(runtime, clock, store):
    await build_library(runtime, clock)
    runtime.console.type_line("m1", "/异议")
    await runtime.settle()
    reply = runtime.console.delivered[-1]
    assert reply.reply.kind.value == "image" and reply.reply.image_path.endswith(".png")
    from pathlib import Path
    assert Path(reply.reply.image_path).stat().st_size > 5000
    assert "交付 → 案例佐证：2 次中 2 次推进" in reply.reply.alt_text
    runtime.console.type_line("r3", "/异议")  # 华南组's rep: nothing of theirs
    await runtime.settle()
    assert "还没有" in runtime.console.delivered[-1].text



async def test_baseline_and_weekly_digest_show_the_check(runtime, clock, store):
    from handlers.digests import team_weekly
    add_customer(store, "c5", "优品连锁有限公司", "r1", "L5", T0)
    add_customer(store, "c6", "博远科技有限公司", "r1", "L6", T0)
    say(runtime, "c5", "r1", "customer", "我们再比较一下", T0)
    say(runtime, "c5", "r1", "rep", "杭州一家连锁客户去年也比较了三家，用了我们之后盘点时间减少了一半。", T0 + MINUTE)
    say(runtime, "c6", "r1", "customer", "太贵了，我们考虑考虑", T0)
    say(runtime, "c6", "r1", "rep", "好的", T0 + MINUTE)
    say(runtime, "c6", "r1", "rep", "有需要再联系", T0 + 2 * MINUTE)
    await runtime.settle()
    await runtime.advance_to(T0 + HOUR)
    runtime.console.type_line("r1", "/基线")
    await runtime.settle()
    assert "举具体案例：张伟 1/2（50%）" in runtime.console.delivered[-1].text
    ctx = runtime.dispatcher.services
    from bot.context import Context
    reply = team_weekly(Context(ctx, None), ["华东一组"], T0 + 7 * DAY)
    assert "本周遇到的异议：" in reply.text and "犹豫" in reply.text and "1/2" in reply.text


async def test_imported_history_is_checked_by_the_sweep_without_nudges(runtime, clock, store):
    add_customer(store, "c9", "华鑫包装材料有限公司", "r1", "L9", T0 - 10 * DAY)
    old = T0 - 5 * DAY  # an archive backlog: days old when it arrives
    say(runtime, "c9", "r1", "customer", "我们内部再比较一下几家", old)
    say(runtime, "c9", "r1", "rep", "好的", old + MINUTE)
    missed = say(runtime, "c9", "r1", "rep", "有问题随时联系", old + 2 * MINUTE)
    await runtime.settle()
    assert coach_store.hesitation_results(store) == [], "history is not checked on the hot path"
    await runtime.advance_to(T0 + HOUR)
    assert coach_store.hesitation_results(store)[0][2] == "no_case"
    tags = {r[0] for r in store.conn.execute(
        "SELECT t.tag FROM event_tags t JOIN events e ON e.id = t.event_rowid WHERE e.event_id = ?", (missed,))}
    assert "犹豫后未举案例" in tags
    assert sent(runtime, "coach-b7:") == [] and sent(runtime, "coach:") == []


async def test_customer_voice_note_pushes_once_heard(runtime, clock, store):
    from bot.events import Actor, Message, MessageKind, VoiceTranscript
    await build_library(runtime, clock)
    add_customer(store, "c3", "远大阀门有限公司", "r1", "L3", T0)
    now = T0 + 5 * HOUR
    clock.set(now)
    note = Message(event_id="wecom:voice1", platform="wecom", occurred_at=now, actor=Actor(platform_id="wmc3"),
                   kind=MessageKind.VOICE, duration_ms=6000, recipients=("zhangwei",), conversation_id="wmc3|zhangwei")
    runtime.console.ctx.accept("wecom", "voice1", {"t": "test"}, note)
    await runtime.settle()
    assert sent(runtime, "coach:") == [], "no words yet"
    heard = VoiceTranscript(event_id="asr:voice1", platform="wecom", occurred_at=now + 20_000, actor=note.actor,
                            message_event_id="wecom:voice1", text="交期能保证吗？我们月底就要用", recorded_at=now)
    clock.set(now + 20_000)
    runtime.console.ctx.accept("wecom", "asr-voice1", {"t": "test"}, heard)
    await runtime.settle()
    pushes = sent(runtime, "coach:")
    assert len(pushes) == 1 and "月底就要用" in pushes[0].text and pushes[0].target.person_id == "r1"


async def test_snippets_for_a_type_narrowed_by_an_industry_or_a_word(runtime, clock, store):
    """"/话术 交付 制造业" searched the whole phrase as one keyword and found nothing; the first word is the
    objection type and the rest narrows it: an industry, or a word said in the exchange."""
    await build_library(runtime, clock)

    async def reply_to(line: str) -> str:
        runtime.console.type_line("r1", line)
        await runtime.settle()
        return runtime.console.delivered[-1].text

    text = await reply_to("/话术 交付 制造业")
    assert "分批发货" in text and "没有找到" not in text, text
    assert "分批发货" in await reply_to("/话术 交付 分批")
    assert "没有找到" in await reply_to("/话术 交付 零售连锁")
