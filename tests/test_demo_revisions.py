"""The demo's seeded revision history reads like what `/调整` accepts: every reason fits the change's direction."""

from __future__ import annotations

import random
from datetime import date

from bot.demo.company import Sizes, generate_company
from bot.demo.seed import seed_store
from handlers.forecast import demo_seed
from handlers.forecast.commands import reason_direction
from store import open_store
from store import revisions as rev_store


def _direction(field: str, old: str, new: str) -> str:
    if field == "close_date":
        a, b = date.fromisoformat(old), date.fromisoformat(new)
        return "down" if b > a else "up" if b < a else ""
    num = {"amount": lambda v: float(v.rstrip("万")), "probability": lambda v: float(v.rstrip("%"))}[field]
    a, b = num(old), num(new)
    return "up" if b > a else "down" if b < a else ""


def test_every_seeded_reason_fits_its_direction(tmp_path):
    company = generate_company(5, sizes=Sizes(customers=30, leads=40), days=10)
    store = open_store(tmp_path / "s.db")
    seed_store(store, company)
    demo_seed.seed(store, company, random.Random(7))
    revisions = rev_store.since(store, 0)
    assert len(revisions) >= 20
    directions = set()
    for r in revisions:
        going = _direction(r.field, r.old_value, r.new_value)
        directions.add(going)
        assert reason_direction(r.reason) in (going, ""), (r.field, r.old_value, r.new_value, r.reason)
    assert directions == {"up", "down"}  # both kinds of change are in the story
    store.close()


def test_a_drawn_reason_that_does_not_fit_is_replaced_by_one_that_does():
    assert demo_seed._fitting_reason("提前签约", "down", 0) != "提前签约"
    assert reason_direction(demo_seed._fitting_reason("提前签约", "down", 3)) in ("down", "")
    assert demo_seed._fitting_reason("预算削减", "down", 0) == "预算削减"
    assert demo_seed._fitting_reason("客户组织架构调整", "up", 0) == "客户组织架构调整"  # neutral fits both
