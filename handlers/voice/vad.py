"""Energy-based voice activity detection on 16 kHz mono samples (numpy only, no model).

Why energy and not a neural VAD: it must run on every note on one shared CPU core, with no model on disk, and what
the product needs from it is coarse — how long the rep actually spoke (speaking rate), where they stopped for more
than a second (hesitation), and whether the note is silent at all. A 20 ms frame is voiced when its level is above
an adaptive threshold: 10 dB over the note's own noise floor (10th percentile: a car or a busy office raises it, so
their noise does not count as speech), never below an absolute gate (quiet room hiss is not speech) and never
higher than 6 dB under the loud frames (speech with hardly any quiet floor still counts). A
steady signal with no dynamics (a hum, a test tone, a fan) is not speech. Gaps shorter than `hangover_ms` inside
speech (stops between syllables) are bridged and blips shorter than `min_burst_ms` (clicks) dropped; what remains
longer than `pause_ms` between voiced stretches is a pause.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16_000
FRAME_MS = 20
ABS_GATE_DB = -48.0  # dBFS: below this nothing is speech, however quiet the note
MIN_DYNAMIC_DB = 8.0  # loud frames must stand this far above the floor, or the note is a steady noise
FLOOR_MARGIN_DB = 10.0
PEAK_MARGIN_DB = 6.0  # the threshold never rises above this far under the loud frames


@dataclass(frozen=True, slots=True)
class Activity:
    duration_ms: int
    speech_ms: int
    segments: tuple[tuple[int, int], ...]  # voiced stretches (start_ms, end_ms)
    pauses_ms: tuple[int, ...]  # silences longer than pause_ms between voiced stretches, in order
    level_db: float  # loudest frames (99th percentile), dBFS

    @property
    def voiced(self) -> bool:
        return self.speech_ms > 0


def frame_levels(samples: np.ndarray, frame_ms: int = FRAME_MS) -> np.ndarray:
    """dBFS per frame (mean square of the int16 samples relative to full scale)."""
    n = SAMPLE_RATE * frame_ms // 1000
    usable = len(samples) // n * n
    if usable == 0:
        return np.zeros(0, dtype=np.float64)
    frames = samples[:usable].astype(np.float32).reshape(-1, n) / 32768.0
    power = np.einsum("ij,ij->i", frames, frames) / n
    return 10.0 * np.log10(power + 1e-10)


def detect(samples: np.ndarray, *, pause_ms: int = 1000, hangover_ms: int = 300, min_burst_ms: int = 60
           ) -> Activity:
    duration_ms = int(len(samples) * 1000 // SAMPLE_RATE)
    levels = frame_levels(samples)
    if levels.size == 0:
        return Activity(duration_ms, 0, (), (), -100.0)
    floor = float(np.percentile(levels, 10))
    peak = float(np.percentile(levels, 99))
    if peak < ABS_GATE_DB or peak - floor < MIN_DYNAMIC_DB and floor > ABS_GATE_DB and levels.size > 25:
        # nothing loud enough, or a steady noise with no dynamics (a tone, a fan): no speech
        return Activity(duration_ms, 0, (), (), peak)
    threshold = max(ABS_GATE_DB, min(floor + FLOOR_MARGIN_DB, peak - PEAK_MARGIN_DB))
    voiced = levels > threshold
    runs = _runs(voiced)
    # bridge short gaps, then drop short blips
    hang = max(1, hangover_ms // FRAME_MS)
    merged: list[list[int]] = []
    for start, end in runs:
        if merged and start - merged[-1][1] < hang:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    min_frames = max(1, min_burst_ms // FRAME_MS)
    kept = [(s, e) for s, e in merged if e - s >= min_frames]
    segments = tuple((s * FRAME_MS, e * FRAME_MS) for s, e in kept)
    speech_ms = sum(e - s for s, e in segments)
    pauses = tuple(b[0] - a[1] for a, b in zip(segments, segments[1:], strict=False) if b[0] - a[1] > pause_ms)
    return Activity(duration_ms, speech_ms, segments, pauses, peak)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) frame index pairs of the True runs."""
    if not mask.any():
        return []
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))
