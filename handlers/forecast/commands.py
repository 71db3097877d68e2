"""/forecast /deal /health /adjust /note /revisions — the chat face of the forecast capability.

Handlers run inside the dispatcher transaction, so they only read, write small rows and answer; simulations and
charts go through ctx.defer to jobs (worker thread, read-only store).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.context import Context, Services
from bot.errors import UserInputError
from bot.events import Command
from bot.replies import Reply
from bot.router import Router
from handlers.charts import chart_folder, prune_charts
from handlers.forecast import approval, engine, health, notes, periods
from handlers.forecast import scope as scope_mod
from handlers.forecast.model import CALLED_OFF_CAP
from handlers.forecast.revisions_chart import heatmap_text, render_png, weekly_table
from prompts import Prompts
from store import deals as deal_store
from store import debrief as debrief_store
from store import revisions as rev_store
from store.db import Store
from store.deals import Deal

router = Router("forecast")
_SERVICES: dict[str, Services] = {}


def setup(services: Services) -> None:
    _SERVICES["s"] = services


def wan(x: float) -> str:
    w = x / 10_000
    return f"{w:.1f}".rstrip("0").rstrip(".") if abs(w) < 100 else f"{w:.0f}"


def _tz(ctx_or_services) -> ZoneInfo:
    return ZoneInfo(ctx_or_services.config.bot.timezone)


def _today(ctx: Context) -> date:
    return periods.local_date(ctx.clock.now_ms(), _tz(ctx))


# ------------------------------------------------------------------ deal lookup with suggestions
def find_deal(ctx: Context, text: str) -> Deal:
    owners = scope_mod.visible_owners(ctx.event.actor, ctx.directory)
    if owners == []:  # customer service, colleagues: no deals at all, say so rather than "你名下还没有"
        raise UserInputError(ctx.t("core.permission_denied"))
    hits = deal_store.search(ctx.store, text, owners)
    exact = [d for d in hits if d.title == text or d.id == text]
    if exact:
        return exact[0]
    open_hits = [d for d in hits if d.status == "open"]
    if len(open_hits) == 1 or (len(hits) == 1):
        return open_hits[0] if open_hits else hits[0]
    if hits:
        raise UserInputError(ctx.t("forecast.deal_ambiguous", text=text,
                                   names=ctx.t("core.list_sep").join(d.title for d in (open_hits or hits)[:5])))
    visible = deal_store.listing(ctx.store, status="open", owners=owners)
    if not visible:
        raise UserInputError(ctx.t("forecast.deal_none_visible"))
    titles = [d.title for d in visible]
    close = difflib.get_close_matches(text, titles, n=3, cutoff=0.2)
    if not close:  # share characters with the title (Chinese names are short)
        close = sorted(titles, key=lambda s: -len(set(s) & set(text)))[:3] if any(set(s) & set(text) for s in titles) else []
    msg = ctx.t("forecast.deal_not_found", text=text)
    if close:
        msg += ctx.t("forecast.deal_suggest", names=ctx.t("core.list_sep").join(close))
    raise UserInputError(msg)


# ------------------------------------------------------------------ /forecast
def _parse_forecast_args(ctx: Context, args: tuple[str, ...]):
    today = _today(ctx)
    period, sc = None, None
    for a in args:
        p = periods.parse(a, today)
        if p is not None:
            if period is not None:  # "本季 本月": say so, rather than "不认识「本月」"
                raise UserInputError(ctx.t("forecast.one_period", first=period.label, second=p.label))
            period = p
            continue
        if sc is not None:
            raise UserInputError(ctx.t("forecast.one_scope", first=sc.name or ctx.t(f"forecast.{sc.label_key}"),
                                       second=a))
        sc = scope_mod.resolve(a, ctx.event.actor, ctx.directory, ctx.t)
    period = period or periods.parse(ctx.config.forecast.default_period, today) or periods.quarter_of(today)
    sc = sc or scope_mod.default_scope(ctx.event.actor, ctx.directory, ctx.t)
    if sc.owners is not None and not sc.owners:
        raise UserInputError(ctx.t("core.permission_denied"))
    return period, sc


def _period_label(ctx_t, period: periods.Period, today: date) -> str:
    if period == periods.month_of(today):
        return ctx_t("forecast.this_month")
    if period == periods.month_of(today).next():
        return ctx_t("forecast.next_month")
    if period == periods.quarter_of(today):
        return ctx_t("forecast.this_quarter")
    if period == periods.quarter_of(today).next():
        return ctx_t("forecast.next_quarter")
    return period.label


def _target(ctx: Context, sc: scope_mod.Scope, period: periods.Period) -> float | None:
    """The target to measure the chance against: one set in chat with /目标 wins over bot.toml's."""
    from handlers.views.targets import target_for  # late: the views package imports this one's periods

    return target_for(ctx.store, ctx.config.forecast.targets, sc.target_key, period, _today(ctx))[0]


