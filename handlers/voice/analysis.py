"""Delivery measures of a spoken answer, for the practice sandbox (B5) and debrief feedback.

Public API (names other capabilities import; keep them stable):
- `speaking_rate(text, speech_ms) -> float`: Chinese characters (and Latin words) per minute of *speech* — the
  voiced time from voice-activity detection, not the note's length, so a long pause does not read as slow talking.
- `pauses(wav, min_ms=1000) -> tuple[int, ...]`: silences longer than `min_ms` between voiced stretches, in ms;
  `wav` is WAV bytes, a `Decoded` note, or 16 kHz int16 samples.
- `filler_words(text) -> dict[str, int]`: filler words and how often each occurs (嗯、啊、呃、那个、就是、然后、
  这个、对吧…), longest match first so 就是说 is not also counted as 就是.
- `filler_ratio(text) -> float`: filler words per 100 characters of text.
- `delivery(text, samples_or_wav) -> Delivery`: all of it at once (speech_ms, rate, pauses, fillers).
A VoiceTranscript already carries `speech_ms` and `pauses_ms`; the functions re-derive them from audio when needed.

Why these and not prosody models: a rep's coach looks for exactly these three habits (rushing or dragging,
hesitating, filling), they are explainable in one sentence, and they cost microseconds.
"""

from __future__ import annotations

import io
import re
import wave
from collections import Counter
from dataclasses import dataclass

import numpy as np

from handlers.voice import vad

# Fillers a listener hears as hesitation. Multi-character ones are only counted as fillers where they are not part
# of a longer word; order matters for the regex (longest first).
FILLERS: tuple[str, ...] = ("就是说", "那个", "这个", "就是", "然后", "对吧", "反正", "其实", "嗯", "啊", "呃", "额",
                            "哎", "呢个")
_FILLER_RE = re.compile("|".join(sorted((re.escape(f) for f in FILLERS), key=len, reverse=True)))
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+")


def spoken_units(text: str) -> int:
    """Characters a listener counts: each Han character, each Latin word / number; punctuation and spaces not."""
    return len(_HAN.findall(text)) + len(_LATIN_WORD.findall(text))


def speaking_rate(text: str, speech_ms: int) -> float:
    """Characters per minute of voiced speech; 0.0 when there was no speech (or no text)."""
    if speech_ms <= 0:
        return 0.0
    return round(spoken_units(text) * 60_000 / speech_ms, 1)


def filler_words(text: str) -> dict[str, int]:
    """{filler: count}, most frequent first; empty when there are none."""
    counts = Counter(m.group(0) for m in _FILLER_RE.finditer(text))
    return dict(counts.most_common())


def filler_ratio(text: str) -> float:
    units = spoken_units(text)
    if units == 0:
        return 0.0
    return round(sum(filler_words(text).values()) * 100 / units, 1)


def _samples(audio: bytes | np.ndarray | object) -> np.ndarray:
    if isinstance(audio, np.ndarray):
        return audio.astype("<i2", copy=False)
    samples = getattr(audio, "samples", None)
    if isinstance(samples, np.ndarray):
        return samples
    if isinstance(audio, bytes | bytearray):
        try:
            with wave.open(io.BytesIO(bytes(audio)), "rb") as w:
                if w.getnchannels() == 1 and w.getsampwidth() == 2 and w.getframerate() == vad.SAMPLE_RATE:
                    return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        except (wave.Error, EOFError):
            pass
        from handlers.voice.audio import decode  # any other format: the bundled ffmpeg

        return decode(bytes(audio)).samples
    raise TypeError(f"not audio: {type(audio).__name__}")


def pauses(wav: bytes | np.ndarray | object, min_ms: int = 1000) -> tuple[int, ...]:
    """Silences longer than `min_ms` between voiced stretches, in milliseconds, in order."""
    return vad.detect(_samples(wav), pause_ms=min_ms).pauses_ms


@dataclass(frozen=True, slots=True)
class Delivery:
    speech_ms: int
    chars_per_minute: float
    pauses_ms: tuple[int, ...]
    fillers: dict[str, int]
    filler_ratio: float


def delivery(text: str, audio: bytes | np.ndarray | object) -> Delivery:
    activity = vad.detect(_samples(audio))
    return Delivery(activity.speech_ms, speaking_rate(text, activity.speech_ms), activity.pauses_ms,
                    filler_words(text), filler_ratio(text))
