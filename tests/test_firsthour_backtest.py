"""`salespulse backtest` as a new admin runs it on their own small export (issue 13, defects 3 and 14): a start
outside the data or after the end is one sentence, never a traceback; a month with nothing forecast and nothing won
is not a hit for the interval; the table and summary read in Chinese."""

from __future__ import annotations

import pytest

from bot.cli import main as cli_main

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
HEAD = "商机编号,商机名称,负责人,客户,阶段,金额,创建日期,成交日期\n"
# Three small deals: won in January and March 2026; nothing at all happens in February's … and nothing open
ROWS = [
    "D1,甲,张伟,甲公司,赢单,100000,2025-10-01,2025-11-10",
    "D2,乙,张伟,乙公司,输单,50000,2025-10-05,2025-11-20",
    "D3,丙,李娜,丙公司,赢单,80000,2025-10-08,2025-12-15",
    "D4,丁,李娜,丁公司,赢单,60000,2025-12-01,2026-03-20",
]


@pytest.fixture
def deals(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "deals.csv"
    f.write_text(HEAD + "\n".join(ROWS) + "\n", encoding="utf-8")
    # generic.toml with only the columns this export has (what its header tells an admin to do)
    generic = (ROOT / "mappings" / "generic.toml").read_text(encoding="utf-8")
    keep = {"id", "title", "owner", "customer", "stage", "amount", "created_at", "closed_at"}
    lines = [ln for ln in generic.splitlines()
             if not ("=" in ln and ln.split("=")[0].strip() in _COLUMN_KEYS and ln.split("=")[0].strip() not in keep)]
    (tmp_path / "map.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f


_COLUMN_KEYS = {"id", "title", "owner", "customer", "industry", "product", "stage", "amount", "created_at",
                "expected_close_at", "closed_at", "intent_letter", "has_seal", "has_budget_range", "has_named_contact",
                "has_next_meeting", "intent_force", "decision_people", "decision_rank", "approver_met", "competitors",
                "tech_validation", "disputed_clauses", "legal_review", "payment_punctuality", "years_cooperation",
                "budget_share"}


def run(capsys, *argv):
    code = cli_main(["backtest", "--deals", "deals.csv", "--map", "map.toml",
                     "--draws", "300", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.mark.parametrize("argv", [("--start", "2029-01"), ("--start", "2026-03", "--end", "2026-01"),
                                  ("--end", "2019-01"), ("--start", "2026-13")])
def test_a_start_outside_the_data_or_after_the_end_is_one_sentence(deals, capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("salespulse: ") and len(err.strip().splitlines()) == 1


def test_empty_months_are_not_hits_and_the_table_is_chinese(deals, capsys):
    code, out, err = run(capsys, "--start", "2026-01", "--end", "2026-03", "--json")
    assert code == 0
    import json

    result = json.loads(out)
    feb = next(p for p in result["periods"] if p["period"].startswith("2026-02") or "02" in p["period"])
    assert feb["actual"] == 0
    assert feb["inside_p10_p90"] is not True  # nothing forecast, nothing won: not evidence the interval works
    code, out, err = run(capsys, "--start", "2026-01", "--end", "2026-03")
    assert code == 0
    assert "期间" in out and "准确率" in out and "平均准确率" in out
    assert "mean accuracy" not in out and "period" not in out
