"""Scale-out on an existing Dask distributed cluster, behind the same `map` seam a local run uses.

A scheduled run compares many stories; each comparison is independent and pure (story + settings in,
frozen `Comparison` out), so the coordinator hands them to Dask workers with `DaskMap` and writes the
results to its SQLite store itself: workers never touch the store. Without a cluster address nothing
here is imported and everything runs in-process exactly as before.

Why Dask and not a home-made pool: the scheduler already retries tasks whose worker died
(`distributed.scheduler.allowed-failures`), re-runs tasks that raised (`retries=`), and moves work
to workers that join later. Results come back in input order, so a distributed run is the same
sequence of comparisons as a local one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from compare.errors import CompareError, ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client

    from compare.config import Settings
    from compare.corpus.base import Story
    from compare.model import Comparison

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_RETRIES = 3  # a task that raised is re-run this often before the run fails
CONNECT_TIMEOUT_S = 20.0
EMBED_BATCH = 1024  # sentences per embedding task: amortises a round trip; most stories fit in one


class ClusterError(CompareError):
    """The Dask cluster cannot be reached or lost every worker."""


# ------------------------------------------------------------------------------------ addresses

def cluster_address(option: str | None = None, job: Mapping[str, Any] | None = None) -> str | None:
    """The scheduler address: `--cluster` wins over `[cluster] address` in the job file; None = local.

    Accepts `tcp://HOST:PORT`, `HOST:PORT` (tcp assumed) or `tls://...`; an empty value means local.
    """
    value: Any = option
    if not value and job:
        section = job.get("cluster")
        if section is not None and not isinstance(section, Mapping):
            raise ConfigError("[cluster]: must be a table. Write [cluster] then address = \"tcp://HOST:8786\".")
        value = (section or {}).get("address")
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"[cluster] address = {value!r}: must be a string like \"tcp://HOST:8786\".")
    if not value or not str(value).strip():
        return None
    value = str(value).strip()
    if "://" not in value:
        value = f"tcp://{value}"
    scheme, _, rest = value.partition("://")
    if scheme not in ("tcp", "tls", "inproc", "ucx", "ws", "wss") or not rest:
        raise ConfigError(f"cluster address {value!r}: not a Dask scheduler address. Use tcp://HOST:8786.")
    return value


def connect(address: str, *, timeout: float = CONNECT_TIMEOUT_S) -> Client:
    """A Dask client for `address`, or ClusterError with a hint when nobody answers there."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise ClusterError(
            "--cluster: Dask is not installed. pip install 'storydiff[cluster]' on the coordinator and workers."
        ) from exc
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(
            f"cluster {address}: no Dask scheduler answered within {timeout:.0f} s ({type(exc).__name__}). "
            "Start one with `dask scheduler` and workers with `dask worker ADDRESS`."
        ) from exc


# ----------------------------------------------------------------------------------------- map

class DaskMap:
    """A drop-in for the builtin `map` that runs every call as a Dask task and yields results in order.

    All calls are submitted at once (the scheduler balances them over workers); results are fetched one
    by one in input order and released, so the coordinator holds at most what it has not consumed yet.
    A task whose worker dies is re-run elsewhere by the scheduler; one that raised is re-run `retries`
    times; an error that survives is raised here, as the original exception type.
    """

    def __init__(self, client: Client, *, retries: int = DEFAULT_RETRIES) -> None:
        self.client = client
        self.retries = retries

    def __call__(self, fn: Callable[..., R], *iterables: Iterable[Any]) -> Iterator[R]:
        args = [list(it) for it in iterables]
        if not args or not args[0]:
            return iter(())
        futures = self.client.map(fn, *args, retries=self.retries, pure=False)
        return self._results(futures)

    def _results(self, futures: list[Any]) -> Iterator[R]:
        from distributed import KilledWorker

        try:
            for position in range(len(futures)):
                future = futures[position]
                try:
                    yield future.result()
                except KilledWorker as exc:
                    raise ClusterError(
                        f"cluster: task {position + 1} of {len(futures)} was running on workers that died "
                        "repeatedly. Check the workers' memory limit and logs."
                    ) from exc
                futures[position] = None  # let the cluster forget a result we hold now
        finally:
            live = [f for f in futures if f is not None]
            if live:
                self.client.cancel(live)


