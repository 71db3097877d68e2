"""The backtest on the public Maven CRM data (read in place from ../shared/data/maven_crm)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import SHARED

MAVEN = SHARED / "data" / "maven_crm" / "sales_pipeline.csv"
MAPPING = Path(__file__).resolve().parents[1] / "mappings" / "maven_crm.toml"
pytestmark = pytest.mark.skipif(not MAVEN.is_file(), reason=f"Maven CRM data not found at {MAVEN}")


@pytest.fixture(scope="module")
def result():
    from handlers.forecast import backtest, dealfile
    from handlers.forecast.book import Book

    parsed = dealfile.read(MAVEN, dealfile.load_mapping(MAPPING))
    assert parsed.errors == []
    book = Book.from_rows(d.row for d in parsed.deals if d.has_created)
    return backtest.run(book, "month", date(2017, 6, 1), date(2017, 12, 1), ZoneInfo("Asia/Shanghai"),
                        backtest.Settings())  # the CLI default: 10 000 draws


def test_backtest_meets_targets(result):
    s = result["summary"]
    assert len(result["periods"]) == 7
    assert s["mean_accuracy"] >= 0.85
    assert sum(p["inside_p10_p90"] for p in result["periods"]) >= 5
    assert s["mean_interval_width_ratio"] <= 0.5
    assert result["baselines"]["stage_weighted"]["mean_accuracy"] < s["mean_accuracy"]
    assert result["baselines"]["last_period"]["mean_accuracy"] < s["mean_accuracy"]


def test_no_future_leaks_into_a_snapshot(result):
    """Each period's history stops before it: the first backtest month learns from March–May only."""
    first = result["periods"][0]
    assert first["period"] == "2017-06" and first["history_periods"] == 3
    assert all(p["p10"] <= p["p50"] <= p["p90"] for p in result["periods"])


def test_cli_json_shape(capsys):
    from bot.cli import main

    assert main(["backtest", "--deals", str(MAVEN), "--map", str(MAPPING), "--period", "month", "--start", "2017-11",
                 "--end", "2017-12", "--draws", "500", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"periods", "summary", "baselines"}
    assert set(out["summary"]) == {"mean_accuracy", "median_accuracy", "coverage_p10_p90", "mean_interval_width_ratio"}
    assert set(out["baselines"]) == {"stage_weighted", "last_period"}
    assert {"period", "p50", "p10", "p90", "actual", "accuracy"} <= set(out["periods"][0])
