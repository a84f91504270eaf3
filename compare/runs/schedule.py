"""Scheduled runs: a job file names sources; each run fetches, groups, compares and publishes.

A run is a sequence of small steps, each committed to the job's SQLite store on its own (see
`compare.runs.store`): register sources; per source, fetch and store its articles; group new articles into
stories; compare every story whose inputs changed and write its reports; write `index.html` and
`feed.xml`. A run killed anywhere resumes from the last committed step, and because grouping and
report inputs are computed from the store in a fixed order, the result is the one an uninterrupted run
gives. A story is recomputed only when its input hash (member articles, their versions, the settings)
differs from the one of its last report, so a run with nothing new rewrites nothing.

Per-story comparison goes through `compare_stories(jobs, settings, map_fn=map)`: the jobs carry
everything a worker needs (documents and precomputed statement vectors), so a distributed map can be
swapped in while this process stays the only writer of the store.

Exit codes of `storydiff run`: 0 every source fetched; 4 the run finished but some source failed
(listed in the run record and on stderr); 2 the job file is invalid; 3 another run of this job holds
the lock; 130 interrupted (SIGINT/SIGTERM) between steps; 1 any other error (store unusable, ...).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import signal
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from compare import __version__
from compare.config import DEFAULT_MIN_CONFIDENCE, FORMATS, Settings, check_page_size
from compare.corpus.story import Story
from compare.errors import CompareError, ConfigError
from compare.model import Document
from compare.runs.fetch import FetchSettings, Source

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CONFIG = 2
EXIT_LOCKED = 3
EXIT_SOURCES_FAILED = 4
EXIT_INTERRUPTED = 130

REPORT_LAYOUT = "scheduled-2"  # bump when what a scheduled report contains changes: forces a recompute
GROUP_MODEL = "use"  # grouping thresholds were tuned with this model (benchmarks/grouping.py)

# Fault injection for the kill-and-resume tests: the run SIGKILLs itself at the named checkpoint.
KILL_ENV = "STORYDIFF_KILL_AT"

JOB_KEYS = ("store", "output", "options", "sources", "cluster")
SOURCE_KEYS = ("outlet", "feed", "url", "folder", "language")
SOURCE_KINDS = ("feed", "url", "folder")


@dataclass(frozen=True, slots=True)
class Option:
    default: Any
    kind: type | tuple[type, ...]
    help: str
    low: float | None = None
    high: float | None = None


OPTIONS: dict[str, Option] = {
    "formats": Option(["html", "json"], list, "report formats per story: html, pdf, json"),
    "min_outlets": Option(2, int, "a story gets a report once this many outlets cover it", 1),
    "window_hours": Option(72.0, (int, float), "an article joins a story only if published within this many "
                           "hours of the story's articles (0 = no window)", 0),
    "model": Option("auto", str, "embedding model for comparisons: auto, minilm, use, e5 or a model folder"),
    "group_model": Option(GROUP_MODEL, str, "embedding model for grouping articles into stories"),
    "threshold": Option(None, (int, float), "statement link threshold (0-1); default: the tuned value", 0, 1),
    "group_threshold": Option(0.65, (int, float), "similarity an article needs to join a story", 0, 2),
    "host_delay": Option(1.0, (int, float), "seconds between two requests to the same host", 0),
    "timeout": Option(20.0, (int, float), "seconds per HTTP request", 0.1),
    "retries": Option(2, int, "extra attempts after a timeout, connection error, 429 or 5xx", 0, 10),
    "backoff": Option(1.0, (int, float), "seconds before the first retry (doubles each retry)", 0),
    "max_article_mb": Option(5.0, (int, float), "largest page or feed downloaded, in megabytes", 0.001),
    "max_redirects": Option(5, int, "redirects followed per request", 0, 30),
    "max_items": Option(50, int, "feed entries looked at per run", 1),
    "user_agent": Option(None, str, "User-Agent header (default names storydiff and its version)"),
    "page_size": Option("A4 landscape", str, "PDF page size (CSS @page size)"),
    "min_confidence": Option(DEFAULT_MIN_CONFIDENCE, (int, float), "confidence (0-1) a difference needs to be shown "
                             "at once in the HTML and printed in the PDF (as --min-confidence)", 0, 1),
    "base_url": Option(None, str, "public URL of the output folder, for absolute links in feed.xml"),
    "feed_entries": Option(50, int, "entries kept in feed.xml", 1),
    "title": Option("storydiff reports", str, "heading of index.html and title of feed.xml"),
    "article_seconds": Option(120.0, (int, float), "seconds one article's statements and cues may take in a run; "
                              "past it the article is set aside (logged, kept in the store) and retried next run",
                              0.001),
}


@dataclass(frozen=True, slots=True)
class JobOptions:
    formats: tuple[str, ...]
    min_outlets: int
    window_hours: float | None
    model: str
    group_model: str
    threshold: float | None
    group_threshold: float
    page_size: str
    min_confidence: float
    base_url: str | None
    feed_entries: int
    title: str
    fetch: FetchSettings
    article_seconds: float = 120.0  # per-article budget for segmentation and cues (issue 16)


@dataclass(frozen=True, slots=True)
class Job:
    path: Path
    store: Path
    output: Path
    options: JobOptions
    sources: tuple[Source, ...]
    cluster: str | None = None  # Dask scheduler address from [cluster] address (compare.runs.distributed)


# ------------------------------------------------------------------------------------- job files

def load_job(path: str | Path) -> Job:
    """Read and check a job file; relative paths are relative to the file. Raises ConfigError."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read job file: {exc.strerror or exc}.") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start}). Save the job file as UTF-8.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}.") from exc
    _check_keys(data, JOB_KEYS, f"{path}", "top-level key")
    base = path.resolve().parent
    store = base / _string(data.get("store", "storydiff.db"), f"{path}: 'store'")
    output = base / _string(data.get("output", "reports"), f"{path}: 'output'")
    options_table = data.get("options", {})
    if not isinstance(options_table, dict):
        raise ConfigError(f"{path}: 'options' must be a table ([options]).")
    options = _load_options(options_table, path)
    sources_list = data.get("sources")
    if not isinstance(sources_list, list) or not sources_list:
        raise ConfigError(f"{path}: no [[sources]]. Add at least one with 'outlet' and 'feed', 'url' or 'folder'.")
    sources = tuple(_load_source(entry, n, path, base) for n, entry in enumerate(sources_list, start=1))
    seen: set[tuple[str, str]] = set()
    for source in sources:
        if (source.kind, source.location) in seen:
            raise ConfigError(f"{path}: source {source.location} is listed twice. Keep one entry.")
        seen.add((source.kind, source.location))
    from compare.runs.distributed import cluster_address

    try:
        cluster = cluster_address(None, data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return Job(path=path.resolve(), store=store, output=output, options=options, sources=sources,
               cluster=cluster)


def _check_keys(table: dict[str, Any], valid: Sequence[str], where: str, what: str) -> None:
    unknown = [k for k in table if k not in valid]
    if unknown:
        raise ConfigError(f"{where}: unknown {what}{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(repr(k) for k in unknown)}. Valid: {', '.join(valid)}.")


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be a non-empty string.")
    return value


def _load_options(table: dict[str, Any], path: Path) -> JobOptions:
    _check_keys(table, list(OPTIONS), f"{path}: [options]", "option")
    values: dict[str, Any] = {}
    for name, spec in OPTIONS.items():
        value = table.get(name, spec.default)
        if value is None:
            values[name] = None
            continue
        if isinstance(value, bool) or not isinstance(value, spec.kind):
            kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
            raise ConfigError(f"{path}: [options] {name} = {value!r}: must be "
                              f"{' or '.join(k.__name__ for k in kinds)} ({spec.help}).")
        if isinstance(value, float) and not math.isfinite(value):  # TOML allows inf and nan
            raise ConfigError(f"{path}: [options] {name} = {value!r}: must be a finite number ({spec.help}).")
        if isinstance(value, int | float) and (
                (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high)):
            bounds = f"at least {spec.low:g}" if spec.high is None else f"between {spec.low:g} and {spec.high:g}"
            raise ConfigError(f"{path}: [options] {name} = {value!r}: must be {bounds}.")
        values[name] = value
    values["page_size"] = _page_size(values["page_size"], path)
    formats = values["formats"]
    if not formats or not all(isinstance(f, str) and f.lower() in FORMATS for f in formats):
        raise ConfigError(f"{path}: [options] formats = {formats!r}: choose from {', '.join(FORMATS)}.")
    fetch = FetchSettings(
        timeout=float(values["timeout"]), retries=values["retries"], backoff=float(values["backoff"]),
        host_delay=float(values["host_delay"]), max_bytes=int(values["max_article_mb"] * 1024 * 1024),
        max_redirects=values["max_redirects"], max_items=values["max_items"],
        **({"user_agent": values["user_agent"]} if values["user_agent"] else {}),
    )
    return JobOptions(
        formats=tuple(dict.fromkeys(f.lower() for f in formats)), min_outlets=values["min_outlets"],
        window_hours=float(values["window_hours"]) or None, model=values["model"],
        group_model=values["group_model"],
        threshold=None if values["threshold"] is None else float(values["threshold"]),
        group_threshold=float(values["group_threshold"]), page_size=values["page_size"],
        min_confidence=float(values["min_confidence"]), base_url=values["base_url"],
        feed_entries=values["feed_entries"], title=values["title"],
        fetch=fetch, article_seconds=float(values["article_seconds"]),
    )


def _page_size(value: str, path: Path) -> str:
    """The CLI's `--page-size` rule (keywords and lengths only): the value goes into the PDF's CSS."""
    try:
        return check_page_size(value)
    except ConfigError as exc:
        hint = str(exc).removeprefix(f"--page-size {' '.join(value.split())!r}: ")
        raise ConfigError(f"{path}: [options] page_size = {value!r}: {hint}") from exc


def _load_source(entry: Any, number: int, path: Path, base: Path) -> Source:
    where = f"{path}: [[sources]] entry {number}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} is not a table.")
    _check_keys(entry, SOURCE_KEYS, where, "key")
    outlet = entry.get("outlet")
    if not isinstance(outlet, str) or not outlet.strip():
        raise ConfigError(f"{where} has no 'outlet'. Name the outlet, e.g. outlet = \"Kyiv Daily Wire\".")
    kinds = [k for k in SOURCE_KINDS if k in entry]
    if len(kinds) != 1:
        raise ConfigError(f"{where} ({outlet}) needs exactly one of 'feed', 'url' or 'folder', got "
                          f"{', '.join(kinds) or 'none'}.")
    kind = kinds[0]
    location = _string(entry[kind], f"{where}: '{kind}'")
    if kind == "folder":
        location = str((base / location).resolve())
    elif not re.match(r"^https?://[^/\s]+", location):
        raise ConfigError(f"{where}: '{kind}' = {location!r} is not an http(s) URL.")
    language = entry.get("language")
    if language is not None and (not isinstance(language, str) or not language.strip()):
        raise ConfigError(f"{where}: 'language' must be a language code such as \"en\".")
    return Source(outlet=outlet.strip(), kind=kind, location=location, language=language)