class Cluster:
    """A connection to a Dask cluster, usable as a context manager; `.map` is the seam's `map_fn`."""

    def __init__(self, address: str, *, retries: int = DEFAULT_RETRIES,
                 timeout: float = CONNECT_TIMEOUT_S) -> None:
        self.address = address
        self.client = connect(address, timeout=timeout)
        self.map = DaskMap(self.client, retries=retries)

    def workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1).get("workers", {}))

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------------------ worker-side tasks

def worker_settings(settings: Settings) -> Settings:
    """Settings as a worker should use them: its own embedding cache, never the coordinator's path.

    The coordinator's cache path may not exist on another machine; a worker keeps its cache where
    `STORYDIFF_CACHE` (or ~/.cache/storydiff) says on that machine. Cached vectors are the stored
    float32 output of the same model, so this changes no result.
    """
    if settings.cache_path is None:
        return settings
    from compare.embed.cache import default_cache_path

    return replace(settings, cache_path=default_cache_path())


def compare_task(story: Story, settings: Settings) -> Comparison:
    """One story compared on a worker (module-level so it pickles by reference)."""
    from compare.pipeline import compare_story

    return compare_story(story, worker_settings(settings))


def compare_stories_on(map_fn: Callable[..., Iterable[Comparison]], stories: Sequence[Story],
                       settings: Settings) -> list[Comparison]:
    """Compare `stories` through any map function (builtin `map` or a `DaskMap`), in input order."""
    return list(map_fn(compare_task, list(stories), [settings] * len(stories)))


def compare_on_cluster(stories: Sequence[Story], settings: Settings, address: str | None, *,
                       retries: int = DEFAULT_RETRIES) -> list[Comparison]:
    """Compare stories on the cluster at `address`, or in-process when `address` is None."""
    if address is None:
        from compare.pipeline import compare_story

        return [compare_story(story, settings) for story in stories]
    with Cluster(address, retries=retries) as cluster:
        return compare_stories_on(cluster.map, stories, settings)


# ------------------------------------------------------------------------------ embedding batches

def _encode_batch(spec: str, texts: list[str]) -> np.ndarray:
    """Worker side: the backend named `spec`, loaded once per worker process, encodes one batch."""
    from compare.embed.backends import get_embedder

    return get_embedder(spec).encode(texts)


class ClusterEmbedder:
    """An `Embedder` whose batches run on Dask workers, so the coordinator never loads the model.

    It has the local backend's `name`, so the embedding cache (kept by the coordinator) is shared with
    local runs and statements already cached never leave the coordinator. Texts go in input order, one
    task per `batch_size` texts: a call of up to `batch_size` texts is exactly the call a local run makes,
    so its vectors are the local ones bit for bit.
    """

    def __init__(self, spec: str, map_fn: DaskMap, *, name: str | None = None, batch_size: int = EMBED_BATCH) -> None:
        from compare.embed.backends import get_embedder
        from compare.embed.common import BACKENDS

        if spec == "auto" or (spec not in BACKENDS and not os.path.isdir(spec)):
            raise ConfigError(f"cluster embedder: {spec!r} must be a backend name or a model folder, not auto.")
        self.spec = spec
        self.name = name or get_embedder(spec).name  # constructing an embedder loads no model
        self.map = map_fn
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        batches = [texts[k:k + self.batch_size] for k in range(0, len(texts), self.batch_size)]
        parts = list(self.map(_encode_batch, [self.spec] * len(batches), batches))
        return np.concatenate(parts).astype(np.float32)


def cluster_embedder(embedder: Any, spec: str, map_fn: Callable[..., Any]) -> Any:
    """`embedder` itself for a local run; with a `DaskMap`, a ClusterEmbedder of the same backend."""
    if not isinstance(map_fn, DaskMap):
        return embedder
    return ClusterEmbedder(spec, map_fn, name=embedder.name)
