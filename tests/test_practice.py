"""The practice sandbox through the console: a session, scoring and advice, the score card, a restart in the
middle, the idle end, voice answers (VoiceTranscript at the speech pipeline's boundary), wrong arguments, and the
practice counts managers see."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from importlib import resources

import pytest
from conftest import T0

from adapters.base import AdapterContext
from adapters.console import ConsoleAdapter
from bot.app import Runtime
from bot.events import Actor, VoiceTranscript
from handlers.conversation.classifier import Classifier
from handlers.practice import scoring
from prompts import Prompts
from store import practice as practice_store

SECOND = 1000
MINUTE = 60_000


async def say(runtime, who: str, text: str, after_ms: int = 0) -> list[str]:
    runtime.clock.advance(after_ms)
    n = len(runtime.console.delivered)
    runtime.console.type_line(who, text)
    await runtime.settle()
    return [d.text for d in runtime.console.delivered[n:]]


async def test_session_scores_each_answer_and_ends_with_a_score_card(runtime, store):
    await runtime.settle()
    texts = await say(runtime, "r1", "/陪练 竞品 制造业")
    assert "陪练开始" in texts[0] and "竞品" in texts[0] and "制造业" in texts[0]
    assert "虚拟客户 1/3" in texts[1]
    texts = await say(runtime, "r1", "我们给美的做的项目三十天上线，可以先看看案例", 20 * SECOND)
    assert "第 1 轮" in texts[0] and "案例佐证" in texts[0] and "用时 20 秒" in texts[0]
    assert "虚拟客户 2/3" in texts[1]
    texts = await say(runtime, "r1", "好的", 95 * SECOND)
    assert "第 2 轮" in texts[0] and "没用到任何应对策略" in texts[0] and "95 秒" in texts[0]
    texts = await say(runtime, "r1", "我们有三年质保，出了问题24小时到现场", 10 * SECOND)
    card = texts[-1]
    assert "陪练成绩单" in card and "回答轮数：3" in card and "下次重点练" in card
    assert practice_store.active(store, "r1") is None
    texts = await say(runtime, "r1", "还在吗")  # the session is over: plain text is not an answer any more
    assert "第" not in texts[0]


async def test_end_command_and_wrong_arguments(runtime, store):
    await runtime.settle()
    assert "没有进行中的陪练" in (await say(runtime, "r1", "/结束"))[0]
    assert "可选" in (await say(runtime, "r1", "/陪练 火星人 制造业"))[0]
    assert "只对销售" in (await say(runtime, "cs1", "/陪练"))[0]
    await say(runtime, "r1", "/陪练 犹豫")
    assert "进行中的陪练" in (await say(runtime, "r1", "/陪练 竞品"))[0]
    texts = await say(runtime, "r1", "/结束")
    assert "没有回答" in texts[0]
    assert practice_store.active(store, "r1") is None


async def test_session_survives_a_restart(runtime, store, clock, config):
    await runtime.settle()
    await say(runtime, "r1", "/陪练 售后")
    await say(runtime, "r1", "我们有三年质保，出了问题24小时到现场", 15 * SECOND)
    runtime.close()
    # a new process on the same database
    again = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, again.wake), prompts=Prompts(config.bot.locale))
    again.add_sender("console", console.send)
    again.console = console
    try:
        texts = await say(again, "r1", "售后是我们自己的团队，有客户的案例可以看", 15 * SECOND)
        assert "第 2 轮" in texts[0] and "虚拟客户 3/3" in texts[1]
    finally:
        again.close()


async def test_idle_session_ends_itself_and_sends_the_card(runtime, store):
    await runtime.settle()
    await say(runtime, "r1", "/陪练 价格")
    await say(runtime, "r1", "我们可以分期付款，三年总成本比别家低", 10 * SECOND)
    n = len(runtime.console.delivered)
    await runtime.advance_to(runtime.clock.now_ms() + 21 * MINUTE)
    assert practice_store.active(store, "r1") is None
    (card,) = [d for d in runtime.console.delivered[n:] if d.target.person_id == "r1"]
    assert "自动结束" in card.text and "回答轮数：1" in card.text


async def test_voice_answer_is_scored_with_delivery(runtime, store):
    await runtime.settle()
    await say(runtime, "r1", "/陪练 交付")
    runtime.clock.advance(12 * SECOND)
    now = runtime.clock.now_ms()
    runtime.console.ctx.accept("console", "pv1", {}, VoiceTranscript(
        event_id="console:pv1", platform="console", occurred_at=now, actor=Actor(platform_id="r1"),
        message_event_id="console:pmsg1", text="嗯那个就是我们给美的做的项目嗯三十天就上线了那个不会耽误你们",
        status="ok", source="demo", recorded_at=now, duration_ms=9_000, speech_ms=6_000, pauses_ms=(1400, 1800)))
    n = len(runtime.console.delivered)
    await runtime.settle()
    texts = [d.text for d in runtime.console.delivered[n:]]
    assert "第 1 轮" in texts[0] and "长停顿 2 次" in texts[0]
    detail = json.loads(practice_store.rounds_of(store, 1)[0].detail)
    assert detail["long_pauses"] == 2
    if detail["fillers"] is not None:  # the voice capability's analysis (handlers/voice/analysis)
        assert detail["fillers"] >= 4 and detail["rate_cpm"] > 200


async def test_managers_see_practice_counts(runtime, store):
    await runtime.settle()
    await say(runtime, "r1", "/陪练 犹豫")
    await say(runtime, "r1", "理解，我把三一的案例发您参考，周五前给您回个电话", 10 * SECOND)
    await say(runtime, "r1", "/结束")
    texts = await say(runtime, "m1", "/复盘率")
    assert "张伟" in texts[0] and "陪练 1 次" in texts[0]


@dataclasses.dataclass
class _Snippet:  # the fields of handlers/coaching/library.Snippet that scoring reads
    response_text: str
    strategies: tuple[str, ...]


def test_scoring_against_the_best_snippets():
    best = [_Snippet("理解您的顾虑，我们给美的做的项目三十天上线，提供7×24小时响应", ("social_proof", "guarantee"))]
    kw = dict(snippets=best, quick_s=30, good_rate=(180, 260), max_fillers=2)
    good = scoring.score(answer="我们给美的的项目三十天就上线了，还有7×24小时响应", strategies=("social_proof",),
                         response_s=12, **kw)
    weak = scoring.score(answer="我们很好的", strategies=(), response_s=80, **kw)
    assert good.total > 80 > 30 > weak.total
    assert good.coverage >= 0.5 and weak.coverage == 0
    assert [k for k, _v in weak.advice] == ["practice.advice_strategy", "practice.advice_phrase"]
    other = scoring.score(answer="可以给您打九折", strategies=("concession",), response_s=5, **kw)
    assert other.advice[0] == ("practice.advice_strategy", {"strategy": "social_proof",
                                                            "example": best[0].response_text})


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_written_scenes_are_examples_of_their_objection(locale):
    """The scenes used before a team's library is big enough must be what the classifier calls that objection."""
    if locale != "zh-CN":
        pytest.skip("the shipped classifier packs are Chinese")
    scenes = tomllib.loads(resources.files("prompts").joinpath("locales", locale, "practice.toml")
                           .read_text(encoding="utf-8"))["scenes"]
    c = Classifier.default()
    for objection, lines in scenes.items():
        for line in lines:
            assert objection in c.classify(line, "customer").labels, (objection, line)


