"""Actions on red, as the spec's table says: what the store manager gets with a red dimension.

- 人效: the invitation script pack, plus the video of a nearby store with better 人效 (nearest by coordinates when
  both stores have them, else a store of the same area; only stores that set `video_url` can be offered).
- 货效: the fix list (missing / misplaced key products) and the annotated photo of the latest shelf check.
- 场效: the traffic-flow advice pack and the competitor-layout note configured for the store's area.
- 转化: for each experience that went 72 h without a deal, a care SMS and a coupon text for the clerk to send.

The packs are text: shipped in prompts/locales/<locale>/stores_packs.toml, and an admin overrides or extends them
with TOML files in [stores] rules_dirs (same tables: [invitation] title/lines, [traffic], [rainy], [care] sms/coupon).
A file with a mistake stops the start with the file and line, like bot.toml; the shipped packs need no file.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from bot.context import Context, Services
from bot.errors import ConfigError
from bot.replies import Reply
from handlers.stores import health
from prompts import Keyed
from store import stores as stores_store

PACKS = ("invitation", "traffic", "rainy", "care")
PEER_DAYS = 7  # 人效 of a peer store: its mean over the last week


def load_packs(services: Services) -> dict[str, dict[str, Any]]:
    """Shipped packs for the bot's locale, overridden table by table by the admin's files."""
    packs: dict[str, dict[str, Any]] = {}
    for name in PACKS:
        table = {}
        for key in ("title", "lines", "sms", "coupon"):
            value = services.prompts.raw(f"stores_packs.{name}.{key}")
            if value != f"stores_packs.{name}.{key}":
                table[key] = value
        packs[name] = table
    base = Path(services.config.source).parent if services.config.source.startswith("/") else Path.cwd()
    for folder in services.config.stores.rules_dirs:
        path = Path(folder) if Path(folder).is_absolute() else base / folder
        if not path.is_dir():
            continue
        for file in sorted(path.glob("*.toml")):
            try:
                data = tomllib.loads(file.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(Keyed("stores_cli.pack_toml", path=file, why=exc)) from None
            for name, table in data.items():
                if name not in PACKS or not isinstance(table, dict):
                    raise ConfigError(Keyed("stores_cli.pack_unknown", path=file, name=name, known=",".join(PACKS)))
                lines = table.get("lines", [])
                if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
                    raise ConfigError(Keyed("stores_cli.pack_lines", path=file, name=name))
                packs[name] = {**packs[name], **table}
    return packs


def packs_of(ctx: Context | Services) -> dict[str, dict[str, Any]]:
    services = ctx.services if isinstance(ctx, Context) else ctx
    packs = services.extras.get("stores.packs")
    if packs is None:
        packs = services.extras["stores.packs"] = load_packs(services)
    return packs


def pack_text(ctx: Context | Services, name: str) -> str:
    pack = packs_of(ctx)[name]
    lines = [str(pack.get("title", name))]
    lines.extend(f"{i}. {line}" for i, line in enumerate(pack.get("lines", ()), 1))
    return "\n".join(lines)


def distance_km(a: stores_store.StoreRow, b: stores_store.StoreRow) -> float | None:
    if a.latitude is None or b.latitude is None or a.longitude is None or b.longitude is None:
        return None
    p1, p2 = math.radians(a.latitude), math.radians(b.latitude)
    dp, dl = p2 - p1, math.radians(b.longitude - a.longitude)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, h)))


def mean_staff(ctx: Context, store_id: str, day: str) -> float | None:
    values = [v for v in health.per_person_series(ctx.store, store_id, day, PEER_DAYS) if v is not None]
    return sum(values) / len(values) if values else None


def peer_store(ctx: Context, row: stores_store.StoreRow, day: str) -> tuple[stores_store.StoreRow, float, float | None] | None:
    """The nearest store with a video and a better 人效 than this one: (store, its 人效, distance km or None)."""
    mine = mean_staff(ctx, row.id, day) or 0.0
    best: tuple[tuple[int, float], stores_store.StoreRow, float, float | None] | None = None
    for other in stores_store.all_stores(ctx.store):
        if other.id == row.id or not other.video_url:
            continue
        theirs = mean_staff(ctx, other.id, day)
        if theirs is None or theirs <= mine:
            continue
        km = distance_km(row, other)
        if km is not None:
            rank = (0, km)
        elif other.area and other.area == row.area:
            rank = (1, -theirs)
        else:
            rank = (2, -theirs)
        if best is None or rank < best[0]:
            best = (rank, other, theirs, km)
    return (best[1], best[2], best[3]) if best else None


def staff_action(ctx: Context, row: stores_store.StoreRow, day: str) -> list[Reply]:
    text = [pack_text(ctx, "invitation")]
    peer = peer_store(ctx, row, day)
    if peer:
        other, value, km = peer
        where = ctx.t("stores.peer_km", km=f"{km:.1f}") if km is not None else ctx.t("stores.peer_area", area=other.area or "—")
        text.append(ctx.t("stores.peer_video", store=other.name, value=f"{value:.1f}", where=where, url=other.video_url))
    else:
        text.append(ctx.t("stores.peer_none"))
    return [Reply.plain("\n".join(text))]


def shelf_problem_lines(ctx: Context, problems: list[dict]) -> list[str]:
    return [ctx.t(f"stores.problem_{p.get('kind', 'missing')}", product=p.get("product", "?"))
            for p in problems]


def shelf_action(ctx: Context, row: stores_store.StoreRow, day: str) -> list[Reply]:
    check = stores_store.latest_shelf(ctx.store, row.id, day, day).get(day)
    if check is None:
        return []
    lines = [ctx.t("stores.fix_list_title")]
    lines.extend(f"{i}. {line}" for i, line in enumerate(shelf_problem_lines(ctx, check.problems), 1))
    replies = [Reply.plain("\n".join(lines))]
    if check.annotated_path and Path(check.annotated_path).is_file():
        replies.append(Reply.image(check.annotated_path, "\n".join(lines), ctx.t("stores.annotated_title")))
    return replies


def venue_action(ctx: Context, row: stores_store.StoreRow, day: str) -> list[Reply]:
    text = [pack_text(ctx, "traffic")]
    note = stores_store.areas(ctx.store).get(row.area, (None, ""))[1]
    text.append(ctx.t("stores.competitor_note", area=row.area, note=note) if note else ctx.t("stores.no_competitor_note"))
    return [Reply.plain("\n".join(text))]


def care_lines(ctx: Context, row: stores_store.StoreRow, overdue: list[stores_store.Experience]) -> list[str]:
    care = packs_of(ctx)["care"]
    lines = []
    for e in overdue:
        who = e.customer or e.phone or ctx.t("stores.customer_unknown")
        values = {"store": row.name, "customer": who, "phone": e.phone or "—"}
        sms = str(care.get("sms", "")).format_map(_Safe(values))
        coupon = str(care.get("coupon", "")).format_map(_Safe(values))
        lines.append(ctx.t("stores.care_line", customer=who, phone=e.phone or "—", sms=sms, coupon=coupon))
    return lines


def conversion_action(ctx: Context, row: stores_store.StoreRow, day: str) -> list[Reply]:
    _m, _c, overdue = health.conversion_counts(ctx.store, row, day, ctx.config.stores)
    if not overdue:
        return []
    return [Reply.plain("\n".join([ctx.t("stores.care_title", n=len(overdue)), *care_lines(ctx, row, overdue)]))]


ACTIONS = {"staff": staff_action, "shelf": shelf_action, "venue": venue_action, "conversion": conversion_action}


def for_dimension(ctx: Context, dimension: str, row: stores_store.StoreRow, day: str) -> list[Reply]:
    return ACTIONS[dimension](ctx, row, day)


class _Safe(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
