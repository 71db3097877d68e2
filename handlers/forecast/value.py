"""What an open deal will be won for: its list value × the won ÷ list ratio learned from deals won before.

A company that discounts (or upsells) wins deals for less (more) than the value they carried while open; valuing
the pipeline at list would bias every forecast. The ratio is learned per product and per product × rep, each
shrunk toward the level above it (product → company → 1.0) by `STRENGTH` pseudo-deals (empirical Bayes), from won
deals closed before the as-of date only. Ratios are unit-free, so the forecast scales exactly with the currency.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from handlers.forecast.book import Book

STRENGTH = 20.0  # pseudo-deals of the level above


def _group_means(keys, r: np.ndarray) -> dict:
    """key → [sum of ratios, count]."""
    out: dict = {}
    for k, v in zip(keys, r.tolist(), strict=True):
        s = out.setdefault(k, [0.0, 0])
        s[0] += v
        s[1] += 1
    return out


def ratios(book: Book, as_of: int, mask: np.ndarray) -> np.ndarray:
    """Won ÷ list ratio for the deals in `mask`, learned from deals won before `as_of`."""
    won = book.won & (book.closed < as_of) & (book.list_amount > 0) & (book.amount >= 0)
    n_out = int(mask.sum())
    if not won.any():
        return np.ones(n_out)
    r = book.amount[won] / book.list_amount[won]
    company = (float(r.sum()) + STRENGTH) / (r.size + STRENGTH)
    by_product = {k: (s + STRENGTH * company) / (n + STRENGTH)
                  for k, (s, n) in _group_means(book.product[won].tolist(), r).items()}
    by_pair_raw = _group_means(zip(book.product[won].tolist(), book.owner[won].tolist(), strict=True), r)
    # one lookup per distinct (product, rep) pair, not per deal: 100 k open deals have a few hundred pairs
    prod_codes, prods = pd.factorize(book.product[mask])
    owner_codes, owners = pd.factorize(book.owner[mask])
    pair_codes = prod_codes.astype(np.int64) * max(len(owners), 1) + owner_codes
    pairs, inverse = np.unique(pair_codes, return_inverse=True)
    table = np.empty(pairs.size)
    for i, code in enumerate(pairs.tolist()):
        key = (prods[code // max(len(owners), 1)], owners[code % max(len(owners), 1)])
        parent = by_product.get(key[0], company)
        s_n = by_pair_raw.get(key)
        table[i] = parent if s_n is None else (s_n[0] + STRENGTH * parent) / (s_n[1] + STRENGTH)
    return table[inverse.reshape(-1)]