_INTERVAL = re.compile(r"(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)", re.I)
_UNIT = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    """'30s', '15m', '1h', '1d', '1h30m' -> seconds."""
    value = text.strip().lower()
    parts = _INTERVAL.findall(value)
    if not value or _INTERVAL.sub("", value).strip() or not parts:
        raise ConfigError(f"--every {text!r}: not an interval. Use a number and a unit: 30s, 15m, 1h, 1d.")
    seconds = sum(float(n) * _UNIT[u] for n, u in parts)
    if seconds < 1:
        raise ConfigError(f"--every {text!r}: must be at least 1 second.")
    return seconds


# ------------------------------------------------------------------------------- story comparison

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


# ------------------------------------------------------------------------------------------ runs

@dataclass(slots=True)
class RunResult:
    run_id: int
    status: str  # ok | partial | interrupted
    fetched: int = 0
    not_modified: int = 0
    new_articles: int = 0
    new_versions: int = 0
    stories_changed: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        if self.status == "interrupted":
            return EXIT_INTERRUPTED
        return EXIT_SOURCES_FAILED if self.errors else EXIT_OK


Notify = Callable[[str], None]


def run_job(job: Job, *, should_stop: Callable[[], bool] = lambda: False,
            map_fn: Callable[..., Iterable[StoryResult]] = map,
            notify: Notify | None = None) -> RunResult:
    """One run of a job. Raises StoreLockedError (exit 3) when another run holds the lock."""
    from compare.runs.store import JobLock, Store

    say = notify or (lambda message: None)
    clock = time.perf_counter()
    with JobLock(job.store), Store(job.store) as store:
        result = RunResult(store.start_run(), "running")
        say(f"run {result.run_id}: started")
        try:
            stopped = _fetch_all(job, store, result, should_stop, say)
            if not stopped:
                _group_new(job, store, say)
                stopped = _publish(job, store, result, should_stop, map_fn, say)
        except BaseException as exc:  # leave a truthful run record, then let the CLI report it
            if store.conn.in_transaction:
                store.conn.execute("ROLLBACK")
            failed = isinstance(exc, Exception)
            result.errors.append({"outlet": "-", "source": "-", "url": "-",
                                  "error": f"run {'failed' if failed else 'interrupted'}: {type(exc).__name__}: "
                                           f"{str(exc)[:200]}"})
            with store.transaction():
                store.update_run(result.run_id, status="failed" if failed else "interrupted",
                                 finished_at=_now(), errors=result.errors)
            raise
        result.status = "interrupted" if stopped else ("partial" if result.errors else "ok")
        result.seconds = round(time.perf_counter() - clock, 3)
        with store.transaction():
            store.update_run(result.run_id, status=result.status, finished_at=_now(),
                             errors=result.errors)  # with any article set aside while publishing
    return result


