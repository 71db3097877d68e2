"""A book of deals as numpy arrays: what the timing model, the simulation and the backtest work on.

Why arrays: the backtest rebuilds "what was open at the start of the month" for every past month, and the
benchmark simulates 100 k open deals; per-deal Python objects would dominate the run time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

NO_TIME = np.iinfo(np.int64).max  # "not closed" / "no expected close"


@dataclass(frozen=True)
class DealRow:
    """One deal as imported or read from the store (times in UTC ms)."""

    id: str
    created_at: int
    status: str  # open | won | lost
    amount: float  # won value when won, else the expected value
    closed_at: int | None = None
    expected_close_at: int | None = None
    owner: str = ""
    product: str = ""
    customer: str = ""  # "" = the source had no customer for it
    industry: str = ""
    stage: str = ""
    list_amount: float | None = None  # the value expected while open (the won value may differ); None = amount


@dataclass
class Book:
    ids: np.ndarray
    created: np.ndarray  # int64 ms
    closed: np.ndarray  # int64 ms, NO_TIME when open
    won: np.ndarray  # bool
    lost: np.ndarray  # bool
    amount: np.ndarray  # float64: the won value once won
    list_amount: np.ndarray  # float64: what the deal was expected to be worth while open
    expected: np.ndarray  # int64 ms, NO_TIME when unknown
    owner: np.ndarray  # object
    product: np.ndarray  # object
    industry: np.ndarray  # object
    stage: np.ndarray  # object

    @staticmethod
    def from_rows(rows: Iterable[DealRow]) -> Book:
        """Rows in any order give the same book: they are sorted (by id first), so sums and draws never depend on
        the order of the source file."""
        rows = sorted(rows, key=lambda r: (r.id, r.created_at, r.closed_at or 0, r.status, r.amount))

        def col(fn, dtype):
            return np.array([fn(r) for r in rows], dtype=dtype) if rows else np.zeros(0, dtype=dtype)

        return Book(
            ids=col(lambda r: r.id, object),
            created=col(lambda r: r.created_at, np.int64),
            closed=col(lambda r: NO_TIME if r.closed_at is None or r.status == "open" else r.closed_at, np.int64),
            won=col(lambda r: r.status == "won", bool),
            lost=col(lambda r: r.status == "lost", bool),
            amount=col(lambda r: r.amount, np.float64),
            list_amount=col(lambda r: r.amount if r.list_amount is None else r.list_amount, np.float64),
            expected=col(lambda r: NO_TIME if r.expected_close_at is None else r.expected_close_at, np.int64),
            owner=col(lambda r: r.owner, object),
            product=col(lambda r: r.product, object),
            industry=col(lambda r: r.industry, object),
            stage=col(lambda r: r.stage, object),
        )

    @staticmethod
    def from_columns(ids, created, status, amount, closed, expected, owner, product, industry,
                     stage, list_amount=None) -> Book:
        """Build from parallel sequences (no per-deal objects): the fast path for large pipelines."""
        status = np.asarray(status, dtype=object)
        closed_arr = np.array([NO_TIME if c is None else c for c in closed], dtype=np.int64)
        closed_arr[status == "open"] = NO_TIME
        amount = np.asarray(amount, dtype=np.float64)
        return Book(ids=np.asarray(ids, dtype=object), created=np.asarray(created, dtype=np.int64), closed=closed_arr,
                    won=status == "won", lost=status == "lost", amount=amount,
                    list_amount=amount if list_amount is None else np.asarray(list_amount, dtype=np.float64),
                    expected=np.array([NO_TIME if e is None else e for e in expected], dtype=np.int64),
                    owner=np.asarray(owner, dtype=object),
                    product=np.asarray(product, dtype=object), industry=np.asarray(industry, dtype=object),
                    stage=np.asarray(stage, dtype=object))

    def subset(self, mask: np.ndarray) -> Book:
        """The deals in `mask` (e.g. one team's), in the same order."""
        return Book(**{k: v[mask] for k, v in vars(self).items()})

    def __len__(self) -> int:
        return len(self.ids)

    def open_at(self, t: int) -> np.ndarray:
        """Mask of deals created before `t` and not closed before `t`: the pipeline as it stood at `t`."""
        return (self.created < t) & (self.closed >= t)

    def won_between(self, start: int, end: int) -> np.ndarray:
        return self.won & (self.closed >= start) & (self.closed < end)

    def closed_before(self, t: int) -> np.ndarray:
        return self.closed < t
