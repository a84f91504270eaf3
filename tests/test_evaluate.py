"""Metric code on hand-made cases with known answers, the eval loader, and `storydiff eval` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compare.cli.eval import eval_command
from compare.evaluation.evaluate import (
    average_precision,
    best_threshold,
    canonical,
    dataset_languages,
    load_eval_stories,
    precision_at_1,
    prf,
)
from compare.model import StatementRef

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "eval_tiny.jsonl"
EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"


def ref(doc: str, index: int) -> StatementRef:
    return StatementRef(doc, index)


def test_prf_counts_true_positives_over_predictions_and_gold() -> None:
    # 4 predicted, 3 of them right; 5 gold -> P 3/4, R 3/5, F1 2PR/(P+R) = 0.6667
    predicted = [1, 1, 1, 1, 0, 0, 0, 0]
    gold = [1, 1, 1, 0, 1, 1, 0, 0]
    p, r, f = prf(predicted, gold)
    assert p == pytest.approx(0.75)
    assert r == pytest.approx(0.6)
    assert f == pytest.approx(2 * 0.75 * 0.6 / 1.35)


def test_prf_is_zero_not_nan_when_nothing_is_predicted() -> None:
    assert prf([0, 0], [1, 0]) == (0.0, 0.0, 0.0)


def test_average_precision_of_a_known_ranking() -> None:
    # ranks: gold at 1 and 3 -> AP = (1/1 + 2/3) / 2
    assert average_precision([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0]) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision([0.9, 0.8, 0.7], [1, 1, 0]) == pytest.approx(1.0)


def test_average_precision_takes_tied_scores_together() -> None:
    # all tied: one step at recall 1 with precision 2/4 (scikit-learn gives the same)
    assert average_precision([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0]) == pytest.approx(0.5)


def test_average_precision_matches_scikit_learn_on_random_scores() -> None:
    import numpy as np
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(3)
    scores = np.round(rng.random(300), 2)  # rounding makes ties
    gold = rng.random(300) < 0.3
    assert average_precision(scores, gold) == pytest.approx(average_precision_score(gold, scores))


def test_precision_at_1_asks_whether_the_best_sentence_of_each_other_document_is_gold() -> None:
    pairs = [(ref("a", 0), ref("b", 0)), (ref("a", 0), ref("b", 1)), (ref("a", 1), ref("b", 0)),
             (ref("a", 1), ref("b", 1))]
    scores = [0.9, 0.1, 0.8, 0.2]
    gold = [True, False, False, True]
    # groups: (a0,b): best b0 gold -> hit; (a1,b): best b0 not gold -> miss;
    # (b0,a): best a0 gold -> hit; (b1,a): best a1 (0.2 > 0.1) gold -> hit
    value, n = precision_at_1(pairs, scores, gold)
    assert n == 4
    assert value == pytest.approx(3 / 4)


def test_precision_at_1_counts_ties_fractionally_and_skips_groups_without_gold() -> None:
    pairs = [(ref("a", 0), ref("b", 0)), (ref("a", 0), ref("b", 1))]
    value, n = precision_at_1(pairs, [0.5, 0.5], [True, False])
    # (a0,b): tie, half gold -> 0.5; (b0,a): hit; (b1,a): no gold partner -> skipped
    assert n == 2
    assert value == pytest.approx(0.75)


def test_best_threshold_finds_the_cut_with_the_best_f1() -> None:
    threshold, f1 = best_threshold([0.9, 0.8, 0.7, 0.2], [1, 1, 0, 0])
    assert threshold == pytest.approx(0.8)
    assert f1 == pytest.approx(1.0)


def test_loader_reads_gold_pairs_and_annotated_sentences() -> None:
    (item,) = load_eval_stories(FIXTURE)
    assert item.gold == {canonical(ref("a", 0), ref("b", 0)), canonical(ref("a", 1), ref("b", 1))}
    assert item.scorable is not None and ref("a", 2) not in item.scorable and ref("c", 1) in item.scorable


def test_one_misdetected_document_does_not_switch_the_dataset_language() -> None:
    assert dataset_languages(["en"] * 495 + ["pc"]) == ["en"]
    assert dataset_languages(["en"] * 50 + ["ru"] * 50) == ["en", "ru"]


@pytest.mark.model
def test_eval_command_prints_json_metrics_for_a_tiny_dataset() -> None:
    result = CliRunner().invoke(eval_command, [str(FIXTURE), "--model", "minilm", "--json", "--no-cache"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["stories"] == 1
    assert data["gold_pairs"] == 2
    assert data["pairs"] == 2 * 2 + 2 * 2 + 2 * 2  # annotated sentences only: a has 2, b 2, c 2
    for key in ("precision", "recall", "f1", "average_precision", "precision_at_1"):
        assert 0.0 <= data[key] <= 1.0
    assert data["recall"] == 1.0  # both Peru pairs are found
    assert data["average_precision"] == 1.0
    assert [row["threshold"] for row in data["curve"]][:2] == [0.05, 0.1]


@pytest.mark.model
def test_eval_command_text_output_has_the_curve_and_error_analysis() -> None:
    result = CliRunner().invoke(eval_command, [str(FIXTURE), "--model", "minilm", "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "pair F1" in result.output and "precision@1" in result.output
    assert "highest-scoring false links" in result.output and "lowest-scoring missed gold pairs" in result.output


def test_eval_command_rejects_a_missing_file_with_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "compare", "eval", str(tmp_path / "nope.jsonl")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "nope.jsonl" in done.stderr


@pytest.mark.slow
@pytest.mark.model
def test_default_aligner_beats_the_target_on_the_ecb_dev_topics() -> None:
    path = EVAL / "ecbplus_topics_dev.jsonl"
    if not path.is_file():
        pytest.skip(f"{path}: shared evaluation data not present")
    from compare.embed.backends import get_embedder
    from compare.evaluation.evaluate import evaluate

    summary = evaluate(load_eval_stories(path), get_embedder("minilm"))
    assert summary["f1"] >= 0.77
    assert summary["average_precision"] >= 0.795
