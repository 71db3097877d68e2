"""Voice notes → 16 kHz mono 16-bit WAV with the ffmpeg bundled by imageio-ffmpeg (no system ffmpeg needed).

Feishu audio is Ogg/Opus and DingTalk's codec is undocumented, so ffmpeg sniffs the input format. Shared by the
DingTalk and Feishu adapters; runs in a worker thread because it blocks.
"""

from __future__ import annotations

import asyncio
import subprocess

from bot.errors import BadPayload


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def to_wav16k(data: bytes, timeout_s: float = 60.0) -> bytes:
    if not data:
        raise BadPayload("empty audio")
    try:
        proc = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", "pipe:0", "-ac", "1", "-ar", "16000",
             "-acodec", "pcm_s16le", "-f", "wav", "pipe:1"],
            input=data, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise BadPayload("audio conversion timed out") from None
    if proc.returncode != 0 or not proc.stdout:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["unknown format"]
        raise BadPayload(f"audio conversion failed: {reason[0][:200]}")
    return proc.stdout


async def to_wav16k_async(data: bytes) -> bytes:
    return await asyncio.to_thread(to_wav16k, data)
