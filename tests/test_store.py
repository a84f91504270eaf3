"""The SQLite store: migrations, WAL, versions, transactions and the job lock."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compare.errors import StoreError
from compare.runs.store import MIGRATIONS, JobLock, Store, StoreLockedError


def save(store: Store, text: str, url: str = "http://x.test/a") -> tuple[int, str]:
    with store.transaction():
        return store.save_article(url=url, source_id=None, outlet="Outlet", title="T", published=None,
                                  language="en", text=text, content_hash=str(hash(text)), fetched_at="2025-01-01")


def test_new_store_is_wal_with_named_migrations_recorded(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.migrations() == [(v, n) for v, n, _ in MIGRATIONS]
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"sources", "articles", "article_versions", "statements", "embeddings", "stories", "story_members",
            "runs", "reports", "http_cache", "_migrations"} <= tables
    with Store(tmp_path / "s.db") as again:  # reopening applies nothing twice
        assert again.migrate() == []


def test_store_made_before_lead_anchors_gains_the_table_and_keeps_its_rows(tmp_path: Path) -> None:
    """A store of schema 1 (before `0002_lead_anchors`) is upgraded in place on open, data untouched."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE _migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    for statement in MIGRATIONS[0][2].split(";"):
        if statement.strip() and not statement.strip().startswith("--"):
            conn.execute(statement)
    conn.execute("INSERT INTO _migrations VALUES (1, 'initial', 'x')")
    conn.execute("INSERT INTO stories VALUES ('s1', 'Story', 'x', 'x')")
    conn.close()
    with Store(path) as store:
        assert [v for v, _ in store.migrations()] == [v for v, _, _ in MIGRATIONS]
        assert [tuple(r) for r in store.conn.execute("SELECT id FROM stories")] == [("s1",)]
        with store.transaction():
            store.save_lead_anchors({("abc", "en"): frozenset({"e:kyiv", "n:12.0:None"})})
        assert store.lead_anchors([("abc", "en"), ("abc", "ru"), ("def", "en")]) == {
            ("abc", "en"): frozenset({"e:kyiv", "n:12.0:None"})}


def test_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.conn.execute("INSERT INTO _migrations VALUES (999, 'future', 'x')")
    with pytest.raises(StoreError, match="newer"):
        Store(tmp_path / "s.db")


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "s.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable storydiff store"):
        Store(tmp_path / "s.db")


def test_changed_content_keeps_every_version(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        first = save(store, "one")
        same = save(store, "one")
        changed = save(store, "two")
        back = save(store, "one")  # reverted: a third version, not a lookup of the first
        assert [first[1], same[1], changed[1], back[1]] == ["new", "unchanged", "changed", "changed"]
        assert [v["text"] for v in store.versions(first[0])] == ["one", "two", "one"]


def test_failed_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(RuntimeError), store.transaction():
            store.save_article(url="http://x.test/a", source_id=None, outlet="O", title="T", published=None,
                               language=None, text="t", content_hash="h", fetched_at="2025-01-01")
            raise RuntimeError("boom")
        assert store.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 0


def test_second_lock_on_the_same_job_is_refused(tmp_path: Path) -> None:
    with JobLock(tmp_path / "s.db"), pytest.raises(StoreLockedError, match="another run"):
        JobLock(tmp_path / "s.db").acquire()
    with JobLock(tmp_path / "s.db"):  # released on exit
        pass


def test_lock_of_a_killed_process_is_released(tmp_path: Path) -> None:
    code = (f"from compare.runs.store import JobLock; JobLock({str(tmp_path / 's.db')!r}).acquire(); "
            "print('locked', flush=True); import time; time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        assert JobLock(tmp_path / "s.db").is_held_elsewhere()
        with pytest.raises(StoreLockedError, match=f"pid {holder.pid}"):
            JobLock(tmp_path / "s.db").acquire()
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.05)
    with JobLock(tmp_path / "s.db"):
        pass


def test_writers_wait_for_each_other_instead_of_failing(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        other = sqlite3.connect(tmp_path / "s.db", timeout=5)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO stories VALUES ('x', 't', 'a', 'a')")
        other.commit()
        other.close()
        assert [s["id"] for s in store.stories()] == ["x"]
