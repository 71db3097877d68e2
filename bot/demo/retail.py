"""The demo company's retail-chain division: 8 stores in 华东零售区, their managers and clerks, an area manager,
two weeks of POS figures and Wi-Fi probes, and a short story played through the real bot after the 90-day replay:

1. 静安寺店's receptions have been below 8 per person for two days; its clerks report 5 and 6 today → after closing,
   人效 turns red: the store manager gets the code, a fix card and the invitation pack with the video of the
   nearest store doing better. Nobody presses anything → 24 h later the area manager gets the escalation, once.
2. A 陆家嘴店 clerk sends a shelf photo with key products missing → 货效 red after closing, fix card; next morning
   the manager presses 已整改, is asked for a photo, sends a good one → the task closes and 货效 is green.
   (The photos come from the shelf checker's own generator; without handlers.stores.shelf this part is skipped.)
3. The area manager asks /门店排行 (ranking + stores × days chart), the store manager /门店 and /整改.

Everything is seeded from the demo seed: the same seed gives the same chapter. Inputs (what people type) live here,
like bot/demo/script.py; every reply comes from the bot.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bot.config import StoresSection
from handlers.stores import health, registry
from handlers.stores.registry import StoreSpec
from store import org as org_store
from store import stores as stores_store
from store.db import Store

AREA = "华东零售区"
STORE_TYPE = "标准店"
HOUR = 3_600_000
DAY = 24 * HOUR
HISTORY_DAYS = 14


@dataclass(frozen=True)
class DemoStore:
    id: str
    name: str
    lat: float
    lon: float
    manager: str
    clerks: tuple[str, str]
    per_person: float  # typical receptions per person per day
    video: bool = False


STORES = (
    DemoStore("r1", "南京西路店", 31.2290, 121.4580, "顾店长", ("林小雨", "许嘉怡"), 14.5, True),
    DemoStore("r2", "静安寺店", 31.2236, 121.4453, "韩店长", ("蒋小溪", "余思琪"), 11.0),
    DemoStore("r3", "徐家汇店", 31.1950, 121.4370, "潘店长", ("戴晓彤", "夏梦瑶"), 15.2, True),
    DemoStore("r4", "陆家嘴店", 31.2397, 121.4998, "范店长", ("钟雅婷", "汤可欣"), 13.1),
    DemoStore("r5", "五角场店", 31.2990, 121.5140, "崔店长", ("邹佳宁", "石晓萌"), 12.4),
    DemoStore("r6", "虹桥店", 31.1970, 121.3200, "邓店长", ("程思彤", "魏诗涵"), 12.8),
    DemoStore("r7", "七宝店", 31.1580, 121.3500, "傅店长", ("丁若曦", "薛雨桐"), 12.2),
    DemoStore("r8", "张江店", 31.2030, 121.5900, "沈店长", ("袁梓涵", "陶欣怡"), 13.6, True),
)
AREA_MANAGER = "贺区域经理"
STAFF_RED = "r2"  # 静安寺店: 人效 red after three days below 8
SHELF_STORE = "r4"  # 陆家嘴店: a shelf photo with missing key products


def seed_stores(store: Store, company, now_ms: int) -> dict[str, str]:
    """The stores, staff and area manager; person name → id."""
    taken = {p.name for p in company.people}
    specs = []
    for s in STORES:
        if s.manager in taken or any(c in taken for c in s.clerks):
            raise ValueError(f"demo store staff name collides with the company: {s.name}")
        specs.append(StoreSpec(s.id, s.name, AREA, STORE_TYPE, s.manager, s.clerks, "10:00", "22:00", "上海",
                               "Asia/Shanghai", s.lat, s.lon, f"https://video.example.cn/stores/{s.id}" if s.video else ""))
    with store.transaction():
        registry.save(store, specs, "demo", now_ms)
        stores_store.upsert_area(store, AREA, registry.person_id(store, AREA_MANAGER),
                                 "南京西路、陆家嘴商圈竞品均把体验台放在门口，主推低价套餐；我们的优势是体验区和售后")
    return {p.name: p.id for p in org_store.all_people(store) if p.id.startswith("store:")}


def seed_history(store: Store, today: str, rng: random.Random, now_ms: int) -> None:
    """14 days of POS receptions and Wi-Fi dwell before `today`, each day's code as the sweep would have stored it;
    静安寺店's last two days are below the red line."""
    cfg = StoresSection()
    with store.transaction():
        for back in range(HISTORY_DAYS, 0, -1):
            day = health.shift(today, -back)
            for s in STORES:
                staff = 3
                per = s.per_person * rng.uniform(0.85, 1.15)
                if s.id == STAFF_RED and back <= 2:
                    per = rng.uniform(6.0, 7.5)
                stores_store.put_receptions(store, s.id, day, "*", int(round(per * staff)), staff, "demo", now_ms)
                stores_store.put_dwell(store, s.id, day, round(rng.uniform(3.0, 4.6), 1), rng.randint(60, 140),
                                       "demo", now_ms)
                start, _ = health.day_bounds(day, "Asia/Shanghai")
                if back % 3 == 0:  # a shelf photo every few days, all key products in place
                    stores_store.add_shelf_check(store, s.id, day, start + 11 * HOUR, "", True, "",
                                                 round(rng.uniform(0.91, 0.99), 2), [], "", f"demo:{s.id}:{day}")
                for n in range(rng.randint(3, 6)):  # experiences: about a quarter buy, the rest got a care message
                    at = start + 11 * HOUR + n * 90 * 60_000
                    eid = stores_store.add_experience(store, s.id, at, "", f"顾客{s.id}{day[-2:]}{n}", "", None,
                                                      "demo", f"demo:{s.id}:{day}:{n}")
                    if rng.random() < 0.27:
                        stores_store.set_deal(store, eid, at + HOUR)
                    else:
                        stores_store.mark_cared(store, [eid], at + 3 * DAY)
        for back in range(HISTORY_DAYS, 0, -1):
            day = health.shift(today, -back)
            for s in STORES:
                row = stores_store.get_store(store, s.id)
                result = health.assess_day(store, row, day, cfg)
                stores_store.put_health(store, s.id, day, result.colour, result.to_dict(), now_ms)
                stores_store.claim_run(store, s.id, day, "health", now_ms)


