"""The matcher's speed-ups change speed, never labels.

`lexicon.matches` finds cue positions through a two-character index, a one-character fallback and a C-level scan
of candidate characters; `normalise` skips NFKC for common full-width punctuation. Both are checked here against
the plain definitions they replace (NFKC + lower case; every branch of every group tried at every position) on the
dev set, the packs' own examples and generated text built from cue fragments."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.conversation import lexicon as L
from handlers.conversation.classifier import Classifier

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "sales_dialogue_dev" / "conversations.jsonl"


@pytest.fixture(scope="module")
def classifier():
    return Classifier.default()


class PlainMatcher:
    """The definition: per group, leftmost-first non-overlapping matches of its branches (in pack order) at every
    position; branches that may start with any character are searched after the scan, as the matcher does."""

    def __init__(self, groups) -> None:
        self.scanned, self.anywhere = [], []
        for _group, patterns in groups:
            branches = [b for p in dict.fromkeys(patterns) for b in L.split_top(p) if b]
            fixed = [b for b in branches if L.first_chars(b) is not None]
            loose = [b for b in branches if L.first_chars(b) is None]
            self.scanned.append(re.compile("|".join(f"(?:{b})" for b in fixed)) if fixed else None)
            self.anywhere.append(re.compile("|".join(f"(?:{b})" for b in loose)) if loose else None)

    def __call__(self, text: str) -> list:
        found, last_end = [], [0] * len(self.scanned)
        for i in range(len(text)):
            for gi, rx in enumerate(self.scanned):
                if rx is None or last_end[gi] > i:
                    continue
                m = rx.match(text, i)
                if m is not None and m.end() > i:
                    last_end[gi] = m.end()
                    found.append((gi, i, m.end(), m.group()))
        for gi, rx in enumerate(self.anywhere):
            for m in rx.finditer(text) if rx is not None else ():
                if m.end() > m.start() and last_end[gi] <= m.start():
                    found.append((gi, m.start(), m.end(), m.group()))
        return sorted(found)


@pytest.fixture(scope="module")
def plain(classifier):
    return {role: PlainMatcher(groups) for role, groups in L.role_groups(classifier.lexicon).items()}


def _texts(classifier) -> list[str]:
    texts = [ex.text for ex in classifier.lexicon.examples]
    if DEV.exists():
        for line in DEV.read_text(encoding="utf-8").splitlines():
            texts.extend(re.findall(r'"text":\s*"((?:[^"\\]|\\.)*)"', line))
    return [json.loads(f'"{t}"') if "\\" in t else t for t in texts]


def test_indexed_matches_equal_the_plain_definition(classifier, plain):
    texts = _texts(classifier)
    assert len(texts) > 100
    for role, table in classifier.compiled.roles.items():
        for text in texts:
            norm = L.normalise(text)
            assert sorted(L.matches(table, norm)) == plain[role](norm), (role, text)


def _fragments(classifier) -> list[str]:
    """Short literal pieces of the pack's cues, so generated text hits the index often."""
    out = set()
    for cue in classifier.lexicon.cues:
        for p in cue.patterns:
            out.update(w for w in re.findall(r"[\u4e00-\u9fff]{1,4}", p))
    return sorted(out)[:400]


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_generated_text_matches_the_plain_definition(classifier, plain, data):
    pieces = data.draw(st.lists(st.one_of(st.sampled_from(_fragments(classifier)),
                                          st.text(alphabet="不没很太是的了吗,，。!？ 0123456789万元天家", max_size=3)),
                                max_size=10))
    text = L.normalise("".join(pieces))
    for role, table in classifier.compiled.roles.items():
        assert sorted(L.matches(table, text)) == plain[role](text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
       | st.text(alphabet="，。！？：；（）～＂＇％＋－／＜＝＞［］ＡＢｃ１２①㈱ｶﾀ　价格不贵ＯＫ", max_size=30))
def test_normalise_is_nfkc_lower(text):
    assert L.normalise(text) == unicodedata.normalize("NFKC", text).lower()


def test_first_pairs_of_common_shapes():
    assert L.first_pairs("太贵") == {"太贵"}
    assert L.first_pairs("贵+了") == {"贵了", "贵贵"}
    assert L.first_pairs("(?:ab|cd)e") == {"ab", "cd"}
    assert L.first_pairs("a?b") is None  # may start with b: stays on the one-character index
    assert L.first_pairs("x") is None
    assert L.first_pairs("(?<!不)贵") is None


def test_labels_only_path_equals_the_explained_one(classifier):
    """classify() without explain takes a shorter path on every archived message; it must decide the same labels."""
    for text in _texts(classifier):
        for role in ("customer", "rep"):
            assert classifier.classify(text, role).labels == classifier.classify(text, role, explain=True).labels