async def test_team_library_supplies_the_objections_and_the_yardstick(runtime, store):
    """Once the team has enough real objections (here filed by debriefs), the virtual customer speaks their words
    and answers are measured against the team's snippets (key-phrase coverage appears)."""
    from handlers.coaching import library
    from store import customers as customer_store
    from store import leads as lead_store

    await runtime.settle()
    with store.transaction():
        for i in range(6):
            customer_store.upsert(store, f"c{i}", f"客户{i}", industry="制造业")
            lead_store.upsert(store, f"L{i}", f"c{i}", "r1", f"项目{i}", T0 - 86_400_000, amount=100_000)
            sid = library.add_debrief_snippet(store, lead_id=f"L{i}", person_id="r1",
                                              objection_labels=["competitor"],
                                              worry_text=f"别家便宜{i + 1}成，你们贵在哪",
                                              evidence_text="我们给三一重工做的项目三十天上线，维护费比别家低一半",
                                              strategy_labels=["social_proof", "value_argument"], occurred_at=T0 - i * MINUTE)
        library.restar(store, sid, True, "m1")  # the manager starred one (/金句): it is the yardstick
    texts = await say(runtime, "r1", "/陪练 竞品")
    assert "真实客户原话" in texts[0] and "别家便宜" in texts[1] and "成，你们贵在哪" in texts[1]
    texts = await say(runtime, "r1", "三一重工的项目三十天就上线了，维护费比别家低一半", 15 * SECOND)
    assert "要点覆盖" in texts[0]
    detail = json.loads(practice_store.rounds_of(store, 1)[0].detail)
    assert detail["coverage"] > 0.5 and "social_proof" in detail["wanted"]


