"""Retention of voice notes: decoded audio after `[asr] audio_retention_days`, the transcript row after
`transcript_retention_days` (0 keeps for ever). Called by the runtime's hourly housekeeping (bot/app.py), in small
chunks so acks never wait; a file already gone is not an error."""

from __future__ import annotations

import logging

from bot.context import Services
from store import voice as voice_store

log = logging.getLogger("salespulse.voice")

DAY_MS = 86_400_000
CHUNK = 500


def prune(services: Services, now_ms: int) -> int:
    asr = services.config.asr
    store = services.store
    voice = services.extras.get("voice")
    removed = 0
    if asr.audio_retention_days > 0 and voice is not None:
        cutoff = now_ms - asr.audio_retention_days * DAY_MS
        while True:
            rows = voice_store.expired_audio(store, cutoff, CHUNK)
            if not rows:
                break
            root = voice.data_dir.resolve()
            for _mid, relpath in rows:
                try:
                    path = voice.audio_path(relpath).resolve()
                    if path.is_relative_to(root):  # never delete outside the data dir
                        path.unlink(missing_ok=True)
                except OSError as exc:
                    log.warning("voice retention: cannot delete %s: %s", relpath, exc)
            with store.transaction():
                voice_store.forget_audio(store, [mid for mid, _ in rows])
            removed += len(rows)
            if len(rows) < CHUNK:
                break
    if asr.transcript_retention_days > 0:
        cutoff = now_ms - asr.transcript_retention_days * DAY_MS
        with store.transaction():
            removed += voice_store.prune_transcripts(store, cutoff, 10 * CHUNK)
    if removed:
        log.info("voice retention: %d audio files / transcripts removed", removed)
    return removed
