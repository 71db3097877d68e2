"""The store-health sweep (Tick "store_sweep", every ten minutes) and the area managers' digest
(Tick "store_area_digest", daily).

Why per store and not at one fixed hour: a chain spans time zones and closing times (a mall store closes at 22:00,
a high-street one at 20:00, a store in Urumqi keeps Asia/Urumqi time). Each pass looks at every store's local
clock: once the store has been closed [stores] sweep_after_close_minutes, its day is assessed, stored, and the
store manager gets the code (and a fix card per red dimension); at [stores] morning_time the rainy-day pack goes
out when the day is a promotion day and the forecast says rain. `store_runs` makes every step once per store and
local day, so replayed or caught-up ticks do nothing twice. Escalations of late fix tasks are checked on every pass.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.events import Tick
from bot.replies import Reply
from bot.router import F, Router
from handlers.stores import fixes, health
from handlers.workcal import parse_hhmm
from store import stores as stores_store

log = logging.getLogger("salespulse.stores")
router = Router("stores.sweep")

JOB = "store_sweep"
DIGEST_JOB = "store_area_digest"
MARKS = {health.GREEN: "🟩", health.YELLOW: "🟨", health.ORANGE: "🟧", health.RED: "🟥", health.NONE: "⬜"}


def assess_and_store(ctx: Context, row: stores_store.StoreRow, day: str, now_ms: int) -> health.DayHealth:
    refresh_dwell(ctx, row, day, now_ms)
    result = health.assess_day(ctx.store, row, day, ctx.config.stores)
    stores_store.put_health(ctx.store, row.id, day, result.colour, result.to_dict(), now_ms)
    return result


def refresh_dwell(ctx: Context, row: stores_store.StoreRow, day: str, now_ms: int) -> None:
    """Turn the webhook's probe records into the day's visits and average dwell (handlers/stores/wifi.py). The week
    before is read too: staff phones are recognised by being heard most of the opening hours on most days."""
    start, end = health.day_bounds(day, row.timezone)
    if not stores_store.probes(ctx.store, row.id, start, end, limit=1):
        return
    from handlers.stores.importer import dwell_from_rows

    week, _ = health.day_bounds(health.shift(day, -6), row.timezone)
    records = [(row.id, at, device, rssi) for at, device, rssi in stores_store.probes(ctx.store, row.id, week, end)]
    dwell_from_rows(ctx.store, {row.id: row}, records, now_ms, ctx.config.stores.wifi)


def code_reply(ctx: Context, row: stores_store.StoreRow, result: health.DayHealth) -> Reply:
    fields = []
    for key in health.DIMENSIONS:
        dim = result.dims[key]
        fields.append((fixes.dim_name(ctx, key), f"{MARKS[dim.colour]} {ctx.t(f'stores.colour_{dim.colour}')} · "
                                                 f"{fixes.reason_text(ctx, dim)}"))
    text = ctx.t("stores.code_missing", dims=ctx.t("core.list_sep").join(fixes.dim_name(ctx, k) for k in result.missing)) \
        if result.missing else ""
    return Reply.card(ctx.t("stores.code_title", store=row.name, day=result.day, mark=MARKS[result.colour],
                            colour=ctx.t(f"stores.colour_{result.colour}")), text, fields)


def after_close(ctx: Context, row: stores_store.StoreRow, now_ms: int) -> None:
    """Assess yesterday's and today's local day once each has closed (a store closing after midnight, e.g. 10:00 to
    02:00, closes its day on the next date; looking at yesterday too catches up after downtime)."""
    zone = ZoneInfo(row.timezone)
    local = datetime.fromtimestamp(now_ms / 1000, zone)
    closes = parse_hhmm(row.closes, "closes")
    overnight = closes <= parse_hhmm(row.opens, "opens")
    wait = timedelta(minutes=ctx.config.stores.sweep_after_close_minutes)
    first_sweep = not stores_store.has_runs(ctx.store, row.id)
    for offset in (-1, 0):
        base = local.date() + timedelta(days=offset)
        close_dt = datetime.combine(base + timedelta(days=1 if overnight else 0), closes, tzinfo=zone)
        if local < close_dt + wait:
            continue
        day = base.isoformat()
        if not stores_store.claim_run(ctx.store, row.id, day, "health", now_ms) or (first_sweep and offset == -1):
            continue  # done already; or a day that closed before the bot knew the store (no "no data" code for it)
        result = assess_and_store(ctx, row, day, now_ms)
        for pid in fixes.recipients(ctx, row):
            ctx.notify(pid, code_reply(ctx, row, result), f"stores:code:{row.id}:{day}")
        fixes.open_for_day(ctx, row, result, now_ms)


def morning(ctx: Context, row: stores_store.StoreRow, now_ms: int) -> None:
    zone = ZoneInfo(row.timezone)
    local = datetime.fromtimestamp(now_ms / 1000, zone)
    at = parse_hhmm(ctx.config.stores.morning_time, "stores.morning_time")
    if local.time() < at:
        return
    day = local.date().isoformat()
    promotion = stores_store.promotion_on(ctx.store, day, row.id, row.area)
    if promotion is None or not row.city or ctx.config.weather.provider == "off":
        return
    if not stores_store.claim_run(ctx.store, row.id, day, "morning", now_ms):
        return
    for pid, _role in stores_store.staff_of(ctx.store, row.id):
        ctx.defer("stores.rainy_morning", {"store_id": row.id, "day": day, "promotion": promotion},
                  target=ctx.person_target(pid))


def sweep(ctx: Context, now_ms: int) -> None:
    for row in stores_store.all_stores(ctx.store):
        after_close(ctx, row, now_ms)
        morning(ctx, row, now_ms)
    fixes.escalate_due(ctx, now_ms)


@router.on(Tick, F(lambda event, ctx: event.job == JOB))
def on_sweep(event: Tick, ctx: Context) -> None:
    sweep(ctx, max(ctx.clock.now_ms(), event.due_at))


def area_digest(ctx: Context, area: str, due_ms: int) -> Reply | None:
    rows = [r for r in stores_store.all_stores(ctx.store) if r.area == area]
    if not rows:
        return None
    lines = []
    counts = dict.fromkeys(MARKS, 0)
    for row in rows:
        day = health.shift(health.local_day(due_ms, row.timezone), -1)
        colour = stores_store.health(ctx.store, [row.id], day, day).get((row.id, day), health.NONE)
        counts[colour] += 1
        open_n = len(stores_store.open_fixes(ctx.store, [row.id]))
        lines.append(ctx.t("stores.digest_line", mark=MARKS[colour], store=row.name,
                           colour=ctx.t(f"stores.colour_{colour}"), fixes=open_n))
    summary = ctx.t("core.list_sep").join(f"{MARKS[c]}{n}" for c, n in counts.items() if n)
    return Reply.card(ctx.t("stores.digest_title", area=area), "\n".join([summary, *lines, ctx.t("stores.digest_hint")]))


@router.on(Tick, F(lambda event, ctx: event.job == DIGEST_JOB))
def on_area_digest(event: Tick, ctx: Context) -> None:
    for area, (manager, _note) in sorted(stores_store.areas(ctx.store).items()):
        if not manager:
            continue
        reply = area_digest(ctx, area, event.due_at)
        if reply is not None:
            ctx.notify(manager, reply, f"stores:digest:{area}:{event.due_at}")


@router.job("stores.rainy_morning", context=True)
async def rainy_morning(payload: dict, jctx) -> list[Reply]:
    """On a promotion day, the store's city forecast (cached per city and day; the provider is asked in a worker
    thread); rain → the rainy-day script pack to this staff member. No answer from the provider → nothing sent."""
    from handlers.stores import actions
    from handlers.stores.weather import WeatherClient, WeatherError

    services = jctx.services
    row = stores_store.get_store(services.store, payload["store_id"])
    if row is None:
        return []
    day = payload["day"]
    hit = stores_store.cached_weather(services.store, row.city, day)
    if hit is not None:
        mm = hit[0]
    else:
        client = services.extras.get("stores.weather") or WeatherClient(services.config.weather, row.timezone)
        try:
            weather = await jctx.offload(client.fetch, row.city, day)
        except WeatherError as exc:
            log.warning("weather for %s on %s unknown: %s; no rainy-day pack", row.city, day, exc)
            return []
        with services.store.transaction():
            stores_store.cache_weather(services.store, row.city, day, weather.provider, weather.precipitation_mm,
                                       weather.summary, services.clock.now_ms())
        mm = weather.precipitation_mm
    if mm is None or mm < services.config.weather.rain_mm:
        return []
    t = services.prompts.t
    head = t("stores.rainy_title", store=row.name, city=row.city, mm=f"{mm:.1f}",
             promotion=payload.get("promotion") or t("stores.promotion_default"))
    return [Reply.plain(head + "\n" + actions.pack_text(services, "rainy"))]
