"""Speech-like test signals and real encodings of them with the bundled ffmpeg (demo, bench and tests).

Why a synthesiser: no recording can ship with the product or its tests, yet the decode and voice-activity paths
must see audio that behaves like a voice note — syllables of a voiced harmonic sound at 4–6 per second, short gaps
between them, longer pauses where the speaker stops, and a little room noise. The encoders are ffmpeg's own (AMR-NB
at 8 kHz like WeCom, Opus in Ogg like Feishu), so what the pipeline decodes is exactly what a platform would send.
"""

from __future__ import annotations

import subprocess

import numpy as np

from handlers.voice.audio import SAMPLE_RATE, ffmpeg_exe, pcm_to_wav


def speech_like(seconds: float, *, pauses_s: tuple[float, ...] = (), seed: int = 7, level_db: float = -18.0,
                noise_db: float = -62.0, lead_s: float = 0.3) -> np.ndarray:
    """int16 samples: `lead_s` of room noise, then syllables until `seconds`, with a silence of each length in
    `pauses_s` spread evenly through the speech (the first after roughly the first third)."""
    rng = np.random.default_rng(seed)
    total = int(seconds * SAMPLE_RATE)
    out = rng.normal(0.0, 10 ** (noise_db / 20), total)
    amp = 10 ** (level_db / 20) * np.sqrt(2)
    speech_budget = seconds - lead_s - sum(pauses_s) - 0.2
    pause_at = [speech_budget * (i + 1) / (len(pauses_s) + 1) for i in range(len(pauses_s))]
    t_pos, spoken, next_pause = lead_s, 0.0, 0
    while True:
        if next_pause < len(pauses_s) and spoken >= pause_at[next_pause]:
            t_pos += pauses_s[next_pause]
            next_pause += 1
        dur = float(rng.uniform(0.14, 0.26))
        if t_pos + dur > seconds - 0.2:
            break
        n = int(dur * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        f0 = float(rng.uniform(110, 230)) * (1 + 0.08 * np.sin(2 * np.pi * 3 * t))
        phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
        voice = sum(np.sin(k * phase) / k for k in range(1, 9))
        env = np.hanning(n) ** 0.5
        start = int(t_pos * SAMPLE_RATE)
        out[start:start + n] += amp * 0.5 * voice * env
        gap = float(rng.uniform(0.03, 0.09))
        t_pos += dur + gap
        spoken += dur + gap
    return np.clip(out * 32768, -32768, 32767).astype(np.int16)


def silence(seconds: float, *, seed: int = 3, noise_db: float = -70.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, 10 ** (noise_db / 20), int(seconds * SAMPLE_RATE))
    return np.clip(noise * 32768, -32768, 32767).astype(np.int16)


_ENCODERS = {
    "amr": ["-ar", "8000", "-c:a", "libopencore_amrnb", "-b:a", "12.2k", "-f", "amr"],
    "opus": ["-c:a", "libopus", "-b:a", "24k", "-f", "ogg"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3"],
}


def encode(samples: np.ndarray, fmt: str) -> bytes:
    """16 kHz int16 samples → bytes of a `wav`, `amr` (AMR-NB 8 kHz, WeCom), `opus` (Ogg/Opus, Feishu), `mp3` or
    `silk` (Tencent SILK v3, needs silk-python) file."""
    if fmt == "wav":
        return pcm_to_wav(samples)
    if fmt == "silk":
        import io

        import pysilk

        out = io.BytesIO()
        pysilk.encode(io.BytesIO(samples.astype("<i2").tobytes()), out, SAMPLE_RATE, 24_000)
        return out.getvalue()
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "s16le", "-ar", str(SAMPLE_RATE),
            "-ac", "1", "-i", "pipe:0", "-ac", "1", *_ENCODERS[fmt], "pipe:1"]
    proc = subprocess.run(args, input=samples.astype("<i2").tobytes(), capture_output=True, check=True, timeout=60)
    return proc.stdout
