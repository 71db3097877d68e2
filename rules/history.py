"""What window rules may ask about a lead's past, as a protocol the engine calls.

The SQL implementation lives in store/ (store/tagging.py, `SqlHistory`); `MemoryHistory` below serves
`salespulse rules try`, the benchmark and the tests. All bounds are inclusive UTC milliseconds.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from typing import Protocol


class HistoryView(Protocol):
    def count_tag_since(self, lead: str, tag: str, since: int, until: int) -> int:
        """Events of `lead` tagged `tag` with since <= occurred_at <= until."""
        ...

    def distinct_values(self, lead: str, key: str, since: int, until: int) -> set[str]:
        """Values remembered under `key` (a rule id) for `lead` in the span."""
        ...

    def count_opens(self, lead: str, doc: str, since: int, until: int) -> int:
        """Opens of document `doc` on `lead` in the span."""
        ...


class MemoryHistory:
    """A dict-backed history: `add_tag`, `add_value`, `add_open` record facts; lists stay sorted by time so the
    count queries are two binary searches (the benchmark records every hit, like the store does)."""

    def __init__(self) -> None:
        self.tags: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.values: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
        self.opens: dict[tuple[str, str], list[int]] = defaultdict(list)

    def add_tag(self, lead: str, tag: str, at: int) -> None:
        insort(self.tags[(lead, tag)], at)

    def add_value(self, lead: str, key: str, value: str, at: int) -> None:
        self.values[(lead, key)].append((at, value))

    def add_open(self, lead: str, doc: str, at: int) -> None:
        insort(self.opens[(lead, doc)], at)

    def count_tag_since(self, lead: str, tag: str, since: int, until: int) -> int:
        times = self.tags.get((lead, tag), ())
        return max(0, bisect_right(times, until) - bisect_left(times, since))

    def distinct_values(self, lead: str, key: str, since: int, until: int) -> set[str]:
        return {v for t, v in self.values.get((lead, key), ()) if since <= t <= until}

    def count_opens(self, lead: str, doc: str, since: int, until: int) -> int:
        times = self.opens.get((lead, doc), ())
        return max(0, bisect_right(times, until) - bisect_left(times, since))
