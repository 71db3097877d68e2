"""A small retail chain for the stores tests: two areas, three stores in two time zones, a store manager, clerks,
an area manager; a fake shelf checker at the boundary (the verdict a photo gets), photos as local files."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from bot.config import Config, JobSection, SchedulerSection, StoreAreaSection, StoreEntrySection, StoresSection

HOUR = 3_600_000
MINUTE = 60_000
DAY = 24 * HOUR


def chain_config(config: Config, data_dir: str, **stores: object) -> Config:
    section = StoresSection(
        areas=(StoreAreaSection(name="华东区", manager="区域王", competitor_note="对面商场新开两家竞品店，主推低价套餐"),
               StoreAreaSection(name="西北区", manager="区域王")),
        list=(StoreEntrySection(id="s1", name="南京西路店", area="华东区", type="饮料柜", manager="周店长",
                                clerks=("小美", "小刚"), city="上海", latitude=31.23, longitude=121.47),
              StoreEntrySection(id="s2", name="徐家汇店", area="华东区", type="饮料柜", manager="吴店长",
                                clerks=("小红",), city="上海", latitude=31.19, longitude=121.44,
                                video_url="https://video.example.cn/xujiahui"),
              StoreEntrySection(id="s3", name="乌鲁木齐店", area="西北区", type="饮料柜", manager="马店长",
                                timezone="Asia/Urumqi", city="乌鲁木齐")),
    )
    return dataclasses.replace(
        config,
        bot=dataclasses.replace(config.bot, data_dir=data_dir),
        scheduler=SchedulerSection(jobs=(JobSection(name="store_sweep", cron="*/10 * * * *"),)),
        stores=dataclasses.replace(section, **stores),
    )


@dataclass
class Verdict:
    registered: bool
    reason: str = ""
    exposure: float | None = None
    problems: list = field(default_factory=list)
    annotated_png: bytes | None = None


@dataclass
class Problem:
    product: str
    kind: str
    box: tuple[int, int, int, int]


class PlanogramError(Exception):
    pass


class FakeShelf:
    """check_photo reads the verdict from the photo's bytes (the boundary: what the CV would have said)."""

    PlanogramError = PlanogramError

    def __init__(self) -> None:
        self.checked = 0

    def load_planogram(self, folder):
        return str(folder)

    def check_photo(self, image: bytes, planogram):
        self.checked += 1
        kind = image.decode()
        if kind == "good":
            return Verdict(True, "", 0.96, [], b"\x89PNG fake")
        if kind == "bad":
            return Verdict(True, "", 0.5, [Problem("可乐", "missing", (10, 20, 30, 40)),
                                           Problem("雪碧", "misplaced", (50, 20, 30, 40))], b"\x89PNG fake")
        return Verdict(False, kind)


def sent_to(runtime, person_id: str, prefix: str = "") -> list:
    return [d for d in runtime.console.delivered if d.target.person_id == person_id and d.key.startswith(prefix)]
