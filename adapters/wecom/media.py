"""Media: download a callback's media (media/get) and turn WeCom voice (AMR-NB) into 16 kHz mono 16-bit WAV.

The conversion uses the ffmpeg binary bundled with imageio-ffmpeg (it has the AMR decoders), so no system ffmpeg
is needed. It runs as a subprocess fed through pipes; the async variant never blocks the event loop, the sync one
is for worker threads (archive puller, deferred jobs).
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import imageio_ffmpeg

from adapters.wecom.client import WeComClient
from bot.errors import BadPayload

AMR_MAGIC = b"#!AMR"
_ARGS = ["-hide_banner", "-loglevel", "error", "-i", "pipe:0", "-ac", "1", "-ar", "16000", "-acodec", "pcm_s16le",
         "-f", "wav", "pipe:1"]


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def is_amr(data: bytes) -> bool:
    return data.startswith(AMR_MAGIC)


def to_wav_sync(data: bytes, timeout_s: float = 60.0) -> bytes:
    """Any audio ffmpeg can sniff (AMR, Opus, MP3 …) → 16 kHz mono s16 WAV bytes. BadPayload when undecodable."""
    if not data:
        raise BadPayload("empty audio")
    proc = subprocess.run([ffmpeg_exe(), *_ARGS], input=data, capture_output=True, timeout=timeout_s, check=False)
    if proc.returncode != 0 or not proc.stdout.startswith(b"RIFF"):
        raise BadPayload(f"audio not decodable: {proc.stderr.decode('utf-8', 'replace').strip()[:200]}")
    return proc.stdout


async def to_wav(data: bytes, timeout_s: float = 60.0) -> bytes:
    """Async variant of to_wav_sync (a subprocess with pipes; the loop keeps serving)."""
    if not data:
        raise BadPayload("empty audio")
    proc = await asyncio.create_subprocess_exec(ffmpeg_exe(), *_ARGS, stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(data), timeout=timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise BadPayload("audio conversion timed out") from None
    if proc.returncode != 0 or not out.startswith(b"RIFF"):
        raise BadPayload(f"audio not decodable: {err.decode('utf-8', 'replace').strip()[:200]}")
    return out


async def download(client: WeComClient, media_id: str) -> tuple[bytes, str]:
    """media/get → (bytes, content type)."""
    return await client.get_media(media_id)


async def download_voice_wav(client: WeComClient, media_id: str, dest_dir: Path) -> Path:
    """Fetch a voice message and store it as `<dest_dir>/<media_id>.wav` (16 kHz mono), for speech recognition."""
    data, _ctype = await client.get_media(media_id)
    wav = await to_wav(data)
    dest_dir.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in media_id)[:120] or "voice"
    path = dest_dir / f"{safe}.wav"
    path.write_bytes(wav)
    return path
