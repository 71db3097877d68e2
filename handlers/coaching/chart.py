"""The objection × strategy matrix as a PNG heatmap, in the look of handlers/charts.py (same bundled CJK font,
same blue scale, object API only — never pyplot, which is not thread-safe). Drawn by a deferred job from plain
data; the reply carries the text version as alt_text."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from handlers.charts import COLORS, RenderInfo, cjk_font_path, save_png


@dataclass(frozen=True)
class MatrixData:
    title: str
    row_labels: tuple[str, ...]  # objections
    col_labels: tuple[str, ...]  # strategies
    rates: tuple[tuple[float | None, ...], ...]  # success estimate per cell, None when no snippet
    counts: tuple[tuple[str, ...], ...]  # "15/23" per cell ('' when none)
    caption: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> MatrixData:
        return MatrixData(d["title"], tuple(d["row_labels"]), tuple(d["col_labels"]),
                          tuple(tuple(v for v in row) for row in d["rates"]),
                          tuple(tuple(row) for row in d["counts"]), d.get("caption", ""))


def render_png(data: MatrixData, path: str | Path, dpi: int = 110) -> RenderInfo:
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.figure import Figure

    font = font_manager.FontProperties(fname=cjk_font_path())
    n_rows, n_cols = len(data.row_labels), len(data.col_labels)
    fig = Figure(figsize=(max(7.0, 2.4 + 1.15 * n_cols), 1.8 + 0.6 * n_rows), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.16, 0.14, 0.70, 0.70))
    cmap = LinearSegmentedColormap.from_list("sp_blues", COLORS[1:]).with_extremes(bad=COLORS[0])
    grid = [[float("nan") if v is None else v for v in row] for row in data.rates]
    image = ax.imshow(grid, aspect="auto", cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks(range(n_cols))
    ax.set_xticklabels(data.col_labels)
    ax.xaxis.tick_top()
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels(data.row_labels)
    ax.set_xticks([i - 0.5 for i in range(n_cols + 1)], minor=True)
    ax.set_yticks([i - 0.5 for i in range(n_rows + 1)], minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    for r, row in enumerate(data.rates):
        for c, v in enumerate(row):
            if v is None:
                continue
            ax.text(c, r, f"{round(v * 100)}%\n{data.counts[r][c]}", ha="center", va="center", fontsize=8,
                    color="white" if v >= 0.55 else "#08306b")
    fig.suptitle(data.title, fontproperties=font, fontsize=11, y=0.99)
    bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    bar.ax.set_yticks([0, 0.5, 1.0])
    bar.ax.set_yticklabels(["0%", "50%", "100%"])
    if data.caption:
        fig.text(0.16, 0.03, data.caption, fontproperties=font, fontsize=8, color="#555555")
    return save_png(fig, font, path)