async def test_an_industry_nobody_has_is_refused_with_the_known_ones(runtime, store):
    """"行业：xyz" promised a scene from an industry no customer is in; the answer now names the ones there are."""
    from store import customers as customer_store

    await runtime.settle()
    with store.transaction():
        customer_store.upsert(store, "cx1", "华鑫精密", industry="制造业", created_at=T0)
        customer_store.upsert(store, "cx2", "优品连锁", industry="零售连锁", created_at=T0)
    text = (await say(runtime, "r1", "/陪练 xyz"))[0]
    assert "不认识异议类型“xyz”" in text and "不认识行业“xyz”" in text and "制造业" in text and "零售连锁" in text
    text = (await say(runtime, "r1", "/陪练 竞品 火星"))[0]
    assert "不认识行业“火星”" in text and "不认识异议类型" not in text
    assert practice_store.active(store, "r1") is None
    texts = await say(runtime, "r1", "/陪练 竞品 零售连锁")
    assert "陪练开始" in texts[0] and "零售连锁" in texts[0]


async def test_the_industry_asked_for_picks_the_customers_words(runtime, store):
    """"/陪练 竞品 零售连锁" promised a 零售连锁 customer but played whatever the library had (a 制造业 customer's
    words, or a pack example about a flat): the virtual customer now speaks that industry's customers' words, and
    while they are too few the written scenes — never another industry's customer."""
    from handlers.coaching import library
    from store import customers as customer_store
    from store import leads as lead_store

    await runtime.settle()
    with store.transaction():
        customer_store.upsert(store, "cr", "优品连锁", industry="零售连锁")
        for i in range(6):
            customer_store.upsert(store, f"c{i}", f"客户{i}", industry="制造业")
            lead_store.upsert(store, f"L{i}", f"c{i}", "r1", f"项目{i}", T0 - 86_400_000, amount=100_000)
            library.add_debrief_snippet(store, lead_id=f"L{i}", person_id="r1", objection_labels=["competitor"],
                                        worry_text=f"友商便宜{i + 1}成，你们凭什么",
                                        evidence_text="我们给三一重工做的项目三十天上线，维护费比别家低一半",
                                        strategy_labels=["social_proof"], occurred_at=T0 - i * MINUTE)
    written = Prompts("zh-CN").raw("practice.scenes.competitor")
    texts = await say(runtime, "r1", "/陪练 竞品 零售连锁")
    assert "零售连锁" in texts[0] and "真实客户原话" not in texts[0], texts[0]
    asked = [texts[1]]
    for _ in range(2):
        asked.append((await say(runtime, "r1", "我们给三一重工做的项目三十天上线", 10 * SECOND))[1])
    for line in asked:
        assert "你们凭什么" not in line and any(w in line for w in written), line
    await say(runtime, "r1", "/结束")
    texts = await say(runtime, "r1", "/陪练 竞品 制造业")
    assert "真实客户原话" in texts[0] and "你们凭什么" in texts[1], texts


async def test_objection_named_in_the_customers_words(runtime, store):
    """A rep types the worry as customers say it — "/陪练 太贵", "/陪练 交期太长" — and practises that objection
    (read by the conversation classifier) instead of being told the word is not a type."""
    await runtime.settle()
    texts = await say(runtime, "r1", "/陪练 太贵")
    assert "陪练开始" in texts[0] and "预算/价格" in texts[0], texts
    await say(runtime, "r1", "/结束")
    texts = await say(runtime, "r1", "/practice 交期太长")
    assert "陪练开始" in texts[0] and "交付" in texts[0], texts
    await say(runtime, "r1", "/结束")
    assert "不认识异议类型" in (await say(runtime, "r1", "/陪练 你好"))[0]


async def test_a_too_long_voice_answer_names_the_configured_limit(store, clock, config):
    """The practice answer to a too-long note said "45 秒" whatever [asr] max_single_note_s is; it names the
    configured limit."""
    config = dataclasses.replace(config, asr=dataclasses.replace(config.asr, max_single_note_s=60))
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    rt.console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts(config.bot.locale))
    rt.add_sender("console", rt.console.send)
    try:
        await rt.settle()
        await say(rt, "r1", "/陪练 交付")
        now = rt.clock.now_ms()
        rt.console.ctx.accept("console", "pv9", {}, VoiceTranscript(
            event_id="console:pv9", platform="console", occurred_at=now, actor=Actor(platform_id="r1"),
            message_event_id="console:pmsg9", status="too_long", source="demo", recorded_at=now, duration_ms=62_000))
        n = len(rt.console.delivered)
        await rt.settle()
        [text] = [d.text for d in rt.console.delivered[n:]]
        assert "60 秒" in text and "45" not in text, text
    finally:
        rt.close()
