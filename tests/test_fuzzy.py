"""The compiled token_set_ratio kernel (compare/align/fuzzy.py) against rapidfuzz, bit for bit, and the aligner
with the kernel forced on (and with numba unavailable) against the brute-force reference."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

pytest.importorskip("numba")

from test_align import _random_story, unicode_story

from compare.align import fuzzy_pool as align
from compare.align.fuzzy import token_set_ratios, tokenise
from compare.align.links import link_statements
from compare.align.reference import reference_links
from compare.align.scorer import default_weights


def expected(x: str, y: str) -> np.float32:
    """What the aligner used before the kernel: rapidfuzz on default_process'd text, as float32."""
    return np.float32(fuzz.token_set_ratio(x, y, processor=default_process))


def all_pairs(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(texts)
    left, right = (a.ravel() for a in np.meshgrid(np.arange(n), np.arange(n), indexing="ij"))
    got = token_set_ratios(tokenise(texts), left, right)
    want = np.array([expected(texts[i], texts[j]) for i, j in zip(left, right, strict=True)], dtype=np.float32)
    return got, want, np.stack([left, right], axis=1)


def assert_identical(texts: list[str]) -> None:
    got, want, pairs = all_pairs(texts)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, [(texts[pairs[k][0]], texts[pairs[k][1]], got[k], want[k]) for k in bad[:5]]


# letters with case, Cyrillic and Ukrainian (ґ є і ї), accents, ligatures, digits, punctuation and odd spaces
ALPHABET = "abcAB xyzабвгґдєіїйАБҐЄІЇ éÉßﬁ 0129 .,;:!?—-'\"()\t\n\u00a0\u2009\u3000"
words = st.text(alphabet=ALPHABET, min_size=0, max_size=9)
sentences = st.lists(words, min_size=0, max_size=14).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(sentences, min_size=1, max_size=6))
def test_kernel_equals_rapidfuzz_on_random_unicode_sentences(texts: list[str]) -> None:
    assert_identical(texts)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "ab", "ba", "b", "Київ", "київ", "c", "aa"]), max_size=12)
                .map(" ".join), min_size=2, max_size=6))
def test_kernel_equals_rapidfuzz_with_repeated_and_shared_tokens(texts: list[str]) -> None:
    """Small vocabularies make subsets (the 100 shortcut), equal sets, repeats and empty intersections."""
    assert_identical(texts)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["abcd", "abcdefghijklmnopqrstuvwxyzабвгґдєіїй"]).flatmap(
    lambda letters: st.lists(st.lists(st.text(alphabet=letters, min_size=1, max_size=12), min_size=10, max_size=60)
                             .map(" ".join), min_size=2, max_size=4)))
def test_kernel_equals_rapidfuzz_on_differences_longer_than_one_machine_word(texts: list[str]) -> None:
    """Joined differences of 64-700 characters exercise the multi-word LCS: over four letters most
    words match, over many letters carries run through words with no match."""
    assert_identical(texts)


runs = st.lists(st.tuples(st.sampled_from("abxyї"), st.integers(1, 70)), min_size=1, max_size=8).map(
    lambda parts: "".join(letter * count for letter, count in parts))


@settings(max_examples=200, deadline=None)
@given(st.lists(runs, min_size=2, max_size=4))
def test_kernel_equals_rapidfuzz_on_long_runs_that_carry_across_machine_words(texts: list[str]) -> None:
    """Single tokens of long letter runs: a 64-letter run with no match for a text letter passes the
    LCS addition's carry on to the next word, which random text rarely does."""
    assert_identical(texts)


def test_empty_and_punctuation_only_texts_score_zero_like_rapidfuzz() -> None:
    texts = ["", "   ", "!!! ...", "quake", "Quake!"]
    got, want, _ = all_pairs(texts)
    assert np.array_equal(got, want)
    assert got[0] == 0.0 and got[-1] == 100.0  # "" vs "" is 0; "Quake!" vs itself is 100


