"""The demo stories against their hand-written gold files, and the real seed article against them."""

from __future__ import annotations

from pathlib import Path

import pytest
from gold import gold_events, pair_scores

from compare.config import Settings
from compare.corpus.base import Story
from compare.corpus.story import load_story
from compare.model import Comparison, DifferenceType, Document
from compare.pipeline import compare_story

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
STORIES = sorted(p.parent.name for p in CORPORA.glob("*/gold.toml"))
_cache: dict[tuple[str, str], Comparison] = {}


def compared(name: str, granularity: str = "claim") -> Comparison:
    if (name, granularity) not in _cache:
        _cache[(name, granularity)] = compare_story(load_story(CORPORA / name), Settings(granularity=granularity))
    return _cache[(name, granularity)]


def test_there_is_a_kupyansk_demo_and_at_least_one_unrelated_story() -> None:
    assert "kupyansk" in STORIES and len(STORIES) >= 2


def test_every_demo_article_is_marked_illustrative() -> None:
    for name in STORIES:
        assert all(d.synthetic for d in load_story(CORPORA / name).documents), name


@pytest.mark.parametrize("name", STORIES)
def test_gold_events_are_aligned_at_event_granularity(name: str) -> None:
    """The coarse view (--granularity event): same-event pairs from the hand-written gold file are found,
    and few others are (on gold statements). A regression test, not an accuracy figure."""
    comparison = compared(name, "event")
    precision, recall = pair_scores(comparison, gold_events(CORPORA / name, comparison))
    assert precision >= 0.7, f"{name}: pair precision {precision:.2f}"
    assert recall >= 0.5, f"{name}: pair recall {recall:.2f}"


@pytest.mark.parametrize("name", STORIES)
def test_claim_events_stay_inside_gold_events(name: str) -> None:
    """A claim event is narrower than a gold event: its pairs are nearly all same-event pairs, and every
    claim event holds at most one statement per outlet."""
    comparison = compared(name)
    precision, _ = pair_scores(comparison, gold_events(CORPORA / name, comparison))
    assert precision >= 0.8, f"{name}: claim pairs inside gold events {precision:.2f}"
    for event in comparison.events:
        assert len({m.doc_id for m in event.members}) == len(event.members), event


def test_kupyansk_demo_shows_every_difference_type() -> None:
    found = {d.type for d in compared("kupyansk").differences}
    assert found == set(DifferenceType), f"missing: {sorted(set(DifferenceType) - found)}"


def test_real_seed_article_lines_up_with_the_state_agency_account(seed_article: Path) -> None:
    """The seed (a real agency report) compared with the demo accounts: its Volchansk figure is aligned
    with the accounts that give one, and the conflicting percentage is flagged."""
    demo = load_story(CORPORA / "kupyansk")
    seed = Document(doc_id="seed", outlet="Seed agency report", text=seed_article.read_text(encoding="utf-8"),
                    language="en", published="2025-11-21")
    story = Story("kupyansk-seed", "seed vs demo", "", (seed, *demo.documents), str(seed_article))
    comparison = compare_story(story, Settings())
    volchansk = next(s for s in comparison.statements_of("seed") if "Volchansk" in s.text)
    event = next((e for e in comparison.events if volchansk.ref in e.members), None)
    assert event is not None, "the seed's Volchansk statement is not aligned with any account"
    assert len(event.doc_ids) >= 3
    numbers = [d for d in comparison.differences if d.event_id == event.event_id and d.type == DifferenceType.NUMBER]
    assert numbers, "no number difference on the Volchansk share"
    assert any(e.doc_id == "seed" and "80%" in e.text for d in numbers for e in d.evidence)