def probes_for_day(day_start_ms: int, store_id: str, rng: random.Random) -> list[tuple[str, int, str, int]]:
    """A store's Wi-Fi probe records of one day: customers' visits of 1-8 minutes between 10:00 and 21:30, and two
    staff phones heard all day (the visit algorithm drops them)."""
    out = []
    for n in range(rng.randint(40, 70)):
        start = day_start_ms + 10 * HOUR + rng.randint(0, int(11.5 * HOUR))
        length = rng.randint(60_000, 8 * 60_000)
        device = f"{store_id}-c{n:03d}"
        for t in range(start, start + length + 1, 30_000):
            out.append((store_id, t, device, -rng.randint(45, 80)))
    for k in range(2):
        for t in range(day_start_ms + 10 * HOUR, day_start_ms + 22 * HOUR, 5 * 60_000):
            out.append((store_id, t, f"{store_id}-staff{k}", -50))
    return out


def shelf_photos(folder: Path, seed: int) -> tuple[Path, Path, Path] | None:
    """(planogram folder, a photo with missing key products, a correct photo) from the shelf checker's generator,
    or None when the shelf checker is not installed in this build."""
    try:
        from handlers.stores.shelf import generate
    except ImportError:
        return None
    shelf = generate.make_shelf(9000 + seed % 1000)
    generate.write_planogram(shelf, folder / STORE_TYPE)
    bad = good = None
    for k in range(200):  # deterministic: the first seeds whose truth is "a key product missing" / "all fine"
        photo = generate.photo(shelf, 7000 + k, size=(1600, 1200))
        if bad is None and "missing" in photo.truth.values():
            bad = photo
        elif good is None and not photo.truth:
            good = photo
        if bad is not None and good is not None:
            break
    if bad is None or good is None:
        return None
    out = folder.parent / "demo-photos"
    out.mkdir(parents=True, exist_ok=True)
    (out / "shelf-before.jpg").write_bytes(bad.jpeg)
    (out / "shelf-after.jpg").write_bytes(good.jpeg)
    return folder, out / "shelf-before.jpg", out / "shelf-after.jpg"


