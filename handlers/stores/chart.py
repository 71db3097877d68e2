"""The stores × days picture of the four-colour code: a PNG in the look of handlers/charts.py (same bundled CJK
font, object API only, drawn in the deferred worker) and the same grid as text (🟩🟨🟧🟥⬜) for terminals."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from handlers.charts import cjk_font_path, day_label, display_width, save_png

ORDER = ("none", "green", "yellow", "orange", "red")
COLOURS = {"none": "#e8e8e8", "green": "#2ca02c", "yellow": "#ffd92f", "orange": "#ff7f0e", "red": "#d62728"}
MARKS = {"none": "⬜", "green": "🟩", "yellow": "🟨", "orange": "🟧", "red": "🟥"}


@dataclass(frozen=True)
class CodeGrid:
    title: str
    days: tuple[str, ...]
    stores: tuple[str, ...]
    colours: tuple[tuple[str, ...], ...]  # stores × days
    legend: tuple[str, ...]  # the five colour names, in ORDER

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> CodeGrid:
        return CodeGrid(d["title"], tuple(d["days"]), tuple(d["stores"]), tuple(tuple(r) for r in d["colours"]),
                        tuple(d["legend"]))


def text_grid(grid: CodeGrid) -> str:
    width = max((display_width(s) for s in grid.stores), default=0) + 1
    lines = []
    if grid.days:
        lines.append(" " * width + f"{day_label(grid.days[0])} → {day_label(grid.days[-1])}")
    for name, row in zip(grid.stores, grid.colours, strict=True):
        lines.append(name + " " * (width - display_width(name)) + "".join(MARKS[c] for c in row))
    lines.append("  ".join(f"{MARKS[c]}{label}" for c, label in zip(ORDER, grid.legend, strict=True)))
    return "\n".join(lines)


def render_png(grid: CodeGrid, path: str | Path, dpi: int = 110) -> str:
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    font = font_manager.FontProperties(fname=cjk_font_path())
    n_days, n_rows = len(grid.days), len(grid.stores)
    values = [[ORDER.index(c) for c in row] for row in grid.colours]
    fig = Figure(figsize=(max(6.0, 2.8 + 0.3 * n_days), 1.8 + 0.38 * max(n_rows, 1)), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.2, 0.22, 0.62, 0.64))
    cmap = ListedColormap([COLOURS[c] for c in ORDER])
    norm = BoundaryNorm([i - 0.5 for i in range(len(ORDER) + 1)], len(ORDER))
    ax.imshow(values or [[0]], aspect="auto", cmap=cmap, norm=norm, interpolation="nearest")
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels(grid.stores)
    step = 1 if n_days <= 14 else 7
    ticks = list(range(0, n_days, step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([day_label(grid.days[i]) for i in ticks])
    ax.set_xticks([i - 0.5 for i in range(n_days + 1)], minor=True)
    ax.set_yticks([i - 0.5 for i in range(n_rows + 1)], minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    ax.set_title(grid.title, fontproperties=font, fontsize=11)
    handles = [Patch(facecolor=COLOURS[c], label=label) for c, label in zip(ORDER, grid.legend, strict=True)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), prop=font, frameon=False)
    return save_png(fig, font, path).path
