"""One voice note through decode → voice activity → recognition: the same steps for every platform and the CLI.

Order of the checks, and why: a note that is not audio (undecodable) or is over the length limit (too_long) is
answered without spending a recogniser on it; under half a second of audio is `empty`; audio without voiced time is
`silent` (a pocket recording, a muted microphone); only then are the recognisers asked, in `[asr] order`. The
platform's own transcript (DingTalk) needs no audio at all, so it survives a failed download or decode. Nobody able
to recognise → `no_recogniser` (the audio is kept for a later retry); a recogniser that heard nothing → `empty`.

Blocking (ffmpeg, numpy, the model): runs in the speech lane's worker thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from handlers.voice import audio as audio_mod
from handlers.voice import vad
from handlers.voice.recognisers import Recogniser

log = logging.getLogger("salespulse.voice")

OK, EMPTY, SILENT, TOO_LONG, UNDECODABLE, NO_RECOGNISER = "ok", "empty", "silent", "too_long", "undecodable", \
    "no_recogniser"
STATUSES = (OK, EMPTY, SILENT, TOO_LONG, UNDECODABLE, NO_RECOGNISER)
MIN_AUDIO_MS = 500
LIMIT_GRACE_MS = 1_000  # platforms round durations up; a "15 s" note may decode to 15.4 s


class RecognitionFailed(RuntimeError):
    """Every recogniser that could hear the note raised: worth another attempt later."""


@dataclass(frozen=True)
class Outcome:
    status: str
    text: str = ""
    source: str = ""
    language: str = ""
    duration_ms: int = 0
    speech_ms: int = 0
    pauses_ms: tuple[int, ...] = ()
    decoded: audio_mod.Decoded | None = field(default=None, repr=False)
    detail: str = ""  # why, for logs
    retryable: bool = False  # recognisers raised: another attempt may succeed
    timings_ms: dict[str, float] = field(default_factory=dict)


def over_limit(duration_ms: int, limit_s: float) -> bool:
    """True when a note of `duration_ms` is longer than `limit_s` seconds (with a second's grace for rounding)."""
    return duration_ms > limit_s * 1000 + LIMIT_GRACE_MS


class SpeechPipeline:
    def __init__(self, recognisers: Sequence[Recogniser], order: Sequence[str] = ("platform", "funasr"), *,
                 min_speech_ms: int = 300) -> None:
        self.recognisers = {r.name: r for r in recognisers}
        self.order = tuple(order)
        self.min_speech_ms = min_speech_ms

    def can_recognise(self, language: str) -> bool:
        return any(self._usable(name, language) for name in self.order if name != "platform")

    def _usable(self, name: str, language: str) -> Recogniser | None:
        rec = self.recognisers.get(name)
        if rec is None:
            return None
        return rec if rec.unavailable(language) is None else None

    def run(self, data: bytes | None, *, platform_transcript: str = "", language: str = "zh",
            hotwords: Sequence[str] = (), max_seconds: float = 45, reported_ms: int = 0, fetch_error: str = ""
            ) -> Outcome:
        platform_text = platform_transcript.strip() if "platform" in self.order else ""
        timings: dict[str, float] = {}
        if over_limit(reported_ms, max_seconds):  # the platform's own duration is enough to refuse it
            return Outcome(TOO_LONG, platform_text, "platform" if platform_text else "", language, reported_ms,
                           detail=fetch_error)
        if data is None:
            if platform_text:
                return Outcome(OK, platform_text, "platform", language, reported_ms, detail=fetch_error)
            return Outcome(UNDECODABLE, duration_ms=reported_ms, language=language, detail=fetch_error)
        t0 = time.perf_counter()
        try:
            decoded = audio_mod.decode(data, max_seconds=max_seconds + LIMIT_GRACE_MS / 1000)
        except audio_mod.Undecodable as exc:
            if platform_text:
                return Outcome(OK, platform_text, "platform", language, reported_ms, detail=str(exc))
            return Outcome(UNDECODABLE, duration_ms=reported_ms, language=language, detail=str(exc))
        timings["decode"] = (time.perf_counter() - t0) * 1000
        duration = decoded.duration_ms
        if decoded.truncated or over_limit(duration, max_seconds):
            return Outcome(TOO_LONG, platform_text, "platform" if platform_text else "", language,
                           max(duration, reported_ms), decoded=decoded, timings_ms=timings)
        t1 = time.perf_counter()
        activity = vad.detect(decoded.samples)
        timings["vad"] = (time.perf_counter() - t1) * 1000
        base = dict(language=language, duration_ms=duration, speech_ms=activity.speech_ms,
                    pauses_ms=activity.pauses_ms, decoded=decoded, timings_ms=timings)
        if duration < MIN_AUDIO_MS:
            return Outcome(EMPTY, **base)
        if activity.speech_ms < self.min_speech_ms:
            return Outcome(SILENT, **base)
        errors: list[str] = []
        tried = False
        for name in self.order:
            if name == "platform":
                if platform_text:
                    return Outcome(OK, platform_text, "platform", **base)
                continue
            rec = self.recognisers.get(name)
            if rec is None:
                continue
            problem = rec.unavailable(language)
            if problem is not None:
                log.debug("recogniser %s skipped: %s", name, problem)
                continue
            tried = True
            t2 = time.perf_counter()
            try:
                heard = rec.recognise(decoded.float32(), language=language, hotwords=hotwords)
            except Exception as exc:  # a model crash must not lose the note: try the next, then retry the job
                log.warning("recogniser %s failed: %s", name, exc, exc_info=True)
                errors.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
            timings["asr"] = (time.perf_counter() - t2) * 1000
            if heard.text.strip():
                return Outcome(OK, heard.text.strip(), heard.source, **{**base, "language": heard.language or language})
            return Outcome(EMPTY, "", heard.source, **{**base, "language": heard.language or language})
        if errors:
            return Outcome(NO_RECOGNISER, **base, detail="; ".join(errors), retryable=True)
        return Outcome(NO_RECOGNISER, **base, detail="" if tried else "no recogniser configured")
