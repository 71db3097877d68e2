"""The /漏斗 picture: one horizontal bar per stage (amount, first stage on top), labelled with the count, the amount
and the change since the compared day. Drawn by a deferred job from plain data; every text in the bundled CJK font
through handlers.charts.save_png."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from handlers.charts import RenderInfo, cjk_font_path, save_png

BAR = "#2171b5"
BEFORE = "#c6dbef"


def render_png(title: str, labels: Sequence[str], amounts: Sequence[float], before: Sequence[float],
               notes: Sequence[str], legend: tuple[str, str], x_label: str, path: str | Path,
               dpi: int = 110) -> RenderInfo:
    """`amounts`/`before` in 万; `notes` is the text written after each bar ("12个 350万 +40万")."""
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font = font_manager.FontProperties(fname=cjk_font_path())
    n = max(len(labels), 1)
    fig = Figure(figsize=(8.0, 1.4 + 0.6 * n), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.18, 0.18, 0.56, 0.68))
    ys = list(range(len(labels)))[::-1]  # the first stage on top
    ax.barh(ys, before, height=0.75, color=BEFORE, label=legend[1])
    ax.barh(ys, amounts, height=0.45, color=BAR, label=legend[0])
    ax.set_yticks(ys)
    ax.set_yticklabels(labels)
    top = max([*amounts, *before, 1.0])
    ax.set_xlim(0, top * 1.05)
    for y, note in zip(ys, notes, strict=True):
        ax.text(top * 1.08, y, note, va="center", fontsize=9, clip_on=False)
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(x_label)
    ax.legend(loc="lower right", fontsize=8, prop=font)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return save_png(fig, font, path)
