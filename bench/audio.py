"""Voice-note benchmark: 15-s AMR (WeCom) and Ogg/Opus (Feishu) clips through decode + voice activity detection.

    python -m bench.audio --json

The clips are speech-like signals (handlers/voice/synth.py: voiced syllables, gaps, pauses, room noise) encoded
by the bundled ffmpeg, a different seed per clip; half AMR-NB, half Opus. Each clip goes through exactly what a
note goes through before recognition: handlers.voice.audio.decode (one ffmpeg process per note, fed and read
through pipes, `-threads 1`) and handlers.voice.vad.detect. Timed sequentially in this process.

Reported: decode_ms_p50 / vad_ms_p50 (per clip), seconds_of_audio_per_s (audio seconds over wall seconds of
decode + VAD), seconds_of_audio_per_cpu_s (over CPU seconds of this process *and* its ffmpeg children: the
one-core figure that does not depend on how busy the machine is), ffmpeg_spawn_ms_p50 (starting the bundled
ffmpeg for `-version`: the fixed cost per note that a long-lived decoder would save), and per-format p50s.
Target: ≥ 50 s of audio per second on one core.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import time

from handlers.voice import audio, synth, vad


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def make_clips(n: int, seconds: float) -> list[tuple[str, bytes]]:
    clips = []
    for i in range(n):
        fmt = "amr" if i % 2 == 0 else "opus"
        samples = synth.speech_like(seconds, pauses_s=(1.2, 2.0) if i % 3 else (1.5,), seed=100 + i)
        clips.append((fmt, synth.encode(samples, fmt)))
    return clips


def spawn_cost(runs: int = 10) -> float:
    exe = audio.ffmpeg_exe()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, check=True)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def run(clips: int = 40, seconds: float = 15.0) -> dict:
    data = make_clips(clips, seconds)
    audio.decode(data[0][1])  # warm: the first spawn pays for page-cache misses of the binary
    decode_ms: dict[str, list[float]] = {"amr": [], "opus": []}
    vad_ms: list[float] = []
    audio_s = 0.0
    speech_s = 0.0
    cpu0, wall0 = _cpu_s(), time.perf_counter()
    for fmt, blob in data:
        t0 = time.perf_counter()
        decoded = audio.decode(blob, max_seconds=seconds + 5)
        t1 = time.perf_counter()
        activity = vad.detect(decoded.samples)
        t2 = time.perf_counter()
        decode_ms[fmt].append((t1 - t0) * 1000)
        vad_ms.append((t2 - t1) * 1000)
        audio_s += decoded.duration_ms / 1000
        speech_s += activity.speech_ms / 1000
    wall = time.perf_counter() - wall0
    cpu = _cpu_s() - cpu0
    all_decode = decode_ms["amr"] + decode_ms["opus"]
    return {
        "clips": clips,
        "clip_seconds": seconds,
        "decode_ms_p50": round(statistics.median(all_decode), 2),
        "vad_ms_p50": round(statistics.median(vad_ms), 2),
        "seconds_of_audio_per_s": round(audio_s / wall, 1),
        "seconds_of_audio_per_cpu_s": round(audio_s / cpu, 1) if cpu > 0 else None,
        "decode_ms_p50_amr": round(statistics.median(decode_ms["amr"]), 2),
        "decode_ms_p50_opus": round(statistics.median(decode_ms["opus"]), 2) if decode_ms["opus"] else None,
        "ffmpeg_spawn_ms_p50": round(spawn_cost(), 2),
        "speech_share": round(speech_s / audio_s, 3) if audio_s else 0.0,
        "target_seconds_of_audio_per_s": 50,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=40, help="clips to time (half AMR, half Opus)")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each clip")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args.clips, args.seconds)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>30}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
