"""Chat commands of the stores capability.

- `/门店 [门店]` (`/store`): today's code, each dimension with its reason and figures, the 14-day trend.
- `/门店排行 [区域]` (`/store_rank`): an area's stores ranked by their code, plus the stores × days chart.
- `/接待 35 [门店]` (`/receptions`): a clerk's receptions today (the chat form of 人效's figures).
- `/体验 <客户> [手机]` (`/experience`) and `/成交 <客户或手机>` (`/store_deal`): experiences and their deals.
- `/整改 [编号 已整改|需要支持|不适用]` (`/fixes`): open fix tasks; the words press a card's button.

Who sees what: a store's staff see their stores, an area manager the area's stores, admins every store.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from bot.context import Context
from bot.events import Actor, CardAction, Command
from bot.phones import normalise_phone
from bot.replies import Reply
from bot.router import F, Router
from handlers.stores import chart, fixes, health, sweep
from store import stores as stores_store

router = Router("stores.commands")
MAX_RECEPTIONS = 2000  # per person per day: more is a typo (3500 for 35?)
COUNT_UNITS = ("人次", "人", "位", "个")  # "/接待 35人", "/接待 35 人次": the unit is not part of a store's name
_PHONE = re.compile(r"(?:\+|＋)?\d[\d\-－ ]{5,22}\d")  # 13800138000, 138-0013-8000, +86 137 0013 7000
FIX_WORDS = {"已整改": "fixed", "整改": "fixed", "fixed": "fixed", "done": "fixed", "需要支持": "support",
             "支持": "support", "support": "support", "不适用": "na", "na": "na", "n/a": "na",
             # what a store manager types in his own words
             "已完成": "fixed", "完成": "fixed", "完成了": "fixed", "好了": "fixed", "搞定": "fixed", "搞定了": "fixed",
             "已处理": "fixed", "改好了": "fixed", "需要帮助": "support", "求助": "support", "帮忙": "support",
             "help": "support", "无需整改": "na", "不用整改": "na", "不需要": "na"}


def visible_stores(ctx: Context, actor: Actor) -> list[stores_store.StoreRow] | None:
    """The stores this person may see (None: not a person the bot knows)."""
    person = ctx.directory.person(actor.person_id) if actor.person_id else None
    if person is None:
        return None
    everything = stores_store.all_stores(ctx.store)
    if person.is_admin:
        return everything
    areas = set(stores_store.areas_managed_by(ctx.store, person.id))
    own = {row.id for row, _role in stores_store.stores_of_person(ctx.store, person.id)}
    return [r for r in everything if r.id in own or r.area in areas or r.manager_id == person.id]


def own_store(ctx: Context, actor: Actor, args: tuple[str, ...],
              example: str = "stores.name_a_store") -> tuple[stores_store.StoreRow | None, str]:
    """(store, error text): the named store if visible, else the person's own (first) store. `example`: the text
    asking which store, in the form of the command typed (/门店 X, /接待 35 X), or saying the command is for a
    store's own staff when it takes no store name (/体验, /成交)."""
    visible = visible_stores(ctx, actor)
    if visible is None:
        return None, ctx.t("core.permission_denied")
    if not visible:  # linked to no store: naming one cannot help ("你可以查看：—")
        return None, ctx.t("stores.no_store")
    if args:
        wanted = " ".join(args)
        found = stores_store.find_store(ctx.store, wanted)
        if found is None or found.id not in {r.id for r in visible}:
            names = "、".join(r.name for r in visible[:12]) or "—"
            return None, ctx.t("stores.store_not_found", store=wanted, stores=names)
        return found, ""
    mine = stores_store.stores_of_person(ctx.store, actor.person_id)
    if mine:
        return mine[0][0], ""
    if len(visible) == 1:
        return visible[0], ""
    return None, ctx.t(example, first=visible[0].name, stores="、".join(r.name for r in visible[:12]))


def today(ctx: Context, row: stores_store.StoreRow) -> str:
    return health.local_day(ctx.clock.now_ms(), row.timezone)


# ---------------------------------------------------------------- /门店


