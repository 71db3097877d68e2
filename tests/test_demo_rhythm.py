"""Defect 15: the demo company works like a plausible team — about the spec's 4.7 effective actions per rep per
working day on average (it was ~18), a top seller well above it, a struggling rep well below — while the leads
outside the story still never go 72 h without activity (customers write between a busy rep's touches)."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest

from bot.demo import phrases
from bot.demo.activity import generate_activity, is_workday
from bot.demo.company import DAY, generate_company
from bot.events import CallRecord, Message
from handlers.conversation.classifier import classify


@pytest.fixture(scope="module")
def per_rep():
    company = generate_company(7)
    activity = generate_activity(company)
    reps = {p.id: p for p in company.with_role("rep")}
    since = company.now - 30 * DAY
    working_days = sum(1 for d in range(30) if is_workday(company.now - d * DAY))
    done = Counter()
    for feed in activity.feeds():
        ev = feed.event
        if ev is None or feed.at < since:
            continue
        if isinstance(ev, Message) and ev.actor.platform_id in reps and ev.kind != "recall":
            done[ev.actor.platform_id] += 1  # what the rep did: a message, a file, a voice note …
        elif isinstance(ev, CallRecord) and ev.actor.platform_id in reps:
            done[ev.actor.platform_id] += 1
    return company, {rid: done[rid] / working_days for rid in reps}


def test_actions_per_rep_per_day_look_like_a_real_team(per_rep):
    company, rates = per_rep
    assert 3.5 <= statistics.mean(rates.values()) <= 6.5, rates
    star = company.reps_of(company.teams[0].name)[0]  # the story's top seller
    assert rates[star.id] == max(rates.values()) and rates[star.id] >= 8.0, rates
    assert min(rates.values()) <= 2.5, rates  # someone is struggling
    middle = sorted(rates.values())[2:-2]
    assert all(2.0 <= r <= 8.0 for r in middle), sorted(rates.values())


def test_customers_check_ins_give_nothing_to_coach():
    for line in phrases.CUS_CHECK_IN:
        assert classify(line, "customer").labels == (), line
