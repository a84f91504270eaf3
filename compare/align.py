"""Line up statements about the same event across N documents.

For every pair of documents, each statement pair gets features — embedding cosine, rapidfuzz
token_set_ratio, and the share of numbers and names the two have in common — which a small logistic
scorer (weights in `compare/data/aligner.json`) turns into a link score in [0, 1]. A pair becomes a
link when its score passes the threshold and it is among each side's best matches in that document
pair; events are the connected groups of links, split again where a group's members are not
cohesive. Document and sentence order play no part, so reordering input changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from compare.model import CueType, Event, Link, Statement, StatementRef

ANCHOR_TYPES = (CueType.NUMBER, CueType.PLACE, CueType.ENTITY, CueType.DATE)


@dataclass(frozen=True, slots=True)
class ScorerWeights:
    """Logistic link scorer: score = sigmoid(bias + sum(w * feature))."""

    bias: float
    cosine: float
    fuzzy: float
    overlap: float
    rank: float  # 1 when the pair is a mutual best match in its document pair, else 0
    version: str = "hand-set"
    threshold: float = 0.5


@lru_cache(maxsize=1)
def default_weights() -> ScorerWeights:
    """The shipped scorer (versioned JSON in the package; see README 'Accuracy')."""
    data = json.loads(resources.files("compare.data").joinpath("aligner.json").read_text("utf-8"))
    return ScorerWeights(**{k: data[k] for k in ScorerWeights.__dataclass_fields__ if k in data})


def anchors(statement: Statement) -> frozenset[str]:
    """Normalised numbers, dates and names of a statement: strong evidence of the same event."""
    keys = set()
    for cue in statement.cues:
        if cue.type not in ANCHOR_TYPES:
            continue
        value = cue.value if isinstance(cue.value, dict) else {}
        if cue.type == CueType.NUMBER:
            keys.add(f"n:{value.get('value')}:{value.get('unit')}")
        elif cue.type == CueType.DATE:
            keys.add(f"d:{value.get('iso') or value.get('weekday') or cue.text.lower()}")
        else:
            keys.add(f"e:{str(value.get('canonical', cue.text)).lower()}")
    return frozenset(keys)


def pair_features(left: Sequence[Statement], right: Sequence[Statement], left_vecs: np.ndarray,
                  right_vecs: np.ndarray) -> dict[str, np.ndarray]:
    """Feature matrices (len(left), len(right)) for one document pair."""
    from rapidfuzz import fuzz, process
    from rapidfuzz.utils import default_process

    cosine = np.clip(left_vecs @ right_vecs.T, -1.0, 1.0).astype(np.float32)
    fuzzy = process.cdist([s.text for s in left], [s.text for s in right], scorer=fuzz.token_set_ratio,
                          processor=default_process, dtype=np.float32, workers=1) / 100.0
    left_anchor = [anchors(s) for s in left]
    right_anchor = [anchors(s) for s in right]
    overlap = np.zeros_like(cosine)
    for i, a in enumerate(left_anchor):
        if not a:
            continue
        for j, b in enumerate(right_anchor):
            if b:
                overlap[i, j] = len(a & b) / len(a | b)
    return {"cosine": cosine, "fuzzy": fuzzy, "overlap": overlap}


def mutual_rank(score: np.ndarray) -> np.ndarray:
    """1.0 where a pair is the best match of its row or of its column (ties count), else 0.0."""
    if score.size == 0:
        return np.zeros_like(score)
    row_best = score >= score.max(axis=1, keepdims=True)
    col_best = score >= score.max(axis=0, keepdims=True)
    return (row_best | col_best).astype(np.float32)


def score_pairs(features: dict[str, np.ndarray], weights: ScorerWeights) -> np.ndarray:
    base = (weights.cosine * features["cosine"] + weights.fuzzy * features["fuzzy"]
            + weights.overlap * features["overlap"])
    rank = mutual_rank(base)
    z = weights.bias + base + weights.rank * rank
    return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)


def link_statements(statements: Sequence[Statement], vectors: np.ndarray, *,
                    threshold: float | None = None,
                    weights: ScorerWeights | None = None) -> tuple[Link, ...]:
    """All cross-document links scoring at least `threshold` (default: the scorer's own)."""
    weights = weights or default_weights()
    threshold = weights.threshold if threshold is None else threshold
    by_doc: dict[str, list[int]] = defaultdict(list)
    for position, statement in enumerate(statements):
        by_doc[statement.doc_id].append(position)
    doc_ids = sorted(by_doc)
    links: list[Link] = []
    for a_pos, doc_a in enumerate(doc_ids):
        for doc_b in doc_ids[a_pos + 1:]:
            rows, cols = by_doc[doc_a], by_doc[doc_b]
            left = [statements[i] for i in rows]
            right = [statements[j] for j in cols]
            feats = pair_features(left, right, vectors[rows], vectors[cols])
            score = score_pairs(feats, weights)
            for i, j in zip(*np.nonzero(score >= threshold), strict=True):
                links.append(Link(
                    a=left[i].ref, b=right[j].ref, score=round(float(score[i, j]), 6),
                    cosine=round(float(feats["cosine"][i, j]), 6),
                    fuzzy=round(float(feats["fuzzy"][i, j]), 6),
                    overlap=round(float(feats["overlap"][i, j]), 6),
                ))
    links.sort(key=lambda link: (link.a, link.b))
    return tuple(links)


def all_pair_scores(statements: Sequence[Statement], vectors: np.ndarray, *,
                    weights: ScorerWeights | None = None) -> dict[tuple[StatementRef, StatementRef], float]:
    """Score of every cross-document pair (for evaluation: average precision, P@1)."""
    weights = weights or default_weights()
    by_doc: dict[str, list[int]] = defaultdict(list)
    for position, statement in enumerate(statements):
        by_doc[statement.doc_id].append(position)
    doc_ids = sorted(by_doc)
    out: dict[tuple[StatementRef, StatementRef], float] = {}
    for a_pos, doc_a in enumerate(doc_ids):
        for doc_b in doc_ids[a_pos + 1:]:
            rows, cols = by_doc[doc_a], by_doc[doc_b]
            left = [statements[i] for i in rows]
            right = [statements[j] for j in cols]
            score = score_pairs(pair_features(left, right, vectors[rows], vectors[cols]), weights)
            for i, s_left in enumerate(left):
                for j, s_right in enumerate(right):
                    out[(s_left.ref, s_right.ref)] = float(score[i, j])
    return out


def build_events(statements: Sequence[Statement], links: Sequence[Link]) -> tuple[Event, ...]:
    """Connected groups of linked statements spanning at least two documents, in a stable order."""
    parent: dict[StatementRef, StatementRef] = {}

    def find(x: StatementRef) -> StatementRef:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for link in sorted(links, key=lambda lk: -lk.score):
        ra, rb = find(link.a), find(link.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[StatementRef, list[StatementRef]] = defaultdict(list)
    for statement in statements:
        groups[find(statement.ref)].append(statement.ref)
    score_of = {(lk.a, lk.b): lk.score for lk in links}
    events = []
    for members in groups.values():
        docs = sorted({m.doc_id for m in members})
        if len(docs) < 2:
            continue
        members = sorted(members)
        inside = [s for (a, b), s in score_of.items() if a in members and b in members]
        cohesion = sum(inside) / len(inside) if inside else 0.0
        events.append((members, docs, cohesion))
    events.sort(key=lambda e: (-len(e[1]), e[0][0]))
    return tuple(
        Event(event_id=f"E{n}", members=tuple(m), doc_ids=tuple(d), cohesion=round(c, 6))
        for n, (m, d, c) in enumerate(events, start=1)
    )


def unique_statements(statements: Sequence[Statement], events: Sequence[Event]) -> tuple[StatementRef, ...]:
    """Statements that no other outlet carries (not part of any event)."""
    in_event = {m for event in events for m in event.members}
    return tuple(sorted(s.ref for s in statements if s.ref not in in_event))


def event_fingerprint(event: Event) -> str:
    """Content-based id, stable across runs and input order (used by the store)."""
    raw = "|".join(f"{m.doc_id}:{m.index}" for m in event.members)
    return hashlib.sha1(raw.encode()).hexdigest()[:12]


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
