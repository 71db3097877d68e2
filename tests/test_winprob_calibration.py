"""The win model is trusted only as far as its past departures from the base rate came true (calibration.py):
measured on past month starts from what was known at the as-of date, asked what was settled since, and applied so
that /deal's coefficients still multiply to what it shows."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from bot.clock import to_ms
from bot.config import ForecastSection
from handlers.forecast import calibration, engine, model, winprob_eval
from store.deals import Deal, Details

TZ = ZoneInfo("Asia/Shanghai")
DAY = 86_400_000
CFG = ForecastSection()


def _deal(i: int, status: str, created: int, closed: int | None, owner: str = "r1", product: str = "A",
          **details) -> Deal:
    return Deal(id=f"D{i}", title=f"商机{i}", customer_id=f"c{i % 50}", customer_name="", customer_industry="",
                owner_id=owner, status=status, stage="", product=product, amount=100.0, created_at=created,
                expected_close_at=None, closed_at=closed, last_activity_at=None, details=Details(**details))


def _book(kind: str, seed: int) -> list[Deal]:
    """Two years of deals, 60 created a month, decided 5–120 days later. "none": every deal wins with 55 %, whatever
    its rep, product, age or month. "stopped": in the first year deals decided in a quarter's last month won 85 %,
    the others 35 %; in the second year every deal wins 55 % — the quarter-end pattern the model learned is gone."""
    rng = np.random.default_rng(seed)
    out = []
    for m in range(24):
        for _ in range(60):
            created = to_ms(datetime(2023 + m // 12, m % 12 + 1, int(rng.integers(1, 29)), tzinfo=UTC))
            closed = created + int(rng.integers(5, 120)) * DAY
            month = datetime.fromtimestamp(closed / 1000, UTC).month
            p = (0.85 if month % 3 == 0 else 0.35) if kind == "stopped" and m < 12 else 0.55
            out.append(_deal(len(out), "won" if rng.random() < p else "lost", created, closed,
                             owner=f"r{int(rng.integers(0, 12))}", product="AB"[int(rng.integers(0, 2))]))
    return out


@pytest.mark.parametrize(("kind", "seed"), [("stopped", 1), ("stopped", 2), ("stopped", 3), ("none", 3)])
def test_without_real_signal_the_probabilities_are_no_worse_than_the_base_rate(kind, seed):
    """Fails without the calibration: the model shows the learned pattern (or noise) with full confidence and
    scores 0.002–0.003 worse than the base rate (seed 3 without any signal: 0.0013 worse)."""
    deals = _book(kind, seed)
    dates = [to_ms(datetime(2024, m, 1, tzinfo=TZ)) for m in range(7, 13)]
    w = winprob_eval.evaluate(deals, dates, CFG, TZ)
    assert w["n"] > 500
    assert w["brier"] <= w["brier_base_rate"] + 0.0005
    last = engine.fit_models(winprob_eval.as_known_at(deals, dates[-1], {}), CFG, dates[-1], TZ).calibration
    assert last is not None and last.pairs > 500 and last.blend < 0.5


def test_a_model_whose_departures_came_true_is_kept():
    """History: approver met → 80 % won, not met → 20 %; the calibration measures that and keeps the model."""
    rng = np.random.default_rng(5)
    deals = []
    for i in range(1500):
        created = to_ms(datetime(2024, 1, 1, tzinfo=UTC)) + int(rng.integers(0, 330)) * DAY
        met = bool(rng.random() < 0.5)
        closed = created + int(rng.integers(5, 60)) * DAY
        deals.append(_deal(i, "won" if rng.random() < (0.8 if met else 0.2) else "lost", created, closed,
                           approver_met=met))
    t = to_ms(datetime(2024, 12, 1, tzinfo=TZ))
    models = engine.fit_models(winprob_eval.as_known_at(deals, t, {}), CFG, t, TZ)
    assert models.calibration.blend > 0.9
    assert models.calibration.base_rate == pytest.approx(calibration.base_rate(deals, t))


def test_the_past_is_asked_what_was_settled_since():
    """Wins come within 20 days, losses on day 90. A week-old deal: over its whole future 30 % (like the history),
    but if it is decided within the next 30 days it is nearly surely a win — the question a past cutoff 30 days
    back can answer."""
    rng = np.random.default_rng(1)
    t0 = to_ms(datetime(2025, 1, 1, tzinfo=UTC))
    history = []
    for i in range(300):
        c = t0 + int(rng.uniform(0, 200) * DAY)
        won = rng.random() < 0.3
        history.append(_deal(i, "won" if won else "lost", c, c + int((rng.uniform(1, 20) if won else 90) * DAY)))
    now = t0 + 400 * DAY
    fresh = _deal(1000, "open", now - 7 * DAY, None)
    raw = engine._fit_raw(history + [fresh], CFG, now, TZ)
    whole = float(engine.deal_probabilities(raw, [fresh]).probability[0])
    within = float(engine.probabilities_within(raw, [fresh], 30)[0])
    assert 0.2 < whole < 0.45 and within > 0.9


def test_the_blend_keeps_the_coefficients_multiplying_to_what_is_shown():
    closed = [_deal(i, "won" if i % 3 else "lost", i * DAY, (i + 5) * DAY, approver_met=bool(i % 2))
              for i in range(200)]
    m = dataclasses.replace(model.fit(closed, min_fit=30), blend=0.3, blend_to=0.6)
    d = _deal(999, "open", 0, None, approver_met=False, competitors=2)
    ex = m.explain(d)
    c = ex.coefficients
    assert ex.base * c["customer"] * c["project"] * c["rep"] == pytest.approx(ex.probability, abs=1e-12)
    raw = dataclasses.replace(m, blend=1.0).explain(d).probability
    assert ex.probability == pytest.approx(0.3 * raw + 0.7 * 0.6, abs=1e-12)
    many = m.explain_many([d], np.zeros(1), np.zeros(1))
    assert many.probability[0] == pytest.approx(ex.probability, abs=1e-12)


def test_past_cutoffs_are_the_month_starts_before_the_as_of_date():
    mid = to_ms(datetime(2025, 3, 15, 9, tzinfo=TZ))
    start = to_ms(datetime(2025, 3, 1, tzinfo=TZ))
    assert calibration.past_cutoffs(mid, TZ, 3) == [start, to_ms(datetime(2025, 2, 1, tzinfo=TZ)),
                                                    to_ms(datetime(2025, 1, 1, tzinfo=TZ))]
    assert calibration.past_cutoffs(start, TZ, 2) == [to_ms(datetime(2025, 2, 1, tzinfo=TZ)),
                                                      to_ms(datetime(2025, 1, 1, tzinfo=TZ))]
    assert calibration.past_cutoffs(to_ms(datetime(2025, 1, 10, tzinfo=TZ)), TZ, 2)[1] == \
        to_ms(datetime(2024, 12, 1, tzinfo=TZ))


def test_the_slope_is_shrunk_by_its_own_uncertainty():
    """van Houwelingen & le Cessie's factor 1 − se²/slope²: twice its error keeps three quarters, within one error of
    zero (or below zero) nothing; a certain slope is kept, clipped to 1."""
    assert calibration.shrunk_slope(0.5, 0.25) == pytest.approx(0.375)
    assert calibration.shrunk_slope(0.4, 0.4) == 0.0
    assert calibration.shrunk_slope(0.3, 0.5) == 0.0
    assert calibration.shrunk_slope(-0.2, 0.01) == 0.0
    assert calibration.shrunk_slope(0.8, 0.0) == pytest.approx(0.8)
    assert calibration.shrunk_slope(1.3, 0.1) == 1.0


def test_the_slope_error_counts_a_months_luck_once():
    """Deals decided after one past cutoff share that month's fortune. Copying every deal of every month (twice
    the deals, the same months) leaves the clustered error as it was — an error counting deals as independent
    would shrink by √2 and call the months' luck evidence."""
    rng = np.random.default_rng(7)
    devs = [rng.normal(0, 0.1, 200) for _ in range(5)]
    surprises = [0.3 * d + rng.normal(0, 0.05) + rng.normal(0, 0.45, len(d)) for d in devs]
    slope, se = calibration.cluster_slope(devs, surprises)
    d, r = np.concatenate(devs), np.concatenate(surprises)
    assert slope == pytest.approx(float(d @ r / (d @ d)))
    twice = calibration.cluster_slope([np.tile(x, 2) for x in devs], [np.tile(x, 2) for x in surprises])
    assert twice == pytest.approx((slope, se))
    naive = float(np.sqrt(np.sum((r - slope * d) ** 2) / (len(d) - 1) / (d @ d)))
    assert se > naive  # the months' shared luck is in it
    # nothing to measure: no departures, nothing shrunk
    assert calibration.cluster_slope([np.zeros(40)], [np.ones(40)]) == (1.0, 0.0)


