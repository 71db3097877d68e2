"""Every zh-CN text has an English twin with the same {placeholders}.

Prompts falls back to zh-CN for a key missing in en, so a missing translation does not crash: English users just
see Chinese. A placeholder spelled differently is worse: the loader leaves "{name}" in the text. Neither shows up
anywhere but in front of a user, hence this check over all areas.
"""

from __future__ import annotations

import string
import tomllib
from pathlib import Path
from typing import Any

import pytest

LOCALES = Path(__file__).resolve().parents[1] / "prompts" / "locales"
# logs.toml is zh-only by design: its keys ARE the English log lines (the templates in the code, gettext-style), so
# an en file would map every key to itself. Its own checks (every template in the code translated, the same
# %-conversions, none left over) are in tests/test_log_locale.py.
ZH_ONLY = {"logs"}
AREAS = sorted(p.stem for p in (LOCALES / "zh-CN").glob("*.toml") if p.stem not in ZH_ONLY)


def _flat(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def _load(locale: str, area: str) -> dict[str, Any]:
    return _flat(tomllib.loads((LOCALES / locale / f"{area}.toml").read_text(encoding="utf-8")))


def placeholders(value: Any) -> set[str]:
    """Field names as str.format sees them ("{n}", "{n:.0f}" → "n"); ValueError on unbalanced braces."""
    if isinstance(value, list):
        return set().union(*(placeholders(v) for v in value))
    if not isinstance(value, str):
        return set()
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(value) if name is not None}


def mismatches(zh: dict[str, Any], en: dict[str, Any]) -> list[str]:
    problems = [f"missing in en: {k}" for k in zh if k not in en]
    problems += [f"missing in zh-CN: {k}" for k in en if k not in zh]
    for key in zh.keys() & en.keys():
        a, b = placeholders(zh[key]), placeholders(en[key])
        if a != b:
            problems.append(f"{key}: zh-CN {sorted(a)} vs en {sorted(b)}")
        if isinstance(zh[key], list) != isinstance(en[key], list) or (
                isinstance(zh[key], list) and len(zh[key]) != len(en[key])):
            problems.append(f"{key}: list shape differs")
    return sorted(problems)


def test_every_area_has_an_english_file():
    assert AREAS and "forecast" in AREAS
    assert sorted(p.stem for p in (LOCALES / "en").glob("*.toml")) == AREAS
    assert not any((LOCALES / "en" / f"{area}.toml").exists() for area in ZH_ONLY)


@pytest.mark.parametrize("area", AREAS)
def test_same_keys_and_placeholders(area):
    zh, en = _load("zh-CN", area), _load("en", area)
    assert mismatches(zh, en) == []
    for locale, texts in (("zh-CN", zh), ("en", en)):  # plain names only: "{a.b}" or "{0}" would break .t()
        for key, text in texts.items():
            for one in text if isinstance(text, list) else [text]:
                if isinstance(one, str):
                    assert one.format(**{name: "x" for name in placeholders(one)}), (locale, key)


def test_the_check_catches_a_missing_key_or_placeholder_on_either_side():
    zh = {"a": "{n}个", "b": "好", "c": ["{x}"]}
    assert mismatches(zh, dict(zh)) == []
    assert mismatches(zh, {"a": "{n} deals", "c": ["{x}"]}) == ["missing in en: b"]
    assert mismatches(zh, {**zh, "d": "extra"}) == ["missing in zh-CN: d"]
    assert mismatches(zh, {**zh, "a": "deals"}) == ["a: zh-CN ['n'] vs en []"]
    assert mismatches({**zh, "a": "个"}, {**zh, "a": "{n} deals"}) == ["a: zh-CN [] vs en ['n']"]
    assert mismatches(zh, {**zh, "a": "{count} deals"}) == ["a: zh-CN ['n'] vs en ['count']"]
    assert mismatches(zh, {**zh, "c": ["{y}"]}) == ["c: zh-CN ['x'] vs en ['y']"]
    assert placeholders("{n:.0f} {{literal}} {m!r}") == {"n", "m"}
    with pytest.raises(ValueError):
        placeholders("{n")
