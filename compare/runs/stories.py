"""Per-story comparison jobs (everything a worker needs: documents, precomputed statement vectors, version
history) and what changed between an article's versions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from compare.config import Settings
from compare.corpus.base import Story
from compare.model import Document


@dataclass(frozen=True, slots=True)
class VersionHistory:
    """All stored versions of one article, oldest first: (fetched_at, document)."""

    outlet: str
    url: str
    versions: tuple[tuple[str, Document], ...]


@dataclass(frozen=True, slots=True)
class StoryJob:
    """Everything one story's comparison needs, as plain picklable data (no store, no model)."""

    story: Story
    input_hash: str
    updated_at: str
    embedder_name: str
    model_spec: str
    vectors: dict[str, np.ndarray]
    histories: tuple[VersionHistory, ...] = ()


@dataclass(frozen=True, slots=True)
class StoryResult:
    story_id: str
    input_hash: str
    updated_at: str
    title: str
    outlets: tuple[str, ...]
    counts: dict[str, Any]
    files: dict[str, bytes]


class PrecomputedEmbedder:
    """Serves vectors the coordinator computed; anything missing falls back to the real model."""

    def __init__(self, name: str, vectors: dict[str, np.ndarray], fallback_spec: str) -> None:
        self.name = name
        self.vectors = vectors
        self.fallback_spec = fallback_spec

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            from compare.embed.backends import get_embedder

            computed = get_embedder(self.fallback_spec).encode(missing)
            self.vectors = {**self.vectors, **dict(zip(missing, computed, strict=True))}
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)


def compare_stories(jobs: Iterable[StoryJob], settings: Settings, *,
                    map_fn: Callable[..., Iterable[StoryResult]] = map) -> Iterator[StoryResult]:
    """Compare and render each story; `map_fn(fn, jobs)` may be a distributed map returning results in order.

    Workers only compute: they read nothing from the store and write no files.
    """
    yield from map_fn(partial(compare_one, settings=settings), list(jobs))


def compare_one(job: StoryJob, settings: Settings) -> StoryResult:
    """One story: compare, add what each outlet changed between versions, render all formats."""
    from compare.pipeline import compare_story
    from compare.report.render import render_all

    embedder = PrecomputedEmbedder(job.embedder_name, job.vectors, job.model_spec)
    comparison = compare_story(job.story, settings, embedder=embedder)
    versions = [version_changes(history, embedder, settings.threshold) for history in job.histories]
    comparison.meta["created"] = job.updated_at  # the story's last change, not the wall clock
    comparison.meta["versions"] = versions
    comparison.meta["source"] = f"scheduled run: {len(job.story.documents)} articles"
    files = render_all(comparison, settings.formats, page_size=settings.page_size,
                       json_extra={"versions": versions}, min_confidence=settings.min_confidence)
    by_type = Counter(d.type.value for d in comparison.differences)
    counts = {"differences": len(comparison.differences), "by_type": dict(sorted(by_type.items())),
              "events": len(comparison.events), "documents": len(comparison.documents),
              "changes": sum(len(v["changes"]) for v in versions)}
    outlets = tuple(dict.fromkeys(d.outlet for d in job.story.documents))
    return StoryResult(job.story.story_id, job.input_hash, job.updated_at, job.story.title, outlets, counts,
                       files)


REWORD_SIMILARITY = 0.6  # cosine or token-set similarity for an edited sentence to count as the same one


def version_changes(history: VersionHistory, embedder: Any, threshold: float | None = None) -> dict[str, Any]:
    """What an outlet changed between consecutive versions of one article: added, removed, reworded.

    Identical statements pair first; the rest pair greedily by the better of embedding cosine and
    rapidfuzz token-set similarity (the aligner's two base signals). The story-level link scorer is not
    used here: its document-context features are meant for different outlets, not two drafts of one text.
    `threshold`, when given, replaces REWORD_SIMILARITY.
    """
    import numpy as np
    from rapidfuzz import fuzz, process
    from rapidfuzz.utils import default_process

    from compare.pipeline import segment_documents

    cut = REWORD_SIMILARITY if threshold is None else threshold
    changes = []
    for (before_at, before), (after_at, after) in zip(history.versions, history.versions[1:], strict=False):
        statements = segment_documents([replace(before, doc_id="before"), replace(after, doc_id="after")])
        old = [s for s in statements if s.doc_id == "before"]
        new = [s for s in statements if s.doc_id == "after"]
        used_old: set[int] = set()
        used_new: set[int] = set()
        exact = {s.text: s.index for s in new}
        for s in old:  # identical statements first: wording unchanged
            if s.text in exact and exact[s.text] not in used_new:
                used_old.add(s.index)
                used_new.add(exact[s.text])
        rest_old = [s for s in old if s.index not in used_old]
        rest_new = [s for s in new if s.index not in used_new]
        reworded: list[dict[str, Any]] = []
        if rest_old and rest_new:
            vectors = embedder.encode([s.text for s in rest_old + rest_new])
            cosine = vectors[: len(rest_old)] @ vectors[len(rest_old):].T
            fuzzy = process.cdist([s.text for s in rest_old], [s.text for s in rest_new],
                                  scorer=fuzz.token_set_ratio, processor=default_process) / 100.0
            similarity = np.maximum(cosine, fuzzy)
            order = sorted(((float(similarity[i, j]), i, j) for i in range(len(rest_old))
                            for j in range(len(rest_new))), key=lambda t: (-t[0], t[1], t[2]))
            for score, i, j in order:
                if score < cut:
                    break
                a, b = rest_old[i], rest_new[j]
                if a.index in used_old or b.index in used_new:
                    continue
                used_old.add(a.index)
                used_new.add(b.index)
                reworded.append({"before": a.text, "after": b.text, "score": round(score, 3)})
        changes.append({
            "from": before_at, "to": after_at,
            "title_before": before.title if before.title != after.title else None,
            "title_after": after.title if before.title != after.title else None,
            "added": [s.text for s in new if s.index not in used_new],
            "removed": [s.text for s in old if s.index not in used_old],
            "reworded": sorted(reworded, key=lambda r: r["after"]),
        })
    return {"outlet": history.outlet, "url": history.url, "title": history.versions[-1][1].title,
            "versions": len(history.versions), "changes": changes}
