"""The win probabilities `/deal` shows, scored at past as-of dates: the metrics, the model's censoring, rep and
details fixes, the leak guard, and that the backtest scores exactly what `/deal` shows. The real-data targets read
Maven and Olist in place from ../shared/data (skipped when absent)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from conftest import SHARED

from bot.clock import to_ms
from bot.config import ForecastSection
from handlers.forecast import dealfile, engine, model, winprob_eval
from handlers.forecast.importer import import_deals
from store import deals as deal_store
from store.deals import Deal, Details

ROOT = Path(__file__).resolve().parents[1]
MAVEN = SHARED / "data" / "maven_crm" / "sales_pipeline.csv"
OLIST = SHARED / "data" / "olist_marketing_funnel" / "olist_marketing_qualified_leads_dataset.csv"
TZ = ZoneInfo("Asia/Shanghai")
DAY = 86_400_000
T0 = to_ms(datetime(2025, 1, 1, tzinfo=UTC))
CFG = ForecastSection()


def deal(i: int, status: str, created_day: float, closed_day: float | None = None, owner: str | None = "r1",
         **details) -> Deal:
    return Deal(id=f"D{i}", title=f"商机{i}", customer_id="c", customer_name="客户", customer_industry="制造",
                owner_id=owner, status=status, stage="", product="P", amount=100.0, created_at=T0 + int(created_day * DAY),
                expected_close_at=None, closed_at=None if closed_day is None else T0 + int(closed_day * DAY),
                last_activity_at=None, details=Details(**details))


# ------------------------------------------------------------------ metrics

def test_scores_auc_and_reliability_by_hand():
    p = np.array([0.9, 0.8, 0.8, 0.3, 0.1])
    y = np.array([1.0, 1.0, 0.0, 0.0, 0.0])
    s = winprob_eval.scores(p, y, 0.5)
    assert s["brier"] == round(float(np.mean((p - y) ** 2)), 4) and s["brier_base_rate"] == 0.25
    assert s["brier_scored_share"] == round(0.4 * 0.6, 4)
    # 2 won × 3 lost pairs: won 0.9 beats all three; won 0.8 beats 0.3 and 0.1 and ties 0.8 → (3 + 2.5) / 6
    assert s["auc"] == round(5.5 / 6, 4)
    rel = winprob_eval.reliability(p, y)
    assert len(rel) == 10 and rel[8] == {"bin": "0.8-0.9", "n": 2, "mean_probability": 0.8, "won_share": 0.5}
    assert rel[9]["n"] == 1 and rel[2]["n"] == 0 and rel[2]["mean_probability"] is None
    assert winprob_eval.auc(p, np.ones(5)) is None


# ------------------------------------------------------------------ the model's fixes

def test_a_stale_open_deal_is_less_likely_to_win_when_history_says_wins_come_early():
    """History: wins within 20 days, everything else lost on day 90. Open at day 60 means the win window has
    passed: censoring-aware, its chance is far below a fresh deal's (closed deals alone say 30 % for both)."""
    rng = np.random.default_rng(1)
    history = []
    for i in range(300):
        c = float(rng.uniform(0, 200))
        won = rng.random() < 0.3
        history.append(deal(i, "won" if won else "lost", c, c + (rng.uniform(1, 20) if won else 90)))
    now_day = 400.0
    fresh, stale = deal(1000, "open", now_day - 3), deal(1001, "open", now_day - 60)
    m = engine.fit_models(history + [fresh, stale], CFG, T0 + int(now_day * DAY), TZ)
    p_fresh, p_stale = (engine.explain(m, d).probability for d in (fresh, stale))
    assert p_fresh > 0.2 and p_stale < 0.05
    # without an as-of date (closed deals only) both would get the same base rate
    plain = model.fit(history, min_fit=30)
    assert abs(plain.explain(fresh).probability - plain.explain(stale).probability) < 1e-9


def test_ownerless_deals_have_no_rep_and_are_not_pooled():
    closed = [deal(i, "won", i, i + 5, owner=None) for i in range(10)]
    reps = model.RepHistory(closed)
    assert reps.by_rep == {} and reps.attainment(deal(99, "open", 50, owner=None), 0.3) == 0.0
    ex = engine.explain(engine.fit_models(closed, CFG, T0 + 100 * DAY, TZ), deal(99, "open", 50, owner=None))
    assert ex.coefficients["rep"] == pytest.approx(1.0)


def test_imported_rows_without_detail_columns_do_not_count_as_having_details():
    assert not model.has_details(deal(1, "won", 0, 1, industry="制造", source="import:x.csv", customer_known=False))
    assert model.has_details(deal(1, "won", 0, 1, approver_met=False))
    assert model.has_details(deal(1, "won", 0, 1, tech_validation=0.5))
    closed = [deal(i, "won" if i % 2 else "lost", i, i + 5, source="import", approver_met=None) for i in range(80)]
    m = model.fit(closed, min_fit=30)
    assert m.fitted_on == 0 and not m.fallback  # plenty of history, but nothing to fit detail coefficients on
    details = [i for i, n in enumerate(model.NAMES) if model.FEATURES[n][0] != "rep"]
    assert list(m.beta[details]) == [model.FEATURES[model.NAMES[i]][1] for i in details]


