"""Voice notes on the normal path: every voice Message → one transcription job → one VoiceTranscript event.

- `note_arrived` (observer, every voice Message): records the note (store.voice) and defers "voice.transcribe" —
  once per message, so a re-dispatched message never transcribes twice. Notes sent to the bot always go; notes
  from the chat archive go when `[asr] archive_notes` is on and their audio can be fetched on this runtime (or the
  platform sent its own transcript).
- `transcribe` (job, lane "speech", async): fetch the audio through the neutral media registry on the event loop,
  then decode, VAD and recognise in the speech lane's worker thread, keep the decoded WAV under the data dir, and
  return a VoiceTranscript. The deferred runner puts it in the inbox under "voice:<message event id>" in the same
  transaction that marks the job done, so a retried or re-run job still yields it once. Transient failures (a
  download that timed out, a recogniser that crashed) raise and are retried; on the last attempt they become a
  result (`undecodable`, `no_recogniser`), never an error reply, since archive notes belong to customers.
- `transcript_recorded` (observer, VoiceTranscript): writes the result onto the note.
- `answer_note` (answer, VoiceTranscript, last in line): a note sent to the bot that no flow claimed (a debrief or a
  practice session answer first — their routers come before this one) gets a one-line answer saying what was heard
  or what to do (too long, silent, undecodable, recognition not set up — the audio is kept for later).
"""

from __future__ import annotations

import logging
from typing import Any

from bot.context import Context, Services
from bot.deferred import JobContext
from bot.events import Actor, Message, MessageKind, VoiceTranscript
from bot.media import MediaFetchers, MediaRequest, MediaUnavailable
from bot.router import F, Router, to_bot
from handlers.voice import pipeline as pl
from handlers.voice.service import VoiceService
from store import deferred as deferred_store
from store import voice as voice_store

log = logging.getLogger("salespulse.voice")
router = Router("voice")

JOB = "voice.transcribe"
LANE = "speech"


def fmt_local(ms: int, tz: str) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromtimestamp(ms / 1000, ZoneInfo(tz)).strftime("%m-%d %H:%M")


def transcript_event_id(message_event_id: str, retry: int = 0) -> str:
    return f"voice:{message_event_id}" + (f":retry{retry}" if retry else "")


def _is_voice(event: Message, ctx: Context) -> bool:
    return event.kind is MessageKind.VOICE


@router.observe(Message, F(_is_voice))
def note_arrived(event: Message, ctx: Context) -> None:
    if not event.to_bot:
        if not ctx.config.asr.archive_notes:
            return
        media: MediaFetchers = ctx.extra("media")
        if not media.has(event.platform) and not event.transcript:
            return  # nothing to hear it with on this runtime (an archive import without the adapter)
    person_id = event.actor.person_id
    added = voice_store.add(ctx.store, event.event_id, event.platform, person_id=person_id,
                            actor_platform_id=event.actor.platform_id, conversation_id=event.conversation_id,
                            to_bot=event.to_bot, media_id=event.media_id, recorded_at=event.occurred_at,
                            received_at=ctx.clock.now_ms())
    if not added:
        return
    service: VoiceService = ctx.extra("voice")
    payload = note_payload(event, language=service.language_for(ctx.directory, person_id))
    target = ctx.origin_target() if event.to_bot or person_id else ctx.person_target(person_id)
    ctx.defer(JOB, payload, target)


def note_payload(event: Message, *, language: str, retry: int = 0, audio_ref: str = "") -> dict[str, Any]:
    return {
        "message_event_id": event.event_id, "platform": event.platform, "media_id": event.media_id,
        "transcript": event.transcript, "duration_ms": event.duration_ms, "recorded_at": event.occurred_at,
        "to_bot": event.to_bot, "actor": {"platform_id": event.actor.platform_id, "name": event.actor.name},
        "person_id": event.actor.person_id, "conversation_id": event.conversation_id, "is_group": event.is_group,
        "language": language, "retry": retry, "audio_ref": audio_ref, "reply_token": event.reply_token,
    }


@router.on(Message, F(_is_voice) & to_bot())
def note_to_bot(event: Message, ctx: Context) -> None:
    """A voice note to the bot is answered once heard (by its VoiceTranscript), not by the help fallback now."""


