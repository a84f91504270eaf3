"""Run the stages in order: story -> statements (+cues) -> embeddings -> links/events -> differences.

`compare_story` is the one entry point the CLI, the evaluator and the scheduler share, so every
number the project reports comes from the same code path as a user's report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np

from compare import __version__
from compare.align.claims import align_claims, claim_events, default_claim_weights
from compare.align.events import build_events, unique_statements
from compare.align.links import link_statements
from compare.align.scorer import default_weights
from compare.config import Settings
from compare.corpus.base import Story
from compare.cues.detect import detect_cues, reference_date
from compare.differ.confidence import default_confidence_model, with_confidence
from compare.differ.detect import find_differences, find_highlights
from compare.embed.backends import get_embedder
from compare.embed.cache import EmbeddingCache
from compare.embed.common import Embedder
from compare.model import Comparison, Cue, Document, Statement, StatementRef
from compare.segment import detect_language, segment

# on_progress(stage, done, total): lets the CLI draw progress without the pipeline printing.
Progress = Callable[[str, int, int], None]
STAGES = ("segment", "embed", "align", "diff")


def document_language(document: Document) -> str:
    return (document.language or detect_language(document.text)).lower()[:2]


def segment_documents(documents: Sequence[Document]) -> tuple[Statement, ...]:
    """Statements of all documents, each with its cues (dates resolved against the publication date)."""
    statements: list[Statement] = []
    for document in documents:
        sentences = tuple(document.sentences) if document.sentences is not None else None  # hashable key
        parts = _segmented(document.text, sentences, document_language(document), document.published)
        statements.extend(Statement(document.doc_id, *part) for part in parts)
    return tuple(statements)


SegmentedPart = tuple[int, int, int, str, str, tuple[Cue, ...]]  # index, start, end, text, language, cues


@lru_cache(maxsize=4096)
def _segmented(text: str, sentences: tuple[str, ...] | None, language: str, published: str | None
               ) -> tuple[SegmentedPart, ...]:
    """Segmentation and cue detection depend on nothing else (not on the document id). A scheduled run
    meets one article version several times (to embed it, to compare its story, to diff it against its
    next version); this does the work once per process. Cues are frozen and never modified downstream."""
    reference = reference_date(published)
    document = Document(doc_id="-", outlet="-", text=text, language=language, sentences=sentences)
    return tuple((s.index, s.start, s.end, s.text, s.language,
                  detect_cues(s.text, language=s.language, reference=reference))
                 for s in segment(document, language=language))


def embed_statements(statements: Sequence[Statement], embedder: Embedder,
                     cache: EmbeddingCache | None = None) -> np.ndarray:
    texts = [s.text for s in statements]
    if cache is not None:
        return cache.encode(embedder, texts)
    return embedder.encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)


def compare_story(story: Story, settings: Settings | None = None, *,
                  embedder: Embedder | None = None,
                  on_progress: Progress | None = None) -> Comparison:
    """Compare the documents of one story and return everything the reports need."""
    settings = settings or Settings()
    notify = on_progress or (lambda stage, done, total: None)
    timings: dict[str, float] = {}

    clock = time.perf_counter()
    notify("segment", 0, 1)
    statements = segment_documents(story.documents)
    timings["segment"] = time.perf_counter() - clock
    notify("segment", 1, 1)

    languages = sorted({s.language for s in statements} | {document_language(d) for d in story.documents})
    embedder = embedder or get_embedder(settings.model, languages=languages)
    clock = time.perf_counter()
    notify("embed", 0, 1)
    cache = EmbeddingCache(settings.cache_path) if settings.cache_path else None
    vectors = embed_statements(statements, embedder, cache)
    timings["embed"] = time.perf_counter() - clock
    notify("embed", 1, 1)

    clock = time.perf_counter()
    notify("align", 0, 1)
    if settings.granularity == "claim":
        claim_weights = default_claim_weights(embedder.name)  # fitted on claim gold for this backend
        threshold = claim_weights.threshold if settings.threshold is None else settings.threshold
        alignment = align_claims(statements, vectors, weights=claim_weights, threshold=threshold)
        links = alignment.links
        events = claim_events(statements, alignment.pairs, threshold=alignment.threshold, floor=alignment.floor)
        scored_pairs = alignment.pairs
        scorer, calibration = claim_weights.version, f"{claim_weights.backend} ({claim_weights.version})"
    else:
        weights = default_weights(embedder.name)  # the event-level scorer fitted on ECB+ for this backend
        threshold = weights.threshold if settings.threshold is None else settings.threshold
        links = link_statements(statements, vectors, threshold=threshold, weights=weights)
        events = build_events(statements, links, merge_threshold=weights.merge_threshold)
        scored_pairs = links
        scorer, calibration = weights.version, f"{weights.backend} ({weights.version})"
    unique = unique_statements(statements, events)
    timings["align"] = time.perf_counter() - clock
    notify("align", 1, 1)

    clock = time.perf_counter()
    notify("diff", 0, 1)
    differences = find_differences(story.documents, statements, events, unique)
    # each difference's confidence: P(right), calibrated on the claim gold (compare/differ/confidence.py)
    doc_refs: dict[str, list[StatementRef]] = {}
    for statement in statements:
        doc_refs.setdefault(statement.doc_id, []).append(statement.ref)
    pair_scores = {frozenset((lk.a, lk.b)): float(lk.score) for lk in scored_pairs}
    differences = with_confidence(differences, events, pair_scores, doc_refs,
                                  default_confidence_model(embedder.name))
    highlights = find_highlights(statements, events, differences)
    timings["diff"] = time.perf_counter() - clock
    notify("diff", 1, 1)

    meta = {
        "generator": f"storydiff {__version__}",
        "version": __version__,
        "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "model": embedder.name,
        "model_spec": settings.model,
        "languages": languages,
        "threshold": threshold,
        "granularity": settings.granularity,
        "scorer": scorer,
        # which fitted section turned this backend's features into link probabilities
        "calibration": calibration,
        "source": story.source,
        "timings": {k: round(v, 4) for k, v in timings.items()},
    }
    return Comparison(
        story_id=story.story_id, title=story.title, description=story.description,
        documents=story.documents, statements=statements, links=links, events=events,
        differences=differences, unique=unique, highlights=highlights, meta=meta,
    )
