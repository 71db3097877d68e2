"""Speech recognisers: the one boundary where words come from (FunASR on CPU; anything else injected).

`[asr] order` lists who is asked, first answer wins:
- "platform": the platform's own transcript (DingTalk delivers `recognition` with the note); no audio model.
- "funasr": FunASR with a local model directory per language — Paraformer (SeACo Paraformer takes product and
  customer names as hotwords) for Mandarin, SenseVoice for Cantonese and other dialects or "auto". The model is
  loaded once per directory, lazily on the first note, inside the speech lane's worker thread (loading takes
  seconds and ~1 GB of RAM; it must never happen on the event loop) and then reused.
A recogniser that is not usable here (funasr or torch missing, no model for the language) says why in
`unavailable()` — `salespulse doctor` shows the same sentence — and the pipeline moves on; when nobody can
recognise, the note's status is `no_recogniser` and its audio is kept for a later retry.

Tests and the demo inject a `Recogniser` at this boundary (see `StaticRecogniser`); the FunASR code below is the
real loading and calling code, exercised by `salespulse transcribe --bench` on a machine with a model.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from prompts import Keyed

log = logging.getLogger("salespulse.voice.asr")


@dataclass(frozen=True, slots=True)
class Recognition:
    text: str
    language: str
    source: str


class Recogniser(Protocol):
    name: str

    def unavailable(self, language: str) -> str | None:
        """None when this recogniser can hear `language`; else a one-line reason (for logs and doctor)."""

    def recognise(self, samples: np.ndarray, *, language: str, hotwords: Sequence[str]) -> Recognition:
        """16 kHz mono float32 samples → words. May block for seconds (runs in the speech lane's thread)."""


# ---------------------------------------------------------------- FunASR


@dataclass(frozen=True, slots=True)
class ModelSpec:
    language: str  # zh | yue | auto | en | …: what this model is used for
    path: Path
    kind: str  # paraformer | seaco_paraformer | sensevoice | unknown (read from the model's config.yaml)


_MODEL_LINE = re.compile(r"^model:\s*['\"]?([A-Za-z0-9_.-]+)", re.MULTILINE)


def model_kind(path: Path) -> str:
    """What a FunASR model directory holds, from the `model:` line of its config.yaml (no yaml import needed)."""
    for name in ("config.yaml", "configuration.json"):
        f = path / name
        if f.is_file():
            text = f.read_text(encoding="utf-8", errors="replace")[:20_000]
            m = _MODEL_LINE.search(text) or re.search(r'"model"\s*:\s*"([^"]+)"', text)
            if m:
                value = m.group(1).lower()
                if "sensevoice" in value:
                    return "sensevoice"
                if "seaco" in value:
                    return "seaco_paraformer"
                if "paraformer" in value:
                    return "paraformer"
                return "unknown"
    return "unknown"


def model_ready(path: Path) -> bool:
    """A directory with weights in it (model.pt / *.onnx / model.bin) and a config."""
    if not path.is_dir():
        return False
    names = {p.name for p in path.iterdir()}
    has_weights = any(n.endswith((".pt", ".pth", ".onnx", ".bin", ".safetensors")) for n in names)
    return has_weights and ("config.yaml" in names or "configuration.json" in names)


class FunAsrRecogniser:
    """FunASR AutoModel per model directory, loaded once; `generate` under a lock (one model, one caller)."""

    name = "funasr"

    def __init__(self, models: dict[str, ModelSpec], *, device: str = "cpu", vad_dir: Path | None = None,
                 punc_dir: Path | None = None, importer: Callable[[str], Any] | None = None) -> None:
        self.models = models
        self.device = device
        self.vad_dir = vad_dir
        self.punc_dir = punc_dir
        self._import = importer or _import
        self._loaded: dict[Path, Any] = {}
        self._lock = threading.Lock()
        self._import_error: str | None = None

    def spec_for(self, language: str) -> ModelSpec | None:
        return self.models.get(language) or self.models.get("auto")

    def unavailable(self, language: str) -> str | None:
        spec = self.spec_for(language)
        if spec is None:
            return Keyed("voice.why_no_model", language=language)
        if not model_ready(spec.path):
            return Keyed("voice.why_model_missing", path=spec.path)
        problem = self._import_problem()
        if problem:
            return problem
        return None

    def _import_problem(self) -> str | None:
        if self._import_error is None:
            for module in ("torch", "funasr"):
                try:
                    self._import(module)
                except ModuleNotFoundError as exc:
                    self._import_error = (Keyed("voice.why_not_installed", module=module) if exc.name == module
                                          else Keyed("voice.why_import", module=module, error=f"{type(exc).__name__}: {exc}"))
                    break
                except Exception as exc:  # an ImportError, or a broken native library (OSError)
                    self._import_error = Keyed("voice.why_import", module=module, error=f"{type(exc).__name__}: {exc}")
                    break
            else:
                self._import_error = ""
        return self._import_error or None

    def _model(self, spec: ModelSpec) -> Any:
        model = self._loaded.get(spec.path)
        if model is None:
            auto_model = self._import("funasr").AutoModel
            kwargs: dict[str, Any] = {"model": str(spec.path), "device": self.device, "disable_update": True,
                                      "disable_pbar": True, "log_level": "ERROR"}
            if self.vad_dir is not None:
                kwargs["vad_model"] = str(self.vad_dir)
                kwargs["vad_kwargs"] = {"max_single_segment_time": 30_000}
            if self.punc_dir is not None and spec.kind != "sensevoice":  # SenseVoice punctuates itself
                kwargs["punc_model"] = str(self.punc_dir)
            log.warning("loading FunASR model %s (%s) on %s", spec.path, spec.kind, self.device)
            model = auto_model(**kwargs)
            self._loaded[spec.path] = model
        return model

    def recognise(self, samples: np.ndarray, *, language: str, hotwords: Sequence[str]) -> Recognition:
        spec = self.spec_for(language)
        if spec is None:
            raise LookupError(f"no FunASR model for {language!r}")
        with self._lock:
            model = self._model(spec)
            kwargs: dict[str, Any] = {"input": samples, "batch_size_s": 60}
            if spec.kind == "sensevoice":
                kwargs.update(language=language if language in ("zh", "yue", "en", "ja", "ko") else "auto",
                              use_itn=True, merge_vad=self.vad_dir is not None, merge_length_s=15)
            elif spec.kind == "seaco_paraformer" and hotwords:
                kwargs["hotword"] = " ".join(hotwords)
            result = model.generate(**kwargs)
        text = "".join(str(r.get("text", "")) for r in result if isinstance(r, dict))
        if spec.kind == "sensevoice":
            postprocess = self._import("funasr.utils.postprocess_utils").rich_transcription_postprocess
            text = postprocess(text)
        return Recognition(text=text.strip(), language=language, source=f"funasr:{spec.kind}")


def _import(name: str) -> Any:
    import importlib

    return importlib.import_module(name)


# ---------------------------------------------------------------- injected (tests, demo)


class StaticRecogniser:
    """Answers from a table (audio length or a call counter → text): the boundary fake for tests and the demo.

    `answers` maps a note's index (0, 1, …, in the order recognise() is called) or the key "*" to the text; a
    callable gets (samples, language) instead. `fail_times` makes the first N calls raise, to test retries."""

    name = "static"

    def __init__(self, answers: dict[Any, str] | Callable[[np.ndarray, str], str], *, source: str = "test",
                 fail_times: int = 0) -> None:
        self.answers = answers
        self.source = source
        self.fail_times = fail_times
        self.calls: list[tuple[int, str, tuple[str, ...]]] = []

    def unavailable(self, language: str) -> str | None:
        return None

    def recognise(self, samples: np.ndarray, *, language: str, hotwords: Sequence[str]) -> Recognition:
        self.calls.append((len(samples), language, tuple(hotwords)))
        if self.fail_times > 0:
            self.fail_times -= 1
            raise RuntimeError("recogniser failed (injected)")
        if callable(self.answers):
            text = self.answers(samples, language)
        else:
            text = self.answers.get(len(self.calls) - 1, self.answers.get("*", ""))
        return Recognition(text=text, language=language, source=self.source)
