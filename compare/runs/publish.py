"""Publishing a run's reports: compare every story whose inputs changed (each article within its time
budget) and write its reports and the site, one committed step at a time."""

from __future__ import annotations

import hashlib
import json
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from compare import __version__
from compare.config import Settings
from compare.corpus.base import Story
from compare.model import Document
from compare.runs.job import Job
from compare.runs.result import Notify, RunResult, checkpoint
from compare.runs.site import render_site
from compare.runs.stories import StoryJob, StoryResult, VersionHistory, compare_stories

REPORT_LAYOUT = "scheduled-2"  # bump when what a scheduled report contains changes: forces a recompute


def story_slug(text: str) -> str:
    from anyascii import anyascii

    return re.sub(r"[^a-z0-9]+", "-", anyascii(text).lower()).strip("-")


def _expected_files(formats: Sequence[str]) -> list[str]:
    return [f"report.{f}" for f in formats]


def _input_hash(job: Job, members: Sequence[Any], versions: dict[int, list[Any]]) -> str:
    payload = {
        "layout": REPORT_LAYOUT, "version": __version__, "model": job.options.model,
        "threshold": job.options.threshold, "formats": list(job.options.formats),
        "page_size": job.options.page_size, "min_confidence": job.options.min_confidence,
        "members": [[m["url"], m["outlet"], m["language"], [v["content_hash"] for v in versions[m["id"]]]]
                    for m in members],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _remove_stale_temp_files(output: Path) -> None:
    """Drop `.NAME.XXXX.tmp` files that a killed run left between writing and renaming a report.

    Safe because a run holds the job lock: no other writer of this output folder is alive.
    """
    if not output.is_dir():
        return
    for leftover in output.rglob(".*.tmp"):
        if leftover.is_file():
            leftover.unlink(missing_ok=True)


def publish_stories(job: Job, store: Any, result: RunResult, should_stop: Callable[[], bool],
             map_fn: Callable[..., Iterable[StoryResult]], say: Notify) -> bool:
    """Compare the stories whose inputs changed, write their reports, then the index and the feed."""
    from compare.report.render import write_outputs

    _remove_stale_temp_files(job.output)
    jobs = []
    for story in store.stories():
        members = store.story_members(story["id"])
        if len({m["outlet"] for m in members}) < job.options.min_outlets:
            continue
        versions = {m["id"]: store.versions(m["id"]) for m in members}
        input_hash = _input_hash(job, members, versions)
        latest = store.latest_report(story["id"])
        folder = job.output / story["id"]
        if (latest is not None and latest["input_hash"] == input_hash
                and all((folder / name).is_file() for name in _expected_files(job.options.formats))):
            continue
        prepared = _prepare(job, store, story, members, versions, input_hash, map_fn,
                            set_aside=lambda member, seconds: _set_aside(result, member, seconds, say))
        if prepared is not None:
            jobs.append(prepared)
    settings = Settings(model=job.options.model, threshold=job.options.threshold, formats=job.options.formats,
                        cache_path=None, max_article_bytes=job.options.fetch.max_bytes,
                        page_size=job.options.page_size, min_confidence=job.options.min_confidence)
    stopped = False
    if jobs:
        say(f"comparing {len(jobs)} stor{'y' if len(jobs) == 1 else 'ies'}")
    for number, story_result in enumerate(compare_stories(jobs, settings, map_fn=map_fn), start=1):
        folder = job.output / story_result.story_id
        result.written += write_outputs(folder, story_result.files)
        checkpoint(f"report-files-{number}")
        result.stories_changed.append(story_result.story_id)
        with store.transaction():
            store.save_report(story_id=story_result.story_id, input_hash=story_result.input_hash,
                              run_id=result.run_id, updated_at=story_result.updated_at, title=story_result.title,
                              outlets=list(story_result.outlets), counts=story_result.counts,
                              files=sorted(story_result.files))
            store.update_run(result.run_id, stories_changed=result.stories_changed)
        checkpoint(f"report-{number}")
        if should_stop():
            stopped = True
            break
    index_missing = not (job.output / "index.html").is_file() or not (job.output / "feed.xml").is_file()
    checkpoint("site")
    if result.stories_changed or index_missing:
        result.written += write_outputs(job.output, render_site(job, store))
    return stopped


class ArticleOverBudget(Exception):
    """An article's statements and cues took longer than the job's `article_seconds`."""


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise ArticleOverBudget once `seconds` have passed inside the block.

    On the main thread of a POSIX process a timer signal interrupts the work itself; elsewhere (a worker
    thread, Windows) the block runs to its end and is judged by its duration afterwards, so the article is
    still set aside but the run waited for it."""
    clock = time.perf_counter()
    armed = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if armed:
        def expire(signum: int, frame: Any) -> None:
            raise ArticleOverBudget(f"over {seconds:g} s")

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        if armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    if time.perf_counter() - clock > seconds:
        raise ArticleOverBudget(f"over {seconds:g} s")


def _set_aside(result: RunResult, member: Any, seconds: float, say: Notify) -> None:
    """Record an article set aside for this run: one log line and an entry in the run's history."""
    message = (f"set aside: statements and cues took over {seconds:g} s (option article_seconds); "
               "kept in the store, retried next run")
    say(f"{member['outlet']}: {member['url']}: {message}")
    result.errors.append({"outlet": member["outlet"], "source": "article", "url": member["url"],
                          "error": message, "kind": "set_aside"})


def _prepare(job: Job, store: Any, story: Any, members: Sequence[Any], versions: dict[int, list[Any]],
             input_hash: str, map_fn: Callable[..., Any] = map,
             set_aside: Callable[[Any, float], None] = lambda member, seconds: None) -> StoryJob | None:
    """Documents from the latest versions, statement vectors from the store's embedding table.

    Each article's versions are segmented under the job's per-article budget; an article over it is left
    out of this run's comparison (`set_aside` is told), and the report's input hash is marked so the next
    run compares the story again. None when too few outlets are left for a report."""
    from compare.embed.backends import get_embedder
    from compare.embed.cache import EmbeddingCache
    from compare.pipeline import document_language, segment_documents

    budget = job.options.article_seconds
    kept_members = []
    version_statements: dict[int, Any] = {}
    for m in members:
        try:
            with time_budget(budget):
                for v in versions[m["id"]]:
                    if v["id"] not in version_statements:
                        version_statements[v["id"]] = segment_documents([_member_document(m, v)])
        except ArticleOverBudget:
            set_aside(m, budget)
            continue
        kept_members.append(m)
    if len(kept_members) < len(members):
        if len({m["outlet"] for m in kept_members}) < job.options.min_outlets:
            return None
        input_hash += "+set-aside"  # never equal to a complete input: the next run compares it again
        members = kept_members

    document = _member_document
    documents = tuple(document(m, versions[m["id"]][-1]) for m in members)
    histories = tuple(
        VersionHistory(m["outlet"], m["url"], tuple((v["fetched_at"], document(m, v)) for v in versions[m["id"]]))
        for m in members if len(versions[m["id"]]) > 1)
    updated_at = max([v["fetched_at"] for m in members for v in versions[m["id"]][-1:]]
                     + [story["created_at"]])
    outlets = sorted({d.outlet for d in documents})
    title = story["title"]
    description = f"{len(documents)} articles from {len(outlets)} outlets: {', '.join(outlets)}."
    # Segmentation is per document, so the latest versions' statements are the story's: segmented once, above.
    version_statements = {v["id"]: version_statements[v["id"]] for m in members for v in versions[m["id"]]}
    statements = [s for m in members for s in version_statements[versions[m["id"]][-1]["id"]]]
    languages = sorted({s.language for s in statements} | {document_language(d) for d in documents})
    embedder = get_embedder(job.options.model, languages=languages)
    if map_fn is not map:  # on a Dask cluster the embedding batches run on the workers too
        from compare.embed.backends import resolve_backend
        from compare.runs.distributed import cluster_embedder

        embedder = cluster_embedder(embedder, resolve_backend(job.options.model, languages=languages), map_fn)
    texts = [s.text for s in statements]
    texts += [s.text for sts in version_statements.values() for s in sts]
    texts = list(dict.fromkeys(texts))
    vectors = EmbeddingCache(job.store).encode(embedder, texts) if texts else np.zeros((0, 1))
    with store.transaction():
        for vid, sts in version_statements.items():
            if not store.has_statements(vid):
                store.save_statements(vid, [(s.index, s.start, s.end, s.text,
                                             hashlib.sha256(s.text.encode()).hexdigest()) for s in sts])
    story_obj = Story(story_id=story["id"], title=title, description=description, documents=documents,
                      source=f"{job.path}#{story['id']}")
    return StoryJob(story=story_obj, input_hash=input_hash, updated_at=updated_at, embedder_name=embedder.name,
                    model_spec=job.options.model, vectors=dict(zip(texts, vectors, strict=True)),
                    histories=histories)


def _member_document(member: Any, version: Any) -> Document:
    return Document(doc_id=f"{story_slug(member['outlet'])[:24] or 'outlet'}-{member['id']}",
                    outlet=member["outlet"], text=version["text"], title=version["title"] or member["title"],
                    url=member["url"] if member["url"].startswith(("http://", "https://")) else None,
                    published=member["published"], language=member["language"])
