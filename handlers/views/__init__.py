"""Views a manager expects in the first hour: /今日 (a person's to-do), /漏斗 (pipeline by stage with last week's
changes), /目标 (targets set from chat, audited, used by the forecast) and /导出 (Excel workbooks sent as files).
Domain logic lives in the modules beside this one (today, pipeline, targets, workbook); chat commands in
commands.py. This package's `router` is commands.router; setup() checks [today]/[pipeline] and asks the scheduler
for the morning card and the nightly pipeline snapshot.
"""

from __future__ import annotations

from bot.context import Services
from bot.errors import ConfigError
from handlers.views import commands
from handlers.workcal import parse_hhmm
from prompts import Keyed

router = commands.router


def setup(services: Services) -> None:
    commands.setup(services)
    cfg = services.config
    at = parse_hhmm(cfg.today.at, "today.at")
    snap = parse_hhmm(cfg.pipeline.snapshot_at, "pipeline.snapshot_at")
    for key in ("compare_days", "keep_days"):
        if getattr(cfg.pipeline, key) < 1:
            raise ConfigError(Keyed("config_errors.setting_at_least", field=f"pipeline.{key}", least=1,
                                    got=getattr(cfg.pipeline, key)))
    if cfg.pipeline.keep_days <= cfg.pipeline.compare_days:
        raise ConfigError(Keyed("config_errors.keep_more_than_compare", compare=cfg.pipeline.compare_days,
                                got=cfg.pipeline.keep_days))
    jobs = services.extras.setdefault("scheduler.jobs", [])
    # the scheduler reads cron in [scheduler] timezone; both default to the bot's (Asia/Shanghai)
    jobs.append((commands.SNAPSHOT_JOB, f"{snap.minute} {snap.hour} * * *"))
    if cfg.today.enabled:
        jobs.append((commands.TODAY_JOB, f"{at.minute} {at.hour} * * *"))
