"""Coaching in chat: /话术 (/snippets) the best snippets for an objection or a keyword, /金句 (/star) a manager
stars or unstars one, /异议 (/objections) the objection × strategy matrix with success rates (PNG heatmap + text),
/教练 (/coach) 开|关 turns live pushes and nudges on or off for oneself.

Visibility: anyone in the directory may read the library — learning from the whole company's best answers is its
point — but what another team's snippet says is masked (customer names, amounts: library.py). The matrix shows a
rep their own exchanges, a manager their teams', an admin everyone's. Only managers (their teams' snippets) and
admins star.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from bot.context import Context
from bot.events import Command, Role
from bot.replies import Reply
from bot.router import Router
from handlers.coaching import chart, library
from handlers.coaching.runtime import coach, label_name
from handlers.coaching.texts import estimate_text, snippet_block
from handlers.conversation.labels import OBJECTIONS, STRATEGIES
from handlers.timeline import Scope, scope_for
from store import coaching as coach_store
from store import customers as customer_store

router = Router("coaching.commands")

LIST_LIMIT = 5
_SPLIT = re.compile(r"[/／、,，\s]+")
_NUMBER = re.compile(r"^[#＃№]?\s*(\d{1,9})\s*号?$")


def _person(ctx: Context, event: Command):
    scope = scope_for(ctx, event.actor)
    person = ctx.directory.person(event.actor.person_id) if scope else None
    return scope, person


def parse_objection(ctx: Context, text: str) -> str | None:
    """An objection key from its key, its Chinese name or a part of it ("价格" of 预算/价格), or an alias."""
    t = text.strip().lower()
    if not t:
        return None
    for key in OBJECTIONS:
        name = label_name(ctx, key).lower()
        if t in (key, name) or t in [p for p in _SPLIT.split(name) if p]:
            return key
    for key in OBJECTIONS:
        aliases = ctx.prompts.raw(f"coaching.aliases.{key}")
        if isinstance(aliases, list) and t in [str(a).lower() for a in aliases]:
            return key
    return None


def _viewer_team(ctx: Context, person) -> str | None:
    return person.team_id or None


# ---------------------------------------------------------------- /话术


@router.command("snippets")
def on_snippets(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    scope, person = _person(ctx, event)
    if scope is None or person is None:
        ctx.reply(ctx.t("core.permission_denied"))
        return
    text = " ".join(args).strip()
    if not text:
        ctx.reply(ctx.t("coaching.snippets_usage", kinds=ctx.t("core.list_sep").join(
            label_name(ctx, o) for o in OBJECTIONS)))
        return
    params = coach(ctx).params
    objection = parse_objection(ctx, text)
    team = _viewer_team(ctx, person)
    now = ctx.clock.now_ms()
    narrow_by = parse_objection(ctx, args[0]) if objection is None and len(args) > 1 else None
    if narrow_by is not None:  # "/话术 交付 制造业", "/话术 交付 分批": a type, narrowed by an industry or a word
        narrow = " ".join(args[1:]).strip()
        found = narrowed(ctx, narrow_by, narrow, team, scope.everyone, now)
        objection = narrow_by
        title = ctx.t("coaching.snippets_title", what=ctx.t("coaching.snippets_narrowed", kind=label_name(
            ctx, narrow_by), narrow=narrow), n=len(found))
    elif objection is not None:
        found = library.best_snippets(ctx.store, objection, team=team, limit=LIST_LIMIT, now_ms=now,
                                      reveal=scope.everyone, params=params, prompts=ctx.prompts)
        title = ctx.t("coaching.snippets_title", what=label_name(ctx, objection), n=len(found))
        if not found:  # nothing proven yet: the newest exchanges, said plainly
            rows = coach_store.search(ctx.store, objection=objection, keyword=None, rep_ids=None, limit=LIST_LIMIT)
            found = library.snippets_by_id(ctx.store, [r.id for r in rows], team=team, reveal=scope.everyone,
                                           params=params, prompts=ctx.prompts)
            title = ctx.t("coaching.snippets_unproven", what=label_name(ctx, objection), n=len(found))
    else:
        rows = coach_store.search(ctx.store, objection=None, keyword=text, rep_ids=None, limit=LIST_LIMIT)
        found = library.snippets_by_id(ctx.store, [r.id for r in rows], team=team, reveal=scope.everyone,
                                       params=params, prompts=ctx.prompts)
        title = ctx.t("coaching.snippets_title", what=text, n=len(found))
    if not found:
        ctx.reply(ctx.t("coaching.snippets_none", what=text, kinds=ctx.t("core.list_sep").join(
            label_name(ctx, o) for o in OBJECTIONS)))
        return
    body = "\n\n".join(snippet_block(ctx, s, i, objection) for i, s in enumerate(found, 1))
    ctx.reply(Reply.card(title, body + "\n\n" + ctx.t("coaching.snippets_hint")))


def narrowed(ctx: Context, objection: str, narrow: str, team: str | None, reveal: bool, now: int) -> list:
    """Snippets for `objection` within an industry (the best ranked for it, of that industry only) when `narrow`
    is one of the customers' industries, else those whose exchange, product line or industry mentions it."""
    params = coach(ctx).params
    if narrow in customer_store.industries(ctx.store):
        ranked = library.best_snippets(ctx.store, objection, team=team, industry=narrow, limit=LIST_LIMIT * 4,
                                       now_ms=now, reveal=reveal, params=params, prompts=ctx.prompts)
        found = [s for s in ranked if s.industry == narrow][:LIST_LIMIT]
        if found:
            return found
    rows = coach_store.search(ctx.store, objection=objection, keyword=narrow, rep_ids=None, limit=LIST_LIMIT)
    return library.snippets_by_id(ctx.store, [r.id for r in rows], team=team, reveal=reveal, params=params,
                                  prompts=ctx.prompts)


