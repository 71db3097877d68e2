"""A character n-gram logistic model per role (numpy only), the lexicon's optional helper.

Build the shipped weights (handlers/conversation/model.npz) with

    python -m handlers.conversation.model --train handlers/conversation/packs/train.jsonl [--data DEV.jsonl]

from labelled turns in the repo (`{"role", "text", "labels"}` lines; a dev-set conversations file with
`"turns"` works too). Features are the 1-, 2- and 3-character grams of the normalised text (presence, scaled by
1/√n), one-vs-rest logistic regression with L2, batch gradient descent: deterministic, a second or two on CPU.

Why it may only add labels above a high probability (Classifier.model_min_prob): it learns the wording of the
data it saw; bench.classify measures what it adds held out by conversation, and the README says what it costs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handlers.conversation.labels import ROLES
from handlers.conversation.lexicon import normalise

SHIPPED = Path(__file__).with_name("model.npz")
NGRAMS = (1, 2, 3)
MIN_COUNT = 2
L2 = 1e-4
EPOCHS = 400
LR = 20.0


def grams(norm: str) -> list[str]:
    text = "^" + "".join(norm.split()) + "$"
    out: list[str] = []
    for n in NGRAMS:
        out.extend(text[i:i + n] for i in range(len(text) - n + 1))
    return out


@dataclass
class RoleModel:
    labels: tuple[str, ...]
    vocab: dict[str, int]
    weights: np.ndarray  # (V, L)
    bias: np.ndarray  # (L,)

    def probs(self, norm: str) -> tuple[np.ndarray, list[int]]:
        idx = [i for g in set(grams(norm)) if (i := self.vocab.get(g)) is not None]
        if not idx:
            return 1.0 / (1.0 + np.exp(-self.bias)), idx
        z = self.weights[idx].sum(axis=0) / math.sqrt(len(idx)) + self.bias
        return 1.0 / (1.0 + np.exp(-z)), idx


class NgramModel:
    def __init__(self, roles: dict[str, RoleModel]) -> None:
        self.roles = roles
        self._inv = {r: {i: g for g, i in m.vocab.items()} for r, m in roles.items()}

    def predict(self, norm: str, role: str, min_prob: float, explain: bool = False):
        """[(label, prob, top features)] for labels at or above `min_prob`."""
        m = self.roles.get(role)
        if m is None:
            return []
        p, idx = m.probs(norm)
        out = []
        for j in np.nonzero(p >= min_prob)[0]:
            feats: list[str] = []
            if explain and idx:
                contrib = m.weights[idx, j]
                top = np.argsort(-contrib)[:4]
                feats = [f"「{self._inv[role][idx[k]]}」{contrib[k]:+.2f}" for k in top if contrib[k] > 0]
            out.append((m.labels[j], float(p[j]), feats))
        return out

    def proba(self, norm: str, role: str) -> dict[str, float]:
        m = self.roles.get(role)
        if m is None:
            return {}
        p, _ = m.probs(norm)
        return {lb: float(p[j]) for j, lb in enumerate(m.labels)}

    # ------------------------------------------------------------------ persistence
    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {}
        for role, m in self.roles.items():
            vocab = sorted(m.vocab, key=m.vocab.get)
            arrays[f"{role}.vocab"] = np.array(vocab, dtype=str)
            arrays[f"{role}.labels"] = np.array(m.labels, dtype=str)
            arrays[f"{role}.weights"] = m.weights.astype(np.float32)
            arrays[f"{role}.bias"] = m.bias.astype(np.float32)
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Path) -> NgramModel:
        with np.load(path, allow_pickle=False) as data:
            roles = {}
            for role in ROLES:
                if f"{role}.vocab" not in data:
                    continue
                vocab = {str(g): i for i, g in enumerate(data[f"{role}.vocab"])}
                roles[role] = RoleModel(tuple(str(x) for x in data[f"{role}.labels"]), vocab,
                                        data[f"{role}.weights"].astype(np.float64), data[f"{role}.bias"].astype(np.float64))
        return cls(roles)


def load_shipped() -> NgramModel | None:
    """The shipped weights, or None when they were not built (the classifier then uses the lexicon alone)."""
    return NgramModel.load(SHIPPED) if SHIPPED.exists() else None


# ---------------------------------------------------------------------------------------------- training
def train(turns: list[tuple[str, str, tuple[str, ...]]]) -> NgramModel:
    """turns: (role, text, labels). Deterministic (no random init, full-batch descent)."""
    roles: dict[str, RoleModel] = {}
    for role, labels in ROLES.items():
        rows = [(grams(normalise(t)), lbs) for r, t, lbs in turns if r == role]
        if not rows:
            continue
        counts = Counter(g for gs, _ in rows for g in set(gs))
        vocab = {g: i for i, g in enumerate(sorted(g for g, c in counts.items() if c >= MIN_COUNT))}
        x = np.zeros((len(rows), len(vocab)))
        y = np.zeros((len(rows), len(labels)))
        for r, (gs, lbs) in enumerate(rows):
            idx = sorted({vocab[g] for g in gs if g in vocab})
            if idx:
                x[r, idx] = 1.0 / math.sqrt(len(idx))
            for lb in lbs:
                if lb in labels:
                    y[r, labels.index(lb)] = 1.0
        w = np.zeros((len(vocab), len(labels)))
        b = np.zeros(len(labels))
        n = len(rows)
        for _ in range(EPOCHS):
            p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
            g = p - y
            w -= LR * (x.T @ g / n + L2 * w)
            b -= LR * g.mean(axis=0)
        roles[role] = RoleModel(labels, vocab, w, b)
    return NgramModel(roles)


def read_turns(path: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    """Labelled turns from a JSONL file: one turn per line, or dev-set conversations with "turns"."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        for t in obj.get("turns", [obj]):
            out.append((t["role"], t["text"], tuple(t.get("labels", ()))))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="train the classifier's character n-gram model")
    ap.add_argument("--train", action="append", type=Path, required=True, help="labelled JSONL (repeatable)")
    ap.add_argument("-o", "--out", type=Path, default=SHIPPED)
    args = ap.parse_args(argv)
    turns = [t for p in args.train for t in read_turns(p)]
    model = train(turns)
    model.save(args.out)
    print(f"trained on {len(turns)} turns → {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
