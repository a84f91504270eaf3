"""Claim gold: loading the annotated stories (same-claim pairs, sure and possible), annotator agreement,
and the candidate pairs of each story with their features."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from compare.align.claims import (
    CLAIM_FEATURES,
    pair_blocks,
)
from compare.corpus.base import Story
from compare.corpus.json_input import story_from_json
from compare.errors import CorpusError
from compare.model import Statement, StatementRef

Pair = tuple[StatementRef, StatementRef]
DIFFERENCE_TYPES = ("number", "date", "place", "entity", "attribution", "hedging", "negation", "wording")


@dataclass(frozen=True)
class GoldPair:
    a: StatementRef
    b: StatementRef
    annotators: frozenset[str]
    differences: frozenset[str]  # difference types any annotator listed on this pair
    words: tuple[tuple[str, str, str], ...] = ()  # (type, a_words, b_words) as annotated


@dataclass(frozen=True)
class ClaimStory:
    """A story with its claim gold: `pairs` keyed (a, b) with a < b."""

    story: Story
    annotators: frozenset[str]
    pairs: dict[Pair, GoldPair]

    @property
    def sure(self) -> frozenset[Pair]:
        return frozenset(k for k, g in self.pairs.items() if g.annotators >= self.annotators)

    @property
    def possible(self) -> frozenset[Pair]:
        return frozenset(self.pairs)


def _ref(value: Any, sizes: dict[str, int | None], where: str) -> StatementRef:
    """A pair end [doc_id, sentence index]; `sizes` gives each document's sentence count (None: not known
    before segmentation)."""
    if not (isinstance(value, list) and len(value) == 2 and value[0] in sizes and isinstance(value[1], int)
            and not isinstance(value[1], bool)):
        raise CorpusError(f"{where}: a pair end must be [doc_id, sentence index], got {value!r}.")
    size = sizes[value[0]]
    if value[1] < 0 or (size is not None and value[1] >= size):
        raise CorpusError(f"{where}: pair end {value!r}: document {value[0]!r} has no sentence {value[1]} "
                          f"({size} sentences, numbered from 0).")
    return StatementRef(str(value[0]), int(value[1]))


def claim_story_from_json(data: dict[str, Any], *, source: str) -> ClaimStory:
    story = story_from_json(data, source=source)
    sizes = {d.doc_id: len(d.sentences) if d.sentences is not None else None for d in story.documents}
    annotations = data.get("annotations")
    if not isinstance(annotations, list) or len(annotations) < 2:
        raise CorpusError(f"{source}: claim gold needs 'annotations' from at least two annotators.")
    names: set[str] = set()
    merged: dict[Pair, dict[str, Any]] = {}
    for n, annotation in enumerate(annotations):
        if not isinstance(annotation, dict) or not isinstance(annotation.get("pairs") or [], list):
            raise CorpusError(f"{source}: annotations[{n}] must be an object with a 'pairs' list.")
        name = str(annotation.get("annotator", n))
        if name in names:
            raise CorpusError(f"{source}: annotator {name!r} is listed twice; claim gold needs two or more "
                              "different annotators.")
        names.add(name)
        for entry in annotation.get("pairs") or []:
            differences = (entry.get("differences") or []) if isinstance(entry, dict) else None
            if not isinstance(differences, list) or not all(isinstance(d, dict) for d in differences):
                raise CorpusError(f"{source}: annotations[{n}]: each pair must be an object with 'a', 'b' and "
                                  f"an optional 'differences' list of objects, got {entry!r}.")
            a = _ref(entry.get("a"), sizes, source)
            b = _ref(entry.get("b"), sizes, source)
            if a.doc_id == b.doc_id:
                continue
            key = (a, b) if a < b else (b, a)
            slot = merged.setdefault(key, {"annotators": set(), "types": set(), "words": []})
            slot["annotators"].add(name)
            for diff in differences:
                kind = str(diff.get("type", ""))
                if kind not in DIFFERENCE_TYPES:
                    raise CorpusError(f"{source}: unknown difference type {kind!r}; use one of {DIFFERENCE_TYPES}.")
                slot["types"].add(kind)
                aw, bw = str(diff.get("a_words", "")), str(diff.get("b_words", ""))
                slot["words"].append((kind, aw, bw) if key[0] == a else (kind, bw, aw))
    pairs = {k: GoldPair(k[0], k[1], frozenset(v["annotators"]), frozenset(v["types"]), tuple(v["words"]))
             for k, v in merged.items()}
    return ClaimStory(story, frozenset(names), pairs)


def load_claim_gold(path: str | Path) -> list[ClaimStory]:
    """Every story of a claim-gold JSON Lines file."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: no such file. Pass a claim-gold JSON Lines file.")
    out = []
    for lineno, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path}: invalid JSON at line {lineno}, column {exc.colno}: {exc.msg}.") from exc
        out.append(claim_story_from_json(data, source=f"{path}:{lineno}"))
    if not out:
        raise CorpusError(f"{path}: no stories in this file.")
    return out


