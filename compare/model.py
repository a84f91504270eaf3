"""The data that flows between pipeline stages: small frozen dataclasses, no behaviour beyond checks.

corpus -> Document; segment -> Statement; cues -> Cue; align -> Link, Event; diff -> Difference,
Highlight; pipeline -> Comparison. Imports nothing from the rest of the package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class DifferenceType(StrEnum):
    """The kinds of difference storydiff reports; the HTML legend and JSON enum are generated from it."""

    OMISSION = "omission"
    NUMBER = "number"
    DATE = "date"
    PLACE = "place"
    ENTITY = "entity"
    ATTRIBUTION = "attribution"
    HEDGING = "hedging"
    NEGATION = "negation"
    WORDING = "wording"


DIFFERENCE_DESCRIPTIONS: dict[DifferenceType, str] = {
    DifferenceType.OMISSION: "an event only some outlets carry",
    DifferenceType.NUMBER: "numbers or percentages that conflict",
    DifferenceType.DATE: "dates or days that conflict",
    DifferenceType.PLACE: "places that conflict",
    DifferenceType.ENTITY: "people, units or organisations that conflict",
    DifferenceType.ATTRIBUTION: "who the claim is attributed to",
    DifferenceType.HEDGING: "hedged in some outlets, stated as fact in others",
    DifferenceType.NEGATION: "denied or negated in some outlets",
    DifferenceType.WORDING: "loaded or framing terms differ",
}


class CueType(StrEnum):
    """Per-statement evidence the differ rests on."""

    HEDGE = "hedge"
    NEGATION = "negation"
    ATTRIBUTION = "attribution"
    NUMBER = "number"
    DATE = "date"
    PLACE = "place"
    ENTITY = "entity"
    LOADED = "loaded"


@dataclass(frozen=True, slots=True)
class Document:
    """One article as read from disk or the store. `text` is the exact source the offsets refer to."""

    doc_id: str
    outlet: str
    text: str
    title: str = ""
    url: str | None = None
    published: str | None = None  # ISO 8601 as given
    language: str | None = None
    source_path: str | None = None
    synthetic: bool = False
    # Pre-segmented input: the statements exactly as given, in order; `text` is them joined by "\n".
    sentences: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Cue:
    """A span inside one statement that signals a hedge, a number, a place...

    `start`/`end` are offsets into the statement text (half-open); `value` is a normalised form
    (e.g. {"value": 80, "unit": "%", "qualifier": ">"}) and `source` the cited source for attribution.
    """

    type: CueType
    start: int
    end: int
    text: str
    value: Any = None
    source: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad cue span {self.start}..{self.end}")


@dataclass(frozen=True, slots=True)
class Statement:
    """A sentence of a document with its exact offsets: document.text[start:end] == text."""

    doc_id: str
    index: int
    start: int
    end: int
    text: str
    language: str = "en"
    cues: tuple[Cue, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad statement span {self.start}..{self.end} in {self.doc_id!r}")

    @property
    def ref(self) -> StatementRef:
        return StatementRef(self.doc_id, self.index)


@dataclass(frozen=True, slots=True, order=True)
class StatementRef:
    doc_id: str
    index: int


@dataclass(frozen=True, slots=True)
class Link:
    """Two statements in different documents judged to be about the same event."""

    a: StatementRef
    b: StatementRef
    score: float  # link probability-like score in [0, 1]
    cosine: float  # embedding cosine in [-1, 1]
    fuzzy: float  # rapidfuzz token_set_ratio / 100 in [0, 1]
    overlap: float = 0.0  # share of numbers/names in common, [0, 1]


@dataclass(frozen=True, slots=True)
class Event:
    """Statements about one event across outlets; an outlet may contribute several statements."""

    event_id: str
    members: tuple[StatementRef, ...]
    doc_ids: tuple[str, ...]
    cohesion: float  # mean link score inside the event, [0, 1]


@dataclass(frozen=True, slots=True)
class Evidence:
    """The exact words, in one source, on which a difference rests. Offsets are into Document.text."""

    doc_id: str
    index: int  # statement index
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Difference:
    difference_id: str
    type: DifferenceType
    event_id: str | None
    doc_ids: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    explanation: str
    missing: tuple[str, ...] = ()  # omission: the documents silent about the event
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class Highlight:
    """A word-level span of a statement that differs from its counterparts (`type` None = plain change)."""

    doc_id: str
    index: int
    start: int  # offsets into the statement text
    end: int
    type: DifferenceType | None = None
    difference_id: str | None = None


@dataclass(frozen=True, slots=True)
class Comparison:
    """Everything one comparison produced; the report and store read only this."""

    story_id: str
    title: str
    description: str
    documents: tuple[Document, ...]
    statements: tuple[Statement, ...]
    links: tuple[Link, ...]
    events: tuple[Event, ...]
    differences: tuple[Difference, ...]
    unique: tuple[StatementRef, ...]
    highlights: tuple[Highlight, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def statement(self, ref: StatementRef) -> Statement:
        return self._index()[ref]

    def statements_of(self, doc_id: str) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.doc_id == doc_id)

    def document(self, doc_id: str) -> Document:
        for doc in self.documents:
            if doc.doc_id == doc_id:
                return doc
        raise KeyError(doc_id)

    def _index(self) -> dict[StatementRef, Statement]:
        cache = self.meta.get("_statement_index")
        if cache is None:
            cache = {s.ref: s for s in self.statements}
            self.meta["_statement_index"] = cache
        return cache
