"""Voice-note test helpers: real audio made with the bundled ffmpeg, and a runtime whose data dir is temporary."""

from __future__ import annotations

import dataclasses
from functools import cache

from adapters.base import AdapterContext
from adapters.console import ConsoleAdapter
from bot.app import Runtime
from bot.config import Config
from handlers.voice import synth
from handlers.voice.recognisers import StaticRecogniser
from prompts import Prompts


@cache
def clip(fmt: str, seconds: float = 6.0, pauses: tuple[float, ...] = (1.5,), seed: int = 7) -> bytes:
    """A speech-like note encoded as `fmt` (wav | amr | opus | mp3 | silk), cached per test session."""
    return synth.encode(synth.speech_like(seconds, pauses_s=pauses, seed=seed), fmt)


@cache
def silent_clip(fmt: str = "amr", seconds: float = 4.0) -> bytes:
    return synth.encode(synth.silence(seconds), fmt)


def voice_config(config: Config, tmp_path, **asr: object) -> Config:
    return dataclasses.replace(config, bot=dataclasses.replace(config.bot, data_dir=str(tmp_path / "data")),
                               asr=dataclasses.replace(config.asr, **asr))


def voice_runtime(config: Config, store, clock, *, recogniser: StaticRecogniser | None = None,
                  in_thread: bool = False) -> Runtime:
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=in_thread)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts(config.bot.locale))
    rt.add_sender("console", console.send)
    rt.media.register("console", console.fetch_media)
    rt.console = console
    if recogniser is not None:
        rt.services.extras["voice"].use_recognisers([recogniser])
    return rt


def transcripts(store) -> list[dict]:
    """VoiceTranscript events that went through the inbox, in order."""
    import json

    rows = store.conn.execute("SELECT event FROM inbox WHERE event LIKE '{\"type\": \"voice_transcript\"%' ORDER BY id")
    return [json.loads(r[0]) for r in rows]
