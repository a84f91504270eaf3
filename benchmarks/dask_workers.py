"""Per-story comparison in-process vs on a local Dask cluster of 1 and 2 worker processes.

The same stories (the demo corpora and fixtures, repeated) go through `compare.runs.distributed` with the
builtin `map` and with a `LocalCluster` of 1 and then 2 single-threaded workers. Each cluster is warmed
first (one task per worker loads the model), so the figure is steady-state throughput, not start-up.
Results are checked to give the same JSON report as the in-process run (clock times aside).

Run alone: .venv/bin/python benchmarks/dask_workers.py  (prints JSON)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
COPIES = 2  # 12 comparisons: the three modes plus two cluster start-ups fit the bench's 120 s on 2 cores


def stories():  # type: ignore[no-untyped-def]
    from compare.corpus.story import load_story

    paths = [p for p in sorted((ROOT / "corpora").iterdir()) if (p / "story.toml").is_file()]
    paths += [p for p in sorted((ROOT / "tests" / "fixtures").iterdir()) if (p / "story.toml").is_file()]
    return [load_story(p) for p in paths] * COPIES


def _key(comparison) -> str:  # type: ignore[no-untyped-def]
    """The JSON report without wall-clock facts: what a reader gets. (Raw float scores may differ in the
    last bits: Dask workers run torch with one thread, the in-process run with two.)"""
    from compare.report.render import to_json

    document = to_json(comparison)
    document.pop("created", None)
    document.pop("timings", None)
    return json.dumps(document, sort_keys=True)


def run() -> dict:
    from distributed import LocalCluster

    from compare.config import Settings
    from compare.runs.distributed import Cluster, compare_stories_on, compare_task

    items = stories()
    settings = Settings(model="minilm", formats=("json",))
    compare_stories_on(map, items[:1], settings)  # load the model in this process
    start = time.perf_counter()
    local = compare_stories_on(map, items, settings)
    result: dict = {"stories": len(items), "in_process_s": time.perf_counter() - start}
    for workers in (1, 2):
        start = time.perf_counter()
        with (LocalCluster(n_workers=workers, processes=True, threads_per_worker=1, dashboard_address=None,
                           silence_logs=40) as lc, Cluster(lc.scheduler_address) as cluster):
            cluster.client.run(compare_task, items[0], settings)  # every worker loads the model once
            result[f"workers_{workers}_startup_s"] = time.perf_counter() - start
            start = time.perf_counter()
            remote = compare_stories_on(cluster.map, items, settings)
            result[f"workers_{workers}_s"] = time.perf_counter() - start
            differing = sorted({a.story_id for a, b, c in zip(items, remote, local, strict=True) if _key(b) != _key(c)})
            result[f"workers_{workers}_identical"] = not differing
            if differing:
                result[f"workers_{workers}_differing"] = differing
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
