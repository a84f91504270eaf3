"""The real story beside the demo (corpora/mount-cook-climbers, ECB+ articles with claim gold), and the
`one_sentence_per_line` manifest option it needs."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from compare.corpus.story import load_story
from compare.errors import CorpusError
from compare.evaluation.claim_gold import claim_story_from_json, load_claim_gold
from compare.pipeline import segment_documents

ROOT = Path(__file__).resolve().parents[1]
STORY = ROOT / "corpora" / "mount-cook-climbers"
GOLD_LINES = ROOT / "corpora" / "claim_gold" / "ecbplus_claims.jsonl"


def _folder(tmp_path: Path, text: str, extra: str = "one_sentence_per_line = true") -> Path:
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    (tmp_path / "b.txt").write_text("Another outlet. Two sentences.", encoding="utf-8")
    (tmp_path / "story.toml").write_text(
        f'[[articles]]\npath = "a.txt"\noutlet = "A"\n{extra}\n\n[[articles]]\npath = "b.txt"\noutlet = "B"\n',
        encoding="utf-8")
    return tmp_path


def test_one_sentence_per_line_keeps_each_line_as_one_statement(tmp_path: Path) -> None:
    text = "The U. S. agency said the 6. 1 quake hit.\r\n\n  Rescue was slow.  \nhttp: / / www. bbc. co. uk\n"
    story = load_story(_folder(tmp_path, text))
    first, second = story.documents
    assert first.sentences == ("The U. S. agency said the 6. 1 quake hit.", "Rescue was slow.",
                               "http: / / www. bbc. co. uk")
    assert first.text == "\n".join(first.sentences)
    assert second.sentences is None  # the option is per article
    statements = [s for s in segment_documents(story.documents) if s.doc_id == first.doc_id]
    assert [s.text for s in statements] == list(first.sentences)
    assert all(first.text[s.start:s.end] == s.text for s in statements)


def test_one_sentence_per_line_must_be_a_boolean(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="'one_sentence_per_line' must be true or false"):
        load_story(_folder(tmp_path, "One.\nTwo.", extra='one_sentence_per_line = "yes"'))


def _gold() -> dict:
    return json.loads((STORY / "claims.json").read_text(encoding="utf-8"))


def test_real_story_is_marked_real_and_carries_the_cc_by_attribution() -> None:
    story = load_story(STORY)
    assert len(story.documents) == 3 and not any(d.synthetic for d in story.documents)
    assert [d.outlet for d in story.documents] == ["The Telegraph", "BBC News", "MSN New Zealand"]
    manifest = tomllib.loads((STORY / "story.toml").read_text(encoding="utf-8"))
    assert all(a.get("synthetic") is False for a in manifest["articles"])
    source = manifest["source"]
    assert source["licence"] == "CC BY 3.0"
    for words in ("Cybulska", "Vossen", "VU Amsterdam", "LREC 2014"):
        assert words in source["attribution"]
    documents = [d["ecb_doc"] for d in _gold()["documents"]]
    assert source["ecb_documents"] == documents
    assert [a["ecb_document"] for a in manifest["articles"]] == documents
    for words in ("CC BY 3.0", "Cybulska", *documents):
        assert words in story.description


def test_real_story_segments_into_exactly_the_gold_sentences() -> None:
    story = load_story(STORY)
    gold = _gold()
    assert [d.doc_id for d in story.documents] == [d["doc_id"] for d in gold["documents"]]
    statements = segment_documents(story.documents)
    for doc in gold["documents"]:
        assert [s.text for s in statements if s.doc_id == doc["doc_id"]] == doc["sentences"], doc["doc_id"]


def test_real_story_claim_gold_is_its_line_of_the_ecbplus_claim_gold() -> None:
    gold = _gold()
    lines = [json.loads(line) for line in GOLD_LINES.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert gold == next(line for line in lines if line["id"] == gold["id"])
    item = claim_story_from_json(gold, source="claims.json")
    assert item.annotators == {"1", "2"} and len(item.sure) >= 20
    assert load_claim_gold(STORY / "claims.json")[0].pairs == item.pairs  # a one-story claim-gold file


@pytest.mark.model
def test_real_story_links_are_mostly_gold_pairs_and_events_hold_one_statement_per_outlet() -> None:
    """A regression floor on real text with the default settings (the shipped scorer was fitted on this
    gold among others, so this is not an accuracy figure)."""
    from compare.pipeline import compare_story

    comparison = compare_story(load_story(STORY))
    possible = {frozenset(k) for k in claim_story_from_json(_gold(), source="claims.json").possible}
    links = {frozenset((link.a, link.b)) for link in comparison.links}
    assert links and len(links & possible) / len(links) >= 0.75
    assert len(links) <= 1.5 * len(comparison.statements)
    for event in comparison.events:
        assert len({m.doc_id for m in event.members}) == len(event.members), event