def is_claim_gold(path: str | Path) -> bool:
    """Whether the first story of a JSON Lines file carries claim annotations (not ECB+ gold_pairs)."""
    try:
        with Path(path).open("rb") as handle:
            first = handle.readline(64 * 1024 * 1024)
        return "annotations" in json.loads(first.decode("utf-8-sig"))
    except (OSError, ValueError):
        return False


def annotator_agreement(stories: Sequence[ClaimStory]) -> dict[str, float]:
    """Pair F1 of one annotator's list against the other's (micro over stories; first two annotators)."""
    tp = n_first = n_second = 0
    for item in stories:
        names = sorted(item.annotators)[:2]
        first = {k for k, g in item.pairs.items() if names[0] in g.annotators}
        second = {k for k, g in item.pairs.items() if names[1] in g.annotators}
        tp += len(first & second)
        n_first += len(first)
        n_second += len(second)
    p = tp / n_second if n_second else 0.0
    r = tp / n_first if n_first else 0.0
    return {"f1": 2 * p * r / (p + r) if p + r else 0.0, "pairs_first": n_first, "pairs_second": n_second,
            "pairs_both": tp}


@dataclass
class StoryPairs:
    """Every cross-document pair of one story with features, and its gold labels."""

    story_id: str
    statements: tuple[Statement, ...]
    pos_a: np.ndarray
    pos_b: np.ndarray
    features: dict[str, np.ndarray]
    crosslingual: np.ndarray
    claimless: np.ndarray
    candidate: np.ndarray  # among the pairs the aligner scores (CANDIDATES_PER_SIDE)
    block: np.ndarray  # which document pair
    sure: np.ndarray
    possible: np.ndarray
    n_sure: int
    gold: ClaimStory = field(repr=False)

    def refs(self, k: int) -> Pair:
        return self.statements[int(self.pos_a[k])].ref, self.statements[int(self.pos_b[k])].ref


def story_pairs(item: ClaimStory, embedder: Any, cache: Any = None) -> StoryPairs:
    """Segment and embed one gold story as the pipeline does, and featurise every cross-document pair."""
    from compare.align.claims import CANDIDATES_PER_SIDE
    from compare.pipeline import embed_statements, segment_documents

    statements = segment_documents(item.story.documents)
    vectors = embed_statements(statements, embedder, cache)
    full = list(pair_blocks(statements, vectors, per_side=None))
    cand = {(int(x), int(y)) for b in pair_blocks(statements, vectors, per_side=CANDIDATES_PER_SIDE)
            for x, y in zip(b.pos_a, b.pos_b, strict=True)}
    pos_a = np.concatenate([b.pos_a for b in full]) if full else np.zeros(0, dtype=np.int64)
    pos_b = np.concatenate([b.pos_b for b in full]) if full else np.zeros(0, dtype=np.int64)
    feats = {f: np.concatenate([b.features[f] for b in full]) for f in CLAIM_FEATURES} if full else {}
    block = np.concatenate([np.full(len(b.pos_a), n) for n, b in enumerate(full)]) if full else np.zeros(0)
    cross = np.concatenate([b.crosslingual for b in full]) if full else np.zeros(0, dtype=bool)
    claimless = np.concatenate([b.claimless for b in full]) if full else np.zeros(0, dtype=bool)
    refs = [(statements[int(x)].ref, statements[int(y)].ref) for x, y in zip(pos_a, pos_b, strict=True)]
    keys = [(a, b) if a < b else (b, a) for a, b in refs]
    sure, possible = item.sure, item.possible
    return StoryPairs(
        story_id=item.story.story_id, statements=statements, pos_a=pos_a, pos_b=pos_b, features=feats,
        crosslingual=cross, claimless=claimless,
        candidate=np.array([(int(x), int(y)) in cand for x, y in zip(pos_a, pos_b, strict=True)], dtype=bool),
        block=block, sure=np.array([k in sure for k in keys], dtype=bool),
        possible=np.array([k in possible for k in keys], dtype=bool), n_sure=len(sure), gold=item,
    )
