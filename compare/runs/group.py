"""Group articles into stories: each new article joins the most similar open story or starts one.

Online, single pass, in a fixed order (published time, then key), so the same articles always give the
same stories and a run that was killed and restarted groups exactly as an uninterrupted one. An
article's similarity to a story combines the cosine between its title+lead embedding and the story's
centroid with the share of its names and numbers (cues from `compare.cues.detect`) the story already has; a
story only accepts articles published within the time window of its own articles. Weights and the
threshold were chosen on ECB+ dev (see `benchmarks/grouping.py` and docs/scheduled-runs.md, "Story grouping").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from compare.cues.detect import detect_cues
from compare.model import CueType

LEAD_CHARS = 600
LEAD_SENTENCES = 3
# Anchors are the strong, specific evidence two articles share: names and quantities. Weekdays and
# bare small numbers ("two", "1") are too common in news to count.
ANCHOR_TYPES = (CueType.ENTITY, CueType.PLACE, CueType.NUMBER)


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """How strict grouping is; `window_hours` None disables the time window."""

    threshold: float = 0.65
    anchor_weight: float = 0.35
    window_hours: float | None = 72.0


@dataclass(frozen=True, slots=True)
class GroupItem:
    """One article as grouping sees it: a key, when it appeared, its lead vector and anchors."""

    key: str
    published: datetime | None
    vector: np.ndarray  # L2-normalised embedding of title + lead
    anchors: frozenset[str]


@dataclass(slots=True)
class StoryState:
    """What grouping keeps of a story: members, summed vector, anchor counts and time span."""

    story_key: str
    members: list[str] = field(default_factory=list)
    vector_sum: np.ndarray | None = None
    anchor_counts: Counter[str] = field(default_factory=Counter)
    first: datetime | None = None
    last: datetime | None = None

    def add(self, item: GroupItem) -> None:
        self.members.append(item.key)
        self.vector_sum = item.vector.copy() if self.vector_sum is None else self.vector_sum + item.vector
        self.anchor_counts.update(item.anchors)
        if item.published is not None:
            self.first = item.published if self.first is None else min(self.first, item.published)
            self.last = item.published if self.last is None else max(self.last, item.published)

    def centroid(self) -> np.ndarray:
        assert self.vector_sum is not None
        norm = float(np.linalg.norm(self.vector_sum)) or 1.0
        return self.vector_sum / norm


def lead_text(title: str, text: str, *, sentences: Sequence[str] | None = None) -> str:
    """Title plus the first sentences of the article: what a reader sees first and outlets agree on."""
    if sentences is None:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]
    lead = ""
    for sentence in sentences[:LEAD_SENTENCES]:
        if len(lead) >= LEAD_CHARS:
            break
        lead = f"{lead} {sentence.strip()}".strip()
    lead = lead[:LEAD_CHARS]
    title = title.strip()
    if title and not lead.startswith(title):
        return f"{title}. {lead}" if lead else title
    return lead or title


_SMALL = re.compile(r"^n:(?:[0-9]|10)(?:\.0)?:None$")


def lead_anchors(lead: str, *, language: str = "en") -> frozenset[str]:
    """Normalised names, places and numbers of a lead (the keys `compare.align.events.anchors` uses)."""
    keys: set[str] = set()
    for cue in detect_cues(lead, language=language):
        if cue.type not in ANCHOR_TYPES:
            continue
        value = cue.value if isinstance(cue.value, dict) else {}
        if cue.type == CueType.NUMBER:
            key = f"n:{value.get('value')}:{value.get('unit')}"
            if _SMALL.match(key):
                continue
        else:
            key = f"e:{str(value.get('canonical', cue.text)).lower()}"
        keys.add(key)
    return frozenset(keys)


def similarity(item: GroupItem, story: StoryState, settings: GroupSettings) -> float:
    """Cosine to the story centroid plus a bonus for the share of the article's anchors the story has."""
    cosine = float(item.vector @ story.centroid())
    if item.anchors:
        shared = sum(1 for a in item.anchors if story.anchor_counts.get(a))
        overlap = shared / len(item.anchors)
    else:
        overlap = 0.0
    return cosine + settings.anchor_weight * overlap


def in_window(item: GroupItem, story: StoryState, settings: GroupSettings) -> bool:
    if settings.window_hours is None or item.published is None or story.last is None:
        return True
    window = timedelta(hours=settings.window_hours)
    assert story.first is not None
    return story.first - window <= item.published <= story.last + window


def order_items(items: Iterable[GroupItem]) -> list[GroupItem]:
    """The fixed order grouping visits articles in: oldest first, undated last, then by key."""
    return sorted(items, key=lambda i: (i.published is None, i.published or datetime.min, i.key))


def assign(items: Iterable[GroupItem], stories: Sequence[StoryState], settings: GroupSettings, *,
           new_key: Callable[[GroupItem], str] | None = None) -> list[tuple[str, str, bool]]:
    """Place each item in a story, updating `stories` in place (new stories are appended).

    Returns (item key, story key, started a new story) per item, in the order visited. `new_key(item)`
    names a story an item starts (default: the item's key).
    """
    states = list(stories)
    placed: list[tuple[str, str, bool]] = []
    for item in order_items(items):
        best: StoryState | None = None
        best_score = settings.threshold
        for story in states:
            if not in_window(item, story, settings):
                continue
            score = similarity(item, story, settings)
            if score >= best_score:
                best, best_score = story, score
        if best is None:
            best = StoryState(new_key(item) if new_key else item.key)
            states.append(best)
            if isinstance(stories, list):
                stories.append(best)
            best.add(item)
            placed.append((item.key, best.story_key, True))
        else:
            best.add(item)
            placed.append((item.key, best.story_key, False))
    return placed


def group_all(items: Sequence[GroupItem], settings: GroupSettings | None = None) -> list[list[str]]:
    """Group items from scratch; returns the stories as lists of item keys (for evaluation)."""
    stories: list[StoryState] = []
    assign(items, stories, settings or GroupSettings())
    return [story.members for story in stories]


# ------------------------------------------------------------------------------------- evaluation

def bcubed(predicted: Sequence[Sequence[str]], gold: dict[str, str]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of a clustering against gold labels (item key -> label)."""
    cluster_of = {key: n for n, members in enumerate(predicted) for key in members}
    by_cluster: dict[int, list[str]] = {}
    for key, n in cluster_of.items():
        by_cluster.setdefault(n, []).append(key)
    gold_size = Counter(gold[k] for k in cluster_of)
    precision = recall = 0.0
    for key, n in cluster_of.items():
        same = sum(1 for other in by_cluster[n] if gold[other] == gold[key])
        precision += same / len(by_cluster[n])
        recall += same / gold_size[gold[key]]
    total = len(cluster_of) or 1
    p, r = precision / total, recall / total
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1