Say = Callable[[str, str], Awaitable[None]]


async def play(driver, say: Say, line: Callable[[str], None], t) -> None:
    """The chapter, from the demo's "now": seeds, then two and a half virtual days through the real bot."""
    rt, store, company = driver.runtime, driver.store, driver.company
    rng = random.Random(f"salespulse-demo:{company.seed}:retail")
    now = driver.clock.now_ms()
    today = health.local_day(now, "Asia/Shanghai")
    day_start, _ = health.day_bounds(today, "Asia/Shanghai")
    people = seed_stores(store, company, now)
    seed_history(store, today, rng, now)
    rt.services.directory.refresh()
    rt.media.register("console", driver.console.fetch_media)
    rt.scheduler.add_job("store_sweep", "*/10 * * * *")
    with store.transaction():
        for day in (today, health.shift(today, 1), health.shift(today, 2)):
            start, _ = health.day_bounds(day, "Asia/Shanghai")
            for s in STORES:
                stores_store.add_probes(store, probes_for_day(start, s.id, rng))
    line(t("stores.demo_chapter", area=AREA, n=len(STORES), manager=AREA_MANAGER))
    photos = shelf_photos(Path(rt.config.stores.planogram_dir), company.seed)
    red = next(s for s in STORES if s.id == STAFF_RED)
    shelf_store = next(s for s in STORES if s.id == SHELF_STORE)
    await driver_at(driver, day_start + 12 * HOUR)
    await say(people[red.clerks[0]], "/接待 5")
    await say(people[red.clerks[1]], "/接待 6")
    for s in STORES:
        if s.id != STAFF_RED:
            await say(people[s.clerks[0]], f"/接待 {int(round(s.per_person * rng.uniform(0.95, 1.2)))}")
    await say(people[shelf_store.clerks[0]], "/体验 蔡女士 13900001234")
    if photos:
        await say(people[shelf_store.clerks[0]], f"图片:{photos[1]}")
    await driver_at(driver, day_start + 22 * HOUR + 40 * 60_000)  # after closing: codes, fix cards, actions
    await driver_at(driver, day_start + DAY + 9 * HOUR + 30 * 60_000)  # next morning: the area digest went out
    if photos:
        card = last_fix_card(driver, people[shelf_store.manager], "shelf")
        if card is not None:
            await press(driver, say, people[shelf_store.manager], card, 0)
        await say(people[shelf_store.manager], f"图片:{photos[2]}")
    await say(people[red.manager], "/整改")
    await driver_at(driver, day_start + 2 * DAY + 0 * HOUR)  # 24 h after the red 人效 card: escalated once
    await say(people[AREA_MANAGER], f"/门店排行 {AREA}")
    await say(people[red.manager], "/门店")


async def driver_at(driver, at_ms: int) -> None:
    await driver.runtime.advance_to(max(at_ms, driver.clock.now_ms()))


def last_fix_card(driver, person_id: str, dimension: str):
    for item in reversed(driver.sent):
        if item.target.person_id == person_id and item.key.startswith("stores:fix:") and item.reply.buttons:
            if f"{dimension}" == "shelf" and "货效" in item.reply.title:
                return item.reply
            if dimension != "shelf":
                return item.reply
    return None


async def press(driver, say: Say, person_id: str, reply, index: int) -> None:
    """Press a card's button as the console does (type its number after the card)."""
    driver.console.last_buttons[person_id] = list(reply.buttons)
    await say(person_id, str(index + 1))
