"""The rule engine: TOML rule packs compiled into one multi-pattern matcher. Imports nothing of the app.

    rules.loader   pack files → Rule objects (errors carry file, line, rule id)
    rules.guard    regexes that could backtrack catastrophically are refused at load
    rules.engine   Engine.evaluate(EventView, HistoryView) → tags; Engine.explain for `rules try`
    rules.history  the HistoryView protocol window rules query (SQL implementation in store/tagging.py)
    rules.reload   RuleSet: hot reload that never replaces a good rule set with a broken one
"""

from rules.engine import Engine, Trace
from rules.history import HistoryView, MemoryHistory
from rules.loader import load_files, load_text
from rules.model import CATEGORIES, EventView, Hit, Rule, RuleError, RulePackErrors
from rules.reload import RuleSet, default_pack_path, pack_files

__all__ = ["CATEGORIES", "Engine", "EventView", "HistoryView", "Hit", "MemoryHistory", "Rule", "RuleError",
           "RulePackErrors", "RuleSet", "Trace", "default_pack_path", "load_files", "load_text", "pack_files"]
