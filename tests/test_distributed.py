"""Dask scale-out gives the same comparisons (and reports) as an in-process run, even when a worker dies.

Real clusters on 127.0.0.1: a `LocalCluster` of two worker processes, and a scheduler plus two workers
started with the `dask scheduler` / `dask worker` commands. Small fixture stories, the packaged MiniLM.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from compare.config import Settings  # noqa: E402
from compare.corpus.story import load_story  # noqa: E402
from compare.errors import ConfigError  # noqa: E402
from compare.model import Comparison  # noqa: E402
from compare.runs.distributed import (  # noqa: E402
    Cluster,
    ClusterError,
    cluster_address,
    compare_on_cluster,
    compare_stories_on,
    compare_task,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DASK = Path(sys.executable).parent / "dask"

pytestmark = [pytest.mark.slow, pytest.mark.model]


def stories():
    paths = [FIXTURES / "tiny", FIXTURES / "bridge-story", ROOT / "corpora" / "harbor-strike"]
    return [load_story(p) for p in paths if p.is_dir()]


def settings() -> Settings:
    return Settings(model="minilm", formats=("json", "html"))


def outcome(comparison: Comparison) -> dict:
    """Everything a report or the store is made of, minus wall-clock facts (timings, creation time)."""
    from compare.report.render import render_html, to_json

    document = to_json(comparison)
    document.pop("created", None)
    document.pop("timings", None)
    html = render_html(comparison)
    created = comparison.meta.get("created", "")
    return {"json": json.dumps(document, sort_keys=True), "html": html.replace(created, "") if created else html}


@pytest.fixture(scope="module")
def local_outcomes() -> list[dict]:
    return [outcome(c) for c in compare_on_cluster(stories(), settings(), None)]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


JOB = """store = "storydiff.db"
output = "reports"
{cluster}
[options]
formats = ["html", "json"]
model = "minilm"
group_model = "minilm"
window_hours = 0

[[sources]]
outlet = "Harbour desk"
folder = "{root}/corpora/harbor-strike"

[[sources]]
outlet = "Flood desk"
folder = "{root}/corpora/river-flood"
"""


def write_job(folder: Path, cluster_table: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "job.toml").write_text(JOB.format(root=ROOT, cluster=cluster_table), "utf-8")
    return folder / "job.toml"


def run_job_cli(folder: Path, *args: str, cluster_table: str = "") -> dict:
    """`storydiff run` on the two demo story folders; the store and reports minus clock times."""
    job = write_job(folder, cluster_table)
    proc = subprocess.run([sys.executable, "-m", "compare", "run", "--quiet", str(job), *args],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "STORYDIFF_CACHE": ""},
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    return job_state(folder)


def job_state(folder: Path) -> dict:
    """A job folder's store rows and report files, minus clock times and the feed id."""
    stamp = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d| UTC)?")
    with sqlite3.connect(folder / "storydiff.db") as db:
        state: dict = {
            "stories": db.execute("SELECT id, title FROM stories ORDER BY id").fetchall(),
            "members": db.execute("SELECT story_id, article_id FROM story_members ORDER BY 1, 2").fetchall(),
            "reports": db.execute("SELECT story_id, input_hash, outlets, counts, files FROM reports "
                                  "ORDER BY story_id, id").fetchall(),
        }
    for path in sorted((folder / "reports").rglob("*")):
        if path.is_file():
            text = path.read_text("utf-8")
            if path.suffix == ".json":
                data = json.loads(text)
                data.pop("timings", None)
                text = json.dumps(data, sort_keys=True)
            text = re.sub(r"urn:storydiff:[0-9a-f]{16}", "<feed-id>", text)
            state[str(path.relative_to(folder))] = stamp.sub("<time>", text)
    assert state["reports"], "the job produced no story report"
    return state


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_job_cli(tmp_path_factory.mktemp("local"))


# ------------------------------------------------------------------------------------ unit facts

def test_comparison_survives_pickling_as_workers_return_it(tiny_story: Path) -> None:
    comparison = compare_task(load_story(tiny_story), settings())
    comparison.statement(comparison.statements[0].ref)  # fills the private index in meta
    restored = pickle.loads(pickle.dumps(comparison))
    assert restored.links == comparison.links
    assert restored.differences == comparison.differences
    assert restored.highlights == comparison.highlights
    assert outcome(restored)["json"] == outcome(comparison)["json"]


def test_cluster_option_wins_over_job_file_and_tcp_is_assumed() -> None:
    job = {"cluster": {"address": "tcp://10.0.0.5:8786"}}
    assert cluster_address(None, job) == "tcp://10.0.0.5:8786"
    assert cluster_address("127.0.0.1:9000", job) == "tcp://127.0.0.1:9000"
    assert cluster_address(None, {}) is None
    assert cluster_address("", {"cluster": {"address": ""}}) is None
    with pytest.raises(ConfigError):
        cluster_address(None, {"cluster": {"address": 8786}})
    with pytest.raises(ConfigError):
        cluster_address("http://host:8786", None)


def test_unreachable_scheduler_is_a_one_line_error() -> None:
    with pytest.raises(ClusterError, match="no Dask scheduler answered"):
        Cluster(f"tcp://127.0.0.1:{free_port()}", timeout=2)


