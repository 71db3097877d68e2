"""Chat commands of the views package: /今日 (/today), /漏斗 (/pipeline), /目标 (/target), /导出 (/export).

Handlers run inside the dispatcher transaction: they read, write small rows and answer; charts and workbooks are
drawn by deferred jobs (worker thread, read-only store) from the data the handler gathered or from the store.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import from_ms
from bot.context import Context, Services
from bot.errors import UserInputError
from bot.events import Command, Role, Tick
from bot.replies import Reply
from bot.router import F, Router
from handlers.charts import chart_folder, prune_charts
from handlers.forecast import periods
from handlers.forecast import scope as scope_mod
from handlers.forecast.commands import wan
from handlers.views import pipeline, pipeline_chart, targets, today, workbook
from handlers.workcal import is_workday
from store import stores as stores_store
from store import targets as target_store
from store.db import Store

router = Router("views.commands")
_SERVICES: dict[str, Services] = {}
TODAY_JOB = "today_morning"
SNAPSHOT_JOB = "pipeline_snapshot"


def setup(services: Services) -> None:
    _SERVICES["s"] = services


def _local_today(ctx: Context) -> date:
    return periods.local_date(ctx.clock.now_ms(), ZoneInfo(ctx.config.bot.timezone))


def signed_wan(x: float) -> str:
    return ("+" if x >= 0 else "−") + wan(abs(x))


def signed_count(n: int) -> str:
    return ("+" if n >= 0 else "−") + str(abs(n))


# ------------------------------------------------------------------ /今日
@router.command("today")
def on_today(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    person = ctx.directory.person(event.actor.person_id) if event.actor.person_id else None
    if person is None or (person.role not in (Role.REP, Role.MANAGER) and not person.is_admin
                          and not today.keeps_stores(ctx, person.id)):
        raise UserInputError(ctx.t("views.today_not_sales"))
    if args:
        raise UserInputError(ctx.t("views.today_usage"))
    now = ctx.clock.now_ms()
    ctx.reply(today.card(ctx, person.id, today.gather(ctx, person.id, now), now))


@router.on(Tick, F(lambda event, ctx: event.job == TODAY_JOB))
def on_today_morning(event: Tick, ctx: Context) -> None:
    """Each working morning: every rep and team manager with something to do gets the card (nothing to do: none)."""
    if not ctx.config.today.enabled:
        return
    at = max(ctx.clock.now_ms(), event.due_at)
    day = periods.local_date(event.due_at, ZoneInfo(ctx.config.bot.timezone))
    if not is_workday(day):  # weekends and public holidays (make-up working days count)
        return
    store_people = stores_store.people_with_stores(ctx.store)
    for person in sorted(ctx.directory.people.values(), key=lambda p: p.id):
        # reps, the managers of a team and store people (their fixes); an admin without a team asks with /今日
        # instead of a company-wide push
        if person.role != Role.REP and not (person.role == Role.MANAGER and ctx.directory.teams_managed_by(person.id)) \
                and person.id not in store_people:
            continue
        todo = today.gather(ctx, person.id, at)
        if not todo.empty:
            ctx.notify(person.id, today.card(ctx, person.id, todo, at), f"today:{day.isoformat()}")


# ------------------------------------------------------------------ /漏斗
def _scope(ctx: Context, args: tuple[str, ...]) -> scope_mod.Scope:
    if len(args) > 1:
        raise UserInputError(ctx.t("views.pipeline_usage"))
    sc = scope_mod.resolve(args[0], ctx.event.actor, ctx.directory, ctx.t,
                           unknown_key="forecast.unknown_scope_who") if args else \
        scope_mod.default_scope(ctx.event.actor, ctx.directory, ctx.t)
    if sc.owners is not None and not sc.owners:
        raise UserInputError(ctx.t("core.permission_denied"))
    return sc


def stage_name(ctx: Context, stage: str) -> str:
    return stage or ctx.t("views.pipeline_no_stage")


def pipeline_text(ctx: Context, pl: pipeline.Pipeline, scope_text: str) -> list[str]:
    lines = [ctx.t("views.pipeline_title", scope=scope_text, n=pl.count, amount=wan(pl.amount),
                   since=pl.since_day)]
    for r in pl.rows:
        lines.append(ctx.t("views.pipeline_row", stage=stage_name(ctx, r.stage), n=r.count, amount=wan(r.amount),
                           dn=signed_count(r.count - r.count_before), damount=signed_wan(r.amount - r.amount_before)))
    moved = [ctx.t(f"views.pipeline_move_{k}", n=len(v), amount=wan(sum(a for _t, a in v)))
             for k, v in pl.moves.items() if v]
    lines.append(ctx.t("views.pipeline_moves", moves=ctx.t("core.list_sep").join(moved)) if moved
                 else ctx.t("views.pipeline_no_moves"))
    for kind in ("won", "lost", "new"):
        if pl.moves.get(kind):
            names = ctx.t("core.list_sep").join(t for t, _a in pl.moves[kind][:5])
            lines.append(ctx.t(f"views.pipeline_names_{kind}", names=names))
    if pl.source == "rebuilt":
        lines.append(ctx.t("views.pipeline_rebuilt"))
    return lines


def compute_pipeline(ctx: Context, owners: list[str] | None) -> pipeline.Pipeline:
    cfg = ctx.config.pipeline
    day = _local_today(ctx)
    pipeline.snapshot(ctx.store, day, cfg.keep_days)  # today's state, so next week has a "before"
    since_ms = ctx.clock.now_ms() - cfg.compare_days * periods.DAY_MS
    return pipeline.compute(ctx.store, owners, cfg.stages, day, cfg.compare_days, since_ms)


@router.command("pipeline")
def on_pipeline(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    sc = _scope(ctx, args)
    scope_text = ctx.t(f"forecast.{sc.label_key}", name=sc.name)
    pl = compute_pipeline(ctx, sc.owners)
    if not pl.rows:
        ctx.reply(ctx.t("views.pipeline_empty", scope=scope_text))
        return
    text = "\n".join(pipeline_text(ctx, pl, scope_text))
    title = ctx.t("views.pipeline_chart_title", scope=scope_text)
    notes = [ctx.t("views.pipeline_bar_note", n=r.count, amount=wan(r.amount),
                   damount=signed_wan(r.amount - r.amount_before)) for r in pl.rows]
    # one answer: the picture, carrying the text version for platforms and terminals that show no images
    ctx.defer("views.pipeline_chart", {
        "title": title, "labels": [stage_name(ctx, r.stage) for r in pl.rows],
        "amounts": [r.amount / 10_000 for r in pl.rows], "before": [r.amount_before / 10_000 for r in pl.rows],
        "notes": notes, "legend": [ctx.t("views.pipeline_legend_now"), ctx.t("views.pipeline_legend_before",
                                                                              day=pl.since_day)],
        "x_label": ctx.t("views.pipeline_x_label"), "alt": text})


@router.job("views.pipeline_chart")
def job_pipeline_chart(payload: dict, reader: Store) -> Reply:
    cfg = _SERVICES["s"].config
    folder = chart_folder(cfg)
    # named after what it shows: asking again about the same pipeline redraws the same file
    digest = hashlib.sha1(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
    path = folder / f"pipeline-{digest}.png"
    pipeline_chart.render_png(payload["title"], payload["labels"], payload["amounts"], payload["before"],
                              payload["notes"], tuple(payload["legend"]), payload["x_label"], path)
    prune_charts(folder, "pipeline-")
    return Reply.image(str(path), payload["alt"], title=payload["title"])


@router.on(Tick, F(lambda event, ctx: event.job == SNAPSHOT_JOB))
def on_snapshot(event: Tick, ctx: Context) -> None:
    day = periods.local_date(max(ctx.clock.now_ms(), event.due_at), ZoneInfo(ctx.config.bot.timezone))
    pipeline.snapshot(ctx.store, day, ctx.config.pipeline.keep_days)


# ------------------------------------------------------------------ /目标
def scope_label(ctx: Context, scope: targets.TargetScope) -> str:
    return ctx.t(f"views.target_scope_{scope.kind}", name=scope.name)


def _parse_target_args(ctx: Context, args: tuple[str, ...]):
    today_ = _local_today(ctx)
    period = amount = scope_word = None
    for a in args:
        p = periods.parse(a, today_)
        if p is not None and period is None:
            period = p
            continue
        value = targets.parse_amount(a)
        if value is not None and amount is None:
            amount = value
            continue
        if scope_word is not None:
            raise UserInputError(ctx.t("views.target_usage"))
        scope_word = a
    if amount is None:
        if any(ch.isdigit() for ch in "".join(args)):
            raise UserInputError(ctx.t("views.target_bad_amount", text=" ".join(args)))
        raise UserInputError(ctx.t("views.target_usage"))
    period = period or periods.parse(ctx.config.forecast.default_period, today_) or periods.quarter_of(today_)
    return period, amount, scope_word


@router.command("target")
def on_target(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    actor = event.actor
    if not args:
        ctx.reply(targets_listing(ctx))
        return
    if not actor.is_admin and actor.role != Role.MANAGER:
        raise UserInputError(ctx.t("views.target_reps_may_not"))
    if args[0].lower() in DELETE_WORDS:
        _delete_target(event, ctx, args[1:])
        return
    period, amount, scope_word = _parse_target_args(ctx, args)
    scope = targets.resolve_scope(scope_word, actor, ctx.directory, ctx.t)
    if not targets.may_set(actor, scope, ctx.directory):
        raise UserInputError(ctx.t("views.target_not_yours", scope=scope_label(ctx, scope)))
    old = target_store.put(ctx.store, scope.key, period.label, amount, actor.person_id, ctx.clock.now_ms(),
                           event.event_id)
    if old is None:
        before = targets.config_target(ctx.config.forecast.targets, scope.key, period, _local_today(ctx))
        old_text = ctx.t("views.target_from_config", amount=wan(before)) if before else ctx.t("views.target_none")
    else:
        old_text = wan(old) + ctx.t("forecast.wan")
    ctx.reply(ctx.t("views.target_set", scope=scope_label(ctx, scope), period=period.label, old=old_text,
                    new=wan(amount)))


DELETE_WORDS = ("删除", "清除", "取消", "删掉", "delete", "clear", "remove")


def _delete_target(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    """`/目标 删除 [本季|2026-06] [团队名|@某人]`: remove a target set in chat, audited like a change. Only chat-set
    targets can go; one from bot.toml is named as such (it is edited there). The same scope rules as setting."""
    today_ = _local_today(ctx)
    period = scope_word = None
    for a in args:
        p = periods.parse(a, today_)
        if p is not None and period is None:
            period = p
        elif scope_word is None:
            scope_word = a
        else:
            raise UserInputError(ctx.t("views.target_delete_usage"))
    period = period or periods.parse(ctx.config.forecast.default_period, today_) or periods.quarter_of(today_)
    scope = targets.resolve_scope(scope_word, event.actor, ctx.directory, ctx.t)
    if not targets.may_set(event.actor, scope, ctx.directory):
        raise UserInputError(ctx.t("views.target_not_yours", scope=scope_label(ctx, scope)))
    removed = target_store.delete(ctx.store, scope.key, period.label, event.actor.person_id, ctx.clock.now_ms(),
                                  event.event_id)
    from_config = targets.config_target(ctx.config.forecast.targets, scope.key, period, today_)
    label = scope_label(ctx, scope)
    if removed is None:
        key = "views.target_delete_config_only" if from_config else "views.target_delete_none"
        ctx.reply(ctx.t(key, scope=label, period=period.label, amount=wan(from_config or 0)))
        return
    now_text = ctx.t("views.target_from_config", amount=wan(from_config)) if from_config else ctx.t(
        "views.target_delete_now_none")
    ctx.reply(ctx.t("views.target_deleted", scope=label, period=period.label, old=wan(removed), now=now_text))


def targets_listing(ctx: Context) -> str:
    """This month's and this quarter's targets the asker may see (chat-set and bot.toml), and the latest changes."""
    day = _local_today(ctx)
    shown = [periods.month_of(day), periods.quarter_of(day)]
    visible = targets.visible_keys(ctx.event.actor, ctx.directory)
    keys = list(visible) if visible is not None else ["company", *(f"team:{n}" for n, _m in
                                                                   sorted(ctx.directory.teams.values()))]
    for t in target_store.for_periods(ctx.store, [p.label for p in shown]):
        if (visible is None or t.scope_key in visible) and t.scope_key not in keys:
            keys.append(t.scope_key)
    lines = [ctx.t("views.target_list_title")]
    for period in shown:
        for key in keys:
            amount, source = targets.target_for(ctx.store, ctx.config.forecast.targets, key, period, day)
            if amount is None:
                continue
            scope = targets.scope_of_key(key, ctx.directory)
            chat = target_store.get(ctx.store, key, period.label) if source == "chat" else None
            who = ctx.directory.person(chat.set_by) if chat else None
            origin = ctx.t("views.target_origin_chat", who=who.name if who else (chat.set_by if chat else ""),
                           day=periods.local_date(chat.set_at, ZoneInfo(ctx.config.bot.timezone)).isoformat()) \
                if chat else ctx.t("views.target_origin_config")
            lines.append(ctx.t("views.target_line", period=period.label, scope=scope_label(ctx, scope),
                               amount=wan(amount), origin=origin))
    if len(lines) == 1:
        lines.append(ctx.t("views.target_list_none"))
    changes = target_store.history(ctx.store, visible, limit=5)
    if changes:
        lines.append(ctx.t("views.target_history_title"))
        for c in changes:
            who = ctx.directory.person(c.person_id)
            lines.append(ctx.t("views.target_history_line",
                               when=periods.local_date(c.at, ZoneInfo(ctx.config.bot.timezone)).isoformat(),
                               who=who.name if who else c.person_id,
                               scope=scope_label(ctx, targets.scope_of_key(c.scope_key, ctx.directory)),
                               period=c.period, old=wan(c.old_amount) + ctx.t("forecast.wan") if c.old_amount is not None else "—",
                               new=wan(c.new_amount) + ctx.t("forecast.wan") if c.new_amount is not None
                               else ctx.t("views.target_history_deleted")))
    if ctx.event.actor.is_admin or ctx.event.actor.role == Role.MANAGER:
        lines.append(ctx.t("views.target_hint"))
    return "\n".join(lines)


# ------------------------------------------------------------------ /导出
EXPORTS_KEPT = 50  # workbooks kept in <data_dir>/exports; older ones are deleted when a new one is written


def _export_usage(ctx: Context, words) -> str:
    """The usage, after the words that were not understood (they used to trail the usage unexplained)."""
    usage = ctx.t("views.export_usage")
    return ctx.t("views.export_not_understood", words=" ".join(words), usage=usage) if words else usage


@router.command("export")
def on_export(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    sheets, rest = workbook.parse_what(args)
    if not sheets:
        raise UserInputError(_export_usage(ctx, rest))
    today_ = _local_today(ctx)
    period = None
    others = []
    for word in rest:
        p = periods.parse(word, today_)
        if p is not None and period is None:
            period = p
        else:
            others.append(word)
    sc = _scope(ctx, tuple(others)) if len(others) <= 1 else None
    if sc is None:
        raise UserInputError(_export_usage(ctx, others))
    period = period or periods.parse(ctx.config.forecast.default_period, today_) or periods.quarter_of(today_)
    target = targets.target_for(ctx.store, ctx.config.forecast.targets, sc.target_key, period, today_)[0]
    names = ctx.t("core.list_sep").join(ctx.t(f"views.xlsx_sheet_{s}") for s in sheets)
    ctx.reply(ctx.t("views.export_working", sheets=names))
    ctx.defer("views.export", {"sheets": sheets, "owners": sc.owners, "scope": ctx.t(f"forecast.{sc.label_key}",
                                                                                      name=sc.name),
                               "kind": period.kind, "start": period.start.isoformat(), "target": target,
                               "key": event.event_id})


@router.job("views.export")
def job_export(payload: dict, reader: Store) -> Reply:
    s = _SERVICES["s"]
    ctx = Context(Services(store=reader, config=s.config, clock=s.clock, directory=s.directory, prompts=s.prompts),
                  None)
    now = s.clock.now_ms()
    period = periods.of_kind(payload["kind"], date.fromisoformat(payload["start"]))
    folder = export_folder(s.config)
    stamp = from_ms(now).astimezone(ZoneInfo(s.config.bot.timezone)).strftime("%Y%m%d-%H%M")
    digest = hashlib.sha1(str(payload["key"]).encode()).hexdigest()[:8]
    path = folder / f"salespulse-{'-'.join(payload['sheets'])}-{stamp}-{digest}.xlsx"
    counts = workbook.build(ctx, payload["sheets"], payload["owners"], payload["scope"], path, now, period,
                            payload["target"])
    prune_charts(folder, "salespulse-", EXPORTS_KEPT, suffix=".xlsx")
    lines = ctx.t("core.list_sep").join(ctx.t("views.export_sheet_rows", sheet=k, n=v) for k, v in counts.items())
    return Reply.file(str(path), ctx.t("views.export_done", scope=payload["scope"], sheets=lines, name=path.name),
                      title=ctx.t("views.export_title"))


def export_folder(config) -> Path:
    """<bot.data_dir>/exports as an absolute path (a relative one would be printed relative to the start folder)."""
    return (Path(config.bot.data_dir) / "exports").resolve()