REAL_PAIRS = [
    ("A magnitude 6.1 earthquake struck northern Peru on Monday, killing at least 12 people.",
     "At least 12 people died when a 6.1-magnitude quake hit northern Peru on Monday."),
    ("Rescue teams searched collapsed homes in the town of Cajamarca.",
     "Rescuers dug through the rubble of houses in Cajamarca."),
    ("Київ: 12 людей загинули — повідомляє МВС.", "12 людей загинули в Києві, повідомило МВС України."),
    ("Президент підписав закон про мобілізацію в середу ввечері.",
     "Президент России подписал закон о мобилизации в среду вечером."),
    ("The central bank raised interest rates by half a point to fight inflation.",
     "The central bank raised interest rates by half a point."),
    ("ÉCOLE école Straße STRASSE ﬁne", "ecole strasse fine Straße"),
]


@pytest.mark.parametrize(("x", "y"), REAL_PAIRS)
def test_kernel_equals_rapidfuzz_on_real_sentence_pairs(x: str, y: str) -> None:
    got = token_set_ratios(tokenise([x, y]), np.array([0, 1]), np.array([1, 0]))
    assert got.tolist() == [expected(x, y), expected(y, x)]


def test_tokens_get_ids_in_sorted_string_order() -> None:
    table = tokenise(["b a c", "ї а a", ""])
    assert table.tok_ptr.tolist() == [0, 3, 6, 6]
    assert table.tok_ids.tolist() == [0, 1, 2, 0, 3, 4]  # vocab sorted by code point: a b c а ї


@pytest.fixture
def kernel_always(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Forces the aligner onto the kernel from its first candidate; records whether it was built."""
    built: list[bool] = []
    original = align._fuzzy_kernel

    def recording(texts: list[str]):  # type: ignore[no-untyped-def]
        kernel = original(texts)
        built.append(kernel is not None)
        return kernel

    monkeypatch.setattr(align, "FUZZY_KERNEL_MIN_PAIRS", 0)
    monkeypatch.setattr(align, "_fuzzy_kernel", recording)
    return built


@pytest.mark.parametrize("seed", range(4))
def test_aligner_on_the_kernel_equals_brute_force_reference(seed: int, kernel_always: list[bool]) -> None:
    rng = np.random.default_rng(seed)
    statements, vectors = _random_story(rng, n_docs=int(rng.integers(3, 8)), n_sent=12)
    weights = default_weights("sentence-transformers/all-MiniLM-L6-v2")
    for threshold in (0.05, weights.threshold):
        assert link_statements(statements, vectors, threshold=threshold, weights=weights) == reference_links(
            statements, vectors, threshold=threshold, weights=weights)
    assert kernel_always and all(kernel_always)


def test_aligner_on_the_kernel_scores_unicode_texts_like_rapidfuzz(kernel_always: list[bool]) -> None:
    statements, vectors = unicode_story(extra=("", "?!"))
    links = link_statements(statements, vectors, threshold=1e-9, top_k=None)
    assert links == reference_links(statements, vectors, threshold=1e-9, top_k=None)
    assert kernel_always == [True]


def test_aligner_falls_back_to_rapidfuzz_without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "compare.align.fuzzy", None)  # import fails as if numba were missing
    monkeypatch.setattr(align, "FUZZY_KERNEL_MIN_PAIRS", 0)
    assert align._fuzzy_kernel(["a b"]) is None
    rng = np.random.default_rng(7)
    statements, vectors = _random_story(rng, n_docs=5, n_sent=12)
    assert link_statements(statements, vectors) == reference_links(statements, vectors)


def test_small_stories_stay_on_rapidfuzz_without_loading_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the projected-candidate threshold numba is never imported (the demo's cold start)."""

    def refuse(texts: list[str]):  # type: ignore[no-untyped-def]
        raise AssertionError("kernel loaded for a small story")

    monkeypatch.setattr(align, "_fuzzy_kernel", refuse)
    rng = np.random.default_rng(11)
    statements, vectors = _random_story(rng, n_docs=6, n_sent=12)
    assert link_statements(statements, vectors) == reference_links(statements, vectors)