def test_quarter_end_months_win_more_when_history_shows_it():
    """Deals decided in the last month of a quarter were mostly won, in other months mostly lost: an open deal
    just before a quarter-end month gets a higher chance than one just after it."""
    rng = np.random.default_rng(2)
    history, i = [], 0
    for month in range(1, 13):
        for _ in range(60):
            close = datetime(2024, month, int(rng.integers(1, 28)), tzinfo=UTC)
            c_ms = to_ms(close)
            won = rng.random() < (0.85 if month % 3 == 0 else 0.35)
            history.append(dataclasses.replace(deal(i, "won" if won else "lost", 0, 0),
                                               created_at=c_ms - 10 * DAY, closed_at=c_ms))
            i += 1
    before_qe = to_ms(datetime(2025, 3, 1, tzinfo=UTC))
    after_qe = to_ms(datetime(2025, 4, 1, tzinfo=UTC))
    d = dataclasses.replace(deal(5000, "open", 0), created_at=before_qe - 2 * DAY)
    d2 = dataclasses.replace(deal(5001, "open", 0), created_at=after_qe - 2 * DAY)
    p_before = engine.explain(engine.fit_models(history + [d], CFG, before_qe, TZ), d).probability
    p_after = engine.explain(engine.fit_models(history + [d2], CFG, after_qe, TZ), d2).probability
    assert p_before > p_after + 0.15


# ------------------------------------------------------------------ /deal shows exactly what is scored

def test_deal_command_model_is_the_one_the_backtest_scores(store, tmp_path):
    f = tmp_path / "deals.csv"
    rows = ["id,owner,product,stage,created,closed,amount"]
    rng = np.random.default_rng(4)
    for i in range(120):
        c = date(2024, 1, 1).toordinal() + int(rng.integers(0, 300))
        status = ("won", "lost", "open")[i % 3]
        closed = "" if status == "open" else date.fromordinal(c + int(rng.integers(3, 60))).isoformat()
        rows.append(f"L{i},{['张伟', '李娜', ''][i % 4 % 3]},{'AB'[i % 2]},{status},{date.fromordinal(c)},{closed},"
                    f"{1000 + i}")
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    mp = tmp_path / "map.toml"
    mp.write_text('[columns]\nid = "id"\nowner = "owner"\nproduct = "product"\nstage = "stage"\ncreated_at = "created"\n'
                  'closed_at = "closed"\namount = "amount"\n[status]\nwon = "won"\nlost = "lost"\nopen = "open"\n')
    parsed = dealfile.read(f, dealfile.load_mapping(mp))
    assert parsed.errors == []
    import_deals(store, parsed.deals, 0, str(f))
    now = to_ms(datetime(2025, 3, 1, tzinfo=UTC))
    listing = deal_store.listing(store)
    models = engine.build_models(store, listing, CFG, now, TZ)
    shown = {d.id: engine.explain(models, d).probability for d in listing if d.status == "open"}
    open_deals, scored = winprob_eval.probabilities_at(winprob_eval.deals_of(parsed.deals), now, CFG, TZ, {})
    assert len(shown) == len(open_deals) == 40
    for d, p in zip(open_deals, scored, strict=True):
        assert p == pytest.approx(shown[d.id], abs=1e-12)


# ------------------------------------------------------------------ real data

@pytest.fixture(scope="module")
def maven():
    if not MAVEN.is_file():
        pytest.skip(f"Maven CRM data not found at {MAVEN}")
    parsed = dealfile.read(MAVEN, dealfile.load_mapping(ROOT / "mappings" / "maven_crm.toml"))
    return parsed.deals


def _rewrite_future(deals: list[Deal], as_of: int, seed: int) -> list[Deal]:
    """Every outcome dated at or after `as_of` redrawn (won, lost or open forever, at a random later date, for a
    random value); deals created later dropped. What was known before `as_of` stays."""
    rng = np.random.default_rng(seed)
    out = []
    for d in deals:
        if d.created_at >= as_of:
            continue
        if d.status != "open" and d.closed_at is not None and d.closed_at < as_of:
            out.append(d)
            continue
        fate = ("won", "lost", "open")[int(rng.integers(3))]
        out.append(dataclasses.replace(d, status=fate, stage=fate,
                                       closed_at=None if fate == "open" else as_of + int(rng.integers(0, 200)) * DAY,
                                       amount=d.amount * float(rng.uniform(0.5, 1.5))))
    return out


