"""Coaching lines for the other reports: the weekly digest (objections met this week and how they were answered;
the "再比较一下" check's rate) and /baseline (the check's rate per team and rep). Read-only."""

from __future__ import annotations

from collections.abc import Sequence

from bot.context import Context
from handlers.coaching.runtime import label_name
from store import coaching as coach_store


def _pct(k: int, n: int) -> str:
    return f"{round(k * 100 / n)}%" if n else "—"


def objection_line(ctx: Context, reps: Sequence[str], since: int, until: int, top: int = 4) -> str:
    counts = coach_store.met_counts(ctx.store, reps, since, until)
    if not counts:
        return ctx.t("coaching.digest_no_objections")
    totals: dict[str, int] = {}
    best: dict[str, tuple[int, str]] = {}
    for objection, strategy, n in counts:
        totals[objection] = totals.get(objection, 0) + n
        if strategy and n > best.get(objection, (0, ""))[0]:
            best[objection] = (n, strategy)
    items = []
    for objection, n in sorted(totals.items(), key=lambda p: (-p[1], p[0]))[:top]:
        strategy = best.get(objection, (0, ""))[1]
        items.append(ctx.t("coaching.digest_objection_item", objection=label_name(ctx, objection), n=n,
                           strategy=label_name(ctx, strategy)))
    return ctx.t("coaching.digest_objections", items=ctx.t("core.list_sep").join(items))


def hesitation_counts(ctx: Context, reps: Sequence[str] | None, since: int, until: int) -> tuple[int, int]:
    """(with a case, checks) over these reps (None: everyone) in the window."""
    rates = coach_store.hesitation_rates(ctx.store, reps, since, until)
    k = sum(a for a, _b in rates.values())
    return k, k + sum(b for _a, b in rates.values())


def digest_lines(ctx: Context, reps: Sequence[str], since: int, until: int) -> list[str]:
    lines = [objection_line(ctx, reps, since, until)]
    k, n = hesitation_counts(ctx, reps, since, until)
    if n:
        lines.append(ctx.t("coaching.digest_hesitation", k=k, n=n, pct=round(k * 100 / n)))
    return lines


def baseline_lines(ctx: Context, groups: Sequence[tuple[str, Sequence[str] | None]], since: int, until: int) -> list[str]:
    """One line per (label, rep ids) group that had a hesitation in the window; one 'none' line otherwise."""
    out = []
    for label, reps in groups:
        k, n = hesitation_counts(ctx, reps, since, until)
        if n:
            out.append(ctx.t("coaching.baseline_hesitation", label=label, k=k, n=n, pct=_pct(k, n)))
    return out or [ctx.t("coaching.baseline_hesitation_none")]