def test_builtin_map_is_the_in_process_path(local_outcomes: list[dict]) -> None:
    comparisons = compare_stories_on(map, stories(), settings())
    assert [outcome(c) for c in comparisons] == local_outcomes


# ---------------------------------------------------------------------------------- LocalCluster

def _register_by_value() -> None:
    """Workers cannot import this test module; ship its functions by value."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _die_once(marker: str, story, run_settings):  # type: ignore[no-untyped-def]
    """Kill this worker process the first time any task runs (a worker dying mid-task)."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return compare_task(story, run_settings)
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def test_local_cluster_of_two_workers_matches_in_process_run(local_outcomes: list[dict], local_run: dict,
                                                             tmp_path: Path) -> None:
    from distributed import LocalCluster

    _register_by_value()
    with (LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as lc,
          Cluster(lc.scheduler_address) as cluster):
        assert cluster.workers() == 2
        comparisons = compare_stories_on(cluster.map, stories(), settings())
        assert [outcome(c) for c in comparisons] == local_outcomes

        # A worker dies mid-task: the scheduler re-runs the task elsewhere, nothing changes.
        marker = str(tmp_path / "died")
        items = stories()
        again = list(cluster.map(_die_once, [marker] * len(items), items, [settings()] * len(items)))
        assert Path(marker).exists()
        assert [outcome(c) for c in again] == local_outcomes

        # `storydiff run --cluster`: same store rows and report files as the in-process run.
        assert run_job_cli(tmp_path / "cluster", "--cluster", lc.scheduler_address) == local_run


def test_schedule_sends_its_runs_to_the_cluster_named_in_the_job_file(local_run: dict, tmp_path: Path) -> None:
    """`storydiff schedule` honours `[cluster] address` as `storydiff run` does: the comparisons and
    embedding batches run as tasks on that scheduler, and the store and reports match the local run."""
    from distributed import LocalCluster

    from compare.runs.schedule import run_schedule

    with LocalCluster(n_workers=1, processes=False, threads_per_worker=1, dashboard_address=None) as lc:
        address = lc.scheduler_address
        job = write_job(tmp_path / "scheduled", f'\n[cluster]\naddress = "{address}"\n')
        messages: list[str] = []
        results = run_schedule(job, 3600, should_stop=lambda: False, notify=messages.append, max_runs=1)
        ran = set(lc.scheduler.task_prefixes)
    assert [r.status for r in results] == ["ok"] and results[0].stories_changed
    assert f"cluster {address}: 1 workers" in messages
    assert {"compare_one", "encode_batch"} <= {prefix.lstrip("_") for prefix in ran}
    assert job_state(tmp_path / "scheduled") == local_run


def test_schedule_run_with_an_unreachable_cluster_fails_that_run_and_goes_on(tmp_path: Path) -> None:
    from compare.runs.schedule import run_schedule

    job = write_job(tmp_path / "job", f'\n[cluster]\naddress = "tcp://127.0.0.1:{free_port()}"\n')
    messages: list[str] = []
    start = time.monotonic()
    results = run_schedule(job, 0.5, should_stop=lambda: time.monotonic() - start > 600, notify=messages.append,
                           max_runs=1)
    assert results == [] and any(m.startswith("run failed: cluster tcp://127.0.0.1:") for m in messages)
    assert not (tmp_path / "job" / "reports").exists()


# ------------------------------------------------------------------- dask scheduler / dask worker

def _wait_for_workers(address: str, n: int, deadline: float) -> None:
    from distributed import Client

    with Client(address, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(n, timeout=max(1.0, deadline - time.monotonic()))


def test_separate_scheduler_and_worker_processes_match_and_survive_a_killed_worker(
        local_outcomes: list[dict], local_run: dict, tmp_path: Path) -> None:
    if not DASK.exists():
        pytest.skip(f"{DASK}: the dask command is not installed (pip install 'storydiff[cluster]')")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    logs = [open(tmp_path / f"{name}.log", "w") for name in ("scheduler", "worker1", "worker2")]  # noqa: SIM115
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=logs[0], stderr=subprocess.STDOUT, env=env))
        for log in logs[1:]:
            procs.append(subprocess.Popen(
                [str(DASK), "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-nanny",
                 "--host", "127.0.0.1", "--no-dashboard"],
                stdout=log, stderr=subprocess.STDOUT, env=env))
        _wait_for_workers(address, 2, time.monotonic() + 120)

        comparisons = compare_on_cluster(stories(), settings(), address)
        assert [outcome(c) for c in comparisons] == local_outcomes
        # The job file's [cluster] address, no option: same store and reports as in-process.
        table = f'\n[cluster]\naddress = "{address}"\n'
        assert run_job_cli(tmp_path / "cluster", cluster_table=table) == local_run

        # Kill one worker process for real (no nanny to restart it) while the run is going on:
        # its tasks move to the survivor and the outcome is the same.
        with Cluster(address) as cluster:
            items = stories() * 2
            results = cluster.map(compare_task, items, [settings()] * len(items))
            first = next(results)
            procs[1].kill()
            procs[1].wait(timeout=30)
            rest = list(results)
        assert [outcome(c) for c in [first, *rest]] == local_outcomes * 2
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()
