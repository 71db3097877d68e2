"""The per-process coaching service (services.extras["coaching"]): settings checked once, quiet hours, the
classifier, and the helpers the push, the B7 check, the sweep and the commands share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.context import Context, Services
from bot.errors import ConfigError
from handlers.coaching.library import CoachParams
from handlers.silence import QuietHours
from handlers.workcal import parse_hhmm
from prompts import Keyed

EXTRA = "coaching"


def quiet_hours(text: str, timezone: str, key: str) -> QuietHours | None:
    """silence's QuietHours from "HH:MM-HH:MM" ("" = none)."""
    text = text.strip()
    if not text:
        return None
    start, sep, end = text.partition("-")
    if not sep:
        raise ConfigError(Keyed("config_errors.hhmm_range", field=key, value=text))
    return QuietHours(ZoneInfo(timezone), parse_hhmm(start, key), parse_hhmm(end, key))


@dataclass(frozen=True)
class Coach:
    params: CoachParams
    quiet: QuietHours | None
    # leads with an open "再比较一下" check: a rep's chat line on any other lead costs no query. A lead stays in
    # it until a query finds no open check (a rolled-back insert only costs one empty query).
    open_checks: set[str] = field(default_factory=set)


def build(services: Services) -> Coach:
    cfg = services.config.coaching
    for key in ("live_minutes", "push_limit", "outcome_days", "sweep_batch", "rank_candidates"):
        if getattr(cfg, key) < 1:
            raise ConfigError(Keyed("config_errors.setting_at_least", field=f"coaching.{key}", least=1, got=getattr(cfg, key)))
    for key in ("push_every_hours", "answer_window_hours", "silence_gap_s", "hesitation_wait_hours",
                "rank_half_life_days"):
        if getattr(cfg, key) < 0:
            raise ConfigError(Keyed("config_errors.setting_not_negative", field=f"coaching.{key}", got=getattr(cfg, key)))
    if not 0 < cfg.interval < 1:
        raise ConfigError(Keyed("config_errors.setting_between", field="coaching.interval", low=0, high=1, example=0.9,
                                got=cfg.interval))
    if cfg.prior_strength <= 0 or cfg.shrink_strength <= 0:
        raise ConfigError(Keyed("config_errors.strengths_positive"))
    if cfg.sentiment not in ("lexicon", "snownlp"):
        raise ConfigError(Keyed("config_errors.setting_one_of", field="coaching.sentiment", allowed="lexicon, snownlp",
                                got=repr(cfg.sentiment)))
    if len(set(cfg.stages)) != len(cfg.stages):
        raise ConfigError(Keyed("config_errors.listed_twice", field="coaching.stages", got=list(cfg.stages)))
    from store import coaching as coach_store
    return Coach(CoachParams.from_config(cfg), quiet_hours(cfg.quiet_hours, services.config.bot.timezone,
                                                           "coaching.quiet_hours"),
                 set(coach_store.leads_with_open_checks(services.store)))


def coach(ctx: Context) -> Coach:
    found = ctx.services.extras.get(EXTRA)
    if found is None:
        found = ctx.services.extras[EXTRA] = build(ctx.services)
    return found


def label_name(ctx: Context, key: str) -> str:
    return ctx.t(f"conversation.label.{key}") if key else ctx.t("coaching.no_strategy")


def classify(ctx: Context, text: str, role: str) -> tuple[str, ...]:
    """Labels of one text; the running classifier when there is one."""
    instance = ctx.services.extras.get("classifier")
    if instance is None:
        from handlers.conversation.classifier import classify as module_classify
        return tuple(module_classify(text, role).labels)
    return tuple(instance.classify(text, role).labels)
