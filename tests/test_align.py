"""The aligner: per-backend weights, links on real sentences, order invariance, cohesive events, and the
pruned fast path against a brute-force reference."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from compare.align.events import build_events
from compare.align.links import link_statements
from compare.align.reference import all_pair_scores, reference_events, reference_links
from compare.align.scorer import FEATURES, ScorerWeights, default_weights, load_weights
from compare.cues.detect import detect_cues
from compare.model import Link, LinkTable, Statement, StatementRef

PERU = ("A magnitude 6.1 earthquake struck northern Peru on Monday, killing at least 12 people.",
        "At least 12 people died when a 6.1-magnitude quake hit northern Peru on Monday.",
        "A 6.1 quake in northern Peru on Monday left 12 people dead, officials said.")
RESCUE = ("Rescue teams searched collapsed homes in the town of Cajamarca.",
          "Rescuers dug through the rubble of houses in Cajamarca.")
OTHER = ("The central bank raised interest rates by half a point to fight inflation.",
         "Shares in the airline fell sharply after it cut its profit forecast.")


def make(docs: dict[str, list[str]]) -> list[Statement]:
    out = []
    for doc_id, texts in docs.items():
        offset = 0
        for i, text in enumerate(texts):
            out.append(Statement(doc_id, i, offset, offset + len(text), text, "en", detect_cues(text)))
            offset += len(text) + 1
    return out


@pytest.fixture(scope="module")
def minilm():  # type: ignore[no-untyped-def]
    from compare.embed.backends import get_embedder

    return get_embedder("minilm")


def story() -> dict[str, list[str]]:
    return {"a": [PERU[0], RESCUE[0], OTHER[0]], "b": [OTHER[1], PERU[1], RESCUE[1]], "c": [PERU[2]]}


def by_text(links: tuple[Link, ...], statements: list[Statement]) -> set[tuple[frozenset[str], float]]:
    text = {s.ref: s.text for s in statements}
    return {(frozenset((text[lk.a], text[lk.b])), round(lk.score, 4)) for lk in links}


def test_shipped_weights_have_a_section_per_backend_and_a_fallback() -> None:
    data = json.loads(Path(__file__).resolve().parents[1].joinpath("compare/data/aligner.json").read_text())
    assert data["fallback"] in data["backends"]
    assert "sentence-transformers/all-MiniLM-L6-v2" in data["backends"]
    minilm = default_weights("sentence-transformers/all-MiniLM-L6-v2")
    assert minilm.backend == "sentence-transformers/all-MiniLM-L6-v2"
    assert 0.0 < minilm.threshold < 1.0
    assert default_weights("no-such-backend").backend == data["fallback"]
    assert set(minilm.features) <= set(FEATURES)


def test_weights_file_with_unknown_feature_is_refused(tmp_path: Path) -> None:
    from compare.errors import ConfigError

    bad = tmp_path / "w.json"
    bad.write_text(json.dumps({"fallback": "x", "backends": {"x": {"features": ["nope"], "coef": [1], "bias": 0}}}))
    with pytest.raises(ConfigError):
        load_weights(bad)


@pytest.mark.model
def test_statements_about_the_same_event_link_and_unrelated_ones_do_not(minilm) -> None:  # type: ignore[no-untyped-def]
    statements = make(story())
    vectors = minilm.encode([s.text for s in statements])
    links = link_statements(statements, vectors, weights=default_weights(minilm.name))
    pairs = {frozenset((lk.a, lk.b)) for lk in links}
    assert frozenset((StatementRef("a", 0), StatementRef("b", 1))) in pairs
    assert frozenset((StatementRef("a", 0), StatementRef("c", 0))) in pairs
    assert frozenset((StatementRef("a", 1), StatementRef("b", 2))) in pairs
    assert frozenset((StatementRef("a", 2), StatementRef("b", 0))) not in pairs  # bank vs airline
    for lk in links:
        assert 0.0 <= lk.score <= 1.0 and -1.0 <= lk.cosine <= 1.0 and 0.0 <= lk.fuzzy <= 1.0


def _unit_story(n_docs: int, seed: int) -> tuple[list[Statement], np.ndarray]:
    rng = np.random.default_rng(seed)
    docs = {f"d{k}": [f"statement {k}.{i}" for i in range(3)] for k in range(n_docs)}
    statements = make(docs)
    vectors = rng.normal(size=(len(statements), 8)).astype(np.float32)
    return statements, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("n_docs", [2, 3, 4, 5])
def test_small_story_gate_stops_low_cosine_pairs_only_in_small_stories(n_docs: int) -> None:
    # A scorer that links every pair (bias +5) with the gate at cosine 0.2: in a story of under 4
    # documents no pair below the floor may link, whatever the context; in larger stories the gate is off.
    weights = ScorerWeights(features=("cosine", "small_story"), coef=(0.0, 0.0), bias=5.0, threshold=0.5,
                            small_story_floor=0.2)
    statements, vectors = _unit_story(n_docs, seed=n_docs)
    cosine = {(s.ref, t.ref): float(vectors[i] @ vectors[j]) for i, s in enumerate(statements)
              for j, t in enumerate(statements) if s.doc_id != t.doc_id}
    links = link_statements(statements, vectors, weights=weights, top_k=None)
    linked = {(lk.a, lk.b) for lk in links}
    below = {pair for pair, c in cosine.items() if c < 0.2 and pair[0] < pair[1]}
    assert below, "the random story must have pairs under the floor"
    if n_docs < 4:
        assert not linked & below
        assert linked == {pair for pair, c in cosine.items() if c >= 0.2 and pair[0] < pair[1]}
    else:
        assert below <= linked
    assert links == reference_links(statements, vectors, weights=weights, top_k=None)


@pytest.mark.model
def test_reordering_documents_and_sentences_changes_no_link(minilm) -> None:  # type: ignore[no-untyped-def]
    docs = story()
    statements = make(docs)
    vectors = minilm.encode([s.text for s in statements])
    weights = default_weights(minilm.name)
    base_links = link_statements(statements, vectors, weights=weights)
    base = by_text(base_links, statements)
    base_text = {s.ref: s.text for s in statements}
    base_events = {frozenset(base_text[m] for m in e.members) for e in build_events(statements, base_links)}
    rng = random.Random(5)
    for _ in range(3):
        shuffled = {d: rng.sample(texts, len(texts)) for d, texts in rng.sample(sorted(docs.items()), len(docs))}
        renamed = {f"z{d}" if rng.random() < 0.5 else d: t for d, t in shuffled.items()}
        other = make(renamed)
        order = rng.sample(range(len(other)), len(other))
        other = [other[k] for k in order]
        vecs = minilm.encode([s.text for s in other])
        links = link_statements(other, vecs, weights=weights)
        assert by_text(links, other) == base
        text = {s.ref: s.text for s in other}
        events = {frozenset(text[m] for m in e.members) for e in build_events(other, links)}
        assert events == base_events


def _random_story(rng: np.random.Generator, n_docs: int, n_sent: int) -> tuple[list[Statement], np.ndarray]:
    words = "quake peru rescue bank rates strike union police fire city 12 15 Monday Lima".split()
    docs = {}
    for d in range(n_docs):
        count = int(rng.integers(1, n_sent))
        docs[f"d{d}"] = [" ".join(rng.choice(words, size=int(rng.integers(3, 9)))) for _ in range(count)]
    statements = make(docs)
    topics = rng.normal(size=(4, 16))
    vectors = topics[rng.integers(0, 4, size=len(statements))] + 0.6 * rng.normal(size=(len(statements), 16))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return statements, vectors.astype(np.float32)


@pytest.mark.parametrize("seed", range(6))
def test_fast_aligner_equals_brute_force_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    statements, vectors = _random_story(rng, n_docs=int(rng.integers(2, 7)), n_sent=8)
    weights = default_weights("sentence-transformers/all-MiniLM-L6-v2")
    for threshold in (0.05, weights.threshold, 0.6, 0.9):
        fast = link_statements(statements, vectors, threshold=threshold, weights=weights)
        slow = reference_links(statements, vectors, threshold=threshold, weights=weights)
        assert fast == slow


@pytest.mark.parametrize("seed", range(3))
def test_without_top_k_every_pair_over_the_threshold_is_a_link(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    statements, vectors = _random_story(rng, n_docs=4, n_sent=12)
    weights = default_weights("sentence-transformers/all-MiniLM-L6-v2")
    fast = link_statements(statements, vectors, weights=weights, top_k=None)
    assert fast == reference_links(statements, vectors, weights=weights, top_k=None)
    scores = all_pair_scores(statements, vectors, weights=weights)
    assert {(lk.a, lk.b) for lk in fast} == {p for p, s in scores.items() if s >= weights.threshold}


def test_top_k_keeps_each_statements_best_partners_only() -> None:
    rng = np.random.default_rng(7)
    statements, vectors = _random_story(rng, n_docs=3, n_sent=14)
    weights = default_weights("sentence-transformers/all-MiniLM-L6-v2")
    every = set(link_statements(statements, vectors, threshold=0.01, weights=weights, top_k=None))
    top = set(link_statements(statements, vectors, threshold=0.01, weights=weights, top_k=2))
    assert top <= every and len(top) < len(every)
    for ref in {s.ref for s in statements}:
        for doc in {s.doc_id for s in statements} - {ref.doc_id}:
            mine = [lk for lk in top if (lk.a == ref and lk.b.doc_id == doc) or (lk.b == ref and lk.a.doc_id == doc)]
            assert mine or not any(lk for lk in every if ref in (lk.a, lk.b) and doc in (lk.a.doc_id, lk.b.doc_id))


def _random_links(rng: np.random.Generator, n_docs: int, per_doc: int, density: float) -> tuple[list, list]:
    statements = make({f"d{d}": [f"s{d}-{i} {rng.integers(5)}" for i in range(per_doc)] for d in range(n_docs)})
    links = []
    for x in statements:
        for y in statements:
            if x.doc_id < y.doc_id and rng.random() < density:
                links.append(Link(x.ref, y.ref, round(float(rng.random()), 6), 0.5, 0.5))
    return statements, links


@pytest.mark.parametrize("seed", range(8))
def test_fast_events_equal_the_reference_average_linkage(seed: int) -> None:
    rng = np.random.default_rng(seed)
    statements, links = _random_links(rng, n_docs=int(rng.integers(2, 6)), per_doc=int(rng.integers(2, 9)),
                                      density=float(rng.uniform(0.1, 0.9)))
    for merge in (0.2, 0.3, 0.6):
        assert build_events(statements, links, merge_threshold=merge) == reference_events(
            statements, links, merge_threshold=merge)


def test_events_of_one_big_component_equal_the_reference() -> None:
    rng = np.random.default_rng(21)
    statements, links = _random_links(rng, n_docs=8, per_doc=12, density=0.35)
    assert build_events(statements, links, merge_threshold=0.3) == reference_events(
        statements, links, merge_threshold=0.3)


def test_all_pair_scores_are_probabilities_and_agree_with_links() -> None:
    rng = np.random.default_rng(11)
    statements, vectors = _random_story(rng, n_docs=4, n_sent=6)
    weights = default_weights("sentence-transformers/all-MiniLM-L6-v2")
    scores = all_pair_scores(statements, vectors, weights=weights)
    assert all(0.0 <= s <= 1.0 for s in scores.values())
    links = link_statements(statements, vectors, weights=weights, top_k=None)
    assert {(lk.a, lk.b) for lk in links} == {p for p, s in scores.items() if s >= weights.threshold}


def _link(a: tuple[str, int], b: tuple[str, int], score: float) -> Link:
    return Link(StatementRef(*a), StatementRef(*b), score, 0.5, 0.5)


def test_a_weak_bridge_does_not_chain_two_events_together() -> None:
    statements = make({"a": ["peru quake", "chile quake"], "b": ["peru quake b", "chile quake b"],
                       "c": ["peru quake c", "chile quake c"]})
    links = [
        _link(("a", 0), ("b", 0), 0.9), _link(("a", 0), ("c", 0), 0.9), _link(("b", 0), ("c", 0), 0.8),
        _link(("a", 1), ("b", 1), 0.9), _link(("a", 1), ("c", 1), 0.85), _link(("b", 1), ("c", 1), 0.9),
        _link(("b", 0), ("c", 1), 0.35),  # one look-alike link between the two events
    ]
    events = build_events(statements, links, merge_threshold=0.3)
    assert sorted(len(e.members) for e in events) == [3, 3]
    assert {e.event_id for e in events} == {"E1", "E2"}
    # connected components would have given one event of six
    assert all(len({m.doc_id for m in e.members}) == 3 for e in events)


def test_an_outlet_may_contribute_several_statements_to_one_event() -> None:
    statements = make({"a": ["quake hit", "quake killed 12"], "b": ["quake struck, 12 dead"]})
    links = [_link(("a", 0), ("b", 0), 0.8), _link(("a", 1), ("b", 0), 0.8)]
    (event,) = build_events(statements, links, merge_threshold=0.3)
    assert event.members == (StatementRef("a", 0), StatementRef("a", 1), StatementRef("b", 0))
    assert event.doc_ids == ("a", "b")
    assert 0.0 <= event.cohesion <= 1.0


def test_event_ids_do_not_depend_on_link_or_statement_order() -> None:
    statements = make({"a": ["x one", "y two", "z three"], "b": ["x uno", "y dos", "z tres"], "c": ["x eins"]})
    links = [_link(("a", 0), ("b", 0), 0.7), _link(("a", 0), ("c", 0), 0.7), _link(("a", 1), ("b", 1), 0.6),
             _link(("a", 2), ("b", 2), 0.9)]
    first = build_events(statements, links, merge_threshold=0.3)
    rng = random.Random(2)
    for _ in range(5):
        again = build_events(rng.sample(statements, len(statements)), rng.sample(links, len(links)),
                             merge_threshold=0.3)
        assert again == first
    assert first[0].doc_ids == ("a", "b", "c")


def test_scorer_weights_reject_mismatched_coefficients() -> None:
    from compare.errors import ConfigError

    with pytest.raises(ConfigError):
        ScorerWeights(features=("cosine", "fuzzy"), coef=(1.0,), bias=0.0)


def test_strip_features_equal_the_per_block_features_exactly() -> None:
    from compare.align.context import story_context
    from compare.align.features import STRIP_FEATURES, block_features, strip_features

    rng = np.random.default_rng(31)
    statements, vectors = _random_story(rng, n_docs=5, n_sent=10)
    ctx = story_context(statements, vectors)
    for a in range(len(ctx.doc_ids) - 1):
        ra = ctx.rows[ctx.doc_ids[a]]
        later = range(a + 1, len(ctx.doc_ids))
        cols = np.concatenate([ctx.rows[ctx.doc_ids[b]] for b in later])
        strip = strip_features(ctx, ra, cols, frozenset(STRIP_FEATURES))
        lo = 0
        for b in later:
            hi = lo + len(ctx.rows[ctx.doc_ids[b]])
            own = block_features(ctx, a, b, need=frozenset(STRIP_FEATURES))
            for name in STRIP_FEATURES:
                assert np.array_equal(strip[name][:, lo:hi], own[name]), name
            lo = hi


def test_fast_aligner_equals_brute_force_on_a_larger_story_with_anchors() -> None:
    """Many documents (strip features span several blocks) and shared numbers (anchor overlap non-zero)."""
    rng = np.random.default_rng(41)
    statements, vectors = _random_story(rng, n_docs=9, n_sent=25)
    weights = default_weights()
    assert any(s.cues for s in statements)
    for threshold in (0.1, weights.threshold):
        assert link_statements(statements, vectors, threshold=threshold, weights=weights) == reference_links(
            statements, vectors, threshold=threshold, weights=weights)


def test_events_with_groups_that_stop_merging_equal_the_reference() -> None:
    """A high merge threshold leaves most groups unable to merge again; dropping their pairs from the
    clustering must not change the groups that do merge."""
    rng = np.random.default_rng(5)
    statements, links = _random_links(rng, n_docs=6, per_doc=15, density=0.5)
    for merge in (0.5, 0.7, 0.85):
        assert build_events(statements, links, merge_threshold=merge) == reference_events(
            statements, links, merge_threshold=merge)


def _peak_and_candidates(n_docs: int, per_doc: int) -> tuple[int, int, int]:
    """Peak traced memory of link_statements, its candidate count (links at a near-zero threshold: every
    pair that reaches the top-k), and the number of cross-document pairs."""
    import tracemalloc

    rng = np.random.default_rng(3)
    vocab = [f"w{k}" for k in range(400)]
    statements = make({f"d{d}": [" ".join(rng.choice(vocab, size=12)) for _ in range(per_doc)]
                       for d in range(n_docs)})
    vectors = rng.normal(size=(len(statements), 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    link_statements(statements[:40], vectors[:40])  # imports and caches outside the trace
    tracemalloc.start()
    try:
        link_statements(statements, vectors)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    candidates = len(link_statements(statements, vectors, threshold=1e-9))
    return peak, candidates, n_docs * (n_docs - 1) // 2 * per_doc * per_doc


def test_link_memory_grows_no_faster_than_the_candidates_kept() -> None:
    """Four times the outlets: 19x the pairs and about as many more candidates, but the similarity work is
    blocked per document, so peak memory grows less than the candidates and never holds a float64 per pair."""
    small_peak, small_candidates, _ = _peak_and_candidates(5, 60)
    big_peak, big_candidates, big_pairs = _peak_and_candidates(20, 60)
    assert big_peak / small_peak <= big_candidates / small_candidates
    assert big_peak < big_pairs * 8 / 1.5


UNICODE_TEXTS = ("Київ: 12 людей загинули — повідомляє МВС.", "Kyiv says 12 people died, the ministry reports!",
                 "A a a A quake, quake.", "ÉCOLE école Straße STRASSE", "x\u2009y\u00a0z\tq w",
                 "İstanbul ıi fine", "ﬁne ﬂow in Istanbul", "Quake: a quake!", "12 died in Kyiv, ministry says",
                 "Straße école")


def unicode_story(extra: tuple[str, ...] = ()) -> tuple[list[Statement], np.ndarray]:
    """Statements whose fuzzy scores exercise default_process (case, punctuation, odd spaces, ligatures,
    Cyrillic) over four documents, with random unit vectors. Four documents: the small-story cosine gate
    (fewer than 4 documents) would drop random-vector pairs."""
    texts = UNICODE_TEXTS + extra
    statements = make({f"d{d}": list(texts[d::4]) for d in range(4)})
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(len(statements), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return statements, vectors


def test_fuzzy_of_links_equals_token_set_ratio_on_the_raw_texts() -> None:
    """The fast path hands rapidfuzz each text's processed, sorted, distinct tokens; the scores must equal
    token_set_ratio on the raw texts (punctuation, case, repeated words, non-Latin scripts, odd spaces)."""
    from rapidfuzz import fuzz
    from rapidfuzz.utils import default_process

    statements, vectors = unicode_story()
    links = link_statements(statements, vectors, threshold=1e-9, top_k=None)
    assert links == reference_links(statements, vectors, threshold=1e-9, top_k=None)
    text = {s.ref: s.text for s in statements}
    assert len(links) == sum(1 for x in statements for y in statements if x.doc_id < y.doc_id)
    for lk in links:
        expected = fuzz.token_set_ratio(text[lk.a], text[lk.b], processor=default_process) / 100.0
        assert lk.fuzzy == round(float(np.float32(expected)), 6)


def test_link_table_reads_like_the_tuple_of_links_it_stands_for() -> None:
    import pickle

    rng = np.random.default_rng(5)
    statements, vectors = _random_story(rng, n_docs=5, n_sent=10)
    table = link_statements(statements, vectors, threshold=0.05)
    links = tuple(table)
    assert isinstance(table, LinkTable) and len(table) == len(links) > 3
    fresh = pickle.loads(pickle.dumps(table))  # read one by one before anything made the tuple
    assert [fresh[k] for k in (0, 1, -1)] == [links[0], links[1], links[-1]]
    assert table[1:3] == links[1:3]
    assert table == links and table == list(links) and fresh == table and hash(fresh) == hash(links)
    assert table != links[:-1]
    with pytest.raises(IndexError):
        fresh[len(links)]
    assert all(isinstance(lk.score, float) and type(lk.a.index) is int for lk in table)
    assert LinkTable.empty() == () and not LinkTable.empty()


@pytest.mark.parametrize("seed", range(4))
def test_events_from_a_link_table_equal_events_from_link_objects(seed: int) -> None:
    rng = np.random.default_rng(seed)
    statements, vectors = _random_story(rng, n_docs=int(rng.integers(3, 8)), n_sent=9)
    table = link_statements(statements, vectors, threshold=0.05)
    for merge in (0.1, 0.3, 0.6):
        assert build_events(statements, table, merge_threshold=merge) == build_events(
            statements, list(table), merge_threshold=merge)
