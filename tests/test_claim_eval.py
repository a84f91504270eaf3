"""Claim-gold evaluation (compare/evaluation/claim_eval.py): the loader, sure/possible pairs, annotator agreement,
link metrics, thresholds and cross-validation on tiny hand-checked cases, and `storydiff eval` on claim gold.

The metric cases are toy stories whose every figure is worked out by hand in the comments. The CLI runs
on excerpts of real ECB+ articles (Cybulska & Vossen 2014, CC BY 3.0) with their two annotators' pairs, as
shipped in corpora/claim_gold/ecbplus_claims.jsonl.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from compare.align.claims import CLAIM_FEATURES
from compare.errors import CorpusError
from compare.evaluation import claim_metrics
from compare.evaluation.claim_gold import (
    ClaimStory,
    StoryPairs,
    annotator_agreement,
    claim_story_from_json,
    is_claim_gold,
    load_claim_gold,
)
from compare.evaluation.claim_metrics import (
    baselines,
    best_threshold,
    cross_validate,
    decide,
    event_pair_precision,
    link_metrics,
)
from compare.model import Statement, StatementRef

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "corpora" / "claim_gold" / "ecbplus_claims.jsonl"
EVENT_GOLD = ROOT / "tests" / "fixtures" / "eval_tiny.jsonl"


def ref(name: str) -> StatementRef:
    return StatementRef(name[0], int(name[1:]))


def key(a: str, b: str) -> tuple[StatementRef, StatementRef]:
    return tuple(sorted((ref(a), ref(b))))  # type: ignore[return-value]


def end(name: str) -> list[Any]:
    return [name[0], int(name[1:])]


def toy(story_id: str = "toy", *, first: Sequence[str], second: Sequence[str], docs: str = "AB"
        ) -> dict[str, Any]:
    """Documents A and B (or `docs`) of 3 sentences; annotators "1" and "2" list pairs like "A0B1"."""
    documents = [{"doc_id": d, "outlet": f"Outlet {d}", "language": "en",
                  "sentences": [f"Sentence {k} of outlet {d} says something." for k in range(3)]} for d in docs]
    return {"id": story_id, "documents": documents, "annotations": [
        {"annotator": name, "pairs": [{"a": end(p[:2]), "b": end(p[2:])} for p in pairs]}
        for name, pairs in (("1", first), ("2", second))]}


# annotator 1: A0B0, A1B1, A2B2; annotator 2: A0B0, A1B1, A1B2 -> sure {A0B0, A1B1}, possible 4 pairs
TOY = toy(first=["A0B0", "A1B1", "A2B2"], second=["A0B0", "A1B1", "A1B2"])
AB = [f"A{i}B{j}" for i, j in product(range(3), range(3))]  # the cross pairs of a two-document toy, in order
# the hand-set scores of the 9 cross pairs
SCORES = {"A0B0": 0.9, "A0B1": 0.1, "A0B2": 0.2, "A1B0": 0.3, "A1B1": 0.8, "A1B2": 0.6, "A2B0": 0.7,
          "A2B1": 0.05, "A2B2": 0.4}


def statements_of(item: ClaimStory) -> tuple[Statement, ...]:
    out = []
    for document in item.story.documents:
        offset = 0
        for i, text in enumerate(document.sentences or ()):
            out.append(Statement(document.doc_id, i, offset, offset + len(text), text))
            offset += len(text) + 1
    return tuple(out)


def parts_of(item: ClaimStory, features: dict[str, dict[str, float]] | None = None, *,
             not_candidate: Sequence[str] = (), claimless: Sequence[str] = (), names: Sequence[str] = AB
             ) -> StoryPairs:
    """The cross pairs `names` of a toy story, as claim_eval.story_pairs lays them out, without a model."""
    statements = statements_of(item)
    position = {s.ref: k for k, s in enumerate(statements)}
    n = len(names)
    pos_a = np.array([position[ref(x[:2])] for x in names])
    pos_b = np.array([position[ref(x[2:])] for x in names])
    features = features or {}
    return StoryPairs(
        story_id=item.story.story_id, statements=statements, pos_a=pos_a, pos_b=pos_b,
        features={f: np.array([features.get(f, {}).get(x, 0.0) for x in names], dtype=np.float32)
                  for f in CLAIM_FEATURES},
        crosslingual=np.zeros(n, dtype=bool), claimless=np.array([x in claimless for x in names]),
        candidate=np.array([x not in not_candidate for x in names]), block=np.zeros(n, dtype=np.int64),
        sure=np.array([key(x[:2], x[2:]) in item.sure for x in names]),
        possible=np.array([key(x[:2], x[2:]) in item.possible for x in names]),
        n_sure=len(item.sure), gold=item)


def scores(values: dict[str, float], names: Sequence[str] = AB) -> np.ndarray:
    return np.array([values.get(x, 0.0) for x in names])


def linked_names(linked: np.ndarray) -> set[str]:
    return {x for x, flag in zip(AB, linked, strict=True) if flag}


@pytest.fixture
def item() -> ClaimStory:
    return claim_story_from_json(TOY, source="toy.jsonl:1")


# ------------------------------------------------------------------------------ sure and possible

def test_sure_pairs_are_listed_by_both_annotators_possible_by_either(item: ClaimStory) -> None:
    assert item.annotators == {"1", "2"}
    assert item.sure == {key("A0", "B0"), key("A1", "B1")}
    assert item.possible == {key("A0", "B0"), key("A1", "B1"), key("A2", "B2"), key("A1", "B2")}
    assert item.pairs[key("A2", "B2")].annotators == {"1"}
    assert item.pairs[key("A1", "B2")].annotators == {"2"}


def test_a_pair_written_either_way_round_is_one_pair_and_its_differences_keep_their_sides() -> None:
    data = toy(first=[], second=[])
    data["annotations"][0]["pairs"] = [{"a": ["A", 0], "b": ["B", 0], "differences": [
        {"type": "number", "a_words": "12 dead", "b_words": "15 dead"}]}]
    data["annotations"][1]["pairs"] = [
        {"a": ["B", 0], "b": ["A", 0], "differences": [{"type": "date", "a_words": "on Tuesday",
                                                         "b_words": "on Monday"}]},
        {"a": ["A", 0], "b": ["A", 1]},  # same document: not a cross-outlet pair, ignored
    ]
    story = claim_story_from_json(data, source="toy.jsonl:1")
    assert story.sure == story.possible == {key("A0", "B0")}
    gold = story.pairs[key("A0", "B0")]
    assert gold.differences == {"number", "date"}
    # words are stored A's side first whichever way round the annotator wrote the pair
    assert gold.words == (("number", "12 dead", "15 dead"), ("date", "on Monday", "on Tuesday"))


def test_annotator_agreement_is_pair_f1_micro_averaged_over_stories(item: ClaimStory) -> None:
    # annotator 1 lists 3 pairs, annotator 2 lists 3, 2 in common: P = R = F1 = 2/3
    assert annotator_agreement([item]) == {"f1": pytest.approx(2 / 3), "pairs_first": 3, "pairs_second": 3,
                                           "pairs_both": 2}
    # a second story where only annotator 1 lists a pair: 4 vs 3 pairs, 2 common -> P 2/3, R 1/2, F1 4/7
    other = claim_story_from_json(toy("other", first=["A0B0"], second=[]), source="toy.jsonl:2")
    assert annotator_agreement([item, other]) == {"f1": pytest.approx(4 / 7), "pairs_first": 4,
                                                  "pairs_second": 3, "pairs_both": 2}


# ----------------------------------------------------------------------------------- link metrics

def test_link_precision_is_against_possible_pairs_and_recall_against_sure_pairs(item: ClaimStory) -> None:
    part = parts_of(item)
    at_half = decide(part, scores(SCORES), 0.5)
    # links from 0.5: A0B0 (sure), A1B1 (sure), A2B0 (not gold), A1B2 (possible)
    assert linked_names(at_half) == {"A0B0", "A1B1", "A2B0", "A1B2"}
    m = link_metrics([part], [at_half])
    assert m["links"] == 4
    assert m["precision"] == pytest.approx(3 / 4)  # A1B2 counts as right: annotator 2 listed it
    assert m["recall"] == pytest.approx(2 / 2)  # A2B2 (possible only) is not needed for full recall
    assert m["f1"] == pytest.approx(2 * 0.75 * 1.0 / 1.75)
    assert m["links_per_statement"] == pytest.approx(4 / 6)
    # from 0.35 A2B2 (possible) joins: 4 right of 5
    m = link_metrics([part], [decide(part, scores(SCORES), 0.35)])
    assert (m["links"], m["precision"], m["recall"]) == (5, pytest.approx(4 / 5), pytest.approx(1.0))
    # from 0.85 only A0B0: precise, half the sure pairs
    m = link_metrics([part], [decide(part, scores(SCORES), 0.85)])
    assert (m["precision"], m["recall"], m["f1"]) == (1.0, 0.5, pytest.approx(2 / 3))


def test_metrics_are_micro_averaged_over_stories(item: ClaimStory) -> None:
    other = claim_story_from_json(toy("other", first=["A2B1"], second=["A2B1"]), source="toy.jsonl:2")
    parts = [parts_of(item), parts_of(other)]
    nothing_there = dict.fromkeys(SCORES, 0.0)
    m = link_metrics(parts, [decide(parts[0], scores(SCORES), 0.5), decide(parts[1], scores(nothing_there), 0.5)])
    # 4 links (3 right) in the first story, none in the second; 2 of 3 sure pairs found; 12 statements
    assert m["precision"] == pytest.approx(3 / 4)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["links_per_statement"] == pytest.approx(4 / 12)


def test_decide_drops_claimless_pairs_and_pairs_the_aligner_does_not_score(item: ClaimStory) -> None:
    part = parts_of(item, not_candidate=["A1B1", "A1B2"], claimless=["A2B0"])
    assert linked_names(decide(part, scores(SCORES), 0.5)) == {"A0B0"}
    assert linked_names(decide(part, scores(SCORES), 0.5, candidates_only=False)) == {"A0B0", "A1B1", "A1B2"}
    # a sure pair outside the candidates is a missed pair
    m = link_metrics([part], [decide(part, scores(SCORES), 0.5)])
    assert (m["precision"], m["recall"]) == (1.0, 0.5)


def test_best_threshold_picks_the_cut_with_the_best_f1(item: ClaimStory) -> None:
    part = parts_of(item)
    # F1 by cut: (0.8, 0.9] 2/3; (0.7, 0.8] 1.0; (0.6, 0.7] 0.8; (0.4, 0.6] 6/7; 0.4 8/9
    t = best_threshold([part], [scores(SCORES)], beta=1.0)
    assert 0.7 < t <= 0.8
    assert link_metrics([part], [decide(part, scores(SCORES), t)])["f1"] == 1.0


def test_best_threshold_with_beta_below_one_weighs_precision_more(item: ClaimStory) -> None:
    part = parts_of(item)
    values = dict(SCORES, A1B1=0.5, A2B2=0.15)
    # cut    links                     P    R    F1    F0.5
    # (.7,.9] A0B0                      1    1/2  .667  .833
    # (.6,.7] + A2B0 (not gold)         1/2  1/2  .5    .5
    # (.5,.6] + A1B2 (possible)         2/3  1/2  .571  .625
    # (.3,.5] + A1B1 (sure)             3/4  1    .857  .789
    # .3      + A1B0 (not gold)         3/5  1    .75   .652
    f1_cut = best_threshold([part], [scores(values)], beta=1.0)
    f05_cut = best_threshold([part], [scores(values)], beta=0.5)
    assert 0.3 < f1_cut <= 0.5
    assert 0.7 < f05_cut <= 0.9


def test_event_pairs_are_scored_like_links_but_one_statement_per_outlet(item: ClaimStory) -> None:
    part = parts_of(item)
    # from 0.5: events {A0,B0} and {A1,B1}; A2B0 and A1B2 cannot join (B0 and A1 are taken)
    m = event_pair_precision([part], [scores(SCORES)], 0.5)
    assert m == {"events": 2, "event_pair_precision": 1.0, "event_pairs": 2, "event_pair_recall": 1.0}
    # A2B0 strongest: it takes B0 from A0 -> one wrong event, one right; one sure pair of two covered
    m = event_pair_precision([part], [scores(dict(SCORES, A2B0=0.95))], 0.5)
    assert m == {"events": 2, "event_pair_precision": 0.5, "event_pairs": 2, "event_pair_recall": 0.5}


def test_event_pairs_use_the_pairs_between_the_floor_and_the_threshold_as_the_pipeline_does() -> None:
    """One claim in three outlets; B0~C0 scores 0.3, under the threshold 0.5 but over the floor (half of
    it): C0 joins {A0, B0} on the mean of its pairs (0.8 + 0.3) / 2 = 0.55, so all three gold pairs lie
    in one event. Without the floor, B0~C0 would not count and C0 would stay out (1 event pair of 3)."""
    story = claim_story_from_json(toy("three", first=["A0B0", "A0C0", "B0C0"], second=["A0B0", "A0C0", "B0C0"],
                                      docs="ABC"), source="toy.jsonl:1")
    names = ["A0B0", "A0C0", "B0C0", "A1B1", "A1C1", "B1C1"]
    part = parts_of(story, names=names)
    m = event_pair_precision([part], [scores({"A0B0": 0.9, "A0C0": 0.8, "B0C0": 0.3}, names)], 0.5)
    assert m == {"events": 1, "event_pair_precision": 1.0, "event_pairs": 3, "event_pair_recall": 1.0}


# ------------------------------------------------------------------------------ cross-validation

def separable(story_id: str, pairs: Sequence[str]) -> StoryPairs:
    """A toy story whose gold pairs (both annotators) have high cosine and TF-IDF and are each other's best
    match; every other pair has the same low values."""
    gold = claim_story_from_json(toy(story_id, first=pairs, second=pairs), source=f"{story_id}.jsonl:1")
    feats = {f: {x: (high if x in pairs else low) for x in AB}
             for f, high, low in (("cosine", 0.8, 0.2), ("tfidf", 0.6, 0.1), ("mutual", 1.0, 0.0))}
    return parts_of(gold, feats)


def test_cross_validation_leaves_each_story_out_of_its_own_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    parts = [separable("s1", ["A0B0"]), separable("s2", ["A1B1", "A2B2"]), separable("s3", ["A0B1"])]
    trained_on: list[list[str]] = []
    real_fit = claim_metrics.fit_weights

    def recording_fit(train: Sequence[StoryPairs], **kwargs: Any) -> Any:
        trained_on.append([p.story_id for p in train])
        return real_fit(train, **kwargs)

    monkeypatch.setattr(claim_metrics, "fit_weights", recording_fit)
    result = cross_validate(parts)
    assert trained_on == [["s2", "s3"], ["s1", "s3"], ["s1", "s2"]]
    # separable stories: every fold finds exactly the gold pairs
    assert (result["precision"], result["recall"], result["links"]) == (1.0, 1.0, 4)
    assert [row["story"] for row in result["per_story"]] == ["s1", "s2", "s3"]
    assert result["event_pair_precision"] == 1.0


def test_baseline_thresholds_are_chosen_without_the_story_they_are_applied_to(
        monkeypatch: pytest.MonkeyPatch) -> None:
    parts = [separable("s1", ["A0B0"]), separable("s2", ["A1B1", "A2B2"]), separable("s3", ["A0B1"])]
    chosen_on: list[tuple[str, ...]] = []
    real = claim_metrics.best_threshold

    def recording(train: Sequence[StoryPairs], *args: Any, **kwargs: Any) -> float:
        chosen_on.append(tuple(p.story_id for p in train))
        return real(train, *args, **kwargs)

    monkeypatch.setattr(claim_metrics, "best_threshold", recording)
    rows = baselines(parts)
    assert [r["method"] for r in rows] == ["embedding cosine, mutual best", "TF-IDF cosine, mutual best",
                                           "embedding cosine", "TF-IDF cosine"]
    assert chosen_on == [("s2", "s3"), ("s1", "s3"), ("s1", "s2")] * 4
    # plain cosine separates these stories: its row finds every gold pair and nothing else
    assert (rows[2]["precision"], rows[2]["recall"]) == (1.0, 1.0)


# ------------------------------------------------------------------------------- files and errors

def write_jsonl(path: Path, *stories: Any) -> Path:
    path.write_text("".join((s if isinstance(s, str) else json.dumps(s)) + "\n" for s in stories), "utf-8")
    return path


def test_is_claim_gold_tells_the_two_gold_formats_apart(tmp_path: Path) -> None:
    assert is_claim_gold(write_jsonl(tmp_path / "claims.jsonl", TOY))
    assert is_claim_gold(GOLD)
    assert not is_claim_gold(EVENT_GOLD)  # ECB+ gold_pairs
    assert not is_claim_gold(tmp_path / "missing.jsonl")
    assert not is_claim_gold(write_jsonl(tmp_path / "broken.jsonl", "{not json"))


def test_the_shipped_gold_loads_with_two_annotators_per_story() -> None:
    stories = load_claim_gold(GOLD)
    assert len(stories) == 15
    assert all(s.annotators == {"1", "2"} and s.sure <= s.possible and s.sure for s in stories)


def bad(**change: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(TOY))
    for path, value in change.items():
        target = data
        *parents, last = path.split("__")
        for p in parents:
            target = target[int(p)] if p.isdigit() else target[p]
        target[int(last) if last.isdigit() else last] = value
    return data


@pytest.mark.parametrize(("line", "message"), [
    ("{\"id\": \"toy\", \"documents\": [", "invalid JSON at line 2"),
    (bad(annotations=TOY["annotations"][:1]), "at least two annotators"),
    (bad(annotations__1__annotator="1"), "annotator '1' is listed twice"),
    (bad(annotations__1="annotator 2"), "annotations[1] must be an object"),
    (bad(annotations__1__pairs="A0B0"), "annotations[1] must be an object with a 'pairs' list"),
    (bad(annotations__1__pairs__0="A0B0"), "each pair must be an object"),
    (bad(annotations__1__pairs__0__a=["Z", 0]), "a pair end must be [doc_id, sentence index]"),
    (bad(annotations__1__pairs__0__a=["A", 3]), "document 'A' has no sentence 3"),
    (bad(annotations__1__pairs__0__a=["A", -1]), "document 'A' has no sentence -1"),
    (bad(annotations__1__pairs__0__differences=[{"type": "spin"}]), "unknown difference type 'spin'"),
    (bad(annotations__1__pairs__0__differences="number"), "'differences' list of objects"),
    ({"id": "toy", "annotations": []}, "missing 'documents'"),
])
def test_load_errors_are_corpus_errors_naming_the_file_and_line(tmp_path: Path, line: Any, message: str) -> None:
    path = write_jsonl(tmp_path / "gold.jsonl", TOY, line)
    with pytest.raises(CorpusError) as caught:
        load_claim_gold(path)
    assert f"{path}:2" in str(caught.value) or f"{path}: invalid JSON at line 2" in str(caught.value)
    assert message in str(caught.value)


def test_a_missing_or_empty_file_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"nope\.jsonl: no such file"):
        load_claim_gold(tmp_path / "nope.jsonl")
    with pytest.raises(CorpusError, match=r"empty\.jsonl: no stories"):
        load_claim_gold(write_jsonl(tmp_path / "empty.jsonl", ""))


# ----------------------------------------------------------------------------- storydiff eval (CLI)

# Excerpts of three shipped gold stories, with every pair both annotators made inside them:
#   ecb_27 A4-8 / B6-9 (Microsoft's IE patch): both list A5B8, A6B9, A5B7            -> 3 sure
#   ecb_1plus B4-10 / C3-9 (Lohan's rehab): both list the same 8 pairs                 -> 8 sure
#   ecb_1 A0-3 / B0-1 / C0-3 (Tara Reid's rehab): annotator 1 lists 13, annotator 2 12, all 12 also by
#     annotator 1 (only 1 adds B0C1)                                                   -> 12 sure, 13 possible
# In all: 9 + 14 + 10 = 33 statements, 23 sure and 24 possible pairs; agreement: first annotator 24 pairs,
# second 23, both 23 -> P 1, R 23/24, F1 46/47 = 0.979.
TINY = (("ecb_27", {"A": (4, 9), "B": (6, 10)}), ("ecb_1plus", {"B": (4, 11), "C": (3, 10)}),
        ("ecb_1", {"A": (0, 4), "B": (0, 2), "C": (0, 4)}))


def tiny_claim_gold(path: Path) -> Path:
    shipped = {s["id"]: s for s in map(json.loads, GOLD.read_text("utf-8").splitlines())}
    out = []
    for story_id, ranges in TINY:
        data = shipped[story_id]
        docs = {d["doc_id"]: d for d in data["documents"]}

        def inside(e: list[Any], ranges: dict[str, tuple[int, int]] = ranges) -> bool:
            return e[0] in ranges and ranges[e[0]][0] <= e[1] < ranges[e[0]][1]

        def moved(e: list[Any], ranges: dict[str, tuple[int, int]] = ranges) -> list[Any]:
            return [e[0], e[1] - ranges[e[0]][0]]

        out.append({
            "id": f"{story_id}-excerpt", "source": data["source"], "documents": [
                {"doc_id": d, "ecb_doc": docs[d]["ecb_doc"], "outlet": "unknown", "sentences":
                 docs[d]["sentences"][a:b]} for d, (a, b) in ranges.items()],
            "annotations": [{"annotator": ann["annotator"], "pairs": [
                dict(p, a=moved(p["a"]), b=moved(p["b"])) for p in ann["pairs"] if inside(p["a"]) and inside(p["b"])]}
                for ann in data["annotations"]]})
    return write_jsonl(path, *out)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`storydiff ARGS` in-process through the real entry point (errors become exit codes)."""
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


