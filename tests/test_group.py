"""Story grouping: joining, starting, the time window, order independence, and the B-cubed scorer."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from compare.runs.group import (
    GroupItem,
    GroupSettings,
    StoryState,
    assign,
    bcubed,
    group_all,
    lead_anchors,
    lead_text,
)

T0 = datetime(2025, 11, 18, 12, tzinfo=UTC)


def vec(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def item(key: str, vector: np.ndarray, hours: float = 0.0, anchors: frozenset[str] = frozenset()) -> GroupItem:
    return GroupItem(key, T0 + timedelta(hours=hours), vector, anchors)


def test_similar_articles_share_a_story_and_different_ones_do_not() -> None:
    items = [item("fire-a", vec(1, 0.1, 0)), item("fire-b", vec(1, 0.2, 0), 1),
             item("tram-a", vec(0, 1, 0.1), 2), item("tram-b", vec(0.1, 1, 0), 3)]
    groups = group_all(items, GroupSettings(threshold=0.8))
    assert sorted(map(sorted, groups)) == [["fire-a", "fire-b"], ["tram-a", "tram-b"]]


def test_shared_names_and_numbers_pull_a_borderline_article_in() -> None:
    names = frozenset({"e:marlow", "n:12:None"})
    base = [item("a", vec(1, 0, 0), 0, names)]
    borderline = item("b", vec(0.7, 0.714, 0), 1, names)  # cosine 0.7
    settings = GroupSettings(threshold=0.8, anchor_weight=0.35)
    assert len(group_all([*base, borderline], settings)) == 1
    assert len(group_all([*base, item("b", vec(0.7, 0.714, 0), 1)], settings)) == 2


def test_articles_outside_the_time_window_start_a_new_story() -> None:
    items = [item("day1", vec(1, 0, 0), 0), item("day10", vec(1, 0, 0), 24 * 10)]
    assert len(group_all(items, GroupSettings(window_hours=72))) == 2
    assert len(group_all(items, GroupSettings(window_hours=None))) == 1


def test_grouping_does_not_depend_on_input_order() -> None:
    rng = np.random.default_rng(1)
    centres = [vec(*rng.normal(size=8)) for _ in range(3)]
    items = [item(f"{c}-{n}", vec(*(centres[c] + rng.normal(scale=0.15, size=8))), hours=n)
             for c in range(3) for n in range(4)]
    expected = group_all(items)
    shuffled = items[:]
    random.Random(3).shuffle(shuffled)
    assert group_all(shuffled) == expected


def test_new_articles_join_existing_stories() -> None:
    story = StoryState("fire-story")
    story.add(item("old", vec(1, 0, 0)))
    stories = [story]
    placed = assign([item("new", vec(0.95, 0.05, 0), 5), item("other", vec(0, 0, 1), 5)], stories,
                    GroupSettings(threshold=0.8), new_key=lambda i: f"story-{i.key}")
    assert placed == [("new", "fire-story", False), ("other", "story-other", True)]
    assert [s.story_key for s in stories] == ["fire-story", "story-other"]


def test_lead_is_title_plus_first_sentences() -> None:
    lead = lead_text("Fire at the port", "First sentence. Second one! Third? Fourth.")
    assert lead == "Fire at the port. First sentence. Second one! Third?"
    assert lead_text("", "", sentences=["a b.", "c d."]) == "a b. c d."


def test_lead_anchors_keep_names_and_quantities_not_small_numbers() -> None:
    anchors = lead_anchors("Fire chief Alan Brooks said 8,000 tonnes burned in Marlow on day 2.")
    assert any(a.startswith("e:") and "brooks" in a for a in anchors)
    assert any(a.startswith("n:8000") for a in anchors)
    assert not any(a.startswith("n:2.0:") or a.startswith("n:2:") for a in anchors)


def test_bcubed_matches_a_hand_computed_example() -> None:
    gold = {"a": "x", "b": "x", "c": "y", "d": "y"}
    assert bcubed([["a", "b", "c", "d"]], gold) == pytest.approx((0.5, 1.0, 2 / 3))
    assert bcubed([["a"], ["b"], ["c"], ["d"]], gold) == pytest.approx((1.0, 0.5, 2 / 3))
    assert bcubed([["a", "b"], ["c", "d"]], gold) == pytest.approx((1.0, 1.0, 1.0))
