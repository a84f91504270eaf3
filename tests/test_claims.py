"""Claim-level alignment (compare/align/claims.py): links on real news excerpts, the claim event builder on
hand-made links, and independence from the order of documents, sentences and links.

The excerpts are real articles from ECB+ (Cybulska & Vossen 2014, CC BY 3.0), as shipped with their claim
gold in corpora/claim_gold/ecbplus_claims.jsonl; the tests read the sentences from that file and check
that every pair they assert on is one the two annotators agree about.
"""

from __future__ import annotations

import itertools
import json
import random
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from compare.align.claims import ClaimAlignment, align_claims, claim_events, default_claim_weights
from compare.corpus.json_input import story_from_json
from compare.model import Event, Link, LinkTable, Statement, StatementRef

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "corpora" / "claim_gold" / "ecbplus_claims.jsonl"

Ref = tuple[str, int]  # (doc_id, sentence index in the full ECB+ article)


@cache
def gold_story(story_id: str) -> dict[str, Any]:
    for line in GOLD.read_text("utf-8").splitlines():
        data = json.loads(line)
        if data["id"] == story_id:
            return data
    raise KeyError(story_id)


@cache
def gold_pairs(story_id: str) -> tuple[frozenset[frozenset[Ref]], frozenset[frozenset[Ref]]]:
    """(sure, possible) of a shipped gold story: listed by both annotators, listed by either."""
    listed = [{frozenset((tuple(p["a"]), tuple(p["b"]))) for p in ann["pairs"]}
              for ann in gold_story(story_id)["annotations"]]
    return frozenset.intersection(*map(frozenset, listed)), frozenset.union(*map(frozenset, listed))


