"""Pack examples as tests an admin can run: every `[[example]]` of every loaded classifier pack is classified
again, and one that no longer gets (or no longer avoids) a stated label is an error naming its file and line.

Why: an admin adding 竞品名 or 公司话术 to a pack cannot see what else it changes; the examples written next to
the cues (the shipped pack's and their own) say what must keep holding. `salespulse rules check` runs this.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from handlers.conversation.classifier import Classifier
from handlers.conversation.labels import display_key


def example_failures(clf: Classifier, t: Callable[..., str]) -> list[str]:
    """One line per broken expectation: "file:line: 示例“…”（客户）应有标签 competitor，实际为 …"."""
    out: list[str] = []
    for ex in clf.lexicon.examples:
        got = clf.classify(ex.text, ex.role).labels
        shown = "、".join(f"{lb}（{t(display_key(lb))}）" for lb in got) or t("conversation.check.none")
        role = t(f"conversation.role.{ex.role}")
        name = Path(ex.file).name if ex.file.endswith("default.toml") else ex.file
        for label in ex.labels:
            if label not in got:
                out.append(t("conversation.check.example_missing", file=name, line=ex.line, text=ex.text,
                             role=role, label=label, got=shown))
        for label in ex.not_labels:
            if label in got:
                out.append(t("conversation.check.example_unwanted", file=name, line=ex.line, text=ex.text,
                             role=role, label=label, got=shown))
    return out
