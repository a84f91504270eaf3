"""How likely a reported difference is to be right: a probability, calibrated on real claim gold.

A difference rests on two things the differ cannot check by itself: that the statements it compares
report the same claim (the aligner's pair probabilities say how sure that is) and that the detector of
its type is right on such a pair (which depends on the type: on real news a conflicting figure is
right far more often than a framing term). An omission ("reported by A and B, not by C") is wrong when
C does carry the claim and the aligner missed it, so its confidence reads how close C's nearest
statement came to being linked. A logistic model over these features, fitted on the differences the
pipeline reports on the claim gold, with the claim scorer itself fitted out of fold by story
(`benchmarks/fit_confidence.py`; weights in `compare/data/difference_confidence.json`), turns them into
P(right). Its calibration is measured out of fold by story (docs/accuracy.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from compare.data import backend_section
from compare.errors import ConfigError
from compare.model import Difference, DifferenceType, Event, StatementRef

TYPES = tuple(t.value for t in DifferenceType)
CONFIDENCE_FEATURES = (
    *(f"type:{t}" for t in TYPES),  # the detector's base rate on real news
    "pair_probability",  # the strongest aligner probability between evidence statements of two outlets
    "cohesion",  # mean pair probability inside the event (0 for a statement no other outlet carries)
    "missing_probability",  # omissions: the strongest probability to any statement of an outlet named missing
    "single",  # omission of one statement that no other outlet carries
    "outlet_share",  # outlets the difference names (carrying the claim) over the story's outlets
)
PairScores = Mapping[frozenset[StatementRef], float]


def difference_features(difference: Difference, event: Event | None, pair_scores: PairScores,
                        doc_refs: Mapping[str, Sequence[StatementRef]], n_docs: int) -> dict[str, float]:
    """The CONFIDENCE_FEATURES of one difference (pair_scores: aligner probabilities of scored pairs)."""
    refs = sorted({StatementRef(e.doc_id, e.index) for e in difference.evidence})
    cross = [pair_scores.get(frozenset((x, y)), 0.0) for i, x in enumerate(refs) for y in refs[i + 1:]
             if x.doc_id != y.doc_id]
    missing = [pair_scores.get(frozenset((x, y)), 0.0) for x in refs for d in difference.missing
               for y in doc_refs.get(d, ())]
    carrying = len(difference.doc_ids) - len(difference.missing)
    feats = {f"type:{t}": 1.0 if difference.type.value == t else 0.0 for t in TYPES}
    feats.update({
        "pair_probability": max(cross, default=0.0),
        "cohesion": event.cohesion if event is not None else 0.0,
        "missing_probability": max(missing, default=0.0),
        "single": 1.0 if difference.type == DifferenceType.OMISSION and event is None else 0.0,
        "outlet_share": carrying / n_docs if n_docs else 0.0,
    })
    return feats


@dataclass(frozen=True, slots=True)
class ConfidenceModel:
    """probability = sigmoid(bias + sum(coef * feature)), per CONFIDENCE_FEATURES."""

    features: tuple[str, ...]
    coef: tuple[float, ...]
    bias: float
    version: str = "unversioned"

    def __post_init__(self) -> None:
        unknown = [f for f in self.features if f not in CONFIDENCE_FEATURES]
        if unknown or len(self.features) != len(self.coef):
            raise ConfigError(f"difference confidence model: bad features {unknown or list(self.features)}. "
                              "Refit with benchmarks/fit_confidence.py.")

    def probability(self, feats: Mapping[str, float]) -> float:
        z = self.bias + sum(c * feats.get(f, 0.0) for f, c in zip(self.features, self.coef, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def load_confidence_model(path: str | Path | None = None, backend: str | None = None) -> ConfidenceModel:
    """The model for an embedding backend (its pair probabilities differ), else the file's fallback."""
    name, section, version = backend_section("difference_confidence.json", path, backend,
                                             what="difference confidence model",
                                             refit="benchmarks/fit_confidence.py")
    return ConfidenceModel(tuple(section["features"]), tuple(float(c) for c in section["coef"]),
                           float(section["bias"]), f"{version}/{name}")


@lru_cache(maxsize=16)
def default_confidence_model(backend: str | None = None) -> ConfidenceModel:
    return load_confidence_model(None, backend)


def with_confidence(differences: Sequence[Difference], events: Sequence[Event], pair_scores: PairScores,
                    doc_refs: Mapping[str, Sequence[StatementRef]], model: ConfidenceModel
                    ) -> tuple[Difference, ...]:
    """The differences with their calibrated confidence (rounded to 3 places)."""
    by_id = {e.event_id: e for e in events}
    n_docs = len(doc_refs)
    return tuple(
        replace(d, confidence=round(model.probability(
            difference_features(d, by_id.get(d.event_id or ""), pair_scores, doc_refs, n_docs)), 3))
        for d in differences
    )
