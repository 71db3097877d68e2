"""Ranking past successful snippets for a live scene (B3): by industry, customer size and product line, by
outcome weight and by recency.

score = weight (the snippet's shrunk success estimate, lower bound — see outcomes.py)
      + industry · [same industry] + size · [same size] + product · [same product line]
      + recency · 0.5^(age / half-life) + star · [starred by a manager]
The weights are [coaching] rank_* settings. Candidates come from the precomputed rank table (the objection's best
by weight, plus its best in the customer's industry), so ranking costs the same with 1,000 or 100,000 snippets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class RankWeights:
    industry: float = 0.15
    size: float = 0.08
    product: float = 0.10
    recency: float = 0.10
    half_life_days: float = 90.0
    star: float = 0.20
    candidates: int = 60  # rows read from each index range before re-ranking


@dataclass(frozen=True, slots=True)
class Scene:
    """What the live conversation is about."""

    industry: str = ""
    size: str = ""
    product_line: str = ""
    now_ms: int = 0


def score(*, weight: float, industry: str, size: str, product_line: str, occurred_at: int, starred: bool,
          scene: Scene, w: RankWeights) -> float:
    s = weight
    if scene.industry and industry == scene.industry:
        s += w.industry
    if scene.size and size == scene.size:
        s += w.size
    if scene.product_line and product_line == scene.product_line:
        s += w.product
    if scene.now_ms and w.half_life_days > 0:
        age_days = max(0.0, (scene.now_ms - occurred_at) / DAY_MS)
        s += w.recency * 0.5 ** (age_days / w.half_life_days)
    if starred:
        s += w.star
    return s


def top(items: Iterable[tuple[float, int]], limit: int) -> list[int]:
    """Ids of the best `limit` (score, id) pairs; ties go to the newer id."""
    return [i for _s, i in sorted(set(items), key=lambda p: (-p[0], -p[1]))[:limit]]