def test_the_tiny_claim_gold_holds_what_the_comment_says(tmp_path: Path) -> None:
    stories = load_claim_gold(tiny_claim_gold(tmp_path / "tiny.jsonl"))
    assert [len(s.sure) for s in stories] == [3, 8, 12]
    assert [len(s.possible) for s in stories] == [3, 8, 13]
    assert sum(len(d.sentences or ()) for s in stories for d in s.story.documents) == 33
    assert annotator_agreement(stories)["f1"] == pytest.approx(46 / 47)


METHODS = ("storydiff claim scorer (out of fold)", "embedding cosine, mutual best", "TF-IDF cosine, mutual best",
           "embedding cosine", "TF-IDF cosine", "shipped scorer")


@pytest.mark.model
def test_eval_on_claim_gold_prints_the_table_with_baselines_and_agreement(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tiny_claim_gold(tmp_path / "tiny.jsonl")
    code, out, err = run_cli(capsys, "eval", str(path), "--model", "minilm", "--no-cache")
    assert code == 0, err
    assert f"{path}: 3 stories, 33 statements, 23 sure / 24 possible same-claim pairs" in out
    assert "annotator agreement (pair F1): 0.979" in out
    assert "leave-one-story-out" in out
    rows = [line for line in out.splitlines() if line.startswith(METHODS)]
    assert len(rows) == len(METHODS)
    for line in rows:  # method, P, R, F1, links per statement
        p, r, f1, per = map(float, line.split()[-4:])
        assert 0 <= p <= 1 and 0 <= r <= 1 and 0 <= f1 <= 1 and per >= 0
    for story_id, _ in TINY:
        assert f"  {story_id}-excerpt" in out


@pytest.mark.model
def test_eval_on_claim_gold_json_has_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tiny_claim_gold(tmp_path / "tiny.jsonl")
    code, out, err = run_cli(capsys, "eval", str(path), "--model", "minilm", "--json", "--no-cache")
    assert code == 0, err
    data = json.loads(out)
    assert {"kind", "dataset", "model", "stories", "statements", "sure_pairs", "possible_pairs", "agreement",
            "threshold_rule", "methods"} <= data.keys()
    assert (data["kind"], data["dataset"], data["stories"], data["statements"]) == ("claim", str(path), 3, 33)
    assert (data["sure_pairs"], data["possible_pairs"]) == (23, 24)
    assert data["agreement"] == {"f1": pytest.approx(46 / 47), "pairs_first": 24, "pairs_second": 23,
                                 "pairs_both": 23}
    assert [m["method"].startswith(name) for m, name in zip(data["methods"], METHODS, strict=True)] == [True] * 6
    for m in data["methods"]:
        assert {"precision", "recall", "f1", "links", "links_per_statement"} <= m.keys()
        assert m["links_per_statement"] == pytest.approx(m["links"] / 33, abs=1e-4)
        if m["precision"] + m["recall"]:
            assert m["f1"] == pytest.approx(2 * m["precision"] * m["recall"] / (m["precision"] + m["recall"]),
                                            abs=1e-3)
    cv = data["methods"][0]
    assert {"events", "event_pair_precision", "event_pairs", "event_pair_recall"} <= cv.keys()
    assert [row["story"] for row in cv["per_story"]] == [f"{s}-excerpt" for s, _ in TINY]
    assert [row["sure"] for row in cv["per_story"]] == [3, 8, 12]


@pytest.mark.model
def test_eval_on_event_gold_reports_claim_links_next_to_cosine(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "eval", str(EVENT_GOLD), "--model", "minilm", "--json", "--no-cache")
    assert code == 0, err
    data = json.loads(out)
    assert "kind" not in data  # the event-level summary
    for name in ("claim_links", "claim_links_per_statement", "claim_precision", "claim_recall",
                 "cosine_best_threshold", "cosine_links_per_statement"):
        assert name in data
    assert data["claim_links_per_statement"] == pytest.approx(data["claim_links"] / data["statements"], abs=1e-4)


def test_eval_refuses_claim_gold_mixed_with_event_gold_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_jsonl(tmp_path / "claims.jsonl", TOY)
    code, out, err = run_cli(capsys, "eval", str(path), str(EVENT_GOLD), "--no-cache")
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == [
        "storydiff: error: eval: pass either claim-gold files or event-gold (gold_pairs) files, not both."]


def test_eval_names_the_file_and_line_of_bad_claim_gold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_jsonl(tmp_path / "claims.jsonl", TOY, bad(annotations__1__pairs__0__b=["B", 7]))
    code, _, err = run_cli(capsys, "eval", str(path), "--no-cache")
    assert code == 2
    (line,) = err.strip().splitlines()
    assert f"{path}:2" in line and "no sentence 7" in line
