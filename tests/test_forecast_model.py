"""Win model: empty and small histories, the intent-letter cap, explanation texts, calibration, simulation."""

from __future__ import annotations

import dataclasses

import numpy as np

from handlers.forecast import model
from handlers.forecast.simulate import simulate
from prompts import Prompts
from store.deals import Deal, Details


def deal(i: int, status: str = "open", industry: str = "教育", product: str = "XD-3", owner: str = "r1",
         **details) -> Deal:
    return Deal(id=f"L{i}", title=f"商机{i}", customer_id="c1", customer_name="客户", customer_industry=industry,
                owner_id=owner, status=status, stage="", product=product, amount=100_000.0, created_at=i,
                expected_close_at=None, closed_at=i + 10 if status != "open" else None, last_activity_at=None,
                details=Details(**details))


def test_empty_history_falls_back_to_prior_and_says_so():
    m = model.fit([], prior=0.25)
    ex = m.explain(deal(1))
    assert m.fallback and ex.fallback
    assert abs(ex.probability - 0.25) < 1e-9 and ex.contributions == []


def test_small_history_shrinks_toward_base_rate():
    closed = [deal(i, "won") for i in range(3)]  # 3 of 3 won: far from proof of a 100% rate
    m = model.fit(closed, prior=0.25, strength=20)
    p = m.explain(deal(9)).probability
    assert m.fallback  # too few closed deals with details to fit coefficients
    assert 0.25 < p < 0.6  # moved toward the history, but shrunk hard (3 deals are no proof of a 100% rate)


def test_intent_letter_missing_a_hard_condition_is_capped():
    m = model.fit([], prior=0.8)
    full = deal(1, intent_letter=True, has_seal=True, has_budget_range=True, has_named_contact=True,
                has_next_meeting=True)
    ex_full = m.explain(full)
    assert ex_full.probability > 0.35 and not ex_full.capped
    no_seal = deal(2, intent_letter=True, has_seal=False, has_budget_range=True, has_named_contact=True,
                   has_next_meeting=True)
    ex = m.explain(no_seal)
    assert ex.capped and ex.probability == 0.35 and ex.missing_conditions == ["seal"]
    assert model.fit([], prior=0.8, intent_cap=0.2).explain(no_seal).probability == 0.2
    # a manual override cannot lift the cap either
    over = dataclasses.replace(no_seal, details=dataclasses.replace(no_seal.details, probability_override=0.9))
    assert m.explain(over).probability == 0.35


def test_explanation_names_the_unmet_final_approver_in_plain_chinese():
    from handlers.forecast.commands import contribution_lines

    m = model.fit([], prior=0.4)
    ex = m.explain(deal(1, approver_met=False))
    assert ex.contributions[0][0] == "approver_met" and ex.contributions[0][1] < 0
    lines = contribution_lines(Prompts("zh-CN").t, ex)
    pct = round(abs(ex.contributions[0][1]) * 100)
    assert lines[0] == f"终审人尚未见面，权重扣减{pct}%"
    # coefficients multiply to the probability
    c = ex.coefficients
    assert abs(ex.base * c["customer"] * c["project"] * c["rep"] - ex.probability) < 1e-9


def test_fit_recovers_known_probabilities_calibration():
    rng = np.random.default_rng(1)
    closed = []
    for i in range(1500):
        met = bool(rng.random() < 0.5)
        tech = float(rng.random())
        true_logit = -0.6 + 1.4 * (1 if met else -1) * 0.5 + 1.2 * (tech - 0.5)
        won = rng.random() < 1 / (1 + np.exp(-true_logit))
        closed.append(deal(i, "won" if won else "lost", approver_met=met, tech_validation=tech))
    m = model.fit(closed, prior=0.3)
    assert not m.fallback
    preds, truth = [], []
    for i in range(2000):
        met = bool(rng.random() < 0.5)
        tech = float(rng.random())
        truth.append(1 / (1 + np.exp(-(-0.6 + 0.7 * (1 if met else -1) + 1.2 * (tech - 0.5)))))
        preds.append(m.explain(deal(10_000 + i, approver_met=met, tech_validation=tech)).probability)
    preds, truth = np.array(preds), np.array(truth)
    assert np.mean(np.abs(preds - truth)) < 0.04  # close to the known probabilities deal by deal
    for lo, hi in ((0, 0.3), (0.3, 0.5), (0.5, 1.0)):  # and calibrated band by band
        sel = (preds >= lo) & (preds < hi)
        assert sel.sum() > 100
        assert abs(preds[sel].mean() - truth[sel].mean()) < 0.04, (lo, hi)


def test_interval_is_calibrated_on_synthetic_portfolios():
    """Deals with known probabilities and a wandering period rate: P10–P90 holds the outcome ~80% of the time."""
    rng = np.random.default_rng(3)
    inside, trials = 0, 200
    p = rng.beta(2, 4, 300)
    amounts = np.exp(rng.normal(11, 0.8, 300))
    for _ in range(trials):
        shock = np.exp(rng.normal(-0.15 ** 2 / 2, 0.15))
        actual = float((rng.random(300) < np.minimum(p * shock, 1)) @ amounts)
        out = simulate(p, amounts, common_sd=0.15, new_mu=0, new_sd=0, draws=2000, rng=rng, exact_max=100)
        inside += out.p10 <= actual <= out.p90
    assert 0.72 <= inside / trials <= 0.88


def test_simulation_target_probability_and_exact_small_scope():
    rng = np.random.default_rng(0)
    out = simulate(np.array([1.0, 0.0]), np.array([100.0, 50.0]), common_sd=0.0, new_mu=0, new_sd=0, draws=500,
                   rng=rng, target=100.0)
    assert out.p10 == out.p50 == out.p90 == 100.0 and out.prob_target == 1.0 and out.confidence == 1.0


def test_vectorised_path_matches_the_per_deal_explanation():
    rng = np.random.default_rng(5)
    closed = [deal(i, "won" if rng.random() < 0.4 else "lost", approver_met=bool(rng.random() < 0.5),
                   tech_validation=float(rng.random()), competitors=int(rng.integers(0, 3))) for i in range(80)]
    m = model.fit(closed, prior=0.3, min_fit=30)
    assert not m.fallback
    open_deals = [deal(1000 + i, approver_met=[None, True, False][i % 3], tech_validation=[None, 0.2, 0.9][i % 3],
                       legal_review=["", "passed", "failed"][i % 3], intent_force=["", "框架共识", "法律约束"][i % 3],
                       payment_punctuality=[None, 0.5, 1.0][i % 3], intent_letter=i % 2 == 0, has_seal=i % 4 == 0,
                       probability_override=0.9 if i == 7 else None) for i in range(12)]
    att = np.linspace(-0.3, 0.3, 12)
    resp = np.array([0.0, 1.0, -1.0] * 4)
    many = m.explain_many(open_deals, att, resp)
    for i, d in enumerate(open_deals):
        one = m.explain(d, att[i], resp[i])
        assert abs(one.probability - many.probability[i]) < 1e-9
        assert bool(one.capped) == bool(many.capped[i])
        for name, change in one.contributions:
            assert abs(many.contributions[i, model.NAMES.index(name)] - change) < 1e-9


def test_every_feature_has_plain_chinese_texts():
    p = Prompts("zh-CN")
    for name in model.NAMES:
        for sign in ("plus", "minus"):
            assert p.has(f"forecast.f_{name}_{sign}"), name
