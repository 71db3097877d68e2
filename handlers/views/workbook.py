"""Excel exports (/导出 and `salespulse report --xlsx`): the forecast, deal health, the baseline self-check and the
pipeline as sheets of one .xlsx, Chinese sheet names and headers (English with the en locale).

Why one builder for chat and CLI: the file a manager gets in chat and the one an admin writes from the command line
must be the same numbers. `build(ctx, …)` takes a Context whose store may be a read-only reader (a deferred job)
or an opened database (the CLI); it computes every sheet from the store alone, writes the file and returns what is
in it (sheet name → data rows) for the reply's text version.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.events import Role
from handlers import baseline
from handlers.forecast import engine, health, periods
from store import deals as deal_store

SHEETS = ("forecast", "health", "baseline", "pipeline")
# words that name a sheet in `/导出 …` and `--what` (either locale's word, or the English key)
WORDS = {"预测": "forecast", "forecast": "forecast", "健康度": "health", "health": "health", "基线": "baseline",
         "baseline": "baseline", "漏斗": "pipeline", "pipeline": "pipeline", "全部": "all", "all": "all"}


def parse_what(words: Sequence[str]) -> tuple[list[str], list[str]]:
    """(sheets in the canonical order, words that name none). "全部"/"all" means every sheet."""
    wanted, unknown = set(), []
    for w in words:
        for part in w.replace("，", ",").replace("、", ",").split(","):
            part = part.strip()
            if not part:
                continue
            key = WORDS.get(part.lower())
            if key is None:
                unknown.append(part)
            elif key == "all":
                wanted.update(SHEETS)
            else:
                wanted.add(key)
    return [s for s in SHEETS if s in wanted], unknown


def _date(ms: int | None, zone: ZoneInfo) -> str:
    return periods.local_date(ms, zone).isoformat() if ms else ""


def _owner_name(ctx: Context, owner_id: str | None) -> str:
    person = ctx.directory.person(owner_id or "")
    return person.name if person else (owner_id or "")


def forecast_rows(ctx: Context, owners: list[str] | None, period: periods.Period, target: float | None,
                  now_ms: int) -> tuple[list[str], list[list], list[list]]:
    """(summary headers, summary row, per-deal rows with header): P10/P50/P90 and each open deal's probability."""
    zone = ZoneInfo(ctx.config.bot.timezone)
    cfg = ctx.config.forecast
    fc = engine.run(ctx.store, cfg, zone, now_ms, period, owners, target, seed=int(now_ms % 2**31))
    o = fc.outcome
    summary_head = [ctx.t(f"views.xlsx_fc_{k}") for k in ("period", "p50", "p10", "p90", "confidence", "won",
                                                          "target", "chance", "deals")]
    summary = [period.label, round(o.p50), round(o.p10), round(o.p90), round(o.confidence, 3),
               round(fc.won_to_date), round(o.target) if o.target else None,
               round(o.prob_target, 3) if o.target and o.prob_target is not None else None, fc.n_deals]
    all_deals = deal_store.listing(ctx.store)
    models = engine.build_models(ctx.store, all_deals, cfg, now_ms)
    head = [ctx.t(f"views.xlsx_deal_{k}") for k in ("title", "customer", "owner", "stage", "amount", "close",
                                                    "probability", "expected")]
    rows = [head]
    for d in deal_store.listing(ctx.store, status="open", owners=owners):
        p = engine.explain(models, d).probability
        rows.append([d.title, d.customer_name, _owner_name(ctx, d.owner_id), d.stage, round(d.amount),
                     _date(d.expected_close_at, zone), round(p, 3), round(p * d.amount)])
    return summary_head, summary, rows


def health_rows(ctx: Context, owners: list[str] | None, now_ms: int) -> list[list]:
    zone = ZoneInfo(ctx.config.bot.timezone)
    deals = deal_store.listing(ctx.store, status="open", owners=owners)
    last = deal_store.last_customer_response(ctx.store, [d.id for d in deals])
    rows = [[ctx.t(f"views.xlsx_health_{k}") for k in ("title", "customer", "owner", "amount", "close", "colour",
                                                       "issues")]]
    rated = [(d, health.assess(d, now_ms, ctx.config.forecast.health, last.get(d.id))) for d in deals]
    order = {health.RED: 0, health.YELLOW: 1, health.GREEN: 2}
    for d, h in sorted(rated, key=lambda x: (order.get(x[1].colour, 3), -x[0].amount)):
        issues = ctx.t("core.clause_sep").join(ctx.t(f"forecast.{k}", **v) for _c, k, v in h.issues)
        rows.append([d.title, d.customer_name, _owner_name(ctx, d.owner_id), round(d.amount),
                     _date(d.expected_close_at, zone), ctx.t(f"forecast.colour_{h.colour}"), issues])
    return rows


