"""Cue evaluation on real corpora (compare/evaluation/cue_eval.py): loaders, metrics, and — when the corpora
have been built
under .data/cues/ by benchmarks/build_cue_corpora.py — storydiff above its word-list baseline on the held-out split.

The loader tests use a few sentences written for these tests, in each corpus's format; no corpus text is here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compare.evaluation.cue_eval import (
    babe_records,
    baseline_spans,
    bioscope_records,
    cue_summary,
    is_cue_corpus,
    load_cue_corpus,
    score,
    sfu_records,
    split_of,
)

ROOT = Path(__file__).resolve().parents[1]
CUES = ROOT / ".data" / "cues"
BABE = CUES / "babe.jsonl"
# Hedge and negation corpora, when built (`build_cue_corpora.py --sfu DIR --bioscope FILE.xml ...`).
HEDGE_NEG = sorted([*CUES.glob("sfu.jsonl"), *CUES.glob("bioscope-*.jsonl")]) if CUES.is_dir() else []


def _spans_text(rec: dict, kind: str) -> list[str]:
    return [rec["text"][s:e] for s, e in rec[kind]]


def test_bioscope_loader_finds_cues_inside_scopes() -> None:
    xml = ('<Annotation><DocumentSet><Document id="D1"><sentence id="S1">The gene is <xcope id="X1">'
           '<cue type="negation" ref="X1">not</cue> expressed</xcope>, and it <xcope id="X2"><cue type="speculation" '
           'ref="X2">may</cue> bind</xcope>.</sentence><sentence id="S2">Plain.</sentence></Document></DocumentSet>'
           '</Annotation>')
    recs = bioscope_records(xml)
    assert [r["text"] for r in recs] == ["The gene is not expressed, and it may bind.", "Plain."]
    assert _spans_text(recs[0], "negation") == ["not"] and _spans_text(recs[0], "hedge") == ["may"]
    assert recs[0]["loaded"] is None and recs[1]["hedge"] == []


def test_bioscope_loader_groups_by_the_documents_pmid() -> None:
    # The layout of the released abstracts/full_papers files: Document type, DocID, DocumentParts.
    xml = ('<?xml version="1.0" encoding="utf-8"?><Annotation created="x" creator="y"><DocumentSet>'
           '<Document type="Biological_abstract"><DocID type="PMID">111</DocID>'
           '<DocumentPart type="Title"><sentence id="S1.1">A title.</sentence></DocumentPart>'
           '<DocumentPart type="AbstractText"><sentence id="S1.2">We <xcope id="X1.2.1"><cue type="speculation" '
           'ref="X1.2.1">suggest</cue> that <xcope id="X1.2.2"><cue type="negation" ref="X1.2.2">neither</cue> A '
           '<cue type="negation" ref="X1.2.2">nor</cue> B binds</xcope></xcope>.</sentence></DocumentPart></Document>'
           '<Document type="Biological_abstract"><DocID type="PMID">222</DocID><DocumentPart type="Title">'
           '<sentence id="S2.1">Another.</sentence></DocumentPart></Document></DocumentSet></Annotation>')
    recs = bioscope_records(xml)
    assert [r["group"] for r in recs] == ["111", "111", "222"]
    assert recs[1]["text"] == "We suggest that neither A nor B binds."
    assert _spans_text(recs[1], "hedge") == ["suggest"] and _spans_text(recs[1], "negation") == ["neither", "nor"]


def test_sfu_loader_joins_tokens_and_keeps_cue_spans(tmp_path: Path) -> None:
    (tmp_path / "BOOKS").mkdir()
    (tmp_path / "BOOKS" / "r1.xml").write_text(
        '<?xml version="1.0"?><DOCUMENT><P><SENTENCE><W>It</W><cue ID="1" type="negation"><W>is</W><W>n\'t</W>'
        '</cue><W>good</W><W>,</W><cue ID="2" type="speculation"><W>perhaps</W></cue><W>.</W></SENTENCE></P>'
        '</DOCUMENT>', encoding="utf-8")
    rec = sfu_records(tmp_path)[0]
    assert rec["text"] == "It is n't good , perhaps ."
    assert _spans_text(rec, "negation") == ["is", "n't"] and _spans_text(rec, "hedge") == ["perhaps"]


def test_babe_loader_marks_every_occurrence_and_skips_no_agreement() -> None:
    csv_text = ("text;news_link;outlet;topic;type;label_bias;label_opinion;biased_words\n"
                "The radical plan is radical indeed.;http://a;x;t;left;Biased;o;['radical']\n"
                "Unclear row.;http://b;x;t;left;No agreement;o;[]\n")
    recs = babe_records(csv_text)
    assert len(recs) == 1 and _spans_text(recs[0], "loaded") == ["radical", "radical"]
    assert recs[0]["hedge"] is None and recs[0]["group"] == "http://a"


def test_scores_and_baseline(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    rows = [{"cue_corpus": "t", "id": "1", "group": "g", "text": "It may rain.", "hedge": [[3, 6]],
             "negation": [], "loaded": None},
            {"cue_corpus": "t", "id": "2", "group": "g", "text": "It rains.", "hedge": [], "negation": [],
             "loaded": None}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert is_cue_corpus(path) and not is_cue_corpus(tmp_path / "missing.jsonl")
    recs = load_cue_corpus(path)
    s = score(recs, "hedge", baseline_spans)
    assert s["sentence"]["f1"] == 1.0 and s["token"]["tp"] == 1 and s["sentences"] == 2
    assert score(recs, "loaded", baseline_spans)["sentences"] == 0
    summary = cue_summary([path], split="all")
    assert {r["type"] for r in summary["rows"]} == {"hedge", "negation"}


def test_split_is_stable_and_holds_out_about_a_fifth() -> None:
    groups = [f"http://example.org/{i}" for i in range(2000)]
    share = sum(split_of(g) == "test" for g in groups) / len(groups)
    assert 0.15 < share < 0.25 and split_of(groups[0]) == split_of(groups[0])


@pytest.mark.skipif(not BABE.exists(), reason=f"{BABE} not built: run benchmarks/build_cue_corpora.py (needs the "
                                            "BABE snapshot) to measure loaded wording on real news")
def test_loaded_wording_beats_the_word_list_on_held_out_babe() -> None:
    rows = {r["type"]: r for r in cue_summary([BABE], split="test")["rows"]}
    row = rows["loaded"]
    for level, floor in (("token", 0.38), ("sentence", 0.70)):  # measured 0.42 and 0.74 (docs/accuracy.md)
        assert row["storydiff"][level]["f1"] >= floor
        assert row["storydiff"][level]["f1"] > row["baseline"][level]["f1"]


@pytest.mark.skipif(not HEDGE_NEG, reason=f"no hedge/negation corpus under {CUES} (sfu.jsonl, bioscope-*.jsonl): run "
                                         "benchmarks/build_cue_corpora.py --sfu DIR --bioscope FILE.xml with local "
                                         "copies of the SFU Review corpus / BioScope (docs/accuracy.md, 'Cue "
                                         "detection on real corpora') to measure hedging and negation")
def test_hedging_and_negation_beat_the_word_list_on_held_out_corpora() -> None:
    """Issue 15 asks for each cue type above its lexicon baseline in the same run. Only the baseline is asserted
    here: the targets (hedging F1 >= 0.75, negation >= 0.90) are reported in docs/accuracy.md, not yet met or
    measured, so they are not a floor yet."""
    rows = cue_summary(HEDGE_NEG, split="test")["rows"]
    checked = [r for r in rows if r["type"] in ("hedge", "negation")]
    assert checked, "the built corpora carry no hedge or negation annotation"
    for row in checked:
        s, b = row["storydiff"]["sentence"], row["baseline"]["sentence"]
        assert s["f1"] > b["f1"], (row["corpus"], row["type"], s, b)
