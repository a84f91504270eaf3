"""Scheduled runs end to end, against HTTP servers on 127.0.0.1 serving the demo site and fixtures.

The same three small stories (a port fire, a tram vote, a storm) from three outlets run through every
test; the comparison model is the packaged MiniLM.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner

from compare.cli.runs import history_command
from compare.errors import ConfigError
from compare.runs.demo_server import demo_site, serve_in_thread
from compare.runs.schedule import (
    EXIT_SOURCES_FAILED,
    KILL_ENV,
    load_job,
    parse_interval,
    render_site,
    run_job,
    run_schedule,
)
from compare.runs.store import JobLock, StoreLockedError

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
FIRE_PAGE = "harbour/2025/port-fire.html"

pytestmark = pytest.mark.model


@pytest.fixture
def site(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A private copy of the demo site (tests edit it between runs) plus the broken fixtures."""
    root = tmp_path / "site"
    shutil.copytree(demo_site(), root)
    shutil.copytree(FIXTURES / "broken", root / "broken")
    server = serve_in_thread(root)
    server.root_path = root
    yield server
    server.shutdown()
    server.server_close()


def write_job(folder: Path, base: str, *, courier: bool = True, extra: str = "", options: str = "") -> Path:
    """examples/job.toml pointed at this test's server (and at the examples' archive folder)."""
    text = (ROOT / "examples" / "job.toml").read_text("utf-8")
    text = text.replace("http://127.0.0.1:8765", base)
    text = text.replace('folder = "archive/"', f'folder = "{ROOT / "examples" / "archive"}"')
    text = text.replace("host_delay = 0.2", "host_delay = 0\nretries = 0\nbackoff = 0.01\ntimeout = 2" + options)
    text = text.replace("timeout = 10 ", "# timeout = 10 ")
    if not courier:
        text = re.sub(r'\[\[sources\]\]\noutlet = "Valley Courier"\nurl = "[^"]+"\n\n', "", text)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "job.toml"
    path.write_text(text + extra, "utf-8")
    return path


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_ino)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def story_of(job_path: Path, word: str) -> Path:
    (folder,) = [p for p in load_job(job_path).output.iterdir() if p.is_dir() and word in p.name]
    return folder


# --------------------------------------------------------------------------------------- job files

def test_issue_example_job_file_loads_as_written(tmp_path: Path) -> None:
    (tmp_path / "archive").mkdir()
    (tmp_path / "job.toml").write_text('''store = "storydiff.db"
output = "reports"
[options]
formats = ["html", "json"]
min_outlets = 2
[[sources]]
outlet = "Kyiv Daily Wire"
feed = "https://example.org/rss.xml"
[[sources]]
outlet = "Northern Observer"
url = "https://example.org/story.html"
[[sources]]
outlet = "Desk archive"
folder = "archive/"
''')
    job = load_job(tmp_path / "job.toml")
    assert job.store == tmp_path / "storydiff.db" and job.output == tmp_path / "reports"
    assert [(s.kind, s.outlet) for s in job.sources] == [
        ("feed", "Kyiv Daily Wire"), ("url", "Northern Observer"), ("folder", "Desk archive")]
    assert job.sources[2].location == str(tmp_path / "archive")
    assert job.options.formats == ("html", "json") and job.options.min_outlets == 2