def baseline_rows(ctx: Context, owners: list[str] | None, now_ms: int) -> list[list]:
    directory = ctx.directory
    if owners is None:
        teams, company = sorted(directory.teams), True
        reps = sorted(p.id for p in directory.with_role(Role.REP))
    else:
        own = set(owners)
        teams = sorted(t for t in directory.teams if directory.team_members(t)
                       and {p.id for p in directory.team_members(t)} <= own)
        reps, company = sorted(pid for pid in own if (p := directory.person(pid)) and p.role == Role.REP), False
    window, rows = baseline.compute(ctx, now_ms, reps, teams, company)
    cfg = ctx.config.baseline
    out = [[ctx.t(f"views.xlsx_base_{k}") for k in ("label", "follow_up", "gaps", "actions", "count")]]
    for r in rows:
        out.append([r.label, None if r.follow_up_days is None else round(r.follow_up_days, 2), r.gaps,
                    None if r.actions_per_day is None else round(r.actions_per_day, 2), r.actions])
    out.append([])
    out.append([ctx.t("views.xlsx_base_reference", fu_mean=cfg.follow_up_industry_days,
                      fu_ok=cfg.follow_up_healthy_days, act_mean=cfg.actions_industry, act_ok=cfg.actions_healthy,
                      days=window.days, working_days=window.working_days)])
    return out


def pipeline_rows(ctx: Context, owners: list[str] | None, now_ms: int) -> list[list]:
    from handlers.views import pipeline

    zone = ZoneInfo(ctx.config.bot.timezone)
    cfg = ctx.config.pipeline
    today = periods.local_date(now_ms, zone)
    pl = pipeline.compute(ctx.store, owners, cfg.stages, today, cfg.compare_days,
                          now_ms - cfg.compare_days * periods.DAY_MS)
    out = [[ctx.t(f"views.xlsx_pipe_{k}", since=pl.since_day) for k in ("stage", "count", "amount", "count_before",
                                                                      "amount_before", "dcount", "damount")]]
    for r in pl.rows:
        out.append([r.stage or ctx.t("views.pipeline_no_stage"), r.count, round(r.amount), r.count_before,
                    round(r.amount_before), r.count - r.count_before, round(r.amount - r.amount_before)])
    out.append([ctx.t("views.xlsx_pipe_total"), pl.count, round(pl.amount)])
    out.append([])
    out.append([ctx.t("views.xlsx_pipe_move"), ctx.t("views.xlsx_pipe_deal"), ctx.t("views.xlsx_pipe_move_amount")])
    for kind, moves in pl.moves.items():
        for title, amount in moves:
            out.append([ctx.t(f"views.xlsx_move_{kind}"), title, round(amount)])
    if pl.source == "rebuilt":
        out.append([])
        out.append([ctx.t("views.pipeline_rebuilt")])
    return out


def build(ctx: Context, sheets: Sequence[str], owners: list[str] | None, scope_text: str, path: str | Path,
          now_ms: int, period: periods.Period | None = None, target: float | None = None) -> dict[str, int]:
    """Write the workbook; returns sheet title → number of data rows (for the reply's text)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    zone = ZoneInfo(ctx.config.bot.timezone)
    today = periods.local_date(now_ms, zone)
    wb = Workbook()
    wb.remove(wb.active)
    counts: dict[str, int] = {}
    bold = Font(bold=True)
    stamp = ctx.t("views.xlsx_stamp", scope=scope_text,
                  at=datetime.fromtimestamp(now_ms / 1000, zone).strftime("%Y-%m-%d %H:%M"))
    for sheet in sheets:
        title = ctx.t(f"views.xlsx_sheet_{sheet}")
        ws = wb.create_sheet(title)
        ws.append([stamp])
        if sheet == "forecast":
            p = period or periods.parse(ctx.config.forecast.default_period, today) or periods.quarter_of(today)
            head, summary, rows = forecast_rows(ctx, owners, p, target, now_ms)
            ws.append(head)
            ws.append(summary)
            for cell in ws[2]:
                cell.font = bold
            ws.append([])
            header_row = ws.max_row + 1
        else:
            rows = {"health": health_rows, "baseline": baseline_rows, "pipeline": pipeline_rows}[sheet](
                ctx, owners, now_ms)
            header_row = ws.max_row + 1
        for row in rows:
            ws.append(row)
        for cell in ws[header_row]:
            cell.font = bold
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
        for column in ws.columns:  # wide enough for Chinese titles (two columns a character)
            width = max((len(str(c.value)) * 2 for c in column if c.value is not None and c.row > 1), default=8)
            ws.column_dimensions[column[0].column_letter].width = min(max(width, 8), 60)
        # data rows: up to the first blank line (notes follow it), without the header and the pipeline's total
        body = rows.index([]) if [] in rows else len(rows)
        counts[title] = max(0, body - 1 - (sheet == "pipeline"))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return counts