def test_shrinking_makes_a_date_worse_than_the_base_rate_rarer_when_the_model_knows_nothing():
    """Simulated past months (a month's shock on every deal, departures with no signal): the blend fitted as
    measured ends worse than the base rate at the next date far more often than the shrunk one. Where the model does
    know something (true slope 1) shrinking costs almost nothing."""
    rng = np.random.default_rng(11)

    def trial(true_slope: float) -> tuple[float, float]:
        months = []
        for _ in range(5):
            d = rng.normal(0, 0.08, 300)
            p = np.clip(0.6 + true_slope * d + rng.normal(0, 0.04), 0.01, 0.99)
            months.append((d, (rng.random(300) < p) - 0.6))
        slope, se = calibration.cluster_slope([m[0] for m in months[:4]], [m[1] for m in months[:4]])
        d, r = months[4]
        base = float(np.mean(r ** 2))
        return (float(np.mean((r - np.clip(slope, 0, 1) * d) ** 2)) - base,
                float(np.mean((r - calibration.shrunk_slope(slope, se) * d) ** 2)) - base)

    noise = np.array([trial(0.0) for _ in range(300)])
    worse_fitted, worse_shrunk = (noise > 0).mean(axis=0)
    assert worse_shrunk < 0.6 * worse_fitted
    signal = np.array([trial(1.0) for _ in range(300)])
    assert signal[:, 1].mean() < 0.97 * signal[:, 0].mean() < 0  # gains kept (both negative: better than base)
