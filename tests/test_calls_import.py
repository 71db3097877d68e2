"""`salespulse import calls FILE.csv [--map mapping.toml]`: good rows into the inbox, bad rows reported with their
line numbers, re-imports deduplicated, mapping files for Chinese exports (headers, 已接/未接, 呼入/呼出, GBK)."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from bot.errors import BadPayload
from bot.import_calls import CallMapping, import_calls_csv, load_mapping
from prompts import Prompts
from store import inbox as inbox_store
from store import open_store

NOW = 1772450000000

GOOD_AND_BAD = """call_id,started_at,direction,rep,customer_phone,answered,duration_s
C-1,2026-03-02 09:15:00,inbound,8001,13911112222,false,0
C-2,2026-03-02 09:20:00,sideways,8001,13911112222,true,30
C-3,2026-03-02T09:25:00+08:00,outbound,张伟,13911112222,yes,492
,2026-03-02 09:30:00,inbound,8001,13911112222,no,0
C-5,not a time,inbound,8001,13911112222,no,0
C-6,2026/3/2 9:40,in,r1,+86 139-1111-2222,,0
C-7,2026-03-02 09:45:00,out,r1,13911112222,,8:12
"""

CHINESE = """话单编号,开始时间,呼叫类型,坐席工号,客户号码,接听状态,通话时长
HD-1,2026年3月2日 09:15:00,呼入,8001,13911112222,未接,0
HD-2,2026年3月2日 09:50:00,呼出,8001,13911112222,已接,8分12秒
HD-3,2026年3月2日 10:00:00,呼入,8001,13911112222,占线,0
"""

MAPPING = """
[columns]
call_id = "话单编号"
started_at = "开始时间"
direction = "呼叫类型"
rep = "坐席工号"
customer_phone = "客户号码"
answered = "接听状态"
duration_s = "通话时长"

[values.answered]
"占线" = false

