"""The capabilities debriefs and practice build on, reached through one module: the objection × strategy
classifier (handlers/conversation), the snippet library (handlers/coaching) and the voice analysis
(handlers/voice/analysis).

Why one module: the debrief's labels must come from the conversation classifier — never from a second keyword list
here — and the library is the coaching capability's. Keeping every call in one place keeps the contract visible
and small: classify(text, role), best_snippets / objection_examples / add_debrief_snippet, and the voice analysis
functions.
"""

from __future__ import annotations

from typing import Any

from bot.context import Services
from handlers.coaching import library
from handlers.conversation.classifier import Classifier
from handlers.conversation.labels import OBJECTIONS, display_key
from handlers.conversation.lexicon import PackErrors
from handlers.voice import analysis


def classifier(services: Services) -> Classifier:
    """The runtime classifier (built once by handlers/conversation/observe.setup, with the admins' packs)."""
    found = services.extras.get("classifier")
    if found is None:  # a runtime without the conversation observer (a tool): the shipped packs
        found = services.extras["classifier"] = Classifier.default()
    return found


def standalone_classifier(config: Any = None) -> Classifier:
    """A classifier outside a running bot (`salespulse debrief parse`): bot.toml's packs when given."""
    if config is None:
        return Classifier.default()
    try:
        return Classifier.from_config(config)
    except PackErrors:
        return Classifier.default()


def pack_examples(services: Services, objection: str) -> list[str]:
    """Customer lines the classifier's packs give as examples of `objection` (verified by `rules check`)."""
    lexicon = classifier(services).lexicon
    return [e.text for e in lexicon.examples if e.role == "customer" and objection in e.labels]


def label_name(prompts: Any, key: str) -> str:
    """The Chinese (or English) name of an objection or strategy label (prompts key conversation.label.<key>)."""
    return prompts.t(display_key(key))


def objections() -> tuple[str, ...]:
    return OBJECTIONS


def best_snippets(store: Any, objection: str, **kw: Any) -> list[library.Snippet]:
    """The best past snippets for an objection, ranked for the scene (team, industry), masked outside the team."""
    return library.best_snippets(store, objection, **kw)


def objection_examples(store: Any, objection: str, **kw: Any) -> list[str]:
    """Customers' real objection lines for practice, always anonymised."""
    return library.objection_examples(store, objection, **kw)


def add_debrief_snippet(store: Any, **kw: Any) -> int | None:
    """A debrief's worry → evidence filed in the library as a snippet of its lead."""
    return library.add_debrief_snippet(store, **kw)


def snippet_text(snippet: Any) -> str:
    """The words of a library snippet as one line (the rep's answer)."""
    return str(getattr(snippet, "response_text", "") or snippet)


# ---------------------------------------------------------------- voice delivery (handlers/voice/analysis)


def speaking_rate(text: str, speech_ms: int) -> float:
    """Characters per minute of voiced speech."""
    return analysis.speaking_rate(text, speech_ms)


def filler_words(text: str) -> dict[str, int]:
    """{filler: count} (嗯、那个、就是 …)."""
    return analysis.filler_words(text)
