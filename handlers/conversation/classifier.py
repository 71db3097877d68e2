"""The objection × strategy classifier: one chat turn (or transcript line) in, its labels and why out.

How it decides: the lexicon (handlers/conversation/lexicon.py, shipped pack + admin packs) scores each label of
the turn's role by its cues that survive negation; a label with score ≥ 1 is on. The optional character n-gram
model (handlers/conversation/model.py, trained on the dev set by a documented command) may only *add* a label
when it is very sure (`model_min_prob`), because it learned one data set's wording and the product runs on
others; bench.classify measures both alone and combined, held out by conversation.

Why so plain: it runs on every archived message inside the dispatcher's transaction (≥ 10,000 turns/s on one
core), and every label must be explainable to an admin as words, not a probability from nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from handlers.conversation.labels import ROLES
from handlers.conversation.lexicon import (
    CompiledLexicon,
    Lexicon,
    compile_lexicon,
    load_lexicon,
    normalise,
    pack_paths,
    score,
)
from rules.reload import file_signature

TEXT_MAX_CHARS = 2000  # a turn longer than this is classified on its first 2000 characters (bounds the cost)
MODEL_MIN_PROB = 0.9


@dataclass(frozen=True, slots=True)
class Labelled:
    """A turn's labels (in the fixed label order) and, per label, the words or features that decided it."""

    labels: tuple[str, ...] = ()
    evidence: dict[str, tuple[str, ...]] = field(default_factory=dict)


EMPTY = Labelled()


class Classifier:
    """Lexicon with negation scope, optionally helped by a character n-gram model (see the module docstring)."""

    def __init__(self, lexicon: Lexicon, model: Any = None, *, model_min_prob: float = MODEL_MIN_PROB,
                 text_max_chars: int = TEXT_MAX_CHARS, use_lexicon: bool = True) -> None:
        self.lexicon = lexicon
        self.compiled: CompiledLexicon = compile_lexicon(lexicon)
        self.model = model
        self.model_min_prob = model_min_prob
        self.text_max_chars = text_max_chars
        self.use_lexicon = use_lexicon

    # ------------------------------------------------------------------ construction
    @classmethod
    def default(cls, *, with_model: bool = False) -> Classifier:
        """The shipped pack (with_model: plus model weights, when they were built)."""
        return cls.from_paths(pack_paths(), with_model=with_model)

    @classmethod
    def from_paths(cls, paths: list[Path], *, with_model: bool = False, model_min_prob: float = MODEL_MIN_PROB,
                   text_max_chars: int = TEXT_MAX_CHARS) -> Classifier:
        """Built once per set of pack files (by name, size and mtime) and settings: a classifier is immutable,
        and compiling the lexicon costs a few hundred milliseconds that every bot start and test would repeat."""
        return _build(file_signature(paths), with_model, model_min_prob, text_max_chars)

    @classmethod
    def from_config(cls, config) -> Classifier:
        """Shipped pack + the admin packs of `[conversation] packs_dirs` / `extra_files` (relative to bot.toml).

        Raises lexicon.PackErrors when a pack is broken: callers decide whether to fall back (the bot does)."""
        return cls.from_paths(config_pack_paths(config), with_model=config.conversation.use_model,
                              model_min_prob=config.conversation.model_min_prob,
                              text_max_chars=config.conversation.text_max_chars)

    # ------------------------------------------------------------------ classification
    def classify(self, text: str, role: str, *, explain: bool = False) -> Labelled:
        allowed = ROLES.get(role)
        if not allowed or not text:
            return EMPTY
        norm = normalise(text[: self.text_max_chars] if len(text) > self.text_max_chars else text)
        if not explain and self.model is None and self.use_lexicon:  # the hot path: labels only
            scores = score(self.compiled, norm, role, False)[0]
            if not scores:
                return EMPTY
            labels = tuple([label for label in allowed if scores.get(label, 0.0) >= 1.0])
            return Labelled(labels, {}) if labels else EMPTY
        if self.use_lexicon:
            scores, words = score(self.compiled, norm, role, explain)
        else:
            scores, words = {}, {}
        on = {label for label, s in scores.items() if s >= 1.0}
        model_evidence: dict[str, list[str]] = {}
        if self.model is not None:
            for label, prob, feats in self.model.predict(norm, role, self.model_min_prob, explain):
                if label not in on:
                    on.add(label)
                    if explain:
                        model_evidence[label] = [f"model p={prob:.2f}", *feats]
        if not on:
            if explain and words:
                return Labelled((), {k: tuple(v) for k, v in words.items() if k.startswith("~")})
            return EMPTY
        labels = tuple(label for label in allowed if label in on)
        if not explain:
            return Labelled(labels, {})
        evidence: dict[str, tuple[str, ...]] = {}
        for label in labels:
            evidence[label] = tuple(dict.fromkeys(words.get(label, ()) + model_evidence.get(label, [])))
        for key, vals in words.items():  # what negation cancelled, shown as "~label"
            if key.startswith("~"):
                evidence[key] = tuple(dict.fromkeys(vals))
        return Labelled(labels, evidence)


@lru_cache(maxsize=8)
def _build(signature: tuple, with_model: bool, model_min_prob: float, text_max_chars: int) -> Classifier:
    paths = [Path(p) for p, _m, _s in signature]
    return Classifier(load_lexicon(paths), shipped_model() if with_model else None, model_min_prob=model_min_prob,
                      text_max_chars=text_max_chars)


def config_pack_paths(config) -> list[Path]:
    cfg = config.conversation
    source = config.source
    base = Path(source).parent if source and not source.startswith("<") else None
    return pack_paths(cfg.packs_dirs, cfg.extra_files, base)


@lru_cache(maxsize=1)
def shipped_model():
    """The trained weights when they were built (None otherwise; numpy is imported only then)."""
    if not (Path(__file__).with_name("model.npz")).exists():
        return None
    from handlers.conversation.model import load_shipped
    return load_shipped()


@lru_cache(maxsize=1)
def _default() -> Classifier:
    return Classifier.default()


def classify(text: str, role: str, *, explain: bool = False) -> Labelled:
    """Classify with the shipped packs (built once per process)."""
    return _default().classify(text, role, explain=explain)
