"""Replies that used to read as wrong (issue 13, defect 13), each as the person who meets it."""

from __future__ import annotations

import pytest
from test_forecast_chat import ask, seed
from visibility_helpers import add_lead, record

from bot.cli import main as cli_main

HOUR = 3_600_000


async def test_help_for_an_unknown_command_says_it_is_unknown(runtime):
    (text,) = await ask(runtime, "张伟", "/help nosuch")
    assert text.startswith("没有这个命令：/nosuch")
    (text,) = await ask(runtime, "张伟", "/帮助 预测")
    assert "没有这个命令" not in text and text.startswith("/预测（/forecast） [本月")  # the reader's name first
    assert "别名" not in text  # both names are on the first line: no "别名：/预测" repeating them
    (text,) = await ask(runtime, "张伟", "/帮助 预则")  # a typo after /帮助: the close commands, not the whole list
    assert text.startswith("没有这个命令：/预则。你是不是要找：") and len(text.splitlines()) <= 5


async def test_a_mistyped_command_gets_what_it_probably_meant_not_the_whole_list(runtime):
    (text,) = await ask(runtime, "张伟", "/预则 本季")
    assert text.startswith("没有这个命令：/预则。你是不是要找：") and "/预测（/forecast）" in text
    assert len(text.splitlines()) <= 5 and "/帮助" in text  # not the 35-line list
    (text,) = await ask(runtime, "张伟", "/forcast")
    assert "/预测（/forecast）" in text and len(text.splitlines()) <= 5
    (text,) = await ask(runtime, "张伟", "/门店排名")
    assert "/门店排行（/store_rank）" in text
    (text,) = await ask(runtime, "张伟", "/取消")  # nothing close: the list, so a new user sees what there is
    assert text.startswith("没有这个命令：/取消。下面是可用的命令") and len(text.splitlines()) > 20


async def test_revisions_with_a_word_instead_of_weeks_says_so(runtime):
    seed(runtime.store)
    (text,) = await ask(runtime, "王经理", "/修订 abc")
    assert "abc" in text and "周数" in text
    texts = await ask(runtime, "王经理", "/修订 4")
    assert not any("看不懂" in t for t in texts)


async def test_health_of_an_unknown_name_does_not_talk_about_periods(runtime):
    seed(runtime.store)
    (text,) = await ask(runtime, "王经理", "/health 不存在")
    assert "不存在" in text and "期间" not in text and "本月" not in text


async def test_customer_service_silent_says_whose_leads_it_covers(runtime, clock):
    add_lead(runtime.store, "L1", "r1", clock.now_ms() - 100 * HOUR, customer="东方机床")
    record(runtime.store, "L1", clock.now_ms() - 100 * HOUR, role="customer", text="好的",
           tags=(("客户回复", "客户响应", 1.0),))
    (text,) = await ask(runtime, "赵客服", "/沉默")
    assert "没有沉默的商机 ✓" not in text and "名下" in text
    (text,) = await ask(runtime, "管理员", "/沉默")
    assert "东方机床" in text


async def test_forecast_on_an_empty_database_says_how_to_import_deals(runtime):
    texts = await ask(runtime, "管理员", "/预测")
    body = "\n".join(texts)
    assert "salespulse import deals" in body and "置信度0%" not in body and "0万" not in body


async def test_a_very_long_line_is_not_echoed_back_whole(runtime):
    line = "/" + "预" * 10_000
    texts = await ask(runtime, "张伟", line)
    assert texts and all(len(t) < 3_000 for t in texts)
    assert "10000" in texts[0] or "10001" in texts[0]


def test_rules_try_credits_a_reps_tender_document_to_the_rep(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["rules", "try", "销售:附件:华鑫标书.pdf"]) == 0
    out = capsys.readouterr().out
    assert "客户响应" not in out and "标书交付" in out and "because" not in out
    assert cli_main(["rules", "try", "客户:我们下个月招标"]) == 0
    assert "招投标" in capsys.readouterr().out


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    from bot.cli.demo import run_demo
    from bot.demo.company import Sizes

    return run_demo(seed=3, days=8, db=str(tmp_path_factory.mktemp("d") / "demo.db"),
                    sizes=Sizes(customers=30, leads=40))


def test_demo_counts_agree_and_the_attachment_case_is_not_called_a_fault(small_demo):
    import re

    lines = small_demo.transcript
    header = next(ln for ln in lines if "条待回放记录" in ln)
    total = re.search(r"(\d+) 条待回放记录", header).group(1)
    summary = next(ln for ln in lines if ln.startswith("回放记录"))
    assert f"回放记录共 {total} 条" in summary
    assert not any("故障案例" in ln for ln in lines)
    inbox = next(ln for ln in lines if ln.startswith("收件箱"))
    assert "done" not in inbox and "已处理" in inbox
    kinds = next(ln for ln in lines if ln.startswith("机器人消息按类型"))
    assert "digest" not in kinds and "silence" not in kinds


@pytest.mark.parametrize(("typed", "usage"), [
    ("/商机", "用法：/商机 <商机名称>"),
    ("/链接", "用法：/链接 <文件或URL> <商机>，例如 /链接 "),
    ("/链接列表", "用法：/链接列表 <商机>"),
    ("/热力图", "用法：/热力图 <客户或商机>，例如 /热力图 "),
    ("/时间线", "用法：/时间线 <客户或商机>，例如 /时间线 "),
    ("/timeline", "用法：/时间线 <客户或商机>"),
])
async def test_a_usage_line_names_the_command_as_a_chinese_reader_types_it(runtime, typed, usage):
    """They said "用法：/link …", "/deal <商机名称>", "/heatmap …" — the English name a zh-CN user never typed."""
    (text,) = await ask(runtime, "王经理", typed)
    assert text.startswith(usage)


def test_shown_name_follows_the_locale():
    from bot.commands import shown_name

    assert shown_name("heatmap", "zh-CN") == "/热力图" and shown_name("heatmap", "en") == "/heatmap"
    assert shown_name("no_such_command", "zh-CN") == "/no_such_command"


@pytest.mark.parametrize("typed", ["/绑定 wx_abc 华东机床", "/未匹配", "/规则"])
async def test_an_admin_command_says_it_is_for_admins(runtime, typed):
    """It said 你没有权限查看这些内容 — to a manager binding a contact, with no hint who may or how to check."""
    (text,) = await ask(runtime, "王经理", typed)
    assert text.startswith("这个命令只有管理员可以用") and "/我是谁" in text


async def test_help_for_one_command_lists_only_the_names_not_already_shown(runtime):
    (text,) = await ask(runtime, "张伟", "/帮助 今天")
    assert text.startswith("/今日（/today）") and text.splitlines()[-1] == "别名：/今天"
