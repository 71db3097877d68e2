"""Heatmap rendering: the data model, the Unicode-block text version and the PNG.

Why here and pure: the handler computes the data inside the dispatcher transaction (cheap queries), and the PNG
is drawn by a deferred job in a worker thread from that data alone. Text and image use the same shade levels, so
what a terminal user sees matches the picture.

Chinese labels use Noto Sans CJK SC shipped inside the `mplfonts` wheel, loaded by file path: a server without
CJK system fonts still renders 销售动作 instead of empty boxes. Only matplotlib's object API (Figure + Agg
canvas) is used, never pyplot, whose global state is not thread-safe.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

SHADES = " ░▒▓█"
COLD_MARK = "~"
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
COLORS = ("#f4f4f4", "#c6dbef", "#6baed6", "#2171b5", "#08306b")
COLD_COLOR = "#d62728"


@dataclass(frozen=True)
class HeatmapData:
    title: str
    days: tuple[str, ...]  # ISO dates, one per column
    row_labels: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]  # rows × days: weighted touches per day
    cold: tuple[tuple[int, int], ...]  # inclusive column ranges without any touch
    levels: tuple[float, ...]
    texts: dict[str, str] = field(default_factory=dict)  # legend, cold_caption, cold_row, x_label

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> HeatmapData:
        return HeatmapData(d["title"], tuple(d["days"]), tuple(d["row_labels"]),
                           tuple(tuple(float(v) for v in row) for row in d["values"]),
                           tuple((int(a), int(b)) for a, b in d["cold"]), tuple(d["levels"]), dict(d["texts"]))


def shade_level(value: float, levels: Sequence[float]) -> int:
    """0 for no touch; otherwise 1..len(levels): how many thresholds the value reaches (at least 1)."""
    if value <= 0:
        return 0
    return max(1, sum(1 for t in levels if value >= t))


def cold_zones(totals: Sequence[float], min_days: int) -> list[tuple[int, int]]:
    """Maximal runs of consecutive zero days at least `min_days` long, as inclusive index ranges."""
    zones: list[tuple[int, int]] = []
    start = None
    for i, v in enumerate([*totals, 1.0]):
        if v <= 0 and i < len(totals):
            start = i if start is None else start
        elif start is not None:
            if i - start >= max(1, min_days):
                zones.append((start, i - 1))
            start = None
    return zones


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def day_label(iso: str) -> str:
    _y, m, d = iso.split("-")
    return f"{int(m)}/{int(d)}"


def scale_line(days: Sequence[str], every: int = 7) -> str:
    """A day scale: the date written above every `every`-th column, never overlapping the next one."""
    chars = [" "] * (len(days) + 6)
    for i in range(0, len(days), every):
        label = day_label(days[i])
        if all(c == " " for c in chars[i:i + len(label) + 1]):
            chars[i:i + len(label)] = list(label)
    return "".join(chars).rstrip()


def text_heatmap(data: HeatmapData, with_title: bool = True) -> str:
    """The heatmap in Unicode blocks: one row per category, a day scale, cold zones marked with '~'.
    Replies carry the title separately (adapters print it above the alt text), hence `with_title`."""
    labels = [*data.row_labels, data.texts.get("cold_row", "")]
    width = max(display_width(lb) for lb in labels) + 1
    lines = [data.title] if with_title else []
    lines.append(_pad("", width) + scale_line(data.days))
    for label, row in zip(data.row_labels, data.values, strict=True):
        lines.append(_pad(label, width) + "".join(SHADES[shade_level(v, data.levels)] for v in row))
    if data.cold:
        marks = [" "] * len(data.days)
        for a, b in data.cold:
            marks[a:b + 1] = [COLD_MARK] * (b - a + 1)
        lines.append(_pad(data.texts.get("cold_row", ""), width) + "".join(marks).rstrip())
    if data.texts.get("legend"):
        lines.append(data.texts["legend"])
    return "\n".join(lines)


def legend_thresholds(levels: Sequence[float]) -> list[str]:
    """Labels of the shade steps: 0, >0, ≥2, ≥4, ≥7 (for levels 1,2,4,7)."""
    out = ["0", ">0"]
    out.extend(f"≥{t:g}" for t in list(levels)[1:])
    return out


CHARTS_KEPT = 200  # per kind of chart; older PNGs in the charts folder are deleted when a new one is drawn


def chart_folder(config: Any, override: str = "") -> Path:
    """Where charts go, as an absolute path: `override`, else <bot.data_dir>/charts.

    Why absolute: a relative data_dir used to be printed relative to whatever folder the bot was started in
    ("salespulse-data/charts/…" while the file was in demo-out/salespulse-data/charts/)."""
    return Path(override or Path(config.bot.data_dir) / "charts").resolve()


def prune_charts(folder: Path, prefix: str, keep: int = CHARTS_KEPT, suffix: str = ".png") -> int:
    """Delete all but the `keep` newest `<prefix>*<suffix>` in `folder`; returns how many went.

    Why: every /revisions or /heatmap request draws a file, and nothing else ever removes them. The newest ones stay
    so that a reply still waiting in the outbox keeps its image."""
    files = sorted(folder.glob(f"{prefix}*{suffix}"), key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    gone = 0
    for old in files[keep:]:
        try:
            old.unlink()
            gone += 1
        except OSError:
            pass
    return gone


@lru_cache(maxsize=1)
def cjk_font_path() -> str:
    """The bundled Noto Sans CJK SC file inside the mplfonts package (never a system font)."""
    path = Path(str(resources.files("mplfonts").joinpath("fonts", CJK_FONT_FILE)))
    if not path.is_file():
        raise FileNotFoundError(f"mplfonts is installed without {CJK_FONT_FILE}; reinstall mplfonts")
    return str(path)


@dataclass(frozen=True)
class RenderInfo:
    path: str
    width_px: int
    height_px: int
    font_files: frozenset[str]  # the font file of every piece of text drawn


def render_png(data: HeatmapData, path: str | Path, dpi: int = 110) -> RenderInfo:
    """Draw the heatmap PNG to `path` (parent folders created) and report what it used."""
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    font = font_manager.FontProperties(fname=cjk_font_path())
    n_days, n_rows = len(data.days), len(data.row_labels)
    n_levels = len(data.levels) + 1
    grid = [[shade_level(v, data.levels) for v in row] for row in data.values]

    fig = Figure(figsize=(max(6.0, 2.4 + 0.16 * n_days), 1.6 + 0.55 * n_rows), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.14, 0.28, 0.72, 0.56))
    cmap = ListedColormap(COLORS[:n_levels])
    norm = BoundaryNorm([i - 0.5 for i in range(n_levels + 1)], n_levels)
    image = ax.imshow(grid, aspect="auto", cmap=cmap, norm=norm, interpolation="nearest")
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels(data.row_labels)
    ticks = list(range(0, n_days, 7))
    ax.set_xticks(ticks)
    ax.set_xticklabels([day_label(data.days[i]) for i in ticks])
    ax.set_xticks([i - 0.5 for i in range(n_days + 1)], minor=True)
    ax.set_yticks([i - 0.5 for i in range(n_rows + 1)], minor=True)
    ax.grid(which="minor", color="white", linewidth=1)
    ax.tick_params(which="minor", length=0)
    for a, b in data.cold:
        ax.add_patch(Rectangle((a - 0.5, -0.5), b - a + 1, n_rows, fill=False, edgecolor=COLD_COLOR,
                               linewidth=2, linestyle="--", clip_on=False, zorder=5))
    ax.set_title(data.title, fontproperties=font, fontsize=11)
    if data.texts.get("x_label"):
        ax.set_xlabel(data.texts["x_label"], fontproperties=font)
    bar = fig.colorbar(image, ax=ax, ticks=range(n_levels), fraction=0.04, pad=0.02)
    bar.ax.set_yticklabels(legend_thresholds(data.levels))
    if data.texts.get("legend_title"):
        bar.set_label(data.texts["legend_title"], fontproperties=font)
    if data.texts.get("cold_caption"):
        fig.text(0.14, 0.04, data.texts["cold_caption"], fontproperties=font, fontsize=9, color=COLD_COLOR)
    return save_png(fig, font, path)


def save_png(fig, font, path: str | Path) -> RenderInfo:
    """Every chart's last step: every text (tick labels and colorbar too) in the bundled CJK font at its own size,
    then the PNG written (folders made), reporting the font files actually used so tests can prove no fallback."""
    from matplotlib import font_manager
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        if text.get_text():
            own = font.copy()
            own.set_size(text.get_fontsize())
            text.set_fontproperties(own)
    fig.canvas.draw()
    files = frozenset(t.get_fontproperties().get_file() or font_manager.findfont(t.get_fontproperties())
                      for t in fig.findobj(Text) if t.get_text())
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    width, height = fig.canvas.get_width_height()
    return RenderInfo(str(out), width, height, files)
