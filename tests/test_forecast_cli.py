"""`salespulse forecast`: one forecast at any date from an export, per-deal output, reproducible draws, nothing after
the as-of date used, and one clear sentence for wrong arguments."""

from __future__ import annotations

import csv
import json
from datetime import date

import numpy as np
import pytest

from bot.cli import main as cli_main

MAPPING = """
[source]
timezone = "Asia/Shanghai"
date_formats = ["%Y-%m-%d"]

[columns]
id = "id"
owner = "owner"
product = "product"
stage = "stage"
created_at = "created"
closed_at = "closed"
amount = "amount"

[status]
won = "won"
lost = "lost"
open = "open"
"""


def _write(folder, rng_seed: int = 0, future_seed: int | None = None, cut: date = date(2024, 9, 15)) -> None:
    """240 deals through 2024; with `future_seed`, every outcome on or after `cut` is redrawn."""
    rng = np.random.default_rng(rng_seed)
    fut = np.random.default_rng(future_seed) if future_seed is not None else None
    lines = ["id,owner,product,stage,created,closed,amount"]
    for i in range(240):
        created = date(2024, 1, 1).toordinal() + int(rng.integers(0, 320))
        status = "won" if rng.random() < 0.5 else "lost"
        closed = created + int(rng.integers(5, 90))
        if closed > date(2024, 12, 31).toordinal():
            status = "open"
        if fut is not None and closed >= cut.toordinal():
            status = ("won", "lost", "open")[int(fut.integers(3))]
            closed = max(cut.toordinal(), created) + int(fut.integers(0, 100))
        closed_text = "" if status == "open" else date.fromordinal(closed).isoformat()
        lines.append(f"D{i},{['张伟', '李娜', '王芳'][i % 3]},{'AB'[i % 2]},{status},{date.fromordinal(created)},"
                     f"{closed_text},{10_000 + 100 * (i % 7)}")
    (folder / "deals.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "map.toml").write_text(MAPPING, encoding="utf-8")


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path)
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli_main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


BASE = ("forecast", "--deals", "deals.csv", "--map", "map.toml", "--draws", "2000")


def test_forecast_json_per_deal_csv_and_chinese_text(folder, capsys):
    code, out, _err = run(capsys, *BASE, "--as-of", "2024-09-15", "--json", "--deals-out", "per_deal.csv")
    assert code == 0
    fc = json.loads(out)
    assert fc["period"] == "2024-09" and fc["as_of"] == "2024-09-15"
    assert 0 <= fc["p10"] <= fc["p50"] <= fc["p90"] and fc["won_to_date"] > 0 and fc["open_deals"] > 0
    with (folder / "per_deal.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["商机编号", "商机名称", "赢单概率", "本期成交概率", "金额", "期望值"]
    assert len(rows) - 1 == fc["open_deals"]
    for r in rows[1:]:
        win, in_period, amount, expected = (float(x) for x in r[2:])
        assert 0 <= in_period <= 1 and 0 < win < 1 and expected == pytest.approx(in_period * amount, abs=amount * 5e-5 + 0.01)
    code, out, _err = run(capsys, *BASE, "--as-of", "2024-09-15", "--period", "quarter")
    assert code == 0 and out.startswith("2024Q3（截至 2024-09-15）：预计 ") and "随机种子" in out


def test_same_seed_same_numbers_other_seed_other_draws(folder, capsys):
    outs = [json.loads(run(capsys, *BASE, "--as-of", "2024-10-01", "--json", *extra)[1])
            for extra in ((), (), ("--seed", "7"))]
    assert outs[0] == outs[1]
    assert outs[2]["seed"] == 7 and (outs[2]["p10"], outs[2]["p90"]) != (outs[0]["p10"], outs[0]["p90"])


def test_nothing_after_the_as_of_date_moves_the_forecast(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    results = []
    for future in (None, 1, 2):
        _write(tmp_path, future_seed=future)
        code, out, _err = run(capsys, *BASE, "--as-of", "2024-09-15", "--json", "--deals-out", f"d{future}.csv")
        assert code == 0
        results.append((json.loads(out), (tmp_path / f"d{future}.csv").read_text(encoding="utf-8-sig")))
    for fc, per_deal in results[1:]:
        assert fc == results[0][0] and per_deal == results[0][1]


@pytest.mark.parametrize("extra,words", [
    (("--as-of", "2024/09/15"), "--as-of"), (("--as-of", "yesterday"), "--as-of"), (("--as-of", "2023-01-01"), "早于"),
    (("--as-of", "2024-09-15", "--period", "week"), "--period"), (("--as-of", "2024-09-15", "--seed", "x"), "--seed"),
    (("--as-of", "2024-09-15", "--draws", "5"), "--draws"), ((), "缺少 --as-of"),
])
def test_wrong_arguments_get_one_sentence(folder, capsys, extra, words):
    code, _out, err = run(capsys, *BASE, *extra)
    assert code == 2 and err.startswith("salespulse: ") and words in err and len(err.strip().splitlines()) == 1


def test_a_missing_mapping_is_one_sentence(folder, capsys):
    code, _out, err = run(capsys, "forecast", "--deals", "deals.csv", "--map", "nope.toml", "--as-of", "2024-09-15")
    assert code == 2 and "nope.toml" in err and len(err.strip().splitlines()) == 1


def test_help_is_chinese(capsys):
    with pytest.raises(SystemExit):
        cli_main(["forecast", "--help"])
    out = capsys.readouterr().out
    assert "预测日期" in out and "随机种子" in out