@router.command("forecast")
def on_forecast(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    period, sc = _parse_forecast_args(ctx, args)
    if not deal_store.any_deal(ctx.store, sc.owners):
        # nothing to forecast from: "0万（置信度0%）" would read as a forecast; say how deals get in instead
        ctx.reply(ctx.t("forecast.no_deals_yet", scope=ctx.t(f"forecast.{sc.label_key}", name=sc.name)))
        return
    label = _period_label(ctx.t, period, _today(ctx))
    scope_text = ctx.t(f"forecast.{sc.label_key}", name=sc.name)
    if period.end > _today(ctx):  # a past period is only looked up: nothing to simulate
        ctx.reply(ctx.t("forecast.forecast_working", period=label, draws=ctx.config.forecast.draws))
    ctx.defer("forecast.run", {"kind": period.kind, "start": period.start.isoformat(), "label": label,
                               "owners": sc.owners, "scope": scope_text,
                               "target": _target(ctx, sc, period),
                               "seed": int(ctx.clock.now_ms() % 2**31)})


@router.job("forecast.run")
def job_forecast(payload: dict, reader: Store) -> Reply:
    s = _SERVICES["s"]
    tz = _tz(s)
    start = date.fromisoformat(payload["start"])
    period = periods.of_kind(payload["kind"], start)
    now = s.clock.now_ms()
    fc = engine.run(reader, s.config.forecast, tz, now, period, payload["owners"], payload["target"],
                    seed=payload.get("seed", 0))
    if period.ms(tz)[1] <= now:  # a period already over has an actual, not a forecast with "reasons"
        return Reply.plain(s.prompts.t("forecast.forecast_past", period=payload["label"], won=wan(fc.won_to_date),
                                       scope=payload["scope"]))
    return Reply.plain(render_forecast(s.prompts, fc, payload["label"], payload["scope"]))


def render_forecast(p: Prompts, fc: engine.Forecast, label: str, scope_text: str) -> str:
    o = fc.outcome
    lines = [p.t("forecast.forecast_line", period=label, p50=wan(o.p50), conf=round(100 * o.confidence),
                 p10=wan(o.p10), p90=wan(o.p90)),
             p.t("forecast.forecast_scope", scope=scope_text, n=fc.n_deals)]
    if fc.won_to_date:
        lines.append(p.t("forecast.forecast_won", won=wan(fc.won_to_date)))
    if o.target:
        lines.append(p.t("forecast.forecast_target", target=wan(o.target), prob=round(100 * (o.prob_target or 0))))
    else:
        lines.append(p.t("forecast.forecast_no_target"))
    if fc.reasons:
        lines.append(p.t("forecast.forecast_reasons"))
        for i, (key, values) in enumerate(fc.reasons, 1):
            values = dict(values)
            if isinstance(values.get("names"), list):  # the engine returns data; the reader's locale joins it
                values["names"] = p.t("core.list_sep").join(values["names"])
            if "amount" in values:
                values["amount"] = wan(values["amount"])
            if key in ("reason_factor", "reason_factor_cut"):
                f = values["factor"]
                values["factor_text"] = p.t(f"forecast.f_{f}_minus") if f != "intent_cap" else p.t("forecast.f_intent_cap")
            lines.append(f"{i}. " + p.t(f"forecast.{key}", **values))
    if fc.fallback:
        lines.append(p.t("forecast.forecast_fallback"))
    return "\n".join(lines)


# ------------------------------------------------------------------ /deal
def contribution_lines(t, ex) -> list[str]:
    out = []
    for name, change in ex.contributions[:4]:
        sign = "plus" if change > 0 else "minus"
        text = t(f"forecast.f_{name}_{sign}")
        out.append(t(f"forecast.deal_contrib_{sign}", text=text, pct=round(abs(change) * 100)))
    return out


def deal_text(ctx: Context, deal: Deal) -> str:
    tz = _tz(ctx)
    all_deals = deal_store.listing(ctx.store)
    models = engine.build_models(ctx.store, all_deals, ctx.config.forecast, ctx.clock.now_ms(), _tz(ctx))
    ex = engine.explain(models, deal)
    owner = ctx.directory.person(deal.owner_id or "")
    close = periods.local_date(deal.expected_close_at, tz).isoformat() if deal.expected_close_at else ctx.t("forecast.no_close")
    lines = [ctx.t("forecast.deal_title", title=deal.title, customer=deal.customer_name),
             ctx.t("forecast.deal_fields", amount=wan(deal.amount), owner=owner.name if owner else "—", close=close),
             # after a cap or a manual override the product no longer equals the probability: show both
             ctx.t("forecast.deal_prob" if not (ex.capped or ex.override) else "forecast.deal_prob_adjusted",
                   prob=round(ex.probability * 100), model=round(ex.model * 100), base=round(ex.base * 100),
                   c=f"{ex.coefficients['customer']:.2f}", p=f"{ex.coefficients['project']:.2f}",
                   r=f"{ex.coefficients['rep']:.2f}") + (ctx.t("forecast.deal_override") if ex.override else "")]
    if deal.details.called_off and not ex.override:  # the rep's own note said it is off (/备注 项目取消了)
        lines.append(ctx.t("forecast.deal_called_off", cap=round(CALLED_OFF_CAP * 100), deal=deal.title))
    elif ex.capped:
        missing = ctx.t("core.list_sep").join(ctx.t(f"forecast.cond_{c}") for c in ex.missing_conditions)
        lines.append(ctx.t("forecast.deal_capped", missing=missing, cap=round(ctx.config.forecast.intent_cap * 100)))
    elif deal.details.intent_letter and deal.details.committed:  # say why a letter no longer caps (/备注)
        lines.append(ctx.t("forecast.deal_committed", cap=round(ctx.config.forecast.intent_cap * 100)))
    step = debrief_store.next_step_of(ctx.store, deal.id)  # the last debrief's "下一步他答应做什么"
    if step:
        lines.append(ctx.t("debrief.deal_next", action=step[0], date=step[1] or ctx.t("debrief.no_date"),
                           person=f"（{step[2]}）" if step[2] else ""))
    if deal.expected_close_at:
        from handlers.forecast import calendar

        sh = calendar.shift_close(models.windows, deal.customer_id, deal.industry,
                                  periods.local_date(deal.expected_close_at, tz), deal.details.has_budget_range)
        if sh:
            lines.append(ctx.t("forecast.deal_shift", window=sh.window, old=sh.original.isoformat(),
                               new=sh.shifted.isoformat()))
    contribs = contribution_lines(ctx.t, ex)
    if contribs:
        lines.append(ctx.t("forecast.deal_top"))
        lines.extend(f"· {c}" for c in contribs)
    if ex.fallback:
        lines.append(ctx.t("forecast.deal_fallback"))
    last = deal_store.last_customer_response(ctx.store, [deal.id]).get(deal.id)
    h = health.assess(deal, ctx.clock.now_ms(), health_thresholds(ctx), last)
    colour = ctx.t(f"forecast.colour_{h.colour}")
    if h.issues:
        issues = ctx.t("core.clause_sep").join(ctx.t(f"forecast.{k}", **v) for _c, k, v in h.issues)
        lines.append(ctx.t("forecast.deal_health_issues", colour=colour, issues=issues))
    else:
        lines.append(ctx.t("forecast.deal_health", colour=colour))
    lines.extend(approval.pending_lines(ctx, deal.id))
    revs = rev_store.for_lead(ctx.store, deal.id, 3)
    if revs:
        lines.append(ctx.t("forecast.deal_revisions"))
        for r in revs:
            who = ctx.directory.person(r.person_id)
            lines.append("· " + ctx.t("forecast.deal_revision_line", when=periods.local_date(r.at, tz).isoformat(),
                                      who=who.name if who else r.person_id, field=ctx.t(f"forecast.field_{r.field}"),
                                      old=r.old_value, new=r.new_value, reason=r.reason))
    return "\n".join(lines)


@router.command("deal")
def on_deal(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    if not args:
        raise UserInputError(ctx.t("forecast.deal_usage"))
    ctx.reply(deal_text(ctx, find_deal(ctx, " ".join(args))))


# ------------------------------------------------------------------ /health
def health_thresholds(ctx: Context):
    """bot.toml's [forecast.health], with the graded indicators calibrated on this company's won deals."""
    return health.calibrated(ctx.config.forecast.health, deal_store.listing(ctx.store, status="won"))


@router.command("health")
def on_health(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    sc = scope_mod.resolve(args[0], event.actor, ctx.directory, ctx.t, unknown_key="forecast.unknown_scope_who") \
        if args else scope_mod.default_scope(event.actor, ctx.directory, ctx.t)
    if sc.owners is not None and not sc.owners:
        raise UserInputError(ctx.t("core.permission_denied"))
    open_deals = deal_store.listing(ctx.store, status="open", owners=sc.owners)
    if not open_deals:
        ctx.reply(ctx.t("forecast.health_none"))
        return
    last = deal_store.last_customer_response(ctx.store, [d.id for d in open_deals])
    now = ctx.clock.now_ms()
    cfg = health_thresholds(ctx)
    rated = [(d, health.assess(d, now, cfg, last.get(d.id))) for d in open_deals]
    count = {c: sum(1 for _d, h in rated if h.colour == c) for c in (health.RED, health.YELLOW, health.GREEN)}
    lines = [ctx.t("forecast.health_title", scope=ctx.t(f"forecast.{sc.label_key}", name=sc.name), **count)]
    for colour, icon in ((health.RED, "🔴"), (health.YELLOW, "🟡")):
        for d, h in sorted((x for x in rated if x[1].colour == colour), key=lambda x: -x[0].amount):
            reasons = ctx.t("core.clause_sep").join(ctx.t(f"forecast.{k}", **v) for _c, k, v in h.issues)
            lines.append(ctx.t("forecast.health_line", icon=icon, title=d.title, reasons=reasons))
    greens = [d.title for d, h in rated if h.colour == health.GREEN]
    if greens:
        lines.append(ctx.t("forecast.health_green_line", titles=ctx.t("core.list_sep").join(greens)))
    ctx.reply("\n".join(lines))


# ------------------------------------------------------------------ /adjust
FIELD_WORDS = {"金额": "amount", "amount": "amount", "概率": "probability", "probability": "probability",
               "赢率": "probability", "日期": "close_date", "date": "close_date", "成交日": "close_date"}


_DATE = re.compile(r"^(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$")


def parse_close_date(text: str, today: date) -> date | None:
    """2026-06-30, 2026/6/30, 2026年6月30日, 6月30日, 6/30 — without a year, the next such day from today."""
    m = _DATE.match(text.strip())
    if not m:
        return None
    try:
        d = date(int(m.group(1) or today.year), int(m.group(2)), int(m.group(3)))
        if m.group(1) is None and d < today:
            d = date(today.year + 1, d.month, d.day)
    except ValueError:
        return None
    return d


def _parse_value(field: str, text: str, tz: ZoneInfo, today: date) -> float | int | None:
    """The new value of an /adjust, or None when it is not a sensible one (the answer then says what fits)."""
    t = text.replace(",", "").replace("，", "").strip()
    try:
        if field == "amount":
            v = float(t[:-1]) * 10_000 if t.endswith("万") else float(t.rstrip("元"))
            return v if math.isfinite(v) and v > 0 else None  # nan/inf/negative would corrupt the pipeline
        if field == "probability":
            v = float(t.rstrip("%％")) / (100 if t.endswith(("%", "％")) or float(t.rstrip("%％")) > 1 else 1)
            return v if 0 <= v <= 1 else None
    except ValueError:
        return None
    d = parse_close_date(t, today)
    if d is None:  # 明天 / 下周五 / 月底: the one date parser the notes use
        d, said = notes.parse_when(t, today)
        if said != t:
            d = None
    if d is None or d < today:  # an expected close in the past is not a forecast
        return None
    return periods.date_ms(d, tz)


_VALUE_LIKE = re.compile(r"^[\d.,，]+\s*(?:万|元|%|％)?$|^\d{1,4}[-/.年月]")
# words that say which way a reason moves a deal: worse (smaller, later, less likely) or better
_WORSE = re.compile(r"削减|减少|砍|延迟|延期|推迟|未通过|失败|搅局|流失|暂停|冻结|取消|下调|缩小")
_BETTER = re.compile(r"提前|扩大|增加|追加|上调|(?<![未没不])通过|签约|加单|提高")


def reason_direction(reason: str) -> str:
    """"down" for a reason that can only make a deal worse, "up" for one that can only make it better, "" for a
    neutral one (数据录入更正, 客户组织架构调整). Read from the reason's words, so reasons added in bot.toml are
    covered too."""
    worse, better = bool(_WORSE.search(reason)), bool(_BETTER.search(reason))
    return "down" if worse and not better else "up" if better and not worse else ""


def _direction(field: str, deal: Deal, value: float | int, p_old: float) -> str:
    """Which way an /adjust moves the deal: "up" (more, likelier, sooner), "down", or "" (no change / unknown).
    A probability is compared with what the deal shows now: an earlier override, else the model's estimate `p_old`
    (35 % → 95 % "because the budget was cut" does not explain the change, whoever set the 35 %)."""
    if field == "amount":
        old = deal.amount
    elif field == "probability":
        old = deal.details.probability_override
        old = p_old if old is None else old
    else:
        if deal.expected_close_at is None:
            return ""
        return "down" if value > deal.expected_close_at else "up" if value < deal.expected_close_at else ""
    return "up" if value > old else "down" if value < old else ""


def preset_reason(ctx: Context, words: list[str]) -> str | None:
    reasons = ctx.config.forecast.reasons
    text = " ".join(words).strip()
    if not text:
        return None
    if text.isdigit() and 1 <= int(text) <= len(reasons):
        return reasons[int(text) - 1]
    norm = re.sub(r"[，,\s]", "", text)
    for r in reasons:
        if re.sub(r"[，,\s]", "", r) == norm:
            return r
    return None


@router.command("adjust")
def on_adjust(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    tz = _tz(ctx)
    field_at = next((i for i, a in enumerate(args) if a in FIELD_WORDS), None)
    if field_at is None and len(args) >= 3:
        # "/调整 华东电网 价格 30万 …": the word before the first value-looking word is the field they meant
        value_at = next((i for i, a in enumerate(args) if i >= 2 and _VALUE_LIKE.match(a)), None)
        if value_at is not None:
            raise UserInputError(ctx.t("forecast.adjust_bad_field", field=args[value_at - 1]))
    if field_at is None or field_at == 0 or field_at + 1 >= len(args):
        raise UserInputError(ctx.t("forecast.adjust_usage"))
    deal = find_deal(ctx, " ".join(args[:field_at]))
    field = FIELD_WORDS[args[field_at]]
    raw_value = args[field_at + 1]
    value = _parse_value(field, raw_value, tz, _today(ctx))
    if value is None:
        raise UserInputError(ctx.t("forecast.adjust_bad_value", value=raw_value, field=ctx.t(f"forecast.field_{field}")))
    reason = preset_reason(ctx, list(args[field_at + 2:]))
    if reason is None:
        listing = "\n".join(f"{i}. {r}" for i, r in enumerate(ctx.config.forecast.reasons, 1))
        raise UserInputError(ctx.t("forecast.adjust_need_reason", reasons=listing, deal=deal.title,
                                   field=args[field_at], value=raw_value))
    now = ctx.clock.now_ms()
    models = engine.build_models(ctx.store, deal_store.listing(ctx.store), ctx.config.forecast, now, _tz(ctx))
    p_old = engine.explain(models, deal).probability
    old, new = change_values(ctx, deal, field, value, p_old)
    if old == new:  # "500万 → 500万" would be a revision that changed nothing, with a reason it never had
        raise UserInputError(ctx.t("forecast.adjust_no_change", deal=deal.title, field=ctx.t(f"forecast.field_{field}"),
                                   value=new))
    going = _direction(field, deal, value, p_old)
    said = reason_direction(reason)
    if going and said and going != said:  # "预算削减" as the reason for a higher amount does not explain it
        fitting = [r for r in ctx.config.forecast.reasons if reason_direction(r) in (going, "")]
        listing = "\n".join(f"{ctx.config.forecast.reasons.index(r) + 1}. {r}" for r in fitting)
        raise UserInputError(ctx.t("forecast.adjust_reason_direction", reason=reason,
                                   direction=ctx.t(f"forecast.direction_{going}"), reasons=listing))
    if approval.needed(ctx, event.actor, deal, field, value, p_old):  # a rep's big step waits for the manager
        if approval.request(ctx, event, deal, field, value, old, new, reason):
            return
    text, _revision = apply_adjustment(ctx, deal, field, value, reason, event.actor.person_id, event.event_id,
                                       models)
    ctx.reply(text)


def change_values(ctx: Context, deal: Deal, field: str, value: float | int, p_old: float) -> tuple[str, str]:
    """An /adjust's old and new value as the answer and the revision history show them."""
    tz = _tz(ctx)
    if field == "amount":
        return wan(deal.amount) + "万", wan(value) + "万"
    if field == "probability":
        old_p = deal.details.probability_override
        return f"{round(100 * (old_p if old_p is not None else p_old))}%", f"{round(100 * value)}%"
    old = periods.local_date(deal.expected_close_at, tz).isoformat() if deal.expected_close_at else "—"
    return old, periods.local_date(int(value), tz).isoformat()


def apply_adjustment(ctx: Context, deal: Deal, field: str, value: float | int, reason: str, person_id: str,
                     source_event_id: str, models=None) -> tuple[str, int]:
    """Write an /adjust to the deal and the revision history (directly, or once a manager approved it:
    handlers/forecast/approval.py). Returns the answer text and the revision id."""
    now = ctx.clock.now_ms()
    if models is None:
        models = engine.build_models(ctx.store, deal_store.listing(ctx.store), ctx.config.forecast, now, _tz(ctx))
    p_old = engine.explain(models, deal).probability
    old, new = change_values(ctx, deal, field, value, p_old)
    if field == "amount":
        deal_store.set_amount(ctx.store, deal.id, float(value))
    elif field == "probability":
        deal_store.upsert_details(ctx.store, deal.id, now, probability_override=float(value))
    else:
        deal_store.set_expected_close(ctx.store, deal.id, int(value))
        if deal.expected_close_at is not None and value > deal.expected_close_at:
            deal_store.upsert_details(ctx.store, deal.id, now, close_slips=deal.details.close_slips + 1)
    revision = rev_store.add(ctx.store, deal.id, field, old, new, reason, person_id, now, source_event_id)
    ex = engine.explain(models, deal_store.get(ctx.store, deal.id))
    text = ctx.t("forecast.adjust_done", title=deal.title, field=ctx.t(f"forecast.field_{field}"), old=old,
                 new=new, reason=reason, p_old=round(100 * p_old), p_new=round(100 * ex.probability))
    if ex.capped:  # "概率 60%" that comes out as 35%: say why, or the answer looks wrong
        missing = ctx.t("core.list_sep").join(ctx.t(f"forecast.cond_{c}") for c in ex.missing_conditions)
        text += "\n" + ctx.t("forecast.deal_capped", missing=missing, cap=round(ctx.config.forecast.intent_cap * 100))
    return text, revision


def _apply_note_to_deal(ctx: Context, deal: Deal, parsed: notes.Parsed) -> list[str]:
    """A note's amount and expected-close changes, written to the deal; one line per change for the reply.

    A signing date sets the expected close; every other date (a decision-maker's return, a decision put off, a bid
    opening) is a floor: it moves the close only later, never earlier, and also a signing date named before it."""
    tz = _tz(ctx)
    lines: list[str] = []
    amount = next((ch.amount for ch in reversed(parsed.changes) if ch.amount is not None), None)
    if amount is not None and round(amount) != round(deal.amount):
        deal_store.set_amount(ctx.store, deal.id, float(amount))
        lines.append(ctx.t("forecast.note_amount", old=wan(deal.amount), new=wan(amount)))
    old_close = periods.local_date(deal.expected_close_at, tz) if deal.expected_close_at else None
    signed = [ch.close for ch in parsed.changes if ch.close is not None and ch.key == "n_sign_date"]
    close = signed[-1] if signed else old_close
    for ch in parsed.changes:  # the other dates are floors: nothing closes before them
        if ch.close is not None and ch.key != "n_sign_date" and (close is None or ch.close > close):
            close = ch.close
    if close is not None and close != old_close:
        deal_store.set_expected_close(ctx.store, deal.id, periods.date_ms(close, tz))
        if old_close is not None and close > old_close:
            deal_store.upsert_details(ctx.store, deal.id, ctx.clock.now_ms(),
                                      close_slips=deal.details.close_slips + 1)
        lines.append(ctx.t("forecast.note_close", old=old_close.isoformat() if old_close else "—",
                           new=close.isoformat()))
    return lines


# ------------------------------------------------------------------ /note
@router.command("note")
def on_note(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    if len(args) < 2:
        raise UserInputError(ctx.t("forecast.note_usage"))
    deal, text = None, ""
    for cut in range(len(args) - 1, 0, -1):  # the longest leading words that name a deal
        try:
            deal = find_deal(ctx, " ".join(args[:cut]))
            text = " ".join(args[cut:])
            break
        except UserInputError:
            if cut == 1:
                raise
    assert deal is not None
    now = ctx.clock.now_ms()
    parsed = notes.parse(text, _today(ctx), deal.details, classifier=ctx.services.extras.get("classifier"))
    all_deals = deal_store.listing(ctx.store)
    models = engine.build_models(ctx.store, all_deals, ctx.config.forecast, now, _tz(ctx))
    p_old = engine.explain(models, deal).probability
    fields: dict = {}
    for ch in parsed.changes:
        fields.update(ch.fields)
    if fields:
        deal_store.upsert_details(ctx.store, deal.id, now, **fields)
    deal_lines = _apply_note_to_deal(ctx, deal, parsed)
    event_at = periods.date_ms(parsed.event_date, _tz(ctx)) if parsed.event_date else None
    items = []
    for ch in parsed.changes:
        values = dict(ch.values)
        if "role" in values:
            values["role"] = ctx.t(f"forecast.role_{values['role']}")
        if "amount" in values:
            values["amount"] = wan(values["amount"]) + ctx.t("forecast.wan")
        if "label" in values:
            values["label"] = ctx.t(f"conversation.label.{values['label']}")
        items.append(ctx.t(f"forecast.{ch.key}", **values))
    # "；" here is the stored column's delimiter (the clauses are the user's Chinese words), not reply text
    deal_store.add_note(ctx.store, deal.id, text, json.dumps(items, ensure_ascii=False), "；".join(parsed.not_understood),
                        event.actor.person_id, now, event_at)
    lines = []
    if parsed.changes:
        p_new = engine.explain(models, deal_store.get(ctx.store, deal.id)).probability
        lines.append(ctx.t("forecast.note_done", items=ctx.t("core.clause_sep").join(items), p_old=round(100 * p_old),
                           p_new=round(100 * p_new)))
        new_deal = deal_store.get(ctx.store, deal.id)
        lines.extend(deal_lines)
        # what the forecast sees of this deal: its expected value (probability × amount), before → after
        ev_old, ev_new = p_old * deal.amount, p_new * new_deal.amount
        if round(ev_old) != round(ev_new) or deal_lines:
            lines.append(ctx.t("forecast.note_forecast", old=wan(ev_old), new=wan(ev_new),
                               delta=("+" if ev_new >= ev_old else "−") + wan(abs(ev_new - ev_old))))
        if round(100 * p_new) != round(100 * p_old):
            rev_store.add(ctx.store, deal.id, "note", f"{round(100 * p_old)}%", f"{round(100 * p_new)}%",
                          ctx.t("forecast.note_reason"), event.actor.person_id, now, event.event_id)
        if parsed.event_date:
            lines.append(ctx.t("forecast.note_event", date=parsed.event_date.isoformat()))
    else:
        lines.append(ctx.t("forecast.note_nothing"))
    if any(ch.key == "n_lost" for ch in parsed.changes):  # a note never closes a deal: say what does
        lines.append(ctx.t("forecast.note_lost_howto", deal=deal.title))
    if parsed.not_understood:
        line = ctx.t("forecast.note_not_understood", clauses=ctx.t("core.clause_sep").join(parsed.not_understood))
        tones = {parsed.tone[c] for c in parsed.not_understood if c in parsed.tone}
        if len(tones) == 1:
            line += ctx.t("forecast.note_tone", tone=ctx.t(f"forecast.tone_{tones.pop()}"))
        lines.append(line)
    ctx.reply("\n".join(lines))


# ------------------------------------------------------------------ /revisions
@router.command("revisions")
def on_revisions(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    weeks = 8
    if args:  # "/修订 abc" used to answer about 8 weeks without a word
        text = args[0].removesuffix("周")
        if len(args) > 1 or not text.isdigit() or not 0 < int(text) <= 52:
            raise UserInputError(ctx.t("forecast.revisions_usage", text=" ".join(args)))
        weeks = int(text)
    owners = scope_mod.visible_owners(event.actor, ctx.directory)
    if owners is not None and not owners:
        raise UserInputError(ctx.t("core.permission_denied"))
    tz = _tz(ctx)
    today = _today(ctx)
    first_monday = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    since = periods.date_ms(first_monday, tz)
    lead_ids = None if owners is None else [d.id for d in deal_store.listing(ctx.store, owners=owners)]
    revs = rev_store.since(ctx.store, since, lead_ids)
    if not revs:
        ctx.reply(ctx.t("forecast.revisions_none", weeks=weeks))
        return
    table = weekly_table(revs, first_monday, weeks, tz)
    text = heatmap_text(table, ctx.t, weeks)
    # one answer: the image, carrying the text version for platforms and terminals that show no images
    ctx.defer("forecast.revisions_chart", {"table": table, "title": ctx.t("forecast.revisions_chart_title"),
                                           "alt": text, "key": event.event_id})


@router.job("forecast.revisions_chart")
def job_revisions_chart(payload: dict, reader: Store) -> Reply:
    s = _SERVICES["s"]
    cfg = s.config
    folder = chart_folder(cfg, cfg.forecast.chart_dir)
    # named after what it shows: asking again about the same weeks redraws the same file instead of adding one
    digest = hashlib.sha1(json.dumps([payload["table"], payload["title"]], sort_keys=True, ensure_ascii=False,
                                     default=str).encode()).hexdigest()[:16]
    path = folder / f"revisions-{digest}.png"
    render_png(payload["table"], payload["title"], path)
    prune_charts(folder, "revisions-")
    return Reply.image(str(path), payload["alt"], title=payload["title"])
