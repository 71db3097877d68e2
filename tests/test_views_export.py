"""/导出 through the console and `salespulse report --xlsx`: the workbook's sheets, headers and rows, scope,
bad input, the English locale."""

from __future__ import annotations

import dataclasses

from conftest import T0
from openpyxl import load_workbook
from test_views_chat import ask, seed

from bot.cli import main as cli_main
from store import deals as deal_store
from store import open_store


def sheet_rows(path) -> dict[str, list[tuple]]:
    wb = load_workbook(path)
    return {ws.title: [tuple(c for c in row) for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


async def test_export_sends_an_xlsx_with_the_asked_sheets(runtime):
    seed(runtime.store)
    with runtime.store.transaction():
        deal_store.upsert_details(runtime.store, "L1", T0, approver_met=False, disputed_clauses=3)
    texts = await ask(runtime, "王经理", "/导出 预测 漏斗 健康度")
    assert "正在生成 Excel" in texts[0]
    reply = runtime.console.delivered[-1].reply
    assert reply.kind == "file" and reply.file_path.endswith(".xlsx")
    assert "文件已生成" in texts[-1] and "团队 华东一组" in texts[-1]
    sheets = sheet_rows(reply.file_path)
    assert list(sheets) == ["预测", "健康度", "漏斗"]  # canonical order, whatever order was asked
    fc = sheets["预测"]
    assert fc[1][:2] == ("期间", "预计回款 P50（元）") and fc[2][0] == "2026Q1"
    deal_head = next(i for i, r in enumerate(fc) if r[0] == "商机")
    assert fc[deal_head][:8] == ("商机", "客户", "负责人", "阶段", "金额（元）", "预计成交日", "赢单概率", "期望金额（元）")
    titles = {r[0] for r in fc[deal_head + 1:]}
    assert titles == {"华东电网巡检", "明德中学大屏"}  # the team's open deals, not 刘洋's
    health = sheets["健康度"]
    assert health[1][5] == "健康度" and health[2][0] == "华东电网巡检" and "红" in health[2][5]
    pipe = sheets["漏斗"]
    assert pipe[1][0] == "阶段" and ("方案报价", 1, 350000, 1, 350000, 0, 0) in pipe
    assert ("合计", 2, 470000, None, None, None, None) in pipe


async def test_export_baseline_scope_and_bad_input(runtime):
    seed(runtime.store)
    await ask(runtime, "管理员", "/export baseline")
    sheets = sheet_rows(runtime.console.delivered[-1].reply.file_path)
    rows = sheets["基线"]
    labels = [r[0] for r in rows[2:] if r and r[0]]
    assert "全公司" in labels and "张伟" in labels and "刘洋" in labels
    (text,) = await ask(runtime, "张伟", "/导出 漏斗 华南组")
    assert "没有权限" in text
    (text,) = await ask(runtime, "张伟", "/导出 报表")
    assert text.startswith("看不懂「报表」。用法：/导出"), text
    (text,) = await ask(runtime, "赵客服", "/导出 预测")
    assert "没有权限" in text


async def test_export_in_english(store, clock, config):
    from adapters.base import AdapterContext
    from adapters.console import ConsoleAdapter
    from bot.app import Runtime
    from prompts import Prompts

    config = dataclasses.replace(config, bot=dataclasses.replace(config.bot, locale="en"))
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts("en"))
    rt.add_sender("console", console.send)
    rt.console = console
    try:
        seed(store)
        texts = await ask(rt, "王经理", "/export pipeline health")
        assert "File written" in texts[-1]
        sheets = sheet_rows(console.delivered[-1].reply.file_path)
        assert list(sheets) == ["Health", "Pipeline"] and sheets["Pipeline"][1][0] == "Stage"
    finally:
        rt.close()


def test_report_cli_writes_the_same_workbook(tmp_path, capsys, config):
    db = tmp_path / "r.db"
    store = open_store(db)
    from bot.org import load_org_section

    load_org_section(store, config.org)
    seed(store)
    store.close()
    out = tmp_path / "report.xlsx"
    assert cli_main(["report", "--xlsx", str(out), "--db", str(db), "--what", "漏斗,健康度"]) == 0
    printed = capsys.readouterr().out
    assert "已写入" in printed and "漏斗" in printed
    sheets = sheet_rows(out)
    assert list(sheets) == ["健康度", "漏斗"]
    assert ("合计", 3, 670000, None, None, None, None) in sheets["漏斗"]  # the whole company
    assert cli_main(["report", "--xlsx", str(tmp_path / "t.xlsx"), "--db", str(db), "--scope", "华南组",
                     "--what", "预测"]) == 0
    fc = sheet_rows(tmp_path / "t.xlsx")["预测"]
    assert any(r and r[0] == "南方物流仓储" for r in fc) and not any(r and r[0] == "华东电网巡检" for r in fc)


def test_report_cli_refuses_bad_input_in_one_sentence(tmp_path, capsys):
    assert cli_main(["report", "--xlsx", str(tmp_path / "a.xlsx"), "--db", str(tmp_path / "missing.db")]) != 0
    err = capsys.readouterr().err
    assert "missing.db" in err and "Traceback" not in err
    db = tmp_path / "e.db"
    open_store(db).close()
    assert cli_main(["report", "--xlsx", str(tmp_path / "a.xlsx"), "--db", str(db), "--what", "报表"]) != 0
    assert "报表" in capsys.readouterr().err
    assert cli_main(["report", "--xlsx", str(tmp_path / "a.csv"), "--db", str(db)]) != 0
    assert ".xlsx" in capsys.readouterr().err


def test_report_cli_that_cannot_write_is_one_sentence(tmp_path, capsys):
    db = tmp_path / "e.db"
    open_store(db).close()
    (tmp_path / "taken.xlsx").mkdir()  # a folder where the file should go
    assert cli_main(["report", "--xlsx", str(tmp_path / "taken.xlsx"), "--db", str(db)]) == 2
    out, err = capsys.readouterr()
    assert "写不了" in err and "Traceback" not in out + err


def test_report_cli_as_of_a_given_time(tmp_path, config):
    db = tmp_path / "r.db"
    store = open_store(db)
    from bot.org import load_org_section

    load_org_section(store, config.org)
    seed(store)
    store.close()
    out = tmp_path / "at.xlsx"
    assert cli_main(["report", "--xlsx", str(out), "--db", str(db), "--what", "pipeline", "--at", "2026-03-02 10:00"]) == 0
    rows = sheet_rows(out)["漏斗"]
    assert rows[0][0].endswith("2026-03-02 10:00") and "2026-02-23" in rows[1][3]  # compared with a week before
