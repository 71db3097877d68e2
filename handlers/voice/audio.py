"""Any voice note → 16 kHz mono 16-bit PCM, with the ffmpeg bundled by imageio-ffmpeg (and a SILK decoder).

Why here and not in an adapter: every platform's note (WeCom AMR-NB, Feishu Ogg/Opus, DingTalk's undocumented
codec, the archive's AMR, a WAV from the console or a test) goes through the same decode before voice-activity
detection and recognition, so the checks that matter to a rep — too long, silent, not audio at all — are the same
everywhere. ffmpeg sniffs the container itself; WAV that is already 16 kHz mono s16 skips the subprocess; SILK
(personal WeChat/QQ style, `#!SILK_V3`) is not in ffmpeg and goes through `pysilk` (PyPI silk-python) when it is
installed. Decoding is capped at `max_seconds` (+1 s) of output so a hostile hour-long upload costs no more than a
long note; the cap shows as `truncated`.

Blocking: call it from a worker thread (the speech lane), never from the event loop.
"""

from __future__ import annotations

import io
import subprocess
import wave
from dataclasses import dataclass
from functools import cache

import numpy as np

SAMPLE_RATE = 16_000
AMR_MAGIC = b"#!AMR"
SILK_MAGIC = b"#!SILK_V3"


class Undecodable(ValueError):
    """The bytes are not audio we can decode (or nothing came out). The message is for logs, not users."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """16 kHz mono int16 samples; `format` is what the input was sniffed as (amr, ogg, wav, silk, other)."""

    samples: np.ndarray
    format: str
    truncated: bool = False

    @property
    def duration_ms(self) -> int:
        return int(len(self.samples) * 1000 // SAMPLE_RATE)

    def wav_bytes(self) -> bytes:
        return pcm_to_wav(self.samples)

    def float32(self) -> np.ndarray:
        """Samples in [-1, 1), what FunASR expects for an ndarray input at 16 kHz."""
        return self.samples.astype(np.float32) / 32768.0


def sniff(data: bytes) -> str:
    head = data[:16]
    if head.startswith(AMR_MAGIC):
        return "amr"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"RIFF") and data[8:12] == b"WAVE":
        return "wav"
    if head.startswith(SILK_MAGIC) or head[1:].startswith(SILK_MAGIC):  # Tencent's variant has a 0x02 first byte
        return "silk"
    return "other"


@cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def silk_available() -> bool:
    try:
        import pysilk  # noqa: F401
    except ImportError:
        return False
    return True


def pcm_to_wav(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return buf.getvalue()


def decode(data: bytes, *, max_seconds: float = 120.0, timeout_s: float = 30.0) -> Decoded:
    """Bytes of a voice note → Decoded. Raises Undecodable for empty input, garbage, or a decoder error."""
    if not data:
        raise Undecodable("no audio bytes")
    fmt = sniff(data)
    limit = int((max_seconds + 1) * SAMPLE_RATE)
    if fmt == "wav":
        plain = _plain_wav(data)
        if plain is not None:
            return Decoded(plain[:limit], "wav", truncated=len(plain) > limit)
    if fmt == "silk":
        pcm = _silk_pcm(data)
        return Decoded(pcm[:limit], "silk", truncated=len(pcm) > limit)
    pcm = _ffmpeg_pcm(data, max_seconds + 1, timeout_s)
    samples = np.frombuffer(pcm, dtype="<i2")
    return Decoded(samples[:limit], fmt, truncated=len(samples) >= limit)


def _plain_wav(data: bytes) -> np.ndarray | None:
    """Samples of a 16 kHz mono s16 WAV without a subprocess; None for any other WAV (ffmpeg resamples those)."""
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            if (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getcomptype()) != (1, 2, SAMPLE_RATE, "NONE"):
                return None
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError, ValueError):
        return None
    return np.frombuffer(frames[: len(frames) // 2 * 2], dtype="<i2")


def _silk_pcm(data: bytes) -> np.ndarray:
    try:
        import pysilk
    except ImportError:
        raise Undecodable("SILK audio needs the silk-python package (pip install silk-python)") from None
    out = io.BytesIO()
    try:
        pysilk.decode(io.BytesIO(data), out, SAMPLE_RATE)
    except Exception as exc:  # pysilk raises its own SilkError (and ValueError on short input)
        raise Undecodable(f"SILK decoder: {type(exc).__name__}: {exc}") from None
    pcm = out.getvalue()
    if not pcm:
        raise Undecodable("SILK decoder produced no samples")
    return np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2")


def _ffmpeg_pcm(data: bytes, max_seconds: float, timeout_s: float) -> bytes:
    """Raw s16le 16 kHz mono from ffmpeg (raw, not WAV: no header to parse, and a capped output stays valid)."""
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-threads", "1", "-i", "pipe:0",
            "-t", f"{max_seconds:.3f}", "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "-acodec",
            "pcm_s16le", "pipe:1"]
    try:
        proc = subprocess.run(args, input=data, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise Undecodable("ffmpeg timed out") from None
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise Undecodable(f"ffmpeg: {(lines[-1] if lines else 'unknown format')[:200]}")
    if len(proc.stdout) < 2:
        raise Undecodable("ffmpeg produced no audio")
    return proc.stdout[: len(proc.stdout) // 2 * 2]
