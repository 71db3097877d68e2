"""In-process counters the runtime exposes for monitoring, without a dependency.

Why our own: the counters are needed before there is a `/metrics` endpoint, and a process-global registry filled at
import time (prometheus-client's default) makes tests swap globals. A `Registry` is created with the server and
handed to whoever counts; `samples()` gives (name, labels, value) rows that a later Prometheus endpoint renders
(`render_text()` already writes the text exposition format 0.0.4 for counters).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator


class Counter:
    """A monotonically increasing count per label set (labels given by name, all of them, every time)."""

    def __init__(self, name: str, help_text: str, labelnames: tuple[str, ...]) -> None:
        self.name, self.help, self.labelnames = name, help_text, labelnames
        self._values: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()  # the Feishu long connection counts from its own thread

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, not {tuple(labels)}")
        key = tuple(str(labels[n]) for n in self.labelnames)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self._values.get(tuple(str(labels[n]) for n in self.labelnames), 0.0)

    def total(self) -> float:
        with self._lock:
            return sum(self._values.values())

    def samples(self) -> list[tuple[dict[str, str], float]]:
        with self._lock:
            return [(dict(zip(self.labelnames, key, strict=True)), v) for key, v in sorted(self._values.items())]


class Registry:
    def __init__(self) -> None:
        self._counters: dict[str, Counter] = {}

    def counter(self, name: str, help_text: str, labelnames: tuple[str, ...] = ()) -> Counter:
        """The counter called `name`, created on first use (same labels required afterwards)."""
        found = self._counters.get(name)
        if found is None:
            found = self._counters[name] = Counter(name, help_text, labelnames)
        elif found.labelnames != labelnames:
            raise ValueError(f"counter {name} already has labels {found.labelnames}")
        return found

    def __iter__(self) -> Iterator[Counter]:
        return iter(list(self._counters.values()))

    def render_text(self) -> str:
        """Prometheus text format for every counter (what a /metrics endpoint would answer)."""
        lines: list[str] = []
        for c in self:
            lines += [f"# HELP {c.name} {c.help}", f"# TYPE {c.name} counter"]
            for labels, value in c.samples():
                inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
                lines.append(f"{c.name}{{{inner}}} {value:g}" if inner else f"{c.name} {value:g}")
        return "\n".join(lines) + ("\n" if lines else "")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
