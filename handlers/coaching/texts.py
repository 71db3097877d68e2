"""How snippets and estimates read in chat (texts from prompts/locales/*/coaching.toml)."""

from __future__ import annotations

from bot.context import Context
from handlers.coaching.library import Snippet, primary_strategy
from handlers.coaching.outcomes import Estimate
from handlers.coaching.runtime import label_name

MAX_TEXT = 80


def short(text: str, limit: int = MAX_TEXT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def estimate_text(ctx: Context, objection: str, strategy: str, est: Estimate) -> str:
    """"交付 → 案例佐证：23 次中 15 次推进（65%，区间 48–79%）"."""
    return ctx.t("coaching.estimate", objection=label_name(ctx, objection), strategy=label_name(ctx, strategy),
                 n=est.n, k=est.n_success, pct=est.pct, low=round(est.low * 100), high=round(est.high * 100))


def marked_response(ctx: Context, snippet: Snippet) -> str:
    """The answer with its turning sentence marked 【…】 (or the turning sentence on its own line)."""
    text = short(snippet.response_text, 160)
    turn = " ".join(snippet.turning_sentence.split())
    if turn and turn in text:
        return text.replace(turn, ctx.t("coaching.turn_mark", text=turn), 1)
    if turn:
        return text + "\n" + ctx.t("coaching.turn_line", text=short(turn))
    return text


def scene_text(ctx: Context, s: Snippet) -> str:
    parts = [p for p in (s.industry, s.size, s.product_line) if p]
    return ctx.t("core.list_sep").join(parts) if parts else ctx.t("coaching.scene_unknown")


def snippet_block(ctx: Context, s: Snippet, i: int, objection: str | None = None) -> str:
    objection = objection or (s.objections[0] if s.objections else "")
    lines = [ctx.t("coaching.snippet_head", i=i, id=s.id, scene=scene_text(ctx, s),
                   star=ctx.t("coaching.star") if s.starred else "",
                   outcome=ctx.t(f"coaching.outcome_{s.outcome}"))]
    lines.append(ctx.t("coaching.snippet_customer", text=short(s.objection_text)))
    latency = "" if s.latency_s is None else ctx.t("coaching.latency", s=_secs(s.latency_s))
    lines.append(ctx.t("coaching.snippet_rep", text=marked_response(ctx, s), latency=latency))
    if s.silence_action:
        lines.append(ctx.t("coaching.silence_line", action=ctx.t(f"coaching.silence_{s.silence_action}")))
    lines.append(ctx.t("coaching.snippet_evidence",
                       text=estimate_text(ctx, objection, primary_strategy(s.strategies), s.estimate)))
    return "\n".join(lines)


def _secs(value: float) -> str:
    if value < 120:
        return f"{value:.0f}s"
    if value < 7200:
        return f"{value / 60:.0f}min"
    return f"{value / 3600:.1f}h"
