"""Voice notes: audio from every platform → decode → voice activity → recognition → a VoiceTranscript event.

Modules: `audio` (bundled-ffmpeg / SILK decode to 16 kHz mono), `vad` (energy-based voice activity), `analysis`
(speaking rate, pauses, filler words — the practice sandbox's measures), `recognisers` (FunASR and the injected
boundary), `pipeline` (the checks in order), `service` (per-runtime state), `chat` (the router), `retention`.

For other capabilities: react to `@router.on(VoiceTranscript, …)` (bot/events.py); import measures from
`handlers.voice.analysis`; `handlers.voice.pipeline.over_limit(duration_ms, config.asr.max_note_s)` tells whether a
note breaks a limit.
"""

from __future__ import annotations

from bot.context import Services
from bot.media import MediaFetchers
from handlers.voice.chat import requeue_waiting, router
from handlers.voice.retention import prune
from handlers.voice.service import VoiceService

__all__ = ["router", "setup", "prune", "requeue_waiting"]


def setup(services: Services) -> None:
    services.extras.setdefault("media", MediaFetchers())
    services.extras["voice"] = VoiceService(services.config)
    if services.config.asr.enabled:  # a model may have been configured since notes were kept as audio
        requeue_waiting(services)