def excerpt(story_id: str, ranges: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """Story JSON with sentences [start, end) of some documents of a shipped gold story."""
    docs = {d["doc_id"]: d for d in gold_story(story_id)["documents"]}
    return {"id": f"{story_id}-excerpt", "documents": [
        {"doc_id": doc, "outlet": docs[doc]["ecb_doc"], "language": "en", "sentences": docs[doc]["sentences"][a:b]}
        for doc, (a, b) in ranges.items()]}


@pytest.fixture(scope="module")
def embedder():  # type: ignore[no-untyped-def]
    """The embedder `storydiff compare` picks by default for English stories."""
    from compare.config import Settings
    from compare.embed.backends import get_embedder

    return get_embedder(Settings().model, languages=["en"])


def run_pipeline(story: dict[str, Any], embedder: Any) -> tuple[tuple[Statement, ...], ClaimAlignment,
                                                                 tuple[Event, ...]]:
    """Segment, embed and align as compare_story does at the default granularity and threshold."""
    from compare.pipeline import embed_statements, segment_documents

    statements = segment_documents(story_from_json(story, source="test").documents)
    vectors = embed_statements(statements, embedder)
    alignment = align_claims(statements, vectors, weights=default_claim_weights(embedder.name))
    events = claim_events(statements, alignment.pairs, threshold=alignment.threshold, floor=alignment.floor)
    return statements, alignment, events


def aligned_excerpt(story_id: str, ranges: dict[str, tuple[int, int]], embedder: Any
                    ) -> tuple[set[frozenset[Ref]], list[frozenset[Ref]], dict[Ref, str]]:
    """Links and events of an excerpt, with statements named by their index in the full article."""
    statements, alignment, events = run_pipeline(excerpt(story_id, ranges), embedder)

    def full(r: StatementRef) -> Ref:
        return r.doc_id, r.index + ranges[r.doc_id][0]

    links = {frozenset((full(lk.a), full(lk.b))) for lk in alignment.links}
    groups = [frozenset(full(m) for m in e.members) for e in events]
    return links, groups, {full(s.ref): s.text for s in statements}


def check_gold(story_id: str, same: list[frozenset[Ref]], different: list[frozenset[Ref]]) -> None:
    """Only clear cases: `same` listed by both annotators, `different` by neither."""
    sure, possible = gold_pairs(story_id)
    assert all(p in sure for p in same), [sorted(p) for p in same if p not in sure]
    assert not any(p in possible for p in different), [sorted(p) for p in different if p in possible]


def pair(a: str, b: str) -> frozenset[Ref]:
    """pair("A5", "B8") -> {("A", 5), ("B", 8)}"""
    return frozenset(((a[0], int(a[1:])), (b[0], int(b[1:]))))


# ------------------------------------------------------------------------- links on real excerpts

IE_PATCH = ("ecb_27", {"A": (1, 9), "B": (1, 10), "C": (8, 14)})  # Microsoft's emergency IE patch, 3 outlets


@pytest.mark.model
def test_same_quote_linked_other_quote_of_the_same_speaker_and_same_topic_claims_not(embedder: Any) -> None:
    """Trend Micro's Paul Ferguson is quoted in outlets A and B. His two quotes that both carry are linked
    to each other; his third quote (A8, only in A) is linked to neither of them, nor are his two quotes to
    each other across outlets. iDefense's Rick Howard (C9) says something else about the same
    vulnerability: not the same claim as Ferguson's "actively exploited", so not linked. Neither are
    statements about the patch that say different things: when Microsoft usually patches (A4) and that
    users should download this one (B7); that automatic updates already protect (B6) and that everyone
    should install it at once (C13)."""
    same = [pair("A5", "B8"), pair("A6", "B9")]
    other_quote = [pair("A8", "B8"), pair("A8", "B9"), pair("A5", "B9"), pair("A6", "B8")]
    same_topic = [pair("A6", "C9"), pair("B9", "C9"),
                  # about the patch, saying different things (the nearest misses of the default scorer)
                  pair("A4", "B7"), pair("B6", "C13")]
    check_gold("ecb_27", same, other_quote + same_topic)
    links, events, text = aligned_excerpt(*IE_PATCH, embedder)
    assert "run, not walk" in text["A", 5] and "run, not walk" in text["B", 8]
    assert "insidious" in text["A", 8] and "juicy" in text["C", 9]
    assert "second on Tuesday" in text["A", 4] and "download the fix" in text["B", 7]

    assert all(p in links for p in same), sorted(map(sorted, links))
    for p in other_quote + same_topic:
        assert p not in links, sorted(p)
    # each shared quote is an event of its own: the two quotes of one speaker are not one claim
    for p in same:
        assert [e for e in events if p & e] == [p]


@pytest.mark.model
def test_the_same_quote_in_other_words_is_linked_and_its_neighbours_are_not(embedder: Any) -> None:
    """Tara Reid's quote as two outlets print it ("where I am" / "where I'm at"; "any of that" /
    "anything"): each sentence is linked to its counterpart, never to the other sentence of the quote nor
    to what she said to another magazine years before (C8)."""
    same = [pair("A13", "C14"), pair("A14", "C15")]
    different = [pair("A13", "C15"), pair("A14", "C14"), pair("A13", "C8"), pair("A14", "C8"),
                 pair("A12", "C14")]
    check_gold("ecb_1", same, different)
    links, events, _ = aligned_excerpt("ecb_1", {"A": (9, 16), "C": (6, 18)}, embedder)
    assert all(p in links for p in same), sorted(map(sorted, links))
    for p in different:
        assert p not in links, sorted(p)
    assert pair("A13", "C14") in events and pair("A14", "C15") in events


@pytest.mark.model
def test_a_quote_over_three_sentences_links_sentence_to_sentence_whatever_the_quote_marks(embedder: Any) -> None:
    """Lohan's lawyer's quote, with straight quotes in B and typographic ones (“ ”) in C, spans three
    sentences. Each is linked to its counterpart and each pair is its own event: an event never holds two
    sentences of one outlet, even consecutive sentences of one quote."""
    same = [pair("B6", "C5"), pair("B7", "C6"), pair("B8", "C7")]
    different = [pair("B8", "C5"), pair("B8", "C6"), pair("B6", "C7"), pair("B7", "C7")]
    check_gold("ecb_1plus", same, different)
    links, events, text = aligned_excerpt("ecb_1plus", {"B": (4, 11), "C": (3, 10)}, embedder)
    assert text["C", 5].startswith("\u201c") and text["B", 6].startswith('"')
    assert all(p in links for p in same), sorted(map(sorted, links))
    for p in different:
        assert p not in links, sorted(p)
    for p in same:
        assert p in events
    for event in events:
        outlets = [doc for doc, _ in event]
        assert len(outlets) == len(set(outlets)), sorted(event)


# --------------------------------------------------------------------- order of documents, sentences

def reordered(story: dict[str, Any], doc_order: str, seed: int | None = None) -> dict[str, Any]:
    """The story with its documents in `doc_order` ("CAB") and, with a seed, each one's sentences shuffled."""
    docs = {d["doc_id"]: d for d in story["documents"]}
    documents = [dict(docs[doc], sentences=list(docs[doc]["sentences"])) for doc in doc_order]
    if seed is not None:
        rng = random.Random(seed)
        for d in documents:
            while d["sentences"] == docs[d["doc_id"]]["sentences"]:
                rng.shuffle(d["sentences"])
    return dict(story, documents=documents)


def by_content(statements: tuple[Statement, ...], alignment: ClaimAlignment, events: tuple[Event, ...]
               ) -> tuple[dict[frozenset[tuple[str, str]], float], set[frozenset[tuple[str, str]]]]:
    """Links (with their scores) and events, each statement named by (doc_id, text)."""
    key = {s.ref: (s.doc_id, s.text) for s in statements}
    links = {frozenset((key[lk.a], key[lk.b])): lk.score for lk in alignment.links}
    return links, {frozenset(key[m] for m in e.members) for e in events}


@pytest.mark.model
def test_links_and_events_do_not_depend_on_document_order(embedder: Any) -> None:
    story = excerpt(*IE_PATCH)
    _, base, base_events = run_pipeline(story, embedder)
    assert len(base.links) >= 3 and len(base_events) >= 3  # something to compare
    expected_links = {(lk.a, lk.b) for lk in base.links}
    expected_events = {e.members for e in base_events}
    for order in ("CAB", "BCA"):
        _, alignment, events = run_pipeline(reordered(story, order), embedder)
        assert {(lk.a, lk.b) for lk in alignment.links} == expected_links
        assert {e.members for e in events} == expected_events


@pytest.mark.model
def test_links_and_events_do_not_depend_on_sentence_order(embedder: Any) -> None:
    """Shuffling the sentences changes every index; the same statements are linked and grouped."""
    story = excerpt(*IE_PATCH)
    base_links, base_events = by_content(*run_pipeline(story, embedder))
    assert len(base_links) >= 3 and len(base_events) >= 3
    for order, seed in (("ABC", 3), ("CBA", 4)):
        links, events = by_content(*run_pipeline(reordered(story, order, seed), embedder))
        assert links.keys() == base_links.keys()
        for k, score in links.items():
            assert score == pytest.approx(base_links[k], abs=1e-4)
        assert events == base_events


# ------------------------------------------------------------------ claim_events on hand-made links

def statements(**docs: int) -> list[Statement]:
    """statements(A=2, B=1) -> A0, A1, B0, each with its own text."""
    out = []
    for doc, count in docs.items():
        for i in range(count):
            text = f"statement {doc}{i}"
            out.append(Statement(doc, i, 0, len(text), text))
    return out


def link(a: str, b: str, score: float) -> Link:
    return Link(StatementRef(a[0], int(a[1:])), StatementRef(b[0], int(b[1:])), score=score, cosine=0.0, fuzzy=0.0)


def groups(events: tuple[Event, ...]) -> list[set[str]]:
    return [{f"{m.doc_id}{m.index}" for m in e.members} for e in events]


def test_a_chain_does_not_join_its_ends() -> None:
    """A0~B0 and B0~C0 but nothing scored between A0 and C0: C0 does not join A0's event."""
    stmts = statements(A=1, B=1, C=1)
    chain = [link("A0", "B0", 0.9), link("B0", "C0", 0.8)]
    assert groups(claim_events(stmts, chain, threshold=0.5, floor=0.25)) == [{"A0", "B0"}]
    # the same with A~C scored: one event of three outlets
    closed = [*chain, link("A0", "C0", 0.7)]
    assert groups(claim_events(stmts, closed, threshold=0.5, floor=0.25)) == [{"A0", "B0", "C0"}]
    # D0 matches B0 and C0 of an event strongly but A0 not at all: it stays out, however high the mean
    stmts = statements(A=1, B=1, C=1, D=1)
    four = [link("A0", "B0", 0.99), link("B0", "C0", 0.98), link("A0", "C0", 0.97), link("B0", "D0", 0.96),
            link("C0", "D0", 0.96)]
    assert groups(claim_events(stmts, four, threshold=0.5, floor=0.25)) == [{"A0", "B0", "C0"}]


def test_a_chain_with_a_weak_end_pair_below_the_floor_does_not_join_either() -> None:
    stmts = statements(A=1, B=1, C=1)
    pairs = [link("A0", "B0", 0.9), link("B0", "C0", 0.8), link("A0", "C0", 0.2)]
    assert groups(claim_events(stmts, pairs, threshold=0.5, floor=0.25)) == [{"A0", "B0"}]


def test_two_statements_of_one_outlet_never_share_an_event() -> None:
    """A0 and A1 both match B0 and C0 strongly (and each other): the events take one of them each."""
    stmts = statements(A=2, B=1, C=1)
    pairs = [link("A0", "A1", 0.99), link("A0", "B0", 0.9), link("A1", "B0", 0.88), link("A0", "C0", 0.87),
             link("A1", "C0", 0.86), link("B0", "C0", 0.85)]
    events = claim_events(stmts, pairs, threshold=0.5, floor=0.25)
    assert groups(events) == [{"A0", "B0", "C0"}]
    # A1~B0 now the strongest: A1 takes B0, A0 keeps C0, and the two groups cannot merge (both hold A)
    events = claim_events(stmts, [*pairs, link("A1", "B0", 0.95)], threshold=0.5, floor=0.25)
    assert groups(events) == [{"A0", "C0"}, {"A1", "B0"}]
    for event in events:
        assert len(event.doc_ids) == len(event.members)


def test_a_second_statement_of_an_outlet_can_form_its_own_event() -> None:
    stmts = statements(A=2, B=2)
    pairs = [link("A0", "B0", 0.9), link("A1", "B0", 0.8), link("A1", "B1", 0.7)]
    assert groups(claim_events(stmts, pairs, threshold=0.5, floor=0.25)) == [{"A0", "B0"}, {"A1", "B1"}]


def test_a_member_joins_only_when_the_mean_of_its_pairs_reaches_the_threshold() -> None:
    """{A0, B0} at 0.9; C0 pairs with A0 strongly and with B0 weakly (above the floor)."""
    stmts = statements(A=1, B=1, C=1)
    weak = [link("A0", "B0", 0.9), link("A0", "C0", 0.6), link("B0", "C0", 0.3)]  # mean 0.45
    assert groups(claim_events(stmts, weak, threshold=0.5, floor=0.25)) == [{"A0", "B0"}]
    enough = [link("A0", "B0", 0.9), link("A0", "C0", 0.75), link("B0", "C0", 0.3)]  # mean 0.525
    (event,) = claim_events(stmts, enough, threshold=0.5, floor=0.25)
    assert groups((event,)) == [{"A0", "B0", "C0"}]
    assert event.cohesion == pytest.approx((0.9 + 0.75 + 0.3) / 3)
    # the same pairs with the floor above B0~C0: that pair counts as missing and C0 stays out
    assert groups(claim_events(stmts, enough, threshold=0.5, floor=0.35)) == [{"A0", "B0"}]
    # the floor defaults to the weakest pair given
    assert groups(claim_events(stmts, enough, threshold=0.5)) == [{"A0", "B0", "C0"}]


def test_pairs_below_the_threshold_only_support_they_never_start_an_event() -> None:
    stmts = statements(A=1, B=1)
    assert claim_events(stmts, [link("A0", "B0", 0.4)], threshold=0.5, floor=0.2) == ()
    assert claim_events(stmts, [], threshold=0.5) == ()


def test_event_ids_follow_size_and_cohesion_is_the_mean_pair_score() -> None:
    stmts = statements(A=2, B=2, C=1)
    pairs = [link("A1", "B1", 0.95), link("A0", "B0", 0.8), link("A0", "C0", 0.7), link("B0", "C0", 0.6)]
    events = claim_events(stmts, pairs, threshold=0.5, floor=0.25)
    assert [e.event_id for e in events] == ["E1", "E2"]
    assert groups(events) == [{"A0", "B0", "C0"}, {"A1", "B1"}]
    assert events[0].doc_ids == ("A", "B", "C")
    assert events[0].cohesion == pytest.approx(0.7)
    assert events[1].cohesion == pytest.approx(0.95)


TIED = [link("A0", "B0", 0.8), link("A0", "B1", 0.8), link("A1", "B1", 0.8), link("B0", "C0", 0.8),
        link("A0", "C0", 0.7), link("B1", "C0", 0.7), link("A1", "C0", 0.6)]


def test_the_order_of_links_and_statements_does_not_change_the_events() -> None:
    """Tied scores make every step a choice; shuffling, reversing the ends of links, and reordering the
    statements must not change which one is made, nor the event ids."""
    stmts = statements(A=2, B=2, C=1)
    expected = claim_events(stmts, TIED, threshold=0.5, floor=0.25)
    # ties broken by content: A0~B0 before A0~B1, then C0 joins {A0, B0} (mean 0.75); B1 keeps A1
    assert groups(expected) == [{"A0", "B0", "C0"}, {"A1", "B1"}]
    rng = random.Random(7)
    for _ in range(60):
        order = TIED[:]
        rng.shuffle(order)
        order = [Link(lk.b, lk.a, lk.score, lk.cosine, lk.fuzzy) if rng.random() < 0.5 else lk for lk in order]
        stmts_order = stmts[:]
        rng.shuffle(stmts_order)
        assert claim_events(stmts_order, order, threshold=0.5, floor=0.25) == expected


def test_a_link_table_gives_the_same_events_as_a_list_of_links() -> None:
    """The pipeline hands over alignment.pairs, a LinkTable; tests and the evaluator pass lists."""
    stmts = statements(A=2, B=2, C=1)
    refs = [s.ref for s in stmts]
    pos = {r: k for k, r in enumerate(refs)}
    table = LinkTable(refs, np.array([pos[lk.a] for lk in TIED]), np.array([pos[lk.b] for lk in TIED]),
                      np.array([lk.score for lk in TIED]), np.zeros(len(TIED)), np.zeros(len(TIED)),
                      np.zeros(len(TIED)))
    assert claim_events(stmts, table, threshold=0.5, floor=0.25) == claim_events(stmts, TIED, threshold=0.5,
                                                                                  floor=0.25)


def test_every_permutation_of_a_small_case_gives_one_answer() -> None:
    stmts = statements(A=1, B=2, C=1)
    pairs = [link("A0", "B0", 0.8), link("A0", "B1", 0.8), link("B0", "C0", 0.8), link("B1", "C0", 0.8)]
    answers = {claim_events(stmts, list(p), threshold=0.5, floor=0.25) for p in itertools.permutations(pairs)}
    assert len(answers) == 1
    (events,) = answers
    # A0~B0 first (ties go by content); C0 cannot join it (A0~C0 unscored), so it pairs with B1
    assert groups(events) == [{"A0", "B0"}, {"B1", "C0"}]


# ---------------------------------------------------------------- storydiff compare --granularity

def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`storydiff ARGS` in-process through the real entry point (the model stays loaded between tests)."""
    import sys

    from compare.cli import main

    old = sys.argv
    sys.argv = ["storydiff", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.model
@pytest.mark.parametrize("granularity", ["claim", "event", None])
def test_compare_at_either_granularity_says_which_in_the_json(
        granularity: str | None, tiny_story: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The claim aligner and the event aligner each run with their own scorer and threshold; without the
    option it is the claim level."""
    from compare.align.scorer import default_weights
    from compare.report.render import validate_json

    option = ["--granularity", granularity] if granularity else []
    code, _, err = run_cli(capsys, "compare", str(tiny_story), "-o", str(tmp_path / "out"), "--format", "json",
                           *option, "--quiet", "--no-cache")
    assert code == 0, err
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    validate_json(report)
    settings = report["settings"]
    assert settings["granularity"] == (granularity or "claim")
    weights = default_weights(settings["model"]) if granularity == "event" else default_claim_weights(settings["model"])
    assert (settings["threshold"], settings["scorer"]) == (weights.threshold, weights.version)
    assert report["links"] and report["clusters"]  # the three outlets' bridge story has shared claims


def test_compare_refuses_an_unknown_granularity_in_one_line(
        tiny_story: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "compare", str(tiny_story), "-o", str(tmp_path / "out"),
                             "--granularity", "sentence", "--no-cache")
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("storydiff: error:") and "--granularity" in line and "'sentence'" in line
    assert out == "" and not (tmp_path / "out").exists()
