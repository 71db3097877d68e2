"""The speech service one runtime shares: the pipeline with its recognisers (loaded once), limits, where audio is
kept, and which language and hotwords a rep's notes get. Built by `handlers.voice.setup` into
`Services.extras["voice"]`; tests and the demo swap the recognisers with `use_recognisers`.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.config import AsrSection, Config
from bot.org import Directory
from handlers.voice.pipeline import SpeechPipeline
from handlers.voice.recognisers import FunAsrRecogniser, ModelSpec, Recogniser, model_kind
from prompts import Keyed
from store import voice as voice_store
from store.db import Store

log = logging.getLogger("salespulse.voice")


def resolve_dir(value: str, config: Config) -> Path:
    """A folder from bot.toml: relative paths count from bot.toml's folder (like the doctor says)."""
    p = Path(value).expanduser()
    if not p.is_absolute() and config.source and not config.source.startswith("<"):
        p = Path(config.source).resolve().parent / p
    return p


def model_specs(config: Config) -> dict[str, ModelSpec]:
    """Language → FunASR model folder, from `model_dir` (Mandarin) and `[asr.models]`."""
    asr = config.asr
    folders = dict(asr.models)
    if asr.model_dir and "zh" not in folders:
        folders["zh"] = asr.model_dir
    out = {}
    for language, folder in folders.items():
        path = resolve_dir(folder, config)
        out[language] = ModelSpec(language, path, model_kind(path))
    return out


def build_recognisers(config: Config) -> list[Recogniser]:
    asr = config.asr
    if not asr.enabled or "funasr" not in asr.order:
        return []
    specs = model_specs(config)
    if not specs:
        return []
    return [FunAsrRecogniser(specs, device=asr.device,
                             vad_dir=resolve_dir(asr.vad_model_dir, config) if asr.vad_model_dir else None,
                             punc_dir=resolve_dir(asr.punc_model_dir, config) if asr.punc_model_dir else None)]


class VoiceService:
    def __init__(self, config: Config, recognisers: Sequence[Recogniser] | None = None) -> None:
        self.config = config
        self.asr: AsrSection = config.asr
        self.data_dir = Path(config.bot.data_dir)
        # Time spent per pipeline stage (decode, vad, asr) and how many notes went through it, for /metrics.
        self.stage_ms: Counter[str] = Counter()
        self.stage_runs: Counter[str] = Counter()
        self.use_recognisers(build_recognisers(config) if recognisers is None else recognisers)

    def use_recognisers(self, recognisers: Sequence[Recogniser]) -> None:
        """Replace who recognises (tests and the demo inject theirs; "funasr" in [asr] order picks any injected
        recogniser not named "platform")."""
        order = list(self.asr.order)
        for rec in recognisers:  # an injected recogniser takes funasr's place in the order (or goes last)
            if rec.name not in order:
                at = order.index("funasr") if "funasr" in order else len(order)
                order.insert(at, rec.name)
        self.pipeline = SpeechPipeline(recognisers, order, min_speech_ms=self.asr.min_speech_ms)

    # -- per note
    def language_for(self, directory: Directory, person_id: str) -> str:
        langs = self.asr.languages
        if person_id and person_id in langs:
            return langs[person_id]
        person = directory.person(person_id) if person_id else None
        if person is not None and person.team_name in langs:
            return langs[person.team_name]
        return self.asr.language

    def hotwords(self, reader: Store, person_id: str) -> list[str]:
        """Product names from [rules] products and the rep's customers' names (models that take hotwords)."""
        if not self.asr.hotwords:
            return []
        words: list[str] = []
        for entry in self.config.rules.products:
            words.extend(w.strip() for w in entry.split("|") if w.strip())
        if person_id:
            words.extend(voice_store.customer_names_for(reader, person_id, self.asr.max_hotwords))
        seen: dict[str, None] = {}
        for w in words:
            if " " not in w:
                seen.setdefault(w, None)
        return list(seen)[: self.asr.max_hotwords]

    def hotwords_static(self) -> list[str]:
        """Product names only (no store at hand: `salespulse transcribe`)."""
        words: dict[str, None] = {}
        for entry in self.config.rules.products:
            for w in entry.split("|"):
                if w.strip() and " " not in w.strip():
                    words.setdefault(w.strip(), None)
        return list(words)[: self.asr.max_hotwords]

    def why_not(self, language: str) -> list[str]:
        """Why nobody can recognise `language` here, one reason per configured backend."""
        if not self.asr.enabled:
            return [Keyed("voice.why_disabled")]
        reasons: list[str] = []
        for rec in self.pipeline.recognisers.values():
            problem = rec.unavailable(language)
            if problem:
                reasons.append(Keyed("voice.why_backend", name=rec.name, why=problem))
        return reasons or [Keyed("voice.why_unset")]

    def record(self, timings_ms: dict[str, float]) -> None:
        for stage, ms in timings_ms.items():
            self.stage_ms[stage] += ms
            self.stage_runs[stage] += 1

    def limit_s(self, to_bot: bool) -> int:
        return self.asr.max_single_note_s if to_bot else self.asr.max_archive_note_s

    # -- keeping audio
    def audio_relpath(self, message_event_id: str, at_ms: int) -> str:
        month = datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m")
        digest = hashlib.sha1(message_event_id.encode()).hexdigest()[:24]
        return f"voice/{month}/{digest}.wav"

    def save_audio(self, relpath: str, wav: bytes) -> str:
        path = self.data_dir / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(wav)
        tmp.replace(path)
        return relpath

    def audio_path(self, relpath: str) -> Path:
        return self.data_dir / relpath
