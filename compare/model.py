"""The data that flows between pipeline stages: small frozen dataclasses, no behaviour beyond checks.

corpus -> Document; segment -> Statement; cues -> Cue; align -> Link (LinkTable), Event; diff -> Difference,
Highlight; pipeline -> Comparison. Imports nothing from the rest of the package.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, overload


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


class LinkTable(Sequence[Link]):
    """The links of one story as columns, read like a tuple of Link.

    A big story has hundreds of thousands of links (32 outlets x 200 statements: ~800k), and a Link
    object costs about 1 us to make; the aligner hands over arrays and the event builder reads them
    directly, so Link objects are made only when something reads the links one by one (the JSON
    report), and then once. `ends` are positions into `refs`; the float columns are already rounded.
    Equal to any tuple or list of the same Links, in the same order.
    """

    __slots__ = ("_made", "cosines", "fuzzies", "overlaps", "pos_a", "pos_b", "refs", "scores")

    def __init__(self, refs: Sequence[StatementRef], pos_a: Any, pos_b: Any, scores: Any, cosines: Any,
                 fuzzies: Any, overlaps: Any) -> None:
        lengths = {len(pos_a), len(pos_b), len(scores), len(cosines), len(fuzzies), len(overlaps)}
        if len(lengths) != 1:
            raise ValueError(f"link columns differ in length: {sorted(lengths)}")
        self.refs = tuple(refs)
        self.pos_a, self.pos_b = pos_a, pos_b
        self.scores, self.cosines, self.fuzzies, self.overlaps = scores, cosines, fuzzies, overlaps
        self._made: tuple[Link, ...] | None = None

    @classmethod
    def empty(cls) -> LinkTable:
        return cls((), [], [], [], [], [], [])

    def links(self) -> tuple[Link, ...]:
        """Every link as a Link object, made once (map calls Link straight from C)."""
        if self._made is None:
            get = self.refs.__getitem__
            self._made = tuple(map(Link, map(get, _as_list(self.pos_a)), map(get, _as_list(self.pos_b)),
                                   _as_list(self.scores), _as_list(self.cosines), _as_list(self.fuzzies),
                                   _as_list(self.overlaps)))
        return self._made

    def __len__(self) -> int:
        return len(self.pos_a)

    @overload
    def __getitem__(self, item: int) -> Link: ...

    @overload
    def __getitem__(self, item: slice) -> tuple[Link, ...]: ...

    def __getitem__(self, item: int | slice) -> Link | tuple[Link, ...]:
        if self._made is not None or isinstance(item, slice):
            return self.links()[item]
        k = range(len(self))[item]  # IndexError and negative indices as for a tuple
        return Link(self.refs[int(self.pos_a[k])], self.refs[int(self.pos_b[k])], float(self.scores[k]),
                    float(self.cosines[k]), float(self.fuzzies[k]), float(self.overlaps[k]))

    def __iter__(self) -> Iterator[Link]:
        return iter(self.links())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LinkTable | tuple | list):
            return len(self) == len(other) and self.links() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.links())

    def __repr__(self) -> str:
        return f"LinkTable({len(self)} links)"

    def __reduce__(self) -> tuple[Any, ...]:  # pickling (Dask workers return comparisons)
        return (LinkTable, (self.refs, self.pos_a, self.pos_b, self.scores, self.cosines, self.fuzzies,
                            self.overlaps))


def _as_list(column: Any) -> list[Any]:
    return column.tolist() if hasattr(column, "tolist") else list(column)


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
    links: Sequence[Link]  # a LinkTable from the aligner
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
