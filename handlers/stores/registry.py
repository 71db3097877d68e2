"""Stores and areas as data: from bot.toml ([[stores.list]], [[stores.areas]]) or `salespulse import stores`.

People are named by person id or by name. A name the org directory does not know becomes a person (id
"store:<name>", role colleague, department 门店) so a chain can list its clerks without importing an org CSV first;
they then talk to the bot in the console by name, or get their platform ids through the nightly org sync.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import StoreEntrySection, StoresSection
from bot.errors import ConfigError
from handlers.workcal import parse_hhmm
from prompts import Keyed
from store import org as org_store
from store import stores as stores_store
from store.db import Store

STORE_DEPARTMENT = "门店"
_ID = re.compile(r"^[A-Za-z0-9_.:\-\u4e00-\u9fff]{1,64}$")


@dataclass(frozen=True)
class StoreSpec:
    """One store as read from bot.toml or a file, people still as written (ids or names)."""

    id: str
    name: str
    area: str = ""
    store_type: str = ""
    manager: str = ""
    clerks: tuple[str, ...] = ()
    opens: str = "10:00"
    closes: str = "22:00"
    city: str = ""
    timezone: str = "Asia/Shanghai"
    latitude: float | None = None
    longitude: float | None = None
    video_url: str = ""


def check_spec(spec: StoreSpec, names: Callable[[str], str] = str) -> str | None:
    """Why this store cannot be used, or None. `names` says how to call a field: bot.toml's key by default, the
    file's own column header (门店名称, 打烊 …) for an import."""
    if not spec.id:
        return Keyed("stores_cli.spec_name", column=names("id"))
    if not _ID.match(spec.id):
        return Keyed("stores_cli.spec_id", column=names("id"), id=spec.id)
    if not spec.name:
        return Keyed("stores_cli.spec_name", column=names("name"))
    for label, text in (("opens", spec.opens), ("closes", spec.closes)):
        try:
            parse_hhmm(text, label)
        except ConfigError:
            return Keyed("stores_cli.spec_hhmm", field=names(label), text=text)
    try:
        ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return Keyed("stores_cli.spec_timezone", column=names("timezone"), text=spec.timezone)
    if (spec.latitude is None) != (spec.longitude is None):
        return Keyed("stores_cli.spec_latlon_pair", lat=names("latitude"), lon=names("longitude"))
    if spec.latitude is not None and not (-90 <= spec.latitude <= 90 and -180 <= spec.longitude <= 180):
        return Keyed("stores_cli.spec_latlon_range", lat=names("latitude"), lon=names("longitude"))
    return None


def from_section(entry: StoreEntrySection) -> StoreSpec:
    return StoreSpec(entry.id, entry.name, entry.area, entry.type, entry.manager, tuple(entry.clerks), entry.opens,
                     entry.closes, entry.city, entry.timezone, entry.latitude, entry.longitude, entry.video_url)


def person_id(store: Store, text: str, created: list[str] | None = None) -> str | None:
    """A person by id or name; an unknown name becomes a store colleague."""
    text = text.strip().lstrip("@")
    if not text:
        return None
    people = org_store.all_people(store)
    for p in people:
        if p.id == text:
            return p.id
    for p in people:
        if p.name == text:
            return p.id
    pid = f"store:{text}"
    org_store.upsert_person(store, pid, text, "colleague", None, department=STORE_DEPARTMENT)
    org_store.add_identity(store, "console", pid, pid)
    org_store.add_identity(store, "console", text, pid)
    if created is not None:
        created.append(text)
    return pid


def save(store: Store, specs: list[StoreSpec], source: str, now_ms: int) -> list[str]:
    """Write stores and their staff (inside the caller's transaction); returns the names of people created."""
    created: list[str] = []
    for spec in specs:
        manager = person_id(store, spec.manager, created) if spec.manager else None
        clerks = [pid for pid in (person_id(store, c, created) for c in spec.clerks) if pid]
        row = stores_store.StoreRow(spec.id, spec.name, spec.area, spec.store_type, manager, spec.city, spec.timezone,
                                    spec.opens, spec.closes, spec.latitude, spec.longitude, spec.video_url)
        stores_store.upsert_store(store, row, source, now_ms)
        stores_store.set_staff(store, spec.id, manager, clerks)
        if spec.area:
            stores_store.upsert_area(store, spec.area, None, "")
    return created


def load_section(store: Store, cfg: StoresSection, now_ms: int) -> int:
    """bot.toml's stores and areas into the tables (at every start; imported stores stay as they are)."""
    specs = []
    for i, entry in enumerate(cfg.list):
        spec = from_section(entry)
        problem = check_spec(spec)
        if problem:
            raise ConfigError(Keyed("stores_cli.cfg_store", i=i, why=problem))
        specs.append(spec)
    with store.transaction():
        for area in cfg.areas:
            if not area.name:
                raise ConfigError(Keyed("stores_cli.cfg_area_name"))
            manager = person_id(store, area.manager) if area.manager else None
            stores_store.upsert_area(store, area.name, manager, area.competitor_note)
        save(store, specs, "bot.toml", now_ms)
        for day in cfg.promotion_days:
            stores_store.add_promotion(store, _iso_day(day), "", "")
    return len(specs)


def _iso_day(text: str) -> str:
    from datetime import date

    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise ConfigError(Keyed("stores_cli.cfg_promotion_day", text=text)) from None
