"""All SQL lives in store/ (DESIGN.md): handlers, adapters and the CLI call store functions, so a schema change is
one module's change and every query is where its migration is. The only exceptions are the database plumbing that
has to talk to SQLite itself: the schema-version check before migrating (bot/upgrade.py) and the lock probe of
`salespulse doctor` (bot/health.py)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUMBING = {"bot/upgrade.py", "bot/health.py"}


def _sql_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("execute", "executemany", "executescript")]


def test_no_sql_outside_store():
    found = []
    for folder in ("handlers", "adapters", "bot", "rules", "prompts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in PLUMBING:
                continue
            found += [f"{rel}:{line}" for line in _sql_calls(path)]
    assert found == []
