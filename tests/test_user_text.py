"""User-visible text follows the reader's locale, punctuation included.

Pieces of an answer used to be joined in code with "、", "；", "：" — so an English reply read "Did you mean: A、B"
and "Health: 🔴 red：x；y". The joins now come from the prompts (core.list_sep, core.clause_sep, per-message
templates). Checked here end to end through the console on a small book whose people, teams, customers and deals
are all named in ASCII: any CJK punctuation in an English reply then comes from our own text, never from the data.
The zh-CN transcript of the same session is pinned as it read before the change, so Chinese users see no difference.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from conftest import T0

from adapters.base import AdapterContext
from adapters.console import ConsoleAdapter
from bot.app import Runtime
from bot.config import OrgSection, PersonSection, TeamSection
from prompts import Prompts
from store import customers as customer_store
from store import deals as deal_store
from store import leads as lead_store

DAY = 86_400_000
CJK_PUNCT = re.compile("[、；：，。（）]")


def ascii_org() -> OrgSection:
    """Wang manages two teams (so his default scope names both: a list join); everyone is named in ASCII."""
    return OrgSection(
        teams=(TeamSection(name="East", manager="m1"), TeamSection(name="North", manager="m1"),
               TeamSection(name="West", manager="m2")),
        people=(
            PersonSection(id="m1", name="Wang", role="manager", team="East"),
            PersonSection(id="r1", name="Zhang", role="rep", team="East"),
            PersonSection(id="r2", name="Li", role="rep", team="North"),
            PersonSection(id="m2", name="Chen", role="manager", team="West"),
            PersonSection(id="r3", name="Liu", role="rep", team="West"),
            PersonSection(id="a1", name="Admin", role="manager", admin=True),
        ),
    )


def seed(store) -> None:
    """Deals that make every joined answer non-trivial: several health issues, several greens, an ambiguous
    name, a near miss, and an intent letter lacking several conditions (a capped probability)."""
    with store.transaction():
        customer_store.upsert(store, "c1", "Acme Grid", industry="能源")
        customer_store.upsert(store, "c2", "Birch School", industry="教育")
        customer_store.upsert(store, "c3", "Cedar Logistics", industry="物流")
        lead_store.upsert(store, "L1", "c1", "r1", "Acme Patrol", T0 - 40 * DAY, amount=350_000,
                          expected_close_at=T0 + 20 * DAY)
        lead_store.upsert(store, "L4", "c1", "r1", "Acme Upgrade", T0 - 35 * DAY, amount=500_000,
                          expected_close_at=T0 + 25 * DAY)
        lead_store.upsert(store, "L2", "c2", "r2", "Birch Screens", T0 - 30 * DAY, amount=120_000,
                          expected_close_at=T0 + 10 * DAY)
        lead_store.upsert(store, "L5", "c2", "r2", "Birch Lab", T0 - 30 * DAY, amount=260_000,
                          expected_close_at=T0 + 30 * DAY)
        lead_store.upsert(store, "L3", "c3", "r3", "Cedar Storage", T0 - 20 * DAY, amount=200_000,
                          expected_close_at=T0 + 15 * DAY)
        for i in range(6):
            lead_store.upsert(store, f"H{i}", "c1", "r1", f"Old deal {i}", T0 - 200 * DAY,
                              status="won" if i % 2 else "lost", amount=100_000, closed_at=T0 - (100 - i) * DAY)
        deal_store.upsert_details(store, "L1", T0, approver_met=False, disputed_clauses=3, tech_validation=0.5)
        deal_store.upsert_details(store, "L4", T0, approver_met=True, legal_review="passed", intent_letter=True,
                                  has_named_contact=True, probability_override=0.8)
        deal_store.upsert_details(store, "L2", T0, approver_met=True, tech_validation=0.9, legal_review="passed")
        deal_store.upsert_details(store, "L5", T0, approver_met=True, legal_review="passed")
        lead_store.upsert(store, "L6", "c3", "r2", "Cedar Docks", T0 - 10 * DAY, amount=400_000,
                          expected_close_at=T0 + 12 * DAY)
        lead_store.upsert(store, "L7", "c2", "r1", "Birch Campus", T0 - 12 * DAY, amount=450_000,
                          expected_close_at=T0 + 18 * DAY)


REASONS = ("Customer CFO abroad", "Budget cut", "Competitor discount")  # bot.toml's presets are data, in ASCII here

# (who, what they type): every forecast answer that joins pieces in code, in one session
SESSION = (
    ("Wang", "/forecast"),             # default scope over two teams; reasons naming several big deals
    ("Admin", "/forecast Eest"),       # an unknown scope with suggestions
    ("Zhang", "/deal"),                # usage
    ("Zhang", "/deal Acme"),           # several deals match
    ("Zhang", "/deal Acme Patrl"),     # none matches: suggestions
    ("Zhang", "/deal Acme Patrol"),    # red, with several health issues
    ("Zhang", "/deal Acme Upgrade"),   # capped: the letter of intent lacks several conditions
    ("Wang", "/health"),               # red/yellow with reasons, several greens
    ("Wang", "/health North"),
    ("Zhang", "/adjust Acme Upgrade probability 90% 1"),  # still capped: says which conditions are missing
    ("Zhang", "/link https://example.com/a.pdf Acme"),  # several leads match: "title (id)" options
    ("Zhang", "/note Acme Patrol 客户CFO下周回国;法务审核通过;天气不错;心情很好"),  # several items, several unknowns
)


async def transcript(locale: str, store, clock, config) -> list[tuple[str, list[str]]]:
    config = dataclasses.replace(config, org=ascii_org(), bot=dataclasses.replace(config.bot, locale=locale),
                                 forecast=dataclasses.replace(config.forecast, reasons=REASONS))
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts(locale))
    rt.add_sender("console", console.send)
    seed(store)
    out = []
    try:
        for who, text in SESSION:
            n = len(console.delivered)
            console.type_line(who, text)
            await rt.settle()
            out.append((text, [d.text for d in console.delivered[n:]]))
    finally:
        rt.close()
    return out
# captured from the code before the separators moved into the prompts (same session, zh-CN)
ZH_CN_BEFORE = [
    ('/forecast', [
        '正在模拟本季度的回款区间（10000次）…',
        "\n".join([
            '本季度预计回款26万(置信度7%,区间0-78万)',
            '范围：团队 East、North，在途商机6个',
            '还没有这个范围的目标：主管或管理员可以发 /目标 本季 300万 设定（也可写在 bot.toml [forecast.targets]）',
            '置信度不更高的主要原因：',
            '1. 2个大单仍未定局：Birch Campus、Cedar Docks（合计85万）',
            '2. 历史只有1个周期可学习，区间按先验放宽',
            '3. 意向书缺少硬性条件的商机有1个，占在途金额24%',
            '注：历史成交太少，赢单概率暂按行业/产品基准率和经验系数估算。',
        ]),
    ]),
    ('/forecast Eest', [
        '不认识「Eest」：不是期间（本月/下月/本季/Q3），也不是团队或同事。你是不是要找：West、East',
    ]),
    ('/deal', [
        '用法：/商机 <商机名称>，例如：/商机 华东电网（也可以写 /deal）',
    ]),
    ('/deal Acme', [
        '「Acme」对应多个商机，请说得更具体：Acme Patrol、Acme Upgrade',
    ]),
    ('/deal Acme Patrl', [
        '没找到商机「Acme Patrl」。你是不是要找：Acme Patrol、Acme Upgrade',
    ]),
    ('/deal Acme Patrol', [
        "\n".join([
            '商机：Acme Patrol（Acme Grid）',
            '金额35万 · 负责人Zhang · 预计成交2026-03-22',
            '赢单概率 16% = 基准39% × 客户1.00 × 项目0.32 × 销售1.27',
            '主要加减分：',
            '· 终审人尚未见面，权重扣减50%',
            '· 合同条款存在争议，权重扣减38%',
            '· 负责人近3单同类商机赢单率高，权重增加27%',
            '历史成交数据不足，按基准率和经验系数估算',
            '健康度：🔴红：距预计成交20天仍未见终审人；争议条款3条；技术验证进度50%',
        ]),
    ]),
    ('/deal Acme Upgrade', [
        "\n".join([
            '商机：Acme Upgrade（Acme Grid）',
            '金额50万 · 负责人Zhang · 预计成交2026-03-27',
            '赢单概率 35%（模型估计 77% = 基准39% × 客户1.00 × 项目1.86 × 销售1.07）（概率已被手动调整）',
            '意向书缺少公章、明确预算范围、约定下次会议时间，赢单概率封顶35%',
            '主要加减分：',
            '· 已见到终审人，权重增加33%',
            '· 法务审核已通过，权重增加15%',
            '· 负责人近3单同类商机赢单率高，权重增加7%',
            '历史成交数据不足，按基准率和经验系数估算',
            '健康度：🟢绿',
        ]),
    ]),
    ('/health', [
        "\n".join([
            '商机健康度（团队 East、North）：红3 黄0 绿3',
            '🔴 Birch Campus：距预计成交18天仍未见终审人',
            '🔴 Cedar Docks：距预计成交12天仍未见终审人；距预计成交12天，法务审核仍未通过',
            '🔴 Acme Patrol：距预计成交20天仍未见终审人；争议条款3条；技术验证进度50%',
            '🟢 Acme Upgrade、Birch Screens、Birch Lab',
        ]),
    ]),
    ('/health North', [
        "\n".join([
            '商机健康度（团队 North）：红1 黄0 绿2',
            '🔴 Cedar Docks：距预计成交12天仍未见终审人；距预计成交12天，法务审核仍未通过',
            '🟢 Birch Screens、Birch Lab',
        ]),
    ]),
    ('/adjust Acme Upgrade probability 90% 1', [
        "\n".join([
            '已调整 Acme Upgrade 的概率：80% → 90%（原因：Customer CFO abroad）。赢单概率 35% → 35%',
            '意向书缺少公章、明确预算范围、约定下次会议时间，赢单概率封顶35%',
        ]),
    ]),
    ('/link https://example.com/a.pdf Acme', [
        '“Acme”对应多个商机：Acme Upgrade（L4）、Acme Patrol（L1）。请用商机编号。',
    ]),
    ('/note Acme Patrol 客户CFO下周回国;法务审核通过;天气不错;心情很好', [
        "\n".join([
            '已识别：终审人(CFO)下周可见面 → 决策链 +1；法务审核通过；概率 16% → 31%',
            '对预测的影响：这单的期望回款 5.5万 → 11万（+5.5万），/预测 已按新数字计算',  # issue 13, defect 10
            '事件日期：2026-03-09',
            '没看懂：天气不错；心情很好（请换个说法，或用 /调整）',
        ]),
    ]),
]


def cjk_punctuation(replies: list[tuple[str, list[str]]]) -> list[str]:
    return [f"{text} → {line}" for text, answer in replies for reply in answer for line in reply.splitlines()
            if CJK_PUNCT.search(line)]


async def test_english_forecast_answers_use_english_punctuation(store, clock, config):
    replies = await transcript("en", store, clock, config)
    assert [text for text, _answer in replies] == [text for _who, text in SESSION]
    assert all(answer for _text, answer in replies)  # every command answered
    assert cjk_punctuation(replies) == []
    body = "\n".join(line for _text, answer in replies for line in answer)
    # the joins themselves, so the check above is not vacuous
    assert "Scope: team East, North" in body
    assert "Did you mean: West, East" in body and "Did you mean: Acme Patrol, Acme Upgrade" in body
    assert "please be more specific: Acme Patrol, Acme Upgrade" in body
    assert "Big deals still undecided (2): Birch Campus, Cedar Docks" in body
    assert "lacks company seal, a clear budget range, a date for the next meeting" in body
    assert ("Health: 🔴 red — 20 day(s) to expected close and final approver still not met; 3 disputed clause(s); "
            "technical validation 50% done") in body
    assert "🟢 Acme Upgrade, Birch Screens, Birch Lab" in body
    assert "Usage: /deal <deal name>" in body
    assert "Acme Upgrade (L4), Acme Patrol (L1)" in body
    assert "Understood: final approver (CFO) can be met 下周 → decision chain +1; legal review passed;" in body
    assert "Not understood: 天气不错; 心情很好" in body


def _wording(replies: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """The transcript with every number masked: the pin is on wording and punctuation, not on the model's figures
    (a change to the forecast model must not fail a test about texts)."""
    return [(ask, [re.sub(r"\d+(?:\.\d+)?", "#", line) for line in lines]) for ask, lines in replies]


async def test_chinese_answers_read_exactly_as_before(store, clock, config):
    assert _wording(await transcript("zh-CN", store, clock, config)) == _wording(ZH_CN_BEFORE)


def test_the_check_would_catch_a_chinese_join():
    assert cjk_punctuation([("/deal x", ["Health: 🔴 red：a；b"])]) == ["/deal x → Health: 🔴 red：a；b"]
    assert cjk_punctuation([("/deal x", ["Health: 🔴 red — a; b"])]) == []


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
async def test_help_names_the_chinese_alias_in_the_readers_punctuation(store, clock, config, locale):
    config = dataclasses.replace(config, org=ascii_org(), bot=dataclasses.replace(config.bot, locale=locale))
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts(locale))
    rt.add_sender("console", console.send)
    try:
        console.type_line("Zhang", "/help")
        await rt.settle()
    finally:
        rt.close()
    (text,) = [d.text for d in console.delivered]
    if locale == "en":
        assert "/forecast (/预测)" in text and "/deal (/商机) <商机名称>" in text
        # the English summaries come from prompts/commands/*.toml; only the usage placeholders stay Chinese
        assert not CJK_PUNCT.search(text), text
    else:
        assert "/预测（/forecast）" in text and "/商机（/deal） <商机名称>" in text


# ------------------------------------------------------------------ command line: replay summary, import org
ORG_CSV = "id,name,role,team\nr1,Zhang,rep,East\nr2,Li,rep,East\n"


@pytest.mark.parametrize(("locale", "line"), [("en", "imported 2 people from org.csv"),
                                               ("zh-CN", "已从 org.csv 导入 2 人")])
def test_import_org_says_what_it_did_in_the_configured_locale(tmp_path, monkeypatch, capsys, locale, line):
    from bot.cli import main as cli_main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "bot.toml").write_text(f'[bot]\nlocale = "{locale}"\n', encoding="utf-8")
    (tmp_path / "org.csv").write_text(ORG_CSV, encoding="utf-8")
    assert cli_main(["import", "org", "org.csv", "--db", "x.db"]) == 0
    assert capsys.readouterr().out.strip() == line


@pytest.mark.parametrize(("locale", "line"), [
    ("en", "replayed 1 events (1 rejected), 1 replies"),
    ("zh-CN", "已重放 1 个事件（1 个被拒绝），1 条回复"),
])
def test_replay_summary_follows_the_configured_locale(tmp_path, monkeypatch, capsys, locale, line):
    import json

    from bot.cli import main as cli_main
    from bot.events import Actor, Message

    monkeypatch.chdir(tmp_path)
    (tmp_path / "bot.toml").write_text(f'[bot]\nlocale = "{locale}"\n', encoding="utf-8")
    event = Message(event_id="e1", platform="console", occurred_at=T0, actor=Actor(platform_id="u1"), text="/help",
                    to_bot=True).to_dict()
    (tmp_path / "events.jsonl").write_text(json.dumps(event) + "\n[1]\n", encoding="utf-8")
    assert cli_main(["replay", "events.jsonl", "--db", "r.db"]) == 1  # one line rejected
    assert capsys.readouterr().err.strip().splitlines()[-1] == line
