"""The scheduled-runs store survives SIGKILL at random moments and two runs started at once.

tests/test_schedule.py kills runs at five named checkpoints and once at a fixed time; this file adds
many random kill points. To afford them, runs are forked from a process that already loaded the
models (a fresh `storydiff run` spends most of its time importing and loading), then SIGKILLed after a
random delay and resumed by the next fork, until the job completes. After every kill the store must
pass `PRAGMA integrity_check` and `foreign_key_check`, hold no duplicated article, version or report,
and have lost nothing an earlier kill had already committed; every report file on disk must be whole.
The final state must equal an uninterrupted run's.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
KILL_POINTS = 24
SEED = int(os.environ.get("STORYDIFF_KILL_SEED", "6"))

pytestmark = [pytest.mark.slow, pytest.mark.model,
              pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")]


@pytest.fixture(scope="module")
def schedule():  # type: ignore[no-untyped-def]
    """compare.runs.schedule with its models loaded once, so forked runs start instantly."""
    schedule = pytest.importorskip("compare.runs.schedule")
    from compare.embed.backends import get_embedder

    os.environ["STORYDIFF_CACHE"] = ""
    for spec in ("use", "minilm"):
        embedder = get_embedder(spec)
        if hasattr(embedder, "_load"):
            embedder._load()
    return schedule


@pytest.fixture(scope="module")
def site():  # type: ignore[no-untyped-def]
    from compare.runs.demo_server import demo_site, serve_in_thread

    server = serve_in_thread(demo_site())
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def write_job(folder: Path, base: str) -> Path:
    text = (ROOT / "examples" / "job.toml").read_text("utf-8")
    text = text.replace("http://127.0.0.1:8765", base)
    text = text.replace('folder = "archive/"', f'folder = "{ROOT / "examples" / "archive"}"')
    text = text.replace("host_delay = 0.2", "host_delay = 0\nretries = 0\nbackoff = 0.01\ntimeout = 5")
    text = text.replace("timeout = 10 ", "# timeout = 10 ")
    folder.mkdir(parents=True)
    (folder / "job.toml").write_text(text, "utf-8")
    return folder / "job.toml"


def fork_run(schedule, job_path: Path) -> int:  # type: ignore[no-untyped-def]
    """Start one run in a forked child; returns its pid. The child exits 0 ok, 3 locked, 1 otherwise."""
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 1
        try:
            result = schedule.run_job(schedule.load_job(job_path))
            code = 0 if result.status == "ok" else 1
        except Exception as exc:
            code = 3 if type(exc).__name__ == "StoreLockedError" else 1
        finally:
            os._exit(code)
    return pid


def wait(pid: int, timeout: float = 600) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError("run did not finish")


def state(folder: Path) -> dict[str, Any]:
    """What must never be lost or duplicated, by content (no clock times, no row ids)."""
    db_path = folder / "storydiff.db"
    if not db_path.exists():
        return {"articles": set(), "versions": set(), "members": set(), "reports": set()}
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "reports" not in tables:  # killed before the first migration committed
            return {"articles": set(), "versions": set(), "members": set(), "reports": set()}
        duplicated = db.execute("SELECT article_id, content_hash FROM article_versions GROUP BY 1, 2 "
                                "HAVING COUNT(*) > 1").fetchall()
        assert duplicated == [], f"duplicated versions {duplicated}"
        duplicated = db.execute("SELECT story_id, input_hash FROM reports GROUP BY 1, 2 HAVING COUNT(*) > 1").fetchall()
        assert duplicated == [], f"duplicated reports {duplicated}"
        duplicated = db.execute("SELECT url FROM articles GROUP BY 1 HAVING COUNT(*) > 1").fetchall()
        assert duplicated == [], f"duplicated articles {duplicated}"
        reports = db.execute("SELECT story_id, input_hash, files FROM reports").fetchall()
        result = {
            "articles": set(db.execute("SELECT url FROM articles").fetchall()),
            "versions": set(db.execute("SELECT a.url, v.seq, v.content_hash FROM article_versions v "
                                       "JOIN articles a ON a.id = v.article_id").fetchall()),
            "members": set(db.execute("SELECT m.story_id, a.url FROM story_members m "
                                      "JOIN articles a ON a.id = m.article_id").fetchall()),
            "reports": {(story, digest) for story, digest, _ in reports},
        }
    for story, _, files in reports:  # a recorded report has all its files, and each is whole
        for name in json.loads(files):
            path = folder / "reports" / story / name
            assert path.is_file(), f"report {story} lists {name}, which is missing"
            if name.endswith(".json"):
                json.loads(path.read_text("utf-8"))
            elif name.endswith(".html"):
                assert path.read_text("utf-8").rstrip().endswith("</html>"), path
    return result


def leftovers(folder: Path) -> list[str]:
    return [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name.endswith(".tmp")]


@pytest.fixture(scope="module")
def reference(schedule, site, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("reference")
    job_path = write_job(folder / "job", site)
    started = time.monotonic()
    assert wait(fork_run(schedule, job_path)) == 0
    result = state(folder / "job")
    result["seconds"] = time.monotonic() - started
    assert len(result["reports"]) == 3 and result["versions"]
    return result


def test_random_sigkills_lose_and_duplicate_nothing(schedule, site, reference, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(SEED)
    kills, chains = 0, 0
    # kill times within the first 60% of a full run (a resumed run has less left to do); the floor keeps
    # a very fast machine from killing every run at its start
    longest = max(0.5, reference["seconds"] * 0.6)
    while kills < KILL_POINTS:
        chains += 1
        assert chains <= 60, f"only {kills} kills landed in {chains - 1} runs"  # a guard against looping forever
        folder = tmp_path / f"chain{chains}"
        job_path = write_job(folder / "job", site)
        before = state(folder / "job")
        while True:
            pid = fork_run(schedule, job_path)
            time.sleep(rng.uniform(0.05, longest))
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:  # the run finished before its kill time: this chain is complete
                assert os.waitstatus_to_exitcode(status) == 0
                break
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            kills += 1
            after = state(folder / "job")
            for key in before:
                lost = before[key] - after[key]
                assert not lost, f"kill {kills} lost {key}: {sorted(lost)[:3]}"
            before = after
            if kills >= KILL_POINTS:
                break
        assert wait(fork_run(schedule, job_path)) == 0  # resume to completion
        final = state(folder / "job")
        for key in ("articles", "versions", "members", "reports"):
            assert final[key] == reference[key], key
        assert leftovers(folder / "job" / "reports") == [], "temporary files left in the output folder"
    assert kills >= 20


def test_two_runs_started_at_once_leave_one_consistent_store(schedule, site, reference, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    job_path = write_job(tmp_path / "job", site)
    first, second = fork_run(schedule, job_path), fork_run(schedule, job_path)
    codes = sorted([wait(first), wait(second)])
    assert codes in ([0, 0], [0, 3]), codes  # both ran one after the other, or the second was refused
    final = state(tmp_path / "job")
    for key in ("articles", "versions", "members", "reports"):
        assert final[key] == reference[key], key
    with sqlite3.connect(tmp_path / "job" / "storydiff.db") as db:
        statuses = [row[0] for row in db.execute("SELECT status FROM runs ORDER BY id")]
    assert statuses and all(s == "ok" for s in statuses), statuses
    # A third run finds nothing new and changes nothing.
    assert wait(fork_run(schedule, job_path)) == 0
    assert state(tmp_path / "job") == final
    assert not re.search(r"\.tmp$", " ".join(leftovers(tmp_path / "job")))
