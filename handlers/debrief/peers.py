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


def _import(module: str) -> Any:
    """The peer module, or None while it has not landed (issue 9): labels then stay empty and say so."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        raise


def classifier(services: Services) -> Any:
    """The runtime classifier (services.extras["classifier"], built by the conversation capability's setup)."""
    found = services.extras.get("classifier")
    if found is None:
        found = standalone_classifier()
        if found is not None:
            services.extras["classifier"] = found
    return found


def standalone_classifier() -> Any:
    """A classifier outside a running bot (`salespulse debrief parse`)."""
    mod = _import("handlers.conversation.classifier")
    return mod.Classifier() if mod is not None else None


def label_name(prompts: Any, key: str) -> str:
    """The Chinese (or English) name of an objection or strategy label (prompts key conversation.label.<key>)."""
    name = prompts.t(f"conversation.label.{key}")
    return key if name == f"conversation.label.{key}" else name


def objections() -> tuple[str, ...]:
    mod = _import("handlers.conversation.labels")
    return tuple(mod.OBJECTIONS) if mod is not None else ()


def best_snippets(store: Any, objection: str, **kw: Any) -> list[Any]:
    mod = _import("handlers.coaching.library")
    return list(mod.best_snippets(store, objection, **kw)) if mod is not None else []


def objection_examples(store: Any, objection: str, **kw: Any) -> list[Any]:
    mod = _import("handlers.coaching.library")
    return list(mod.objection_examples(store, objection, **kw)) if mod is not None else []


def add_debrief_snippet(store: Any, **kw: Any) -> Any:
    mod = _import("handlers.coaching.library")
    return mod.add_debrief_snippet(store, **kw) if mod is not None else None


def snippet_text(snippet: Any) -> str:
    """The words of a library snippet as one line (the rep's answer)."""
    for name in ("response", "answer", "response_text", "text"):
        value = getattr(snippet, name, None) or (snippet.get(name) if isinstance(snippet, dict) else None)
        if value:
            return str(value)
    return str(snippet)
