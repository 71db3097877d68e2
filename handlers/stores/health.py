"""The four-colour code (绿 / 黄 / 橙 / 红) of a store's day over 人效, 货效, 场效 and 转化.

Why it is built this way:
- `assess_*` are pure functions of the day's figures and the thresholds ([stores] in bot.toml), so the colour
  tables are tested without a database; `gather` reads the figures for one store and day (a handful of indexed
  reads) and `assess_day` puts both together.
- Between healthy and red a dimension is yellow in the upper half of the band and orange in the lower half
  (人效 12 → 10 → 8: yellow from 10, orange below 10). 人效 below the red line is orange until it has been below it
  for `receptions_red_days` days running (a day without figures breaks the run: it is not evidence either way).
- 转化 is red when an experience went `experience_deal_hours` (72 h) without a deal and nobody has sent the care
  message yet; otherwise the rate over the window decides (≥ healthy green, ≥ half of it yellow, below orange).
  Experiences younger than 72 h without a deal are not counted yet: they may still convert.
- A dimension without figures is "none" (无数据), never green. The overall colour is the worst colour among the
  dimensions with figures; if they are all green but some have no figures, the day is yellow (未知不等于健康);
  with no figures at all, the day is "none".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import to_ms
from bot.config import StoresSection
from store import stores as stores_store
from store.db import Store

GREEN, YELLOW, ORANGE, RED, NONE = "green", "yellow", "orange", "red", "none"
SEVERITY = {NONE: -1, GREEN: 0, YELLOW: 1, ORANGE: 2, RED: 3}
DIMENSIONS = ("staff", "shelf", "venue", "conversion")  # 人效, 货效, 场效, 转化
HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Dim:
    """One dimension's verdict: its colour, the reason (a prompt key under stores.reason_*) with its values, and
    the figures behind it."""

    dimension: str
    colour: str
    reason: str
    values: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"dimension": self.dimension, "colour": self.colour, "reason": self.reason, "values": self.values}


@dataclass(frozen=True)
class DayHealth:
    store_id: str
    day: str
    colour: str
    dims: dict[str, Dim]
    missing: tuple[str, ...]  # dimensions without figures

    def to_dict(self) -> dict[str, Any]:
        return {"colour": self.colour, "missing": list(self.missing),
                "dims": {k: d.to_dict() for k, d in self.dims.items()}}


def band(value: float, healthy: float, red: float) -> str:
    """green at/above healthy, red below red; between them yellow in the upper half, orange in the lower half."""
    if value >= healthy:
        return GREEN
    if value < red:
        return RED
    return YELLOW if value >= (healthy + red) / 2 else ORANGE


def assess_staff(per_person: Sequence[float | None], cfg: StoresSection) -> Dim:
    """`per_person`: receptions per person for consecutive days, the assessed day last (None = no figures)."""
    today = per_person[-1] if per_person else None
    if today is None:
        return Dim("staff", NONE, "no_receptions")
    values = {"value": round(today, 1), "healthy": cfg.receptions_healthy, "red": cfg.receptions_red}
    colour = band(today, cfg.receptions_healthy, cfg.receptions_red)
    if colour != RED:
        return Dim("staff", colour, "staff_ok" if colour == GREEN else "staff_low", values)
    run = 0
    for v in reversed(per_person):
        if v is None or v >= cfg.receptions_red:
            break
        run += 1
    values["days"] = run
    values["need"] = cfg.receptions_red_days
    if run >= cfg.receptions_red_days:
        return Dim("staff", RED, "staff_red", values)
    return Dim("staff", ORANGE, "staff_below_red", values)


def assess_shelf(exposure: float | None, problems: Sequence[dict], cfg: StoresSection) -> Dim:
    if exposure is None:
        return Dim("shelf", NONE, "no_photo")
    colour = band(exposure, cfg.exposure_healthy, cfg.exposure_red)
    values = {"value": f"{exposure * 100:.0f}%", "healthy": f"{cfg.exposure_healthy * 100:.0f}%",
              "red": f"{cfg.exposure_red * 100:.0f}%", "problems": len(problems)}
    return Dim("shelf", colour, "shelf_ok" if colour == GREEN else "shelf_low", values)


def assess_venue(avg_minutes: float | None, visits: int, cfg: StoresSection) -> Dim:
    if avg_minutes is None:
        return Dim("venue", NONE, "no_dwell")
    colour = band(avg_minutes, cfg.dwell_healthy_min, cfg.dwell_red_min)
    values = {"value": f"{avg_minutes:.1f}", "healthy": cfg.dwell_healthy_min, "red": cfg.dwell_red_min,
              "visits": visits}
    return Dim("venue", colour, "venue_ok" if colour == GREEN else "venue_low", values)


def assess_conversion(matured: int, converted: int, overdue: int, cfg: StoresSection) -> Dim:
    """`matured`: experiences of the window that got a deal or are older than the deal window; `converted`: those
    with a deal; `overdue`: those past the deal window without a deal and without a care message."""
    values = {"deals": converted, "experiences": matured, "overdue": overdue,
              "healthy": f"{cfg.conversion_healthy * 100:.0f}%", "hours": cfg.experience_deal_hours}
    if overdue:
        return Dim("conversion", RED, "conversion_overdue", values)
    if matured == 0:
        return Dim("conversion", NONE, "no_experiences")
    rate = converted / matured
    values["value"] = f"{rate * 100:.0f}%"
    if rate >= cfg.conversion_healthy:
        return Dim("conversion", GREEN, "conversion_ok", values)
    return Dim("conversion", YELLOW if rate >= cfg.conversion_healthy / 2 else ORANGE, "conversion_low", values)


def overall(store_id: str, day: str, dims: dict[str, Dim]) -> DayHealth:
    measured = [d for d in dims.values() if d.colour != NONE]
    missing = tuple(k for k in DIMENSIONS if k in dims and dims[k].colour == NONE)
    if not measured:
        return DayHealth(store_id, day, NONE, dims, missing)
    worst = max(measured, key=lambda d: SEVERITY[d.colour]).colour
    if worst == GREEN and missing:
        worst = YELLOW
    return DayHealth(store_id, day, worst, dims, missing)


# ---------------------------------------------------------------- reading the figures


def local_day(ms: int, tz: str) -> str:
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(tz)).date().isoformat()


def day_bounds(day: str, tz: str) -> tuple[int, int]:
    d = date.fromisoformat(day)
    zone = ZoneInfo(tz)
    return (to_ms(datetime.combine(d, time(0), tzinfo=zone)),
            to_ms(datetime.combine(d + timedelta(days=1), time(0), tzinfo=zone)))


def shift(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def per_person_series(store: Store, store_id: str, day: str, days: int) -> list[float | None]:
    first = shift(day, -(days - 1))
    rec = stores_store.receptions(store, store_id, first, day)
    out: list[float | None] = []
    for i in range(days):
        d = shift(first, i)
        r = rec.get(d)
        out.append(r[0] / r[1] if r and r[1] else None)
    return out


def conversion_counts(store: Store, row: stores_store.StoreRow, day: str, cfg: StoresSection) -> tuple[int, int, list]:
    """(matured, converted, overdue experiences) as of the end of `day`."""
    _start, end = day_bounds(day, row.timezone)
    since, _ = day_bounds(shift(day, -(cfg.conversion_window_days - 1)), row.timezone)
    window_ms = cfg.experience_deal_hours * HOUR_MS
    matured = converted = 0
    overdue = []
    for e in stores_store.experiences(store, row.id, since - window_ms, end):
        deal = e.deal_at is not None and e.deal_at < end
        ripe = e.at + window_ms <= end
        if e.at >= since and (deal or ripe):
            matured += 1
            converted += deal
        if ripe and not deal and e.cared_at is None:
            overdue.append(e)
    return matured, converted, overdue


def assess_day(store: Store, row: stores_store.StoreRow, day: str, cfg: StoresSection) -> DayHealth:
    staff = assess_staff(per_person_series(store, row.id, day, max(cfg.receptions_red_days, 1)), cfg)
    shelf_row = stores_store.latest_shelf(store, row.id, day, day).get(day)
    shelf = assess_shelf(shelf_row.exposure if shelf_row else None, shelf_row.problems if shelf_row else (), cfg)
    dwell = stores_store.dwell(store, row.id, day, day).get(day)
    venue = assess_venue(dwell[0] if dwell else None, dwell[1] if dwell else 0, cfg)
    matured, converted, overdue = conversion_counts(store, row, day, cfg)
    conversion = assess_conversion(matured, converted, len(overdue), cfg)
    return overall(row.id, day, {"staff": staff, "shelf": shelf, "venue": venue, "conversion": conversion})