# ---------------------------------------------------------------- /金句


@router.command("star")
def on_star(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    scope, person = _person(ctx, event)
    if scope is None or person is None or not (scope.everyone or person.role == Role.MANAGER):
        ctx.reply(ctx.t("coaching.star_denied"))
        return
    match = _NUMBER.match(" ".join(args).strip())
    if not match:
        ctx.reply(ctx.t("coaching.star_usage"))
        return
    snippet_id = int(match.group(1))
    row = coach_store.get(ctx.store, snippet_id)
    if row is None or not _may_star(ctx, scope, person, row):
        ctx.reply(ctx.t("coaching.star_unknown", id=snippet_id))
        return
    starred = not row.starred
    library.restar(ctx.store, snippet_id, starred, person.id, coach(ctx).params)
    ctx.reply(ctx.t("coaching.starred" if starred else "coaching.unstarred", id=snippet_id))


def _may_star(ctx: Context, scope: Scope, person, row: coach_store.SnippetRow) -> bool:
    if scope.everyone:
        return True
    return scope.allows(row.rep_id) or row.team_id in ctx.directory.teams_managed_by(person.id)


# ---------------------------------------------------------------- /异议


def matrix_reps(ctx: Context, scope: Scope, person) -> list[str] | None:
    if scope.everyone:
        return None
    return sorted(scope.owner_ids)


def matrix_text(ctx: Context, cells: dict[tuple[str, str], library.Estimate], who: str) -> tuple[str, str]:
    title = ctx.t("coaching.matrix_title", who=who, n=sum(e.n for e in cells.values()))
    lines = []
    for objection in OBJECTIONS:
        row = sorted(((s, e) for (o, s), e in cells.items() if o == objection), key=lambda p: (-p[1].n, p[0]))
        if not row:
            continue
        lines.append(ctx.t("coaching.matrix_row", objection=label_name(ctx, objection),
                           n=sum(e.n for _s, e in row)))
        for strategy, est in row[:4]:
            lines.append("  " + estimate_text(ctx, objection, strategy, est))
    return title, "\n".join(lines)


def matrix_data(ctx: Context, cells: dict[tuple[str, str], library.Estimate], title: str) -> chart.MatrixData:
    rows = [o for o in OBJECTIONS if any(k[0] == o for k in cells)]
    cols = [s for s in (*STRATEGIES, "") if any(k[1] == s for k in cells)]
    rates = tuple(tuple(cells[(o, s)].mean if (o, s) in cells else None for s in cols) for o in rows)
    counts = tuple(tuple(f"{cells[(o, s)].n_success}/{cells[(o, s)].n}" if (o, s) in cells else "" for s in cols)
                   for o in rows)
    return chart.MatrixData(title, tuple(label_name(ctx, o) for o in rows), tuple(label_name(ctx, s) for s in cols),
                            rates, counts, ctx.t("coaching.matrix_caption", days=ctx.config.coaching.outcome_days))


def chart_path(ctx: Context) -> str:
    request = ctx.event.event_id if ctx.event else "matrix"
    digest = hashlib.sha1(request.encode()).hexdigest()[:12]
    return str(Path(ctx.config.bot.data_dir) / "charts" / f"objections_{digest}.png")


@router.command("objections")
def on_objections(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    scope, person = _person(ctx, event)
    if scope is None or person is None:
        ctx.reply(ctx.t("core.permission_denied"))
        return
    reps = matrix_reps(ctx, scope, person)
    who = ctx.t("coaching.matrix_all") if reps is None else (
        person.name if reps == [person.id] else ctx.t("coaching.matrix_team", name=person.name))
    if args:
        wanted = " ".join(args).strip().lstrip("@")
        target = ctx.directory.by_name(wanted)
        if target is None or not scope.allows(target.id):
            ctx.reply(ctx.t("coaching.matrix_usage", name=wanted))
            return
        reps, who = [target.id], target.name
    cells = library.cell_estimates(ctx.store, reps, coach(ctx).params)
    if not cells:
        ctx.reply(ctx.t("coaching.matrix_empty", who=who))
        return
    title, text = matrix_text(ctx, cells, who)
    data = matrix_data(ctx, cells, title)
    ctx.defer("coaching.matrix", {"data": data.to_dict(), "path": chart_path(ctx), "alt_text": text,
                                  "title": title})


@router.job("coaching.matrix")
def render_matrix(payload: dict, reader: object) -> Reply:
    info = chart.render_png(chart.MatrixData.from_dict(payload["data"]), payload["path"])
    return Reply.image(info.path, payload["alt_text"], payload["title"])


# ---------------------------------------------------------------- /教练


_ON = {"开", "开启", "打开", "on", "enable"}
_OFF = {"关", "关闭", "off", "disable", "静音"}


@router.command("coach")
def on_coach(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    scope, person = _person(ctx, event)
    if scope is None or person is None:
        ctx.reply(ctx.t("core.permission_denied"))
        return
    word = " ".join(args).strip().lower()
    now = ctx.clock.now_ms()
    if not word:
        muted = coach_store.is_muted(ctx.store, person.id)
        ctx.reply(ctx.t("coaching.coach_status_off" if muted else "coaching.coach_status_on"))
    elif word in _ON:
        coach_store.set_muted(ctx.store, person.id, False, now)
        ctx.reply(ctx.t("coaching.coach_on"))
    elif word in _OFF:
        coach_store.set_muted(ctx.store, person.id, True, now)
        ctx.reply(ctx.t("coaching.coach_off"))
    else:
        ctx.reply(ctx.t("coaching.coach_usage", word=word))