@router.job(JOB, lane=LANE, context=True)
async def transcribe(payload: dict[str, Any], jctx: JobContext) -> list[VoiceTranscript]:
    services: Services = jctx.services
    service: VoiceService = services.extras["voice"]
    mid = str(payload["message_event_id"])
    to_bot = bool(payload.get("to_bot"))
    data: bytes | None = None
    fetch_error = ""
    reported_ms = int(payload.get("duration_ms") or 0)
    try:
        if pl.over_limit(reported_ms, service.limit_s(to_bot)):  # the platform says so: no download, no decode
            fetch_error = f"reported duration {reported_ms} ms is over the limit"
        elif payload.get("audio_ref"):  # a retry of a kept note: its decoded WAV under the data dir
            data = await jctx.offload(service.audio_path(str(payload["audio_ref"])).read_bytes)
        else:
            request = MediaRequest(str(payload["platform"]), str(payload.get("media_id", "")), mid,
                                   max_bytes=service.asr.max_audio_bytes)
            if not request.media_id:
                raise MediaUnavailable("the message carries no media id", permanent=True)
            data = await services.extras["media"].fetch(request)
    except MediaUnavailable as exc:
        if not exc.permanent and not jctx.final:
            raise
        fetch_error = str(exc)
    except Exception as exc:  # a platform/network error: retried by the runner, a result on the last attempt
        if not jctx.final:
            raise
        fetch_error = f"{type(exc).__name__}: {exc}"
    if fetch_error:
        log.warning("voice note %s: audio not available (%s)", mid, fetch_error)
    person_id = str(payload.get("person_id", ""))
    hotwords = await jctx.offload(service.hotwords, jctx.reader, person_id)
    outcome: pl.Outcome = await jctx.offload(
        lambda: service.pipeline.run(data, platform_transcript=str(payload.get("transcript", "")),
                                     language=str(payload.get("language") or service.asr.language),
                                     hotwords=hotwords, max_seconds=service.limit_s(to_bot),
                                     reported_ms=int(payload.get("duration_ms") or 0), fetch_error=fetch_error))
    service.record(outcome.timings_ms)
    if outcome.retryable and not jctx.final:
        raise pl.RecognitionFailed(outcome.detail)
    audio_ref = str(payload.get("audio_ref", ""))
    if outcome.decoded is not None and not audio_ref:
        relpath = service.audio_relpath(mid, int(payload.get("recorded_at") or 0))
        audio_ref = await jctx.offload(service.save_audio, relpath, outcome.decoded.wav_bytes())
    now = services.clock.now_ms()
    actor = payload.get("actor") or {}
    return [VoiceTranscript(
        event_id=transcript_event_id(mid, int(payload.get("retry") or 0)), platform=str(payload["platform"]),
        occurred_at=now, received_at=now,
        actor=Actor(platform_id=str(actor.get("platform_id", "")), name=str(actor.get("name", ""))),
        conversation_id=str(payload.get("conversation_id", "")), is_group=bool(payload.get("is_group")),
        message_event_id=mid, text=outcome.text, status=outcome.status, source=outcome.source,
        language=outcome.language, recorded_at=int(payload.get("recorded_at") or 0),
        duration_ms=outcome.duration_ms, speech_ms=outcome.speech_ms, pauses_ms=outcome.pauses_ms,
        audio_ref=audio_ref, reply_token=str(payload.get("reply_token", "")))]


@router.observe(VoiceTranscript)
def transcript_recorded(event: VoiceTranscript, ctx: Context) -> None:
    voice_store.record_transcript(ctx.store, event.message_event_id, status=event.status, text=event.text,
                                  source=event.source, language=event.language, duration_ms=event.duration_ms,
                                  speech_ms=event.speech_ms, pauses_ms=event.pauses_ms, audio_path=event.audio_ref,
                                  transcript_event_id=event.event_id, now_ms=ctx.clock.now_ms())


def _to_bot_note(event: VoiceTranscript, ctx: Context) -> Any:
    note = voice_store.get(ctx.store, event.message_event_id)
    return {"note": note} if note is not None and note.to_bot else False


@router.on(VoiceTranscript, F(_to_bot_note))
def answer_note(event: VoiceTranscript, ctx: Context, note: voice_store.VoiceNote) -> None:
    asr = ctx.config.asr
    status = event.status
    later = event.event_id != transcript_event_id(event.message_event_id)  # re-recognised once a model was set up
    if status == pl.OK:
        key = "voice.heard_later" if later else "voice.heard"
        ctx.reply(ctx.t(key, text=event.text, seconds=round(event.duration_ms / 1000),
                        at=fmt_local(event.recorded_at, ctx.config.bot.timezone)))
    elif later:
        return  # the first answer already said what to do
    elif status == pl.TOO_LONG:
        ctx.reply(ctx.t("voice.too_long", seconds=round(event.duration_ms / 1000), limit=asr.max_single_note_s,
                        note_limit=asr.max_note_s))
    elif status in (pl.SILENT, pl.EMPTY, pl.UNDECODABLE):
        ctx.reply(ctx.t(f"voice.{status}"))
    else:
        ctx.reply(ctx.t("voice.no_recogniser"))


def requeue_waiting(services: Services) -> int:
    """Notes kept as audio for lack of a recogniser (status no_recogniser, within `[asr] retry_days`) are queued
    again once one can hear their language; each yields a new VoiceTranscript ("voice:<id>:retry<n>"), so flows
    that asked the rep to type can pick up the words. Called at start-up (handlers.voice.setup) and by
    `salespulse transcribe --pending`. Returns how many were queued."""
    asr = services.config.asr
    service: VoiceService = services.extras["voice"]
    store = services.store
    since = services.clock.now_ms() - asr.retry_days * 86_400_000
    queued = 0
    with store.transaction():
        for note in voice_store.awaiting_recogniser(store, since):
            language = note.language or asr.language
            if not service.pipeline.can_recognise(language):
                continue
            retry = voice_store.mark_retry(store, note.message_event_id)
            payload = {
                "message_event_id": note.message_event_id, "platform": note.platform, "media_id": note.media_id,
                "transcript": "", "duration_ms": note.duration_ms, "recorded_at": note.recorded_at,
                "to_bot": note.to_bot, "actor": {"platform_id": note.actor_platform_id, "name": ""},
                "person_id": note.person_id, "conversation_id": note.conversation_id, "is_group": False,
                "language": language, "retry": retry, "audio_ref": note.audio_path,
            }
            target = {"platform": note.platform, "user_id": note.actor_platform_id, "person_id": note.person_id}
            deferred_store.add(store, JOB, payload, target, note.message_event_id, services.clock.now_ms())
            queued += 1
    if queued:
        log.info("voice: %d note(s) kept without a recogniser queued for recognition", queued)
    return queued