[options]
timezone = "Asia/Shanghai"
"""


def events(store) -> list[dict]:
    return [json.loads(r.event) for r in inbox_store.pending(store, 100)]


def test_good_rows_imported_bad_rows_named_by_line(tmp_path, store):
    path = tmp_path / "calls.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    result = import_calls_csv(store, path, CallMapping(), "Asia/Shanghai", NOW)
    assert result.imported == 4 and result.duplicates == 0
    assert [e.split("：", 1)[0] for e in result.errors] == [f"{path}:3", f"{path}:5", f"{path}:6"]
    assert "direction" in result.errors[0] and "缺少 call_id" in result.errors[1] and "started_at" in result.errors[2]
    by_id = {e["event_id"]: e for e in events(store)}
    assert set(by_id) == {"telephony:C-1", "telephony:C-3", "telephony:C-6", "telephony:C-7"}
    assert by_id["telephony:C-1"]["occurred_at"] == by_id["telephony:C-3"]["occurred_at"] - 10 * 60_000
    assert by_id["telephony:C-3"]["duration_s"] == 492 and by_id["telephony:C-3"]["answered"] is True
    assert by_id["telephony:C-6"]["answered"] is False  # empty answered + 0 s = not answered
    assert by_id["telephony:C-6"]["customer_phone"] == "13911112222"
    assert by_id["telephony:C-7"]["answered"] is True and by_id["telephony:C-7"]["direction"] == "outbound"


def test_reimport_adds_nothing(tmp_path, store):
    path = tmp_path / "calls.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    import_calls_csv(store, path, CallMapping(), "Asia/Shanghai", NOW)
    again = import_calls_csv(store, path, CallMapping(), "Asia/Shanghai", NOW + 1)
    assert again.imported == 0 and again.duplicates == 4
    assert inbox_store.counts(store) == {"pending": 4}


def test_mapping_file_for_a_chinese_gbk_export(tmp_path, store):
    path = tmp_path / "话单.csv"
    path.write_bytes(CHINESE.encode("gbk"))
    mapping_path = tmp_path / "map.toml"
    mapping_path.write_text(MAPPING, encoding="utf-8")
    result = import_calls_csv(store, path, load_mapping(mapping_path), "UTC", NOW)
    assert result.errors == [] and result.imported == 3
    hd1, hd2, hd3 = events(store)
    assert hd1["direction"] == "inbound" and hd1["answered"] is False
    assert hd1["occurred_at"] == 1772414100000  # 09:15 in Asia/Shanghai from the mapping, not UTC
    assert hd2["direction"] == "outbound" and hd2["answered"] is True and hd2["duration_s"] == 492
    assert hd3["answered"] is False  # "占线" mapped


def test_missing_columns_name_the_mapping(tmp_path, store):
    path = tmp_path / "calls.csv"
    path.write_text(CHINESE, encoding="utf-8")
    with pytest.raises(BadPayload) as info:
        import_calls_csv(store, path, CallMapping(), "Asia/Shanghai", NOW)
    assert f"{path}:1：缺少列 call_id, started_at, direction, customer_phone" in str(info.value)
    assert "--map" in str(info.value)


@pytest.mark.parametrize("text, needle", [
    ("[colums]\ncall_id = 'x'\n", "unknown table [colums]"),
    ("[columns]\ncaller = 'x'\n", "[columns] caller: unknown field"),
    ("[values.rep]\n'x' = 'y'\n", "[values.rep]"),
    ("[options]\ndelimiter = ';;'\n", "delimiter"),
    ("[columns\n", "not valid TOML"),
])
def test_bad_mapping_files(tmp_path, text, needle):
    path = tmp_path / "map.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BadPayload) as info:
        load_mapping(path)
    assert needle in str(info.value) and str(path) in str(info.value)


def test_cli_reports_lines_and_exit_code(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # built-in defaults, not the project's bot.toml
    path = tmp_path / "calls.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    db = tmp_path / "cli.db"
    assert main(["import", "calls", str(path), "--db", str(db)]) == 1
    out, err = capsys.readouterr()
    assert "导入 4 条通话" in out and "跳过 3 行坏数据" in out
    assert f"{path}:5：缺少 call_id；已跳过" in err
    assert main(["import", "calls", str(path), "--db", str(db)]) == 1
    assert "导入 0 条通话" in capsys.readouterr().out
    store = open_store(db)
    try:
        assert inbox_store.counts(store) == {"pending": 4}
    finally:
        store.close()
    mapping = tmp_path / "m.toml"
    mapping.write_text("[columns]\nnope = 'x'\n", encoding="utf-8")
    assert main(["import", "calls", str(path), "--map", str(mapping), "--db", str(db)]) == 2
    assert "[columns] nope：不认识的字段" in capsys.readouterr().err


async def test_imported_calls_escalate_only_the_unreturned_one(runtime, store, tmp_path):
    """CSV → inbox → dispatcher → sweep: the number that got a callback is quiet, the other one alerts."""
    from conftest import T0  # 2026-03-02 09:00 Shanghai

    path = tmp_path / "today.csv"
    path.write_text(
        "call_id,started_at,direction,rep,customer_phone,answered,duration_s\n"
        "D-1,2026-03-02 09:00:00,inbound,张伟,13911112222,未接,0\n"
        "D-2,2026-03-02 09:05:00,inbound,张伟,13700001111,未接,0\n"
        "D-3,2026-03-02 09:20:00,outbound,李娜,13911112222,未接,0\n", encoding="utf-8")
    await runtime.settle()
    result = import_calls_csv(store, path, CallMapping(), "Asia/Shanghai", T0)
    assert result.imported == 3
    await runtime.advance_to(T0 + 60 * 60_000)
    alerts = [d for d in runtime.console.delivered if d.key.startswith("missed-call:")]
    assert sorted(d.target.person_id for d in alerts) == ["cs1", "m1", "r1"]
    assert all("13700001111" in d.text for d in alerts)


def test_rows_dated_after_now_are_refused_by_line(tmp_path, store):
    """A mistyped year (2062) or an export in another timezone would make the lead look active until then, so it
    would never be reported silent: such rows are named and skipped; a PBX clock a few minutes ahead is fine."""
    path = tmp_path / "future.csv"
    path.write_text(
        "call_id,started_at,direction,rep,customer_phone,answered,duration_s\n"
        "F-1,2026-03-02 09:15:00,inbound,8001,13911112222,未接,0\n"
        "F-2,2062-03-02 09:15:00,outbound,8001,13911112222,已接,60\n"
        "F-3,2026-03-02T11:23:20Z,outbound,8001,13911112222,已接,60\n"  # NOW + 10 min: clock drift, kept
        "F-4,2026-03-03 09:15:00,outbound,8001,13911112222,已接,60\n", encoding="utf-8")
    result = import_calls_csv(store, path, CallMapping(), "Asia/Shanghai", NOW)
    assert [e.split("：", 1)[0] for e in result.errors] == [f"{path}:3", f"{path}:5"]
    assert "晚于现在" in result.errors[0] and "时区" in result.errors[0]
    english = import_calls_csv(store, path, CallMapping(), "Asia/Shanghai", NOW, dry_run=True, t=Prompts("en").t)
    assert "later than now" in english.errors[0] and "timezone" in english.errors[0]
    assert {e["event_id"] for e in events(store)} == {"telephony:F-1", "telephony:F-3"}


def test_a_folder_instead_of_a_file_is_a_short_answer(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["import", "calls", str(tmp_path), "--db", str(tmp_path / "cli.db")]) == 2
    err = capsys.readouterr().err
    assert "无法读取" in err and "Traceback" not in err