@pytest.mark.parametrize(("text", "message"), [
    ('store = "s.db"\nstroe = 1\n[[sources]]\noutlet = "A"\nfeed = "http://a.test/f"\n',
     r"unknown top-level key 'stroe'. Valid: store, output, options, sources"),
    ('[options]\nmin_outlet = 2\n[[sources]]\noutlet = "A"\nfeed = "http://a.test/f"\n',
     r"unknown option 'min_outlet'. Valid: formats, min_outlets"),
    ('[[sources]]\noutlet = "A"\nfeed = "http://a.test/f"\nurl = "http://a.test/u"\n', "exactly one of"),
    ('[[sources]]\noutlet = "A"\nrss = "http://a.test/f"\n', r"unknown key 'rss'. Valid: outlet, feed, url"),
    ('[[sources]]\nfeed = "http://a.test/f"\n', "has no 'outlet'"),
    ('[options]\nformats = ["html", "docx"]\n[[sources]]\noutlet = "A"\nfeed = "http://a.test/f"\n',
     "choose from html, pdf, json"),
    ('[options]\ntimeout = "fast"\n[[sources]]\noutlet = "A"\nfeed = "http://a.test/f"\n', "must be int or float"),
    ('store = "s.db"\n[options\nmin_outlets = 2\n', r"invalid TOML: .*line 2, column"),
    ('store = "s.db"\n', "no \\[\\[sources\\]\\]"),
    ('[options]\npage_size = "A4; } body { color: red"\n[[sources]]\noutlet = "A"\nfeed = "http://a.test/f"\n',
     r"job.toml: \[options\] page_size = 'A4; \} body \{ color: red': not a CSS page size"),
    ('[cluster]\naddress = 8786\n[[sources]]\noutlet = "A"\nfeed = "http://a.test/f"\n',
     r"job.toml: \[cluster\] address = 8786: must be a string"),
])
def test_bad_job_files_are_config_errors_naming_the_problem(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "job.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_job(tmp_path / "job.toml")


def test_bad_job_file_exits_with_code_2(tmp_path: Path) -> None:
    (tmp_path / "job.toml").write_text('[options]\nbogus = 1\n')
    proc = subprocess.run([sys.executable, "-m", "compare", "run", str(tmp_path / "job.toml")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert "unknown option 'bogus'" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [["run"], ["schedule", "--every", "1h", "--max-runs", "1"]])
def test_job_file_page_size_is_checked_like_the_cli_option(tmp_path: Path, command: list[str]) -> None:
    """The page size goes into the PDF stylesheet: a job file must not get past the rule --page-size has."""
    job = tmp_path / "job.toml"
    job.write_text('[options]\nformats = ["pdf"]\npage_size = "A4 } @import url(http://x.test/a.css)"\n'
                   '[[sources]]\noutlet = "A"\nfeed = "http://127.0.0.1:9/rss.xml"\n')
    proc = subprocess.run([sys.executable, "-m", "compare", *command, str(job)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(job) in lines[0] and "page_size" in lines[0] and "not a CSS page size" in lines[0]
    assert not (tmp_path / "storydiff.db").exists()


def test_job_file_page_size_is_normalised_like_the_cli_option(tmp_path: Path) -> None:
    (tmp_path / "job.toml").write_text('[options]\npage_size = "letter   portrait"\n'
                                       '[[sources]]\noutlet = "A"\nfeed = "http://a.test/f"\n')
    assert load_job(tmp_path / "job.toml").options.page_size == "letter portrait"


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("15m", 900), ("1h", 3600), ("1d", 86400),
                                                ("1h30m", 5400), ("2.5m", 150)])
def test_intervals_parse(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "1", "h", "10x", "0s", "-5m"])
def test_bad_intervals_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_interval(text)


# ------------------------------------------------------------------------------------------- runs

def test_first_run_publishes_a_report_per_story_an_index_and_a_feed(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    job_path = write_job(tmp_path / "job", site.base_url)
    result = run_job(load_job(job_path))
    assert result.status == "ok" and result.exit_code == 0 and result.errors == []
    assert result.new_articles == 8 and len(result.stories_changed) == 3
    out = tmp_path / "job" / "reports"
    fire = story_of(job_path, "port-of-marlow")
    assert sorted(p.name for p in fire.iterdir()) == ["report.html", "report.json"]
    report = json.loads((fire / "report.json").read_text())
    assert sorted(d["outlet"] for d in report["documents"]) == ["Harbour Gazette", "Northern Observer",
                                                                "Valley Courier"]
    assert any(d["type"] == "number" for d in report["differences"])  # 12 vs 15 injured
    tram = json.loads((story_of(job_path, "tram") / "report.json").read_text())
    assert "Desk archive" in {d["outlet"] for d in tram["documents"]}

    index = (out / "index.html").read_text()
    assert index.count('<li id="story-') == 3
    assert "http://" not in index and "https://" not in index  # self-contained: nothing to fetch
    assert "Harbour Gazette, Northern Observer, Valley Courier" in index
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo and len(feed.entries) == 3
    assert all(e.title.startswith("New: ") for e in feed.entries)
    assert not list(out.rglob("*.tmp"))


def test_index_lists_newest_first_and_escapes_titles(tmp_path: Path) -> None:
    class FakeStore:
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE reports (id, story_id)")

        def current_reports(self) -> list[dict[str, Any]]:
            rows = [("old", "2025-01-01T00:00:00Z", "Old <b>story</b>"),
                    ("new", "2025-02-01T00:00:00Z", "New & <script>alert(1)</script>")]
            return [{"id": n, "story_id": s, "updated_at": u, "title": t, "input_hash": "h" * 20,
                     "outlets": ["A <i>", "B"], "counts": {"differences": 2, "by_type": {"number": 2},
                                                           "documents": 2, "changes": 0}}
                    for n, (s, u, t) in enumerate(sorted(rows, key=lambda r: r[1], reverse=True))]

        def report_history(self, limit: int) -> list[dict[str, Any]]:
            return self.current_reports()

    (tmp_path / "job.toml").write_text('[[sources]]\noutlet = "A"\nfeed = "http://a.test/f"\n')
    files = render_site(load_job(tmp_path / "job.toml"), FakeStore())
    index = files["index.html"].decode()
    assert "<script>alert" not in index and "&lt;script&gt;alert(1)&lt;/script&gt;" in index
    assert "A &lt;i&gt;" in index
    assert index.index('id="story-new"') < index.index('id="story-old"')
    feed = feedparser.parse(files["feed.xml"])
    assert not feed.bozo and feed.entries[0].title == "New: New & <script>alert(1)</script>"


def test_rerun_with_nothing_new_fetches_conditionally_and_rewrites_nothing(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    job_path = write_job(tmp_path / "job", site.base_url)
    run_job(load_job(job_path))
    before = snapshot(tmp_path / "job" / "reports")
    seen = len(site.requests)
    second = run_job(load_job(job_path))
    assert second.status == "ok" and second.stories_changed == [] and second.written == []
    assert second.new_articles == 0 and second.new_versions == 0
    assert second.not_modified == 9 and second.fetched == 1  # 2 feeds + 6 pages + 1 page; the local folder
    assert all(r["conditional"] for r in site.requests[seen:])
    assert snapshot(tmp_path / "job" / "reports") == before


def test_changed_article_keeps_both_versions_and_the_report_shows_the_edit(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    job_path = write_job(tmp_path / "job", site.base_url)
    run_job(load_job(job_path))
    fire = story_of(job_path, "port-of-marlow")
    other = story_of(job_path, "storm")
    before_other = snapshot(other)
    shutil.copy(FIXTURES / "harbour-port-fire-v2.html", site.root_path / FIRE_PAGE)

    result = run_job(load_job(job_path))
    assert result.new_versions == 1 and result.stories_changed == [fire.name]
    assert snapshot(other) == before_other
    report = json.loads((fire / "report.json").read_text())
    (history,) = report["versions"]
    assert history["outlet"] == "Harbour Gazette" and history["versions"] == 2
    (change,) = history["changes"]
    assert change["title_after"] == "Port of Marlow fire: police investigate break-in"
    assert any("14 dock workers" in r["after"] and "12 dock workers" in r["before"] for r in change["reworded"])
    assert any("break-in" in text for text in change["added"])
    assert any("Alan Brooks" in text for text in change["removed"])
    html = (fire / "report.html").read_text()
    assert 'id="versions"' in html and "police investigate break-in" in html
    harbour = next(d for d in report["documents"] if d["outlet"] == "Harbour Gazette")
    assert "14 dock workers" in harbour["text"]
    with sqlite3.connect(tmp_path / "job" / "storydiff.db") as db:
        texts = [r[0] for r in db.execute("SELECT v.text FROM article_versions v JOIN articles a ON "
                                          "a.id = v.article_id WHERE a.url LIKE '%port-fire.html' "
                                          "AND a.outlet = 'Harbour Gazette' ORDER BY v.seq")]
    assert len(texts) == 2 and "12 dock workers" in texts[0] and "14 dock workers" in texts[1]
    feed = feedparser.parse((tmp_path / "job" / "reports" / "feed.xml").read_bytes())
    assert feed.entries[0].title.startswith("Updated: ") and len(feed.entries) == 4


def test_new_outlet_joins_an_existing_story(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run_job(load_job(write_job(tmp_path / "job", site.base_url, courier=False)))
    job_path = write_job(tmp_path / "job", site.base_url, courier=True)
    fire = story_of(job_path, "port-of-marlow")
    before = json.loads((fire / "report.json").read_text())
    assert len(before["documents"]) == 2

    result = run_job(load_job(job_path))
    assert result.new_articles == 1 and result.stories_changed == [fire.name]
    after = json.loads((fire / "report.json").read_text())
    assert "Valley Courier" in {d["outlet"] for d in after["documents"]}
    assert len([p for p in fire.parent.iterdir() if p.is_dir()]) == 3  # joined, did not start a story


def test_failing_sources_are_recorded_and_the_run_goes_on(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base = site.base_url
    extra = "".join(f'\n[[sources]]\noutlet = "{name}"\n{kind} = "{base}/{path}"\n' for name, kind, path in [
        ("Slow Times", "feed", "_slow/3/harbour/rss.xml"),
        ("Gone Daily", "url", "_status/404"),
        ("Crash Herald", "feed", "_status/500"),
        ("Broken Feed", "feed", "broken/malformed.xml"),
        ("Picture Post", "url", "_bytes/500"),
        ("Empty Page", "url", "broken/empty.html"),
    ])
    job_path = write_job(tmp_path / "job", base, extra=extra)
    result = run_job(load_job(job_path))
    assert result.status == "partial" and result.exit_code == EXIT_SOURCES_FAILED
    failed = {e["outlet"]: e["error"] for e in result.errors}
    assert set(failed) == {"Slow Times", "Gone Daily", "Crash Herald", "Broken Feed", "Picture Post", "Empty Page"}
    assert "timed out" in failed["Slow Times"] and "HTTP 404" in failed["Gone Daily"]
    assert "HTTP 500" in failed["Crash Herald"] and "not a valid RSS" in failed["Broken Feed"]
    assert "not an HTML page" in failed["Picture Post"] and "no article text" in failed["Empty Page"]
    assert len(result.stories_changed) == 3  # the good sources were compared and published

    runner = CliRunner()
    listed = runner.invoke(history_command, [str(job_path), "--json"])
    assert listed.exit_code == 0
    (run,) = json.loads(listed.output)
    assert run["status"] == "partial" and len(run["errors"]) == 6 and len(run["stories_changed"]) == 3
    text = runner.invoke(history_command, [str(job_path)]).output
    assert "partial" in text and "error: Gone Daily: " in text


def test_second_concurrent_run_refuses_with_exit_code_3(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    job_path = write_job(tmp_path / "job", site.base_url)
    job = load_job(job_path)
    with JobLock(job.store):
        with pytest.raises(StoreLockedError, match="another run of this job is in progress"):
            run_job(job)
        proc = subprocess.run([sys.executable, "-m", "compare", "run", str(job_path)], capture_output=True,
                              text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 3 and "another run of this job is in progress" in proc.stderr
    assert not job.output.exists()  # the refused run did nothing


# ------------------------------------------------------------------------------ kill and resume

def normalised_state(folder: Path) -> dict[str, Any]:
    """Store rows and report files, minus what legitimately differs between two runs: clock times."""
    stamp = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d| UTC)?")
    with sqlite3.connect(folder / "storydiff.db") as db:
        state: dict[str, Any] = {
            "articles": db.execute("SELECT url, outlet, title, published, language FROM articles "
                                   "ORDER BY url").fetchall(),
            "versions": db.execute("SELECT a.url, v.seq, v.content_hash FROM article_versions v JOIN articles a "
                                   "ON a.id = v.article_id ORDER BY a.url, v.seq").fetchall(),
            "stories": db.execute("SELECT id, title FROM stories ORDER BY id").fetchall(),
            "members": db.execute("SELECT m.story_id, a.url FROM story_members m JOIN articles a ON "
                                  "a.id = m.article_id ORDER BY 1, 2").fetchall(),
            "reports": db.execute("SELECT story_id, input_hash, outlets, counts, files FROM reports "
                                  "ORDER BY story_id, id").fetchall(),
            "http_cache": db.execute("SELECT url, etag FROM http_cache ORDER BY url").fetchall(),
        }
    files = {}
    for path in sorted((folder / "reports").rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text("utf-8")
        if path.suffix == ".json":
            data = json.loads(text)
            data.pop("timings", None)
            data.pop("created", None)
            text = json.dumps(data, sort_keys=True)
        text = re.sub(r"urn:storydiff:[0-9a-f]{16}", "<feed-id>", text)  # derived from the output path
        files[str(path.relative_to(folder))] = stamp.sub("<time>", text)
    state["files"] = files
    return state


def cli_run(job_path: Path, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STORYDIFF_CACHE": ""}
    env.pop(KILL_ENV, None)
    if kill_at:
        env[KILL_ENV] = kill_at
    return subprocess.run([sys.executable, "-m", "compare", "run", "--quiet", str(job_path)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


@pytest.mark.slow
def test_killed_runs_resume_to_the_same_store_and_reports(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reference = write_job(tmp_path / "reference", site.base_url)
    assert cli_run(reference).returncode == 0
    expected = normalised_state(tmp_path / "reference")
    assert len(expected["stories"]) == 3

    # Mid-transaction while storing a source, inside the grouping transaction, and between a story's
    # report files and its record: each SIGKILLed, then run again. (More checkpoints exist: source-N,
    # report-N, site; these three cover a rolled-back fetch, a rolled-back grouping and orphan files.)
    for point in ("source-2-commit", "group-commit", "report-files-2"):
        job_path = write_job(tmp_path / point, site.base_url)
        killed = cli_run(job_path, kill_at=point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-2000:])
        resumed = cli_run(job_path)
        assert resumed.returncode == 0, (point, resumed.stderr[-2000:])
        assert normalised_state(tmp_path / point) == expected, point
        with sqlite3.connect(tmp_path / point / "storydiff.db") as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.slow
def test_run_killed_at_a_random_moment_resumes_cleanly(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    job_path = write_job(tmp_path / "job", site.base_url)
    proc = subprocess.Popen([sys.executable, "-m", "compare", "run", "--quiet", str(job_path)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert cli_run(job_path).returncode == 0
    runs = json.loads(CliRunner().invoke(history_command, [str(job_path), "--json"]).output)
    assert runs[0]["status"] == "ok"
    assert runs[-1]["status"] in ("interrupted", "ok")  # killed mid-way, or it had already finished
    assert len([p for p in (tmp_path / "job" / "reports").iterdir() if p.is_dir()]) == 3


# ------------------------------------------------------------------------------------- schedule

def test_schedule_runs_at_the_interval_until_stopped(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    job_path = write_job(tmp_path / "job", site.base_url)
    messages: list[str] = []
    results = run_schedule(job_path, 1.0, should_stop=lambda: False, notify=messages.append, max_runs=2)
    assert [r.status for r in results] == ["ok", "ok"]
    assert len(results[0].stories_changed) == 3 and results[1].stories_changed == []
    assert any(m.startswith("run 2 ok") for m in messages)


def test_schedule_command_stops_cleanly_on_sigterm(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    job_path = write_job(tmp_path / "job", site.base_url)
    proc = subprocess.Popen([sys.executable, "-m", "compare", "schedule", str(job_path), "--every", "1h"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        db = tmp_path / "job" / "storydiff.db"
        while time.monotonic() < deadline:
            if db.exists():
                with sqlite3.connect(db) as conn:
                    if conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'runs'").fetchone()[0] and \
                            conn.execute("SELECT COUNT(*) FROM runs WHERE status = 'ok'").fetchone()[0]:
                        break
            time.sleep(0.3)
        else:
            pytest.fail("the first scheduled run did not finish")
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "SIGTERM received" in stderr and "schedule stopped after 1 run" in stderr
    assert not JobLock(tmp_path / "job" / "storydiff.db").is_held_elsewhere()


def test_article_over_its_time_budget_is_set_aside_and_retried_next_run(site, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """One article whose analysis stalls is set aside with a log line and a history entry; the other
    stories publish, the article stays in the store, and the next run compares it (issue 16)."""
    import compare.pipeline

    real = compare.pipeline.segment_documents

    def stalling(documents):  # type: ignore[no-untyped-def]
        if any(d.outlet == "Valley Courier" for d in documents):
            time.sleep(120)  # stands in for a pathological article; the budget below interrupts it
        return real(documents)

    monkeypatch.setattr(compare.pipeline, "segment_documents", stalling)
    job_path = write_job(tmp_path / "job", site.base_url, options="\narticle_seconds = 5")
    lines: list[str] = []
    clock = time.monotonic()
    result = run_job(load_job(job_path), notify=lines.append)
    assert time.monotonic() - clock < 120  # interrupted, not waited for
    assert result.status == "partial"
    set_aside = [e for e in result.errors if e.get("kind") == "set_aside"]
    assert set_aside and all(e["outlet"] == "Valley Courier" and "retried next run" in e["error"]
                             for e in set_aside)
    assert sum("set aside" in line for line in lines) == len(set_aside)  # one log line per article
    assert len(result.stories_changed) == 3  # the other articles' stories were published
    fire = story_of(job_path, "port-of-marlow")
    assert "Valley Courier" not in {d["outlet"] for d in json.loads((fire / "report.json").read_text())["documents"]}
    runs = json.loads(CliRunner().invoke(history_command, [str(job_path), "--json"]).output)
    assert any(e.get("kind") == "set_aside" for e in runs[0]["errors"])
    assert "set aside" in CliRunner().invoke(history_command, [str(job_path)]).output

    monkeypatch.setattr(compare.pipeline, "segment_documents", real)
    second = run_job(load_job(job_path))
    assert second.status == "ok" and fire.name in second.stories_changed
    assert "Valley Courier" in {d["outlet"] for d in json.loads((fire / "report.json").read_text())["documents"]}


def test_time_budget_interrupts_work_and_passes_quick_work() -> None:
    from compare.runs.schedule import ArticleOverBudget, time_budget

    with time_budget(5):
        pass
    with pytest.raises(ArticleOverBudget), time_budget(0.05):
        time.sleep(10)