def trend_line(ctx: Context, row: stores_store.StoreRow, day: str, days: int) -> str:
    first = health.shift(day, -(days - 1))
    stored = stores_store.health(ctx.store, [row.id], first, day)
    marks = "".join(sweep.MARKS[stored.get((row.id, health.shift(first, i)), health.NONE)] for i in range(days))
    return ctx.t("stores.trend", days=days, first=first[5:], last=day[5:], marks=marks)


@router.command("store")
def on_store(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    row, error = own_store(ctx, event.actor, args)
    if row is None:
        ctx.reply(error)
        return
    day = today(ctx, row)
    result = sweep.assess_and_store(ctx, row, day, ctx.clock.now_ms())
    reply = sweep.code_reply(ctx, row, result)
    text = "\n".join(x for x in (reply.text, trend_line(ctx, row, day, ctx.config.stores.trend_days),
                                 ctx.t("stores.colours_help")) if x)
    ctx.reply(Reply.card(reply.title, text, reply.fields))


# ---------------------------------------------------------------- /门店排行


def code_grid(ctx: Context, rows: list[stores_store.StoreRow], last_day: str, days: int, title: str) -> chart.CodeGrid:
    first = health.shift(last_day, -(days - 1))
    stored = stores_store.health(ctx.store, [r.id for r in rows], first, last_day)
    day_list = tuple(health.shift(first, i) for i in range(days))
    colours = tuple(tuple(stored.get((r.id, d), health.NONE) for d in day_list) for r in rows)
    return chart.CodeGrid(title, day_list, tuple(r.name for r in rows), colours,
                          tuple(ctx.t(f"stores.colour_{c}") for c in chart.ORDER))


def rank_scope(ctx: Context, rows: list[stores_store.StoreRow], area: str) -> str:
    """What a ranking's title says it covers: the area asked for, a single store by name, "all stores" only when
    it is every store, an area when it is that whole area, else the stores this person can see."""
    if area:
        return area
    if len(rows) == 1:
        return rows[0].name
    everything = stores_store.all_stores(ctx.store)
    if len(rows) == len(everything):
        return ctx.t("stores.all_areas")
    areas = {r.area for r in rows}
    if len(areas) == 1 and "" not in areas and len(rows) == sum(1 for r in everything if r.area in areas):
        return rows[0].area
    return ctx.t("stores.visible_stores", n=len(rows))


def rank_key(colours: tuple[str, ...]) -> tuple[int, int]:
    """Worst last day first; then the most red/orange days over the trend."""
    return (-health.SEVERITY[colours[-1]], -sum(max(health.SEVERITY[c], 0) for c in colours))


@router.command("store_rank")
def on_rank(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    visible = visible_stores(ctx, event.actor)
    if visible is None:
        ctx.reply(ctx.t("core.permission_denied"))
        return
    area = " ".join(args)
    rows = [r for r in visible if not area or r.area == area]
    if not rows:
        areas = "、".join(sorted({r.area for r in visible if r.area})) or "—"
        ctx.reply(ctx.t("stores.no_area", area=area, areas=areas) if area else ctx.t("stores.no_store"))
        return
    now = ctx.clock.now_ms()
    last_day = health.shift(health.local_day(now, rows[0].timezone), -1)  # the last day that has closed
    for row in rows:  # a day the sweep has not assessed (bot started late) is assessed now
        if (row.id, last_day) not in stores_store.health(ctx.store, [row.id], last_day, last_day):
            sweep.assess_and_store(ctx, row, last_day, now)
    days = ctx.config.stores.trend_days
    grid = code_grid(ctx, rows, last_day, days, ctx.t("stores.rank_title", area=rank_scope(ctx, rows, area),
                                                      day=last_day))
    order = sorted(range(len(rows)), key=lambda i: (*rank_key(grid.colours[i]), rows[i].name))
    lines = [grid.title]
    for n, i in enumerate(order, 1):
        colour = grid.colours[i][-1]
        lines.append(ctx.t("stores.rank_line", n=n, mark=chart.MARKS[colour], store=rows[i].name,
                           colour=ctx.t(f"stores.colour_{colour}"),
                           bad=sum(1 for c in grid.colours[i] if c in (health.RED, health.ORANGE)), days=days))
    ctx.reply("\n".join(lines))
    ranked = chart.CodeGrid(grid.title, grid.days, tuple(grid.stores[i] for i in order),
                            tuple(grid.colours[i] for i in order), grid.legend)
    digest = hashlib.sha1(f"{area}|{last_day}|{len(rows)}".encode()).hexdigest()[:10]
    path = str(Path(ctx.config.bot.data_dir) / "charts" / f"stores_{last_day}_{digest}.png")
    ctx.defer("stores.chart", {"grid": ranked.to_dict(), "path": path, "alt_text": chart.text_grid(ranked)})


@router.job("stores.chart")
def render_chart(payload: dict, reader) -> Reply:
    grid = chart.CodeGrid.from_dict(payload["grid"])
    path = chart.render_png(grid, payload["path"])
    return Reply.image(path, payload["alt_text"], grid.title)


# ---------------------------------------------------------------- /接待, /体验, /成交


@router.command("receptions")
def on_receptions(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    count = None
    if args:
        text = args[0]
        for unit in COUNT_UNITS:
            text = text.removesuffix(unit)
        count = int(text) if text.isdigit() else None
    if count is None or count > MAX_RECEPTIONS:
        ctx.reply(ctx.t("stores.receptions_usage", max=MAX_RECEPTIONS))
        return
    rest = args[1:]
    if rest and rest[0] in COUNT_UNITS:
        rest = rest[1:]
    row, error = own_store(ctx, event.actor, rest, "stores.name_a_store_receptions")
    if row is None:
        ctx.reply(error)
        return
    day = today(ctx, row)
    before = stores_store.person_receptions(ctx.store, row.id, day, event.actor.person_id)
    stores_store.put_receptions(ctx.store, row.id, day, event.actor.person_id, count, 1, "chat", event.occurred_at)
    total = stores_store.receptions(ctx.store, row.id, day, day).get(day)
    per = total[0] / total[1] if total and total[1] else float(count)
    key = "stores.receptions_pos" if total and total[2] else "stores.receptions_saved"
    text = ctx.t(key, store=row.name, day=day, n=count, per=f"{per:.1f}", people=total[1] if total else 1,
                 healthy=ctx.config.stores.receptions_healthy)
    if before is not None and before != count:  # a day has one figure per person: say the earlier one is gone
        text += "\n" + ctx.t("stores.receptions_replaced", before=before, n=count)
    ctx.reply(text)


def _lead_of(ctx: Context, customer: str) -> str | None:
    """An open lead of a customer with exactly this name, so a deal on it counts for the experience."""
    found = stores_store.leads_of_customer_named(ctx.store, customer) if customer else []
    return found[0] if len(found) == 1 else None


def customer_and_phone(args: tuple[str, ...]) -> tuple[str, str]:
    """(name, phone) from "/体验 王女士 138-0013-8000" or "张三 +86 137 0013 7000": the phone however it is
    written, kept in one form (bot/phones) so /成交 finds it written another way; the rest is the name."""
    text = " ".join(args)
    found = _PHONE.search(text)
    if found is None:
        return text.strip(), ""
    name = " ".join((text[:found.start()] + " " + text[found.end():]).split())
    return name, normalise_phone(found.group(0))


@router.command("experience")
def on_experience(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    if not args:
        ctx.reply(ctx.t("stores.experience_usage"))
        return
    name, phone = customer_and_phone(args)
    row, error = own_store(ctx, event.actor, (), "stores.staff_only")
    if row is None:
        ctx.reply(error)
        return
    lead_id = _lead_of(ctx, name)
    stores_store.add_experience(ctx.store, row.id, event.occurred_at, event.actor.person_id, name, phone, lead_id,
                                "chat", event.event_id)
    ctx.reply(ctx.t("stores.experience_saved", store=row.name, customer=name or phone,
                    hours=ctx.config.stores.experience_deal_hours))


@router.command("store_deal")
def on_store_deal(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    if not args:
        ctx.reply(ctx.t("stores.deal_usage"))
        return
    row, error = own_store(ctx, event.actor, (), "stores.staff_only")
    if row is None:
        ctx.reply(error)
        return
    who = " ".join(args)
    name, phone = customer_and_phone(args)
    if stores_store.mark_deal(ctx.store, row.id, name or who, event.occurred_at, phone=phone if not name else ""):
        ctx.reply(ctx.t("stores.deal_saved", customer=who, store=row.name))
    else:
        ctx.reply(ctx.t("stores.deal_no_experience", customer=who, store=row.name))


# ---------------------------------------------------------------- /整改


def fixes_text(ctx: Context, visible: list[stores_store.StoreRow]) -> str:
    names = {r.id: r.name for r in visible}
    rows = stores_store.open_fixes(ctx.store, list(names))
    if not rows:
        return ctx.t("stores.fixes_none")
    now = ctx.clock.now_ms()
    lines = [ctx.t("stores.fixes_title", n=len(rows))]
    for fix in rows:
        lines.append(ctx.t("stores.fixes_line", id=fix.id, store=names[fix.store_id],
                           dimension=fixes.dim_name(ctx, fix.dimension), colour=ctx.t(f"stores.colour_{fix.colour}"),
                           day=fix.day, status=ctx.t(f"stores.fix_status_{fix.status}"),
                           hours=f"{(now - fix.opened_at) / health.HOUR_MS:.0f}",
                           escalated=ctx.t("stores.fixes_escalated") if fix.escalated_at else ""))
    lines.append(ctx.t("stores.fixes_hint"))
    return "\n".join(lines)


_FIX_ARGS = re.compile(r"^#?\s*(\d+)\s*(\S+)$")


def parse_fix_args(args: tuple[str, ...]) -> tuple[int, str | None]:
    """(task number, fixed|support|na) from "3 已整改" as a Chinese keyboard may type it too — "3已整改",
    "＃3 已整改", full-width digits; (0 or the number, None) when it is not that form."""
    text = unicodedata.normalize("NFKC", " ".join(args)).strip()
    found = _FIX_ARGS.match(text)
    if found is None:
        return 0, None
    return int(found.group(1)), FIX_WORDS.get(found.group(2).lower())


@router.command("fixes")
def on_fixes(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    visible = visible_stores(ctx, event.actor)
    if visible is None:
        ctx.reply(ctx.t("core.permission_denied"))
        return
    if not visible and not ctx.directory.person(event.actor.person_id).is_admin:
        ctx.reply(ctx.t("stores.no_store"))  # not "no open tasks ✓": he has no store to have tasks
        return
    if not args:
        ctx.reply(fixes_text(ctx, visible))
        return
    fix_id, choice = parse_fix_args(args)
    fix = stores_store.get_fix(ctx.store, fix_id) if fix_id else None
    if choice is None or not fix_id:
        ctx.reply(ctx.t("stores.fixes_usage"))
        return
    if fix is None:
        ctx.reply(ctx.t("stores.fix_not_found", id=fix_id))
        return
    row = stores_store.get_store(ctx.store, fix.store_id)
    if row is None or row.id not in {r.id for r in visible}:
        ctx.reply(ctx.t("core.permission_denied"))
        return
    fixes.press(ctx, fix, row, choice, event.actor.person_id, event.occurred_at)


@router.on(CardAction, F(lambda event, ctx: event.action == fixes.ACTION))
def on_fix_press(event: CardAction, ctx: Context) -> None:
    fixes.on_press(event, ctx)


def store_baseline_line(ctx: Context, actor: Actor, days: int) -> str:
    """/baseline's 门店人效 row: receptions per person per day over the visible stores' days with figures in the
    window, against the industry mean 9.4 and the healthy line 12.6 ([stores] industry_receptions,
    baseline_receptions). "" when the person sees no store."""
    visible = visible_stores(ctx, actor) or []
    if not visible:
        return ""
    values: list[float] = []
    for row in visible:
        day = today(ctx, row)
        values.extend(v for v in health.per_person_series(ctx.store, row.id, day, days) if v is not None)
    cfg = ctx.config.stores
    value = sum(values) / len(values) if values else None
    mark = "—" if value is None else ("✓" if value >= cfg.baseline_receptions else "✗")
    return ctx.t("stores.baseline_row", stores=len(visible), days=days, value="—" if value is None else f"{value:.1f}",
                 mark=mark, industry=cfg.industry_receptions, healthy=cfg.baseline_receptions)
