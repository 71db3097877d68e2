"""User text inside SQL LIKE patterns.

Why: `%` and `_` are wildcards in LIKE, so `/商机 %` used to match every deal a person may see (and `_` any one
character). Every query that puts user text into LIKE uses these patterns together with `ESCAPE '\\'`.
"""

from __future__ import annotations

ESCAPE = " ESCAPE '\\'"


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(text: str) -> str:
    """A LIKE pattern matching values that contain `text` literally."""
    return f"%{_escaped(text)}%"


def starts_with(text: str) -> str:
    """A LIKE pattern matching values that start with `text` literally."""
    return f"{_escaped(text)}%"