def _checkpoint(name: str) -> None:
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _now() -> str:
    from compare.runs.store import now_iso

    return now_iso()


def _fetch_all(job: Job, store: Any, result: RunResult, should_stop: Callable[[], bool], say: Notify) -> bool:
    from compare.runs.fetch import Fetcher, fetch_source

    since = None
    if job.options.window_hours:
        since = (datetime.now(UTC) - timedelta(hours=job.options.window_hours)).isoformat().replace("+00:00", "Z")
    with Fetcher(job.options.fetch) as fetcher:
        for number, source in enumerate(job.sources, start=1):
            if should_stop():
                return True
            with store.transaction():
                source_id = store.upsert_source(source.kind, source.location, source.outlet, source.language)
            got = fetch_source(source, fetcher, validators=store.validators,
                               known_urls=partial(store.source_article_urls, source_id, since),
                               should_stop=should_stop)
            states: Counter[str] = Counter()
            with store.transaction():  # a source's articles and its validators land together
                for article in got.articles:
                    _, state = store.save_article(
                        url=article.url, source_id=source_id, outlet=article.outlet, title=article.title,
                        published=article.published, language=article.language, text=article.text,
                        content_hash=article.content_hash, fetched_at=_now())
                    states[state] += 1
                    if article.etag or article.last_modified:
                        store.save_validators(article.url, article.etag, article.last_modified, 200)
                for url, (etag, modified, status) in got.validators.items():
                    store.save_validators(url, etag, modified, status)
                result.fetched += got.fetched
                result.not_modified += len(got.not_modified)
                result.new_articles += states["new"]
                result.new_versions += states["changed"]
                result.errors += got.errors
                store.update_run(result.run_id, fetched=result.fetched, not_modified=result.not_modified,
                                 new_articles=result.new_articles, new_versions=result.new_versions,
                                 errors=result.errors)
                _checkpoint(f"source-{number}-commit")
            _checkpoint(f"source-{number}")
            say(f"{source.outlet}: {got.fetched} fetched, {len(got.not_modified)} not modified, "
                f"{states['new']} new, {states['changed']} changed, {len(got.errors)} failed")
    return should_stop()


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _group_new(job: Job, store: Any, say: Notify) -> None:
    """Give every article without a story one: join the most similar open story or start one."""
    from compare.embed.backends import EmbeddingCache, get_embedder
    from compare.runs.group import GroupItem, GroupSettings, StoryState, assign, lead_anchors, lead_text

    fresh = store.ungrouped_articles()
    if not fresh:
        return
    embedder = get_embedder(job.options.group_model)
    cache = EmbeddingCache(job.store)

    def items_for(articles: Sequence[Any]) -> list[GroupItem]:
        """Grouping items; vectors from the embedding cache, anchors from the store when computed before."""
        leads, keys = [], []
        for article in articles:
            latest = store.latest_version(article["id"])
            leads.append(lead_text(latest["title"], latest["text"]))
            keys.append((hashlib.sha256(leads[-1].encode()).hexdigest(), (article["language"] or "en")[:2]))
        vectors = cache.encode(embedder, leads) if leads else np.zeros((0, 1))
        known = store.lead_anchors(keys)
        computed = {key: lead_anchors(lead, language=key[1]) for lead, key in zip(leads, keys, strict=True)
                    if key not in known}
        if computed:
            with store.transaction():
                store.save_lead_anchors(computed)
        anchors = {**known, **computed}
        return [GroupItem(str(a["id"]), _parse_time(a["published"] or a["first_seen"]), vectors[n],
                          anchors[keys[n]]) for n, a in enumerate(articles)]

    settings = GroupSettings(threshold=job.options.group_threshold, window_hours=job.options.window_hours)
    new_items = items_for(fresh)
    stories = store.stories()
    members = {story["id"]: store.story_members(story["id"]) for story in stories}
    member_items = iter(items_for([m for story in stories for m in members[story["id"]]]))  # one batch
    states = []
    for story in stories:
        state = StoryState(story["id"])
        for _ in members[story["id"]]:
            state.add(next(member_items))
        states.append(state)
    by_key = {str(a["id"]): a for a in fresh}
    titles = {str(a["id"]): store.latest_version(a["id"])["title"] or a["title"] for a in fresh}
    taken: set[str] = {s.story_key for s in states}

    def new_story_id(item: GroupItem) -> str:
        article = by_key[item.key]
        base = _slug(titles[item.key] or article["outlet"])[:48].strip("-") or "story"
        digest = hashlib.sha1(article["url"].encode()).hexdigest()
        for size in range(6, 41, 2):
            candidate = f"{base}-{digest[:size]}"
            if candidate not in taken:
                taken.add(candidate)
                return candidate
        raise CompareError(f"story id collision for {article['url']}")  # pragma: no cover

    placed = assign(new_items, states, settings, new_key=new_story_id)
    at = _now()
    with store.transaction():
        for article_key, story_id, started in placed:
            if started:
                store.add_story(story_id, titles[article_key] or story_id, at)
            store.add_member(story_id, int(article_key), at)
        _checkpoint("group-commit")
    started_count = sum(1 for _, _, s in placed if s)
    say(f"grouping: {len(placed)} new articles, {started_count} new stories")


