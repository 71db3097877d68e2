"""Retail stores (part D): per-store daily health (人效 / 货效 / 场效 / 转化), shelf photos against the planogram,
Wi-Fi dwell, weather, and fix cards in chat. Domain logic lives in the modules beside this one (registry, health,
actions, fixes, sweep, weather, photos); chat commands in commands.py. This package's `router` joins their routers.
"""

from __future__ import annotations

from bot.context import Services
from bot.errors import ConfigError
from bot.router import Router
from handlers.stores import actions, commands, photos, registry, sweep
from handlers.workcal import parse_hhmm
from prompts import Keyed
from store import stores as stores_store

router = Router("stores").include(sweep.router, photos.router, commands.router)


def setup(services: Services) -> None:
    """Check [stores], load bot.toml's stores and areas, read the script packs (a broken pack file stops the start
    with its name, like a broken bot.toml)."""
    cfg = services.config.stores
    parse_hhmm(cfg.morning_time, "stores.morning_time")
    for key in ("receptions_red_days", "conversion_window_days", "experience_deal_hours", "trend_days"):
        if getattr(cfg, key) < 1:
            raise ConfigError(Keyed("stores_cli.cfg_at_least", field=f"stores.{key}", got=getattr(cfg, key)))
    if not (cfg.receptions_red <= cfg.receptions_healthy and cfg.exposure_red <= cfg.exposure_healthy
            and cfg.dwell_red_min <= cfg.dwell_healthy_min):
        raise ConfigError(Keyed("stores_cli.cfg_red_lines"))
    registry.load_section(services.store, cfg, services.clock.now_ms())
    services.directory.refresh()
    services.extras["stores.packs"] = actions.load_packs(services)
    if stores_store.all_stores(services.store):  # a company without stores pays no ticks for them
        jobs = services.extras.setdefault("scheduler.jobs", [])
        jobs.extend(((sweep.JOB, "*/10 * * * *"), (sweep.DIGEST_JOB, "0 9 * * *")))
