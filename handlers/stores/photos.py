"""Shelf photos in chat: a clerk or store manager sends a photo to the bot → it is checked against the planogram
of the store's type → within seconds the annotated photo and the fix list come back, or "请对准XX货架重拍" and why.

Why it is built this way:
- The check (download, registration, detection) costs up to a second of CPU, so the Message handler only defers
  the job "stores.shelf_check"; the worker thread downloads the picture (services.extras["media.fetch"], set by
  `serve` from the platform adapters; in the console the photo is a local file: `图片:/path/to/shelf.jpg`), runs
  handlers.stores.shelf.check_photo, writes the annotated PNG under <data_dir>/shelf/, and puts the verdict into
  the inbox as a PhotoCheck event. Recording it, recolouring today's code and closing a 货效 fix task happen in
  the dispatcher's transaction (`on_checked`), like every other fact.
- A refused photo (not this shelf, too dark, too blurred, unreadable) is never a verdict: the clerk is asked to
  retake it, and the day's 货效 keeps its last real verdict.
- Planograms are read once per folder and modification time (services.extras cache).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.context import Context, Services
from bot.events import Actor, Message, MessageKind, PhotoCheck
from bot.replies import Reply
from bot.router import F, Router
from handlers.stores import fixes, health, sweep
from store import inbox as inbox_store
from store import stores as stores_store
from store.db import Store

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


def default_fetch(platform: str, media_id: str, message: dict) -> bytes:
    """The console's photos are local files; platforms get theirs from `serve` (adapters' downloaders)."""
    if platform not in ("console", "replay", "demo"):
        raise LookupError(f"no media downloader for {platform}")
    path = Path(media_id).expanduser()
    if not path.is_file():
        raise FileNotFoundError(media_id)
    if path.stat().st_size > MAX_PHOTO_BYTES:
        raise ValueError("photo larger than 30 MB")
    return path.read_bytes()


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


def check_job(payload: dict, reader: Store, services: Services) -> list[Reply]:
    """Worker thread: download, check, write the annotated PNG, hand the verdict back through the inbox."""
    message = payload["event"]
    fetch: Callable[[str, str, dict], bytes] = services.extras.get("media.fetch") or default_fetch
    fields: dict[str, Any] = {"registered": False, "reason": "", "detail": "", "exposure": None, "problems": (),
                              "annotated_path": ""}
    try:
        image = fetch(message["platform"], payload["media_id"], message)
    except (LookupError, OSError, ValueError) as exc:
        fields.update(reason="no_media", detail=str(exc))
        image = None
    if image is not None:
        api = shelf_api(services)
        try:
            planogram = _planogram(services, Path(payload["folder"]))
        except getattr(api, "PlanogramError", ValueError) as exc:
            fields.update(reason="no_planogram", detail=str(exc))
        else:
            result = api.check_photo(image, planogram)
            fields.update(registered=bool(result.registered), reason=str(result.reason or ""),
                          exposure=None if result.exposure is None else float(result.exposure),
                          problems=tuple({"product": p.product, "kind": p.kind, "box": [int(v) for v in p.box]}
                                         for p in result.problems))
            if result.annotated_png:
                name = hashlib.sha1(message["event_id"].encode()).hexdigest()[:16]
                path = Path(services.config.bot.data_dir) / "shelf" / f"{payload['store_id']}_{name}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(result.annotated_png)
                fields["annotated_path"] = str(path)
    now = services.clock.now_ms()
    actor = message.get("actor") or {}
    event = PhotoCheck(event_id=f"stores:photo:{message['event_id']}", platform=message["platform"], occurred_at=now,
                       received_at=now, actor=Actor(platform_id=str(actor.get("platform_id", ""))),
                       conversation_id=message.get("conversation_id", ""), is_group=bool(message.get("is_group")),
                       message_event_id=message["event_id"], store_id=payload["store_id"], **fields)
    with reader.transaction():
        inbox_store.accept(reader, "stores", event.event_id, {"photo": message["event_id"]}, event.to_dict(), now)
    return []


check_job.needs_services = True  # type: ignore[attr-defined]
router.job(JOB)(check_job)


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
