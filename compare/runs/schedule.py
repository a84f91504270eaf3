"""Scheduled runs: a job file names sources; each run fetches, groups, compares and publishes.

A run is a sequence of small steps, each committed to the job's SQLite store on its own (see
`compare.runs.store`): register sources; per source, fetch and store its articles; group new articles into
stories; compare every story whose inputs changed and write its reports; write `index.html` and
`feed.xml`. A run killed anywhere resumes from the last committed step, and because grouping and
report inputs are computed from the store in a fixed order, the result is the one an uninterrupted run
gives. A story is recomputed only when its input hash (member articles, their versions, the settings)
differs from the one of its last report, so a run with nothing new rewrites nothing.

The steps live in their modules: `job` (the job file), `stories` (per-story comparison jobs, version
changes), `publish` (reports), `site` (index.html, history), `result` (the run's result, exit codes).

Per-story comparison goes through `compare_stories(jobs, settings, map_fn=map)`: the jobs carry
everything a worker needs (documents and precomputed statement vectors), so a distributed map can be
swapped in while this process stays the only writer of the store.

Exit codes of `storydiff run`: 0 every source fetched; 4 the run finished but some source failed
(listed in the run record and on stderr); 2 the job file is invalid; 3 another run of this job holds
the lock; 130 interrupted (SIGINT/SIGTERM) between steps; 1 any other error (store unusable, ...).
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from compare.errors import CompareError, ConfigError
from compare.runs.job import Job

# What callers import from here, as before the split (issue 17): each lives in its module.
from compare.runs.job import load_job as load_job
from compare.runs.job import parse_interval as parse_interval
from compare.runs.publish import ArticleOverBudget as ArticleOverBudget
from compare.runs.publish import publish_stories, story_slug
from compare.runs.publish import time_budget as time_budget
from compare.runs.result import EXIT_CONFIG as EXIT_CONFIG
from compare.runs.result import EXIT_ERROR as EXIT_ERROR
from compare.runs.result import EXIT_INTERRUPTED as EXIT_INTERRUPTED
from compare.runs.result import EXIT_LOCKED as EXIT_LOCKED
from compare.runs.result import EXIT_OK as EXIT_OK
from compare.runs.result import EXIT_SOURCES_FAILED as EXIT_SOURCES_FAILED
from compare.runs.result import KILL_ENV as KILL_ENV
from compare.runs.result import Notify, RunResult, checkpoint
from compare.runs.site import parse_time
from compare.runs.site import render_site as render_site
from compare.runs.stories import StoryResult
from compare.runs.stories import compare_stories as compare_stories

# ------------------------------------------------------------------------------------------ runs


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
                stopped = publish_stories(job, store, result, should_stop, map_fn, say)
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
                checkpoint(f"source-{number}-commit")
            checkpoint(f"source-{number}")
            say(f"{source.outlet}: {got.fetched} fetched, {len(got.not_modified)} not modified, "
                f"{states['new']} new, {states['changed']} changed, {len(got.errors)} failed")
    return should_stop()


def _group_new(job: Job, store: Any, say: Notify) -> None:
    """Give every article without a story one: join the most similar open story or start one."""
    from compare.embed.backends import get_embedder
    from compare.embed.cache import EmbeddingCache
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
        return [GroupItem(str(a["id"]), parse_time(a["published"] or a["first_seen"]), vectors[n],
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
        base = story_slug(titles[item.key] or article["outlet"])[:48].strip("-") or "story"
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
        checkpoint("group-commit")
    started_count = sum(1 for _, _, s in placed if s)
    say(f"grouping: {len(placed)} new articles, {started_count} new stories")


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
