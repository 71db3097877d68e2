"""The four-colour code as tables: each dimension's bands, 人效's three days running, 转化's 72 h rule, and the
overall colour (worst measured; missing data never green)."""

from __future__ import annotations

import pytest

from bot.config import StoresSection
from handlers.stores import health as h

CFG = StoresSection()


@pytest.mark.parametrize(("series", "colour", "reason"), [
    ([12.0], h.GREEN, "staff_ok"),
    ([20.0, 5.0, 12.0], h.GREEN, "staff_ok"),
    ([11.9], h.YELLOW, "staff_low"),
    ([10.0], h.YELLOW, "staff_low"),
    ([9.9], h.ORANGE, "staff_low"),
    ([8.0], h.ORANGE, "staff_low"),
    ([7.9], h.ORANGE, "staff_below_red"),  # below red one day: not yet red
    ([7.0, 7.9], h.ORANGE, "staff_below_red"),
    ([7.0, 7.0, 7.9], h.RED, "staff_red"),  # three days running
    ([9.0, 7.0, 7.9], h.ORANGE, "staff_below_red"),
    ([7.0, None, 7.0, 7.9], h.ORANGE, "staff_below_red"),  # a day without figures breaks the run
    ([None], h.NONE, "no_receptions"),
    ([], h.NONE, "no_receptions"),
    ([7.0, 7.0, None], h.NONE, "no_receptions"),
])
def test_staff(series, colour, reason):
    dim = h.assess_staff(series, CFG)
    assert (dim.colour, dim.reason) == (colour, reason)


def test_staff_red_days_configurable():
    cfg = StoresSection(receptions_red_days=1)
    assert h.assess_staff([7.0], cfg).colour == h.RED


@pytest.mark.parametrize(("exposure", "colour"), [
    (1.0, h.GREEN), (0.90, h.GREEN), (0.89, h.YELLOW), (0.80, h.YELLOW), (0.79, h.ORANGE), (0.70, h.ORANGE),
    (0.69, h.RED), (0.0, h.RED), (None, h.NONE),
])
def test_shelf(exposure, colour):
    assert h.assess_shelf(exposure, [], CFG).colour == colour


@pytest.mark.parametrize(("minutes", "colour"), [
    (3.2, h.GREEN), (5.0, h.GREEN), (3.19, h.YELLOW), (2.85, h.YELLOW), (2.84, h.ORANGE), (2.5, h.ORANGE),
    (2.49, h.RED), (None, h.NONE),
])
def test_venue(minutes, colour):
    assert h.assess_venue(minutes, 10, CFG).colour == colour


@pytest.mark.parametrize(("matured", "converted", "overdue", "colour"), [
    (10, 2, 0, h.GREEN),  # 20 %
    (100, 18, 0, h.GREEN),
    (100, 17, 0, h.YELLOW),
    (100, 9, 0, h.YELLOW),
    (100, 8, 0, h.ORANGE),
    (10, 5, 1, h.RED),  # an experience 72 h without a deal and without care: red whatever the rate
    (0, 0, 0, h.NONE),
    (0, 0, 2, h.RED),
])
def test_conversion(matured, converted, overdue, colour):
    assert h.assess_conversion(matured, converted, overdue, CFG).colour == colour


def _dims(**colours):
    return {k: h.Dim(k, colours.get(k, h.NONE), "x") for k in h.DIMENSIONS}


@pytest.mark.parametrize(("colours", "overall"), [
    ({"staff": h.GREEN, "shelf": h.GREEN, "venue": h.GREEN, "conversion": h.GREEN}, h.GREEN),
    ({"staff": h.GREEN, "shelf": h.GREEN, "venue": h.GREEN}, h.YELLOW),  # one without data: never green
    ({"staff": h.GREEN, "shelf": h.RED}, h.RED),
    ({"staff": h.YELLOW, "shelf": h.ORANGE, "venue": h.GREEN, "conversion": h.GREEN}, h.ORANGE),
    ({}, h.NONE),
])
def test_overall(colours, overall):
    result = h.overall("s1", "2026-03-02", _dims(**colours))
    assert result.colour == overall
    assert set(result.missing) == {k for k in h.DIMENSIONS if k not in colours}
