"""Revisions as a reason × week table: the text version (Unicode shades) and the PNG (matplotlib, object API only,
Noto Sans CJK SC from the mplfonts wheel loaded by file path so Chinese labels render on any server)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from handlers.forecast.periods import local_date

SHADES = "·░▒▓█"


def weekly_table(revs, first_monday: date, weeks: int, tz: ZoneInfo) -> dict:
    labels = [(first_monday + timedelta(weeks=i)).strftime("%m-%d") for i in range(weeks)]
    counts: dict[str, list[int]] = {}
    for r in revs:
        i = (local_date(r.at, tz) - first_monday).days // 7
        if 0 <= i < weeks:
            counts.setdefault(r.reason, [0] * weeks)[i] += 1
    reasons = sorted(counts, key=lambda k: -sum(counts[k]))
    return {"weeks": labels, "reasons": reasons, "counts": [counts[r] for r in reasons]}


def heatmap_text(table: dict, t, weeks: int) -> str:
    top = max((max(row) for row in table["counts"]), default=1) or 1
    lines = [t("forecast.revisions_title", weeks=weeks)]
    for reason, row in zip(table["reasons"], table["counts"], strict=True):
        cells = "".join(SHADES[0] if v == 0 else SHADES[min(4, 1 + (v - 1) * 4 // top)] for v in row)
        lines.append(t("forecast.revisions_row", reason=reason, cells=cells, n=sum(row)))
    lines.append(t("forecast.revisions_weeks", weeks=" ".join(table["weeks"])))
    return "\n".join(lines)


def cjk_font_path() -> str:
    import mplfonts

    return str(Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf")


def render_png(table: dict, title: str, path: str | Path) -> Path:
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font = font_manager.FontProperties(fname=cjk_font_path())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = len(table["reasons"]) or 1
    fig = Figure(figsize=(1.2 + 0.55 * len(table["weeks"]) + 1.5, 1.0 + 0.45 * rows))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    data = table["counts"] or [[0] * len(table["weeks"])]
    im = ax.imshow(data, cmap="OrRd", aspect="auto", vmin=0)
    ax.set_xticks(range(len(table["weeks"])))
    ax.set_xticklabels(table["weeks"], fontproperties=font, fontsize=8, rotation=45)
    ax.set_yticks(range(len(table["reasons"])))
    ax.set_yticklabels(table["reasons"], fontproperties=font, fontsize=9)
    for i, row in enumerate(table["counts"]):
        for j, v in enumerate(row):
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=8)
    ax.set_title(title, fontproperties=font)
    fig.colorbar(im, ax=ax, fraction=0.03)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path