def _slug(text: str) -> str:
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


def _publish(job: Job, store: Any, result: RunResult, should_stop: Callable[[], bool],
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
        _checkpoint(f"report-files-{number}")
        result.stories_changed.append(story_result.story_id)
        with store.transaction():
            store.save_report(story_id=story_result.story_id, input_hash=story_result.input_hash,
                              run_id=result.run_id, updated_at=story_result.updated_at, title=story_result.title,
                              outlets=list(story_result.outlets), counts=story_result.counts,
                              files=sorted(story_result.files))
            store.update_run(result.run_id, stories_changed=result.stories_changed)
        _checkpoint(f"report-{number}")
        if should_stop():
            stopped = True
            break
    index_missing = not (job.output / "index.html").is_file() or not (job.output / "feed.xml").is_file()
    _checkpoint("site")
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
    from compare.embed.backends import EmbeddingCache, get_embedder
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
    return Document(doc_id=f"{_slug(member['outlet'])[:24] or 'outlet'}-{member['id']}",
                    outlet=member["outlet"], text=version["text"], title=version["title"] or member["title"],
                    url=member["url"] if member["url"].startswith(("http://", "https://")) else None,
                    published=member["published"], language=member["language"])


# ------------------------------------------------------------------------------- index and feed

def render_site(job: Job, store: Any) -> dict[str, bytes]:
    """index.html (every story with a report, newest first) and feed.xml (Atom, new or changed reports)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from compare.report.html import templates_dir

    env = Environment(loader=FileSystemLoader(str(templates_dir())), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = _human_time
    main_format = next((f for f in ("html", "pdf", "json") if f in job.options.formats), "json")
    stories = store.current_reports()
    for story in stories:
        story["href"] = f"{story['story_id']}/report.{main_format}"
        story["links"] = [{"format": f, "href": f"{story['story_id']}/report.{f}"} for f in job.options.formats]
    history = store.report_history(job.options.feed_entries)
    seen: set[str] = set()
    entries = []
    for row in history:
        entries.append({**row, "kind": "changed" if row["story_id"] in seen or _older_exists(store, row)
                        else "new", "href": _absolute(job, f"{row['story_id']}/report.{main_format}")})
        seen.add(row["story_id"])
    updated = max((s["updated_at"] for s in stories), default="1970-01-01T00:00:00Z")
    feed_id = "urn:storydiff:" + hashlib.sha1(str(job.output).encode()).hexdigest()[:16]
    context = {"title": job.options.title, "stories": stories, "updated": updated,
               "generator": f"storydiff {__version__}",
               "entries": entries, "feed_id": feed_id, "self_href": _absolute(job, "feed.xml"),
               "index_href": _absolute(job, "index.html")}
    return {
        "index.html": env.get_template("index.html.j2").render(**context).encode("utf-8"),
        "feed.xml": env.get_template("feed.xml.j2").render(**context).encode("utf-8"),
    }


def _human_time(value: str) -> str:
    parsed = _parse_time(value)
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if parsed else value


def _older_exists(store: Any, row: dict[str, Any]) -> bool:
    return store.conn.execute("SELECT 1 FROM reports WHERE story_id = ? AND id < ? LIMIT 1",
                              (row["story_id"], row["id"])).fetchone() is not None


def _absolute(job: Job, relative: str) -> str:
    base = job.options.base_url
    return f"{base.rstrip('/')}/{relative}" if base else relative


# --------------------------------------------------------------------------------------- history

def job_history(job: Job, limit: int | None = 20) -> list[dict[str, Any]]:
    """Past runs, newest first; a run left 'running' by a killed process reads 'interrupted'."""
    from compare.runs.store import JobLock, Store

    if not job.store.exists():
        return []
    busy = JobLock(job.store).is_held_elsewhere()
    with Store(job.store) as store:
        runs = store.runs(limit)
    for n, run in enumerate(runs):
        if run["status"] == "running" and not (busy and n == 0):
            run["status"] = "interrupted"
    return runs


# -------------------------------------------------------------------------------------- schedule

def run_job_on(job: Job, cluster: str | None = None, *, should_stop: Callable[[], bool] = lambda: False,
               notify: Notify | None = None) -> RunResult:
    """`run_job` on the Dask cluster named by `cluster` (the `--cluster` option) or the job's
    `[cluster] address`, in-process when neither names one. Raises ClusterError when it is unreachable."""
    from compare.runs.distributed import Cluster, cluster_address

    say = notify or (lambda message: None)
    address = cluster_address(cluster, None) or job.cluster
    if not address:
        return run_job(job, should_stop=should_stop, notify=say)
    with Cluster(address) as dask_cluster:
        say(f"cluster {address}: {dask_cluster.workers()} workers")
        return run_job(job, should_stop=should_stop, notify=say, map_fn=dask_cluster.map)


def run_schedule(job_path: Path, every: float, *, should_stop: Callable[[], bool],
                 notify: Notify | None = None, max_runs: int | None = None,
                 sleep: Callable[[float], None] = time.sleep, cluster: str | None = None) -> list[RunResult]:
    """Run the job now and then every `every` seconds until `should_stop()`; the job file is re-read each time.

    Each run goes to the Dask cluster `cluster` or the job file's `[cluster] address` (re-read with the
    file), like `storydiff run`; an unreachable cluster fails that run only, and the schedule goes on.
    """
    from compare.runs.store import StoreLockedError

    say = notify or (lambda message: None)
    job = load_job(job_path)
    results: list[RunResult] = []
    runs = 0
    while not should_stop():
        started = time.monotonic()
        try:
            job = load_job(job_path)
        except ConfigError as exc:
            say(f"job file unchanged in effect, new version rejected: {exc}")
        try:
            results.append(run_job_on(job, cluster, should_stop=should_stop, notify=say))
            say(summary_line(results[-1]))
        except StoreLockedError as exc:
            say(f"skipped: {exc}")
        except CompareError as exc:  # one bad run must not end the schedule
            say(f"run failed: {exc}")
        runs += 1
        if max_runs is not None and runs >= max_runs:
            break
        deadline = started + every
        while not should_stop() and time.monotonic() < deadline:
            sleep(min(0.2, max(0.0, deadline - time.monotonic())))
    return results


def summary_line(result: RunResult) -> str:
    return (f"run {result.run_id} {result.status} in {result.seconds:.1f} s: {result.fetched} fetched, "
            f"{result.not_modified} not modified, {result.new_articles} new articles, "
            f"{result.new_versions} changed, {len(result.stories_changed)} stories updated, "
            f"{len(result.errors)} errors")