@pytest.mark.parametrize("month", [date(2017, 7, 1), date(2017, 10, 1)])
def test_win_probabilities_ignore_everything_after_the_as_of_date(maven, month):
    deals = winprob_eval.deals_of(maven)
    amounts = {pd.row.id: pd.row.list_amount for pd in maven}
    as_of = to_ms(datetime(month.year, month.month, 1, tzinfo=TZ))
    real_deals, real = winprob_eval.probabilities_at(deals, as_of, CFG, TZ, amounts)
    real_cal = engine.fit_models(winprob_eval.as_known_at(deals, as_of, amounts), CFG, as_of, TZ).calibration
    # the calibration is really at work here: measured on the past months, it trusts the model only partly
    assert real_cal is not None and real_cal.pairs > 1000 and len(real_cal.cutoffs) >= 3
    assert 0.0 < real_cal.blend < 1.0 and all(t < as_of for t in real_cal.cutoffs)
    order = np.argsort([d.id for d in real_deals])
    for seed in (1, 2):
        future = _rewrite_future(deals, as_of, seed)
        fake_deals, fake = winprob_eval.probabilities_at(future, as_of, CFG, TZ, amounts)
        assert sorted(d.id for d in fake_deals) == sorted(d.id for d in real_deals)
        np.testing.assert_allclose(fake[np.argsort([d.id for d in fake_deals])], real[order], rtol=1e-12)
        engine._PAST.clear()  # the past refits recomputed, not taken from the cache
        fake_cal = engine.fit_models(winprob_eval.as_known_at(future, as_of, amounts), CFG, as_of, TZ).calibration
        assert fake_cal == real_cal


def test_maven_win_probabilities_beat_the_base_rate_overall(maven):
    w = winprob_eval.for_periods(maven, "month", date(2017, 6, 1), date(2017, 12, 1), TZ, CFG)
    assert len(w["by_as_of"]) == 7 and w["n"] > 6000
    assert w["brier"] < w["brier_base_rate"]
    assert w["auc"] > 0.53
    # the quarter-end months are where it clearly wins (June, September, December)
    by = {r["as_of"]: r for r in w["by_as_of"]}
    for label in ("2017-06", "2017-09", "2017-12"):
        assert by[label]["brier"] < by[label]["brier_base_rate"] - 0.005, label
    # elsewhere the blend, shrunk by its uncertainty, keeps it at the base rate or just below (the target:
    # better at every date). Without the shrinking November 2017 was 0.0002 worse; July passes by 0.0001 only.
    assert w["beats_base_rate_every_as_of"]
    assert all(r["beats_base_rate"] == (r["brier"] <= r["brier_base_rate"]) for r in w["by_as_of"])
    # where the model's past departures were mostly luck (July–November) it is trusted less than they measured
    for r in w["by_as_of"]:
        assert r["blend"] <= r["slope"] + 1e-9
        if r["as_of"] in ("2017-07", "2017-08", "2017-11"):
            assert r["blend"] < 0.5 * r["slope"] + 0.1, r


def test_maven_quarterly_win_probabilities_beat_the_base_rate_at_every_quarter_start(maven):
    w = winprob_eval.for_periods(maven, "quarter", date(2017, 4, 1), date(2017, 12, 1), TZ, CFG)
    assert [r["as_of"] for r in w["by_as_of"]] == ["2017Q2", "2017Q3", "2017Q4"]
    assert w["beats_base_rate_every_as_of"] and w["brier"] < w["brier_base_rate"]


def test_olist_win_probabilities_beat_the_base_rate_at_every_as_of_date():
    if not OLIST.is_file():
        pytest.skip(f"Olist data not found at {OLIST}")
    parsed = dealfile.read(OLIST, dealfile.load_mapping(ROOT / "mappings" / "olist_marketing_funnel.toml"))
    w = winprob_eval.for_periods(parsed.deals, "month", date(2018, 1, 1), date(2018, 10, 1), ZoneInfo("America/Sao_Paulo"),
                                 CFG)
    assert w["beats_base_rate_every_as_of"] and w["brier"] < 0.35 * w["brier_base_rate"]
    # the blend with the base rate costs a little against the share that knows the future (0.0198 vs 0.0197)
    assert w["brier"] < w["brier_scored_share"] + 0.0005
    # the blend is monotone: the ranking at each date is the model's own
    assert all(r["auc"] > 0.65 for r in w["by_as_of"] if r["auc"] is not None)
    assert sum(b["n"] for b in w["reliability"]) == w["n"]


def test_backtest_json_and_text_carry_the_win_probability_scores(maven, capsys):
    from bot.cli import main

    argv = ["backtest", "--deals", str(MAVEN), "--map", str(ROOT / "mappings" / "maven_crm.toml"), "--period", "month",
            "--start", "2017-11", "--end", "2017-12", "--draws", "500"]
    assert main([*argv, "--json"]) == 0
    import json

    w = json.loads(capsys.readouterr().out)["win_probability"]
    assert {"brier", "brier_base_rate", "log_loss", "auc", "reliability", "by_as_of"} <= set(w)
    assert [r["as_of"] for r in w["by_as_of"]] == ["2017-11", "2017-12"] and len(w["reliability"]) == 10
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "赢单概率" in text and f"Brier {w['brier']:.3f}" in text and "2017-12：" in text
