"""The pipeline by stage (/漏斗): counts and amounts of the open deals per stage, and what changed since a week
ago — new deals, won, lost, deals that moved forward or back a stage, amounts raised or cut.

Last week's state comes from the nightly snapshot (store/pipeline.py). A fresh install has none, so the state a
week ago is rebuilt from the deals themselves: a deal existed if it was created before, was open if it had not
closed yet, its amount is the old value of the first amount revision since, and its stage — which no table keeps —
is taken as today's. The answer says which of the two it used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from store import pipeline as pipeline_store
from store.db import Store

NO_STAGE = ""  # deals without a stage are counted under the locale's "未填阶段"


@dataclass(frozen=True)
class StageRow:
    stage: str
    count: int
    amount: float
    count_before: int
    amount_before: float


@dataclass(frozen=True)
class Pipeline:
    rows: tuple[StageRow, ...]
    since_day: str  # the day compared with
    source: str  # "snapshot" | "rebuilt"
    moves: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # kind → [(title, amount)]

    @property
    def count(self) -> int:
        return sum(r.count for r in self.rows)

    @property
    def amount(self) -> float:
        return sum(r.amount for r in self.rows)

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> Pipeline:
        return Pipeline(tuple(StageRow(**r) for r in d["rows"]), d["since_day"], d["source"],
                        {k: [(t, float(a)) for t, a in v] for k, v in d["moves"].items()})


MOVE_KINDS = ("new", "won", "lost", "forward", "back", "raised", "cut")


def stage_order(configured: Sequence[str], seen: Sequence[str]) -> list[str]:
    """Configured stages first, in their order; other stages seen in the data after them (sorted), the empty one last."""
    extra = sorted({s for s in seen if s and s not in configured})
    return [*configured, *extra, *([NO_STAGE] if NO_STAGE in seen else [])]


_WAN = re.compile(r"^\s*([0-9.]+)\s*万\s*$")


def _old_amount(text: str) -> float | None:
    """An amount revision's old value ("35万", written by /调整) back in yuan."""
    m = _WAN.match(text or "")
    try:
        return float(m.group(1)) * 10_000 if m else float(text)
    except ValueError:
        return None


def before_state(store: Store, deals: Sequence[pipeline_store.DealState], since_day: str, since_ms: int,
                 oldest_day: str) -> tuple[dict[str, tuple[str, float]], str, str]:
    """(lead id → (stage, amount) of the deals open then, the day actually compared with, source)."""
    day = pipeline_store.latest_day_on_or_before(store, since_day, oldest_day)
    if day is not None:
        return pipeline_store.on_day(store, day), day, "snapshot"
    revised = pipeline_store.amount_revisions_since(store, since_ms)
    state: dict[str, tuple[str, float]] = {}
    for d in deals:
        open_then = d.created_at <= since_ms and (d.closed_at is None or d.closed_at > since_ms)
        if open_then and (d.status == "open" or d.closed_at is not None):
            old = _old_amount(revised[d.id]) if d.id in revised else None
            state[d.id] = (d.stage, d.amount if old is None else old)
    return state, since_day, "rebuilt"


def compute(store: Store, owners: list[str] | None, stages: Sequence[str], today: date, compare_days: int,
            since_ms: int) -> Pipeline:
    """The pipeline of these owners' deals (None: everyone's) now and `compare_days` ago."""
    deals = pipeline_store.current(store, owners)
    since_day = (today - timedelta(days=compare_days)).isoformat()
    oldest = (today - timedelta(days=2 * compare_days)).isoformat()  # an older snapshot would mislabel the change
    before, day, source = before_state(store, deals, since_day, since_ms, oldest)
    ids = {d.id for d in deals}
    before = {k: v for k, v in before.items() if k in ids}  # the same owners' deals on both sides
    now_open = {d.id: d for d in deals if d.status == "open"}
    order = stage_order(stages, [d.stage for d in now_open.values()] + [s for s, _a in before.values()])
    rank = {s: i for i, s in enumerate(order)}
    rows = []
    for stage in order:
        cur = [d for d in now_open.values() if d.stage == stage]
        old = [a for s, a in before.values() if s == stage]
        rows.append(StageRow(stage, len(cur), sum(d.amount for d in cur), len(old), sum(old)))
    moves: dict[str, list[tuple[str, float]]] = {k: [] for k in MOVE_KINDS}
    for d in deals:
        was = before.get(d.id)
        if d.status == "open" and was is None:  # created since (or reopened): new in the pipeline
            moves["new"].append((d.title, d.amount))
            continue
        if was is None:
            continue
        if d.status in ("won", "lost"):
            moves[d.status].append((d.title, d.amount))
            continue
        stage_then, amount_then = was
        if rank.get(d.stage, 0) > rank.get(stage_then, 0) and stage_then != NO_STAGE:
            moves["forward"].append((d.title, d.amount))
        elif rank.get(d.stage, 0) < rank.get(stage_then, 0) and d.stage != NO_STAGE:
            moves["back"].append((d.title, d.amount))
        if round(d.amount) > round(amount_then):
            moves["raised"].append((d.title, d.amount - amount_then))
        elif round(d.amount) < round(amount_then):
            moves["cut"].append((d.title, amount_then - d.amount))
    for kind in moves:
        moves[kind].sort(key=lambda m: -m[1])
    return Pipeline(tuple(r for r in rows if r.count or r.count_before), day, source, moves)


def snapshot(store: Store, today: date, keep_days: int) -> int:
    """Today's snapshot (once a day) and the pruning of old ones; rows written."""
    written = pipeline_store.take(store, today.isoformat())
    pipeline_store.prune(store, (today - timedelta(days=keep_days)).isoformat())
    return written
