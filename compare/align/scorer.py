"""The link scorer's features and weights (compare/data/aligner.json)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from compare.data import backend_section
from compare.errors import ConfigError
from compare.model import CueType

TOKEN = re.compile(r"\b\w+\b")
P = ParamSpec("P")
R = TypeVar("R")
ANCHOR_TYPES = (CueType.NUMBER, CueType.PLACE, CueType.ENTITY, CueType.DATE)
FALLBACK_BACKEND = "default"

# Every feature the scorer may use; a backend section names the ones it weighs.
FEATURES = (
    "cosine",  # embedding cosine of the two statements, [-1, 1]
    "cosine_z",  # cosine standardised over the story's cross-document pairs
    "fuzzy",  # rapidfuzz token_set_ratio / 100
    "overlap",  # Jaccard of normalised numbers/dates/names
    "margin",  # mean gap to each side's best match in the other document (0 = best on both sides)
    "mutual",  # 1 when the pair is each side's best match in this document pair
    "profile",  # correlation of the two statements' best-match cosines to the *other* documents
    "doc_cosine",  # cosine of the two documents' mean vectors
    "doc_match",  # mean best-match cosine between the two documents' statements
    "doc_rel",  # doc_match minus each document's typical doc_match to the rest of the story
    "doc_profile",  # correlation of the two documents' doc_match rows over the other documents
    "doc_overlap",  # Jaccard of the two documents' numbers/dates/names
    "tfidf",  # TF-IDF cosine of the two statements (IDF over the story's statements)
    "doc_tfidf",  # TF-IDF cosine of the two documents as wholes
    "doc_tfidf_profile",  # correlation of the two documents' doc_tfidf rows over the other documents
    "doc_mds",  # cosine of the two documents in a 2-d classical-MDS map of doc_match (who groups with whom)
    "doc_tfidf_mds",  # the same over doc_tfidf
    # Stories of under 4 documents have no "other outlets" to correlate with: profile, doc_profile and the
    # MDS features read 0 there, which is not neutral evidence (for same-event documents of a big story
    # they add +2 to +4 to the logit). The indicator lets the scorer learn the base rate of such stories
    # (missing-indicator method) instead of reading "undefined" as "unrelated documents".
    "small_story",  # 1 when the story has fewer than SMALL_STORY_DOCS documents
)
SMALL_STORY_DOCS = 4


@dataclass(frozen=True, slots=True)
class ScorerWeights:
    """Logistic link scorer for one embedding backend: score = sigmoid(bias + sum(coef * feature))."""

    features: tuple[str, ...]
    coef: tuple[float, ...]
    bias: float
    threshold: float = 0.5
    version: str = "unversioned"
    backend: str = FALLBACK_BACKEND
    event_threshold: float | None = None  # average link score that keeps an event together
    # Statement-level gate for small stories: there the context features are undefined and the scorer
    # falls back on a base rate learned from ECB+ sub-stories, which lifts any pair of two same-event
    # documents; a pair whose cosine is below this floor (the backend's 2% quantile of ECB+ gold-pair
    # cosines) cannot link there. None: no gate.
    small_story_floor: float | None = None

    def __post_init__(self) -> None:
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown or len(self.features) != len(self.coef):
            raise ConfigError(
                f"aligner weights {self.version}: bad features {unknown or list(self.features)}. "
                "Refit with benchmarks/fit_scorer.py."
            )

    def weight(self, feature: str) -> float:
        return self.coef[self.features.index(feature)] if feature in self.features else 0.0

    @property
    def merge_threshold(self) -> float:
        return self.threshold if self.event_threshold is None else self.event_threshold


def _weights_from(section: dict[str, Any], backend: str, file_version: str) -> ScorerWeights:
    return ScorerWeights(
        features=tuple(section["features"]), coef=tuple(float(c) for c in section["coef"]),
        bias=float(section["bias"]), threshold=float(section.get("threshold", 0.5)),
        version=f"{file_version}/{section.get('version', backend)}", backend=backend,
        event_threshold=section.get("event_threshold"),
        small_story_floor=section.get("small_story_floor"),
    )


def load_weights(path: str | Path | None = None, backend: str | None = None) -> ScorerWeights:
    """Weights for `backend` (an `Embedder.name`) from an aligner JSON file, else its fallback section."""
    name, section, version = backend_section("aligner.json", path, backend, what="aligner weights",
                                             refit="benchmarks/fit_scorer.py", fallback=FALLBACK_BACKEND)
    return _weights_from(section, name, version)


@lru_cache(maxsize=16)
def default_weights(backend: str | None = None) -> ScorerWeights:
    """The shipped scorer for an embedding backend (`Embedder.name`), or the fallback section."""
    return load_weights(None, backend)
