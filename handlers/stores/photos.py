"""Shelf photos in chat: a clerk or store manager sends a photo to the bot → it is checked against the planogram
of the store's type → within seconds the annotated photo and the fix list come back, or "请对准XX货架重拍" and why.

Why it is built this way:
- The check (download, registration, detection) costs up to a second of CPU, so the Message handler only defers
  the job "stores.shelf_check"; it downloads the picture (in the console the photo is a local file:
  `图片:/path/to/shelf.jpg`), runs handlers.stores.shelf.check_photo in a worker thread, writes the annotated PNG
  under <data_dir>/shelf/, and returns the verdict as a PhotoCheck event, which the runner puts into the inbox. Recording it, recolouring today's code and closing a 货效 fix task happen in
  the dispatcher's transaction (`on_checked`), like every other fact.
- The worker downloads through the neutral media registry (bot/media.py: each platform adapter's fetch_media, the
  console's local files), so this module never touches a platform API.
- A refused photo (not this shelf, too dark, too blurred, unreadable) is never a verdict: the clerk is asked to
  retake it, and the day's 货效 keeps its last real verdict.
- Planograms are read once per folder and modification time (services.extras cache).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from bot.context import Context, Services
from bot.events import Actor, Message, MessageKind, PhotoCheck
from bot.media import MediaFetchers, MediaRequest, MediaUnavailable
from bot.replies import Reply
from bot.router import F, Router
from handlers.stores import fixes, health, sweep
from prompts import render
from store import stores as stores_store

log = logging.getLogger("salespulse.stores.photos")
router = Router("stores.photos")
JOB = "stores.shelf_check"
MAX_PHOTO_BYTES = 30 * 1024 * 1024


def _staff_photo(event: Any, ctx: Context) -> Any:
    if not (isinstance(event, Message) and event.kind == MessageKind.IMAGE and event.media_id and event.to_bot):
        return False
    mine = stores_store.stores_of_person(ctx.store, event.actor.person_id) if event.actor.person_id else []
    return {"row": mine[0][0]} if mine else False


def planogram_folder(services: Services, row: stores_store.StoreRow) -> Path:
    base = Path(services.config.stores.planogram_dir)
    if not base.is_absolute() and services.config.source.startswith("/"):
        base = Path(services.config.source).parent / base
    return base / (row.store_type or "default")


@router.on(Message, F(_staff_photo))
def on_photo(event: Message, ctx: Context, row: stores_store.StoreRow) -> None:
    ctx.defer(JOB, {"store_id": row.id, "store_name": row.name, "store_type": row.store_type,
                    "folder": str(planogram_folder(ctx.services, row)), "media_id": event.media_id,
                    "event": event.to_dict()})


def shelf_api(services: Services) -> Any:
    """The shelf-check module (handlers.stores.shelf), or the one a test put into services.extras."""
    api = services.extras.get("stores.shelf")
    if api is None:
        from handlers.stores import shelf as api  # noqa: PLC0415 (heavy: OpenCV)
    return api


def _planogram(services: Services, folder: Path) -> Any:
    api = shelf_api(services)
    cache: dict = services.extras.setdefault("stores.planograms", {})
    try:
        stamp = max((p.stat().st_mtime_ns for p in folder.rglob("*")), default=0)
    except OSError:
        stamp = 0
    key = (str(folder), stamp)
    if key not in cache:
        cache.clear()
        cache[key] = api.load_planogram(folder)
    return cache[key]


def _check(services: Services, payload: dict, image: bytes) -> dict[str, Any]:
    """Worker thread: the planogram (cached), the check, the annotated PNG under <data_dir>/shelf/."""
    api = shelf_api(services)
    try:
        planogram = _planogram(services, Path(payload["folder"]))
    except getattr(api, "PlanogramError", ValueError) as exc:
        return {"reason": "no_planogram", "detail": render(exc, services.prompts.t)}  # in the clerk's language
    result = api.check_photo(image, planogram)
    out: dict[str, Any] = {
        "registered": bool(result.registered), "reason": str(result.reason or ""),
        "exposure": None if result.exposure is None else float(result.exposure),
        "problems": tuple({"product": p.product, "kind": p.kind, "box": [int(v) for v in p.box]}
                          for p in result.problems)}
    if result.annotated_png:
        name = hashlib.sha1(payload["event"]["event_id"].encode()).hexdigest()[:16]
        path = Path(services.config.bot.data_dir) / "shelf" / f"{payload['store_id']}_{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(result.annotated_png)
        out["annotated_path"] = str(path)
    return out


@router.job(JOB, context=True)
async def check_job(payload: dict, jctx: Any) -> PhotoCheck:
    """Download on the loop, check in a worker thread; the verdict goes back through the inbox as a PhotoCheck."""
    services: Services = jctx.services
    message = payload["event"]
    fields: dict[str, Any] = {}
    media: MediaFetchers | None = services.extras.get("media")
    try:
        if media is None:
            raise MediaUnavailable("no media fetchers", permanent=True)
        image = await media.fetch(MediaRequest(message["platform"], payload["media_id"], message["event_id"],
                                               kind="image", max_bytes=MAX_PHOTO_BYTES))
    except MediaUnavailable as exc:
        if not exc.permanent and not jctx.final:
            raise
        # the platform's reason is technical (and English): it goes to the log; the clerk is asked to send again
        log.warning("shelf photo %s not fetched: %s", message["event_id"], exc)
        fields = {"reason": "no_media", "detail": ""}
    else:
        fields = await jctx.offload(_check, services, payload, image)
    actor = message.get("actor") or {}
    now = services.clock.now_ms()
    return PhotoCheck(event_id=f"stores:photo:{message['event_id']}", platform=message["platform"], occurred_at=now,
                      received_at=now, actor=Actor(platform_id=str(actor.get("platform_id", ""))),
                      conversation_id=message.get("conversation_id", ""), is_group=bool(message.get("is_group")),
                      message_event_id=message["event_id"], store_id=payload["store_id"], **fields)


def passes(ctx: Context, event: PhotoCheck) -> bool:
    return (event.registered and event.exposure is not None and event.exposure >= ctx.config.stores.exposure_healthy
            and not event.problems)


@router.on(PhotoCheck)
def on_checked(event: PhotoCheck, ctx: Context) -> None:
    row = stores_store.get_store(ctx.store, event.store_id)
    if row is None:
        return
    if not event.registered:
        ctx.reply(retake_text(ctx, row, event))
        return
    day = health.local_day(event.occurred_at, row.timezone)
    check_id = stores_store.add_shelf_check(ctx.store, row.id, day, event.occurred_at, event.actor.person_id, True,
                                            "", event.exposure, list(event.problems), event.annotated_path,
                                            event.message_event_id)
    if check_id is None:
        return  # the same photo again (a replay)
    result = sweep.assess_and_store(ctx, row, day, event.occurred_at)
    lines = [ctx.t("stores.photo_result", store=row.name, exposure=f"{(event.exposure or 0) * 100:.0f}%",
                   colour=ctx.t(f"stores.colour_{result.dims['shelf'].colour}"))]
    from handlers.stores.actions import shelf_problem_lines

    problems = shelf_problem_lines(ctx, list(event.problems))
    lines.extend(f"{i}. {line}" for i, line in enumerate(problems, 1))
    if not problems:
        lines.append(ctx.t("stores.photo_all_good"))
    closed = fixes.confirm_by_photo(ctx, row, passes(ctx, event), event.actor.person_id, event.occurred_at, check_id)
    if closed is not None:
        lines.append(ctx.t("stores.photo_fix_closed", id=closed.id))
        ctx.reply(fixes.card(ctx, closed, row, buttons=False))
    elif stores_store.open_fix_for(ctx.store, row.id, "shelf") is not None:
        lines.append(ctx.t("stores.photo_fix_still_open"))
    text = "\n".join(lines)
    if event.annotated_path:
        ctx.reply(Reply.image(event.annotated_path, text, ctx.t("stores.annotated_title")))
    else:
        ctx.reply(text)


def retake_text(ctx: Context, row: stores_store.StoreRow, event: PhotoCheck) -> str:
    shelf = row.store_type or row.name
    reason = event.reason or "unreadable"
    if reason in ("no_planogram", "no_media"):  # not the clerk's aim: say what is wrong instead of "retake"
        return ctx.t(f"stores.retake_{reason}", detail=event.detail)
    why = ctx.t(f"stores.retake_{reason}", detail=event.detail) if reason in RETAKE_REASONS else \
        ctx.t("stores.retake_unreadable", detail=event.detail)
    return ctx.t("stores.retake", shelf=shelf, why=why)


RETAKE_REASONS = ("not_this_shelf", "too_dark", "too_blurry", "unreadable", "no_planogram", "no_media")
