"""The SQLite store behind scheduled runs: what was fetched, how articles changed, stories, runs, reports.

One file per job, WAL mode, schema created by named, versioned migrations (table `_migrations`). Every
change happens in a short explicit transaction (`with store.transaction():`), so a run killed at any
moment leaves the store as it was after its last completed step, and the next run carries on from
there. Only the coordinator writes; comparison workers get plain data and return plain data.

A job is guarded by an advisory lock on `<store>.lock` (fcntl.flock): the kernel drops it when the
process dies, even by SIGKILL, so a crashed run never blocks the next one.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from compare.errors import StoreError

# (version, name, SQL). Never edit a released migration: add a new one.
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "initial", """
        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('feed', 'url', 'folder')),
            location TEXT NOT NULL,
            outlet TEXT NOT NULL,
            language TEXT,
            UNIQUE (kind, location)
        );
        CREATE TABLE http_cache (
            url TEXT PRIMARY KEY,
            etag TEXT,
            last_modified TEXT,
            status INTEGER,
            checked_at TEXT NOT NULL
        );
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            source_id INTEGER REFERENCES sources(id),
            outlet TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            published TEXT,
            language TEXT,
            first_seen TEXT NOT NULL
        );
        CREATE TABLE article_versions (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id),
            seq INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            UNIQUE (article_id, seq)
        );
        CREATE TABLE statements (
            version_id INTEGER NOT NULL REFERENCES article_versions(id),
            idx INTEGER NOT NULL,
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            text TEXT NOT NULL,
            sha TEXT NOT NULL,
            PRIMARY KEY (version_id, idx)
        );
        -- Same layout as compare.embed.backends.EmbeddingCache, which reads and fills it: vectors keyed by
        -- (model, sha256 of the text), so no statement or lead is embedded twice.
        CREATE TABLE IF NOT EXISTS embeddings (
            model TEXT, sha TEXT, dim INTEGER, vector BLOB, PRIMARY KEY (model, sha)
        );
        CREATE TABLE stories (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE story_members (
            story_id TEXT NOT NULL REFERENCES stories(id),
            article_id INTEGER NOT NULL UNIQUE REFERENCES articles(id),
            joined_at TEXT NOT NULL,
            PRIMARY KEY (story_id, article_id)
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running',
            pid INTEGER,
            fetched INTEGER NOT NULL DEFAULT 0,
            not_modified INTEGER NOT NULL DEFAULT 0,
            new_articles INTEGER NOT NULL DEFAULT 0,
            new_versions INTEGER NOT NULL DEFAULT 0,
            stories_changed TEXT NOT NULL DEFAULT '[]',
            errors TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE reports (
            id INTEGER PRIMARY KEY,
            story_id TEXT NOT NULL REFERENCES stories(id),
            input_hash TEXT NOT NULL,
            run_id INTEGER REFERENCES runs(id),
            updated_at TEXT NOT NULL,
            title TEXT NOT NULL,
            outlets TEXT NOT NULL,
            counts TEXT NOT NULL,
            files TEXT NOT NULL
        );
        CREATE INDEX article_versions_by_article ON article_versions(article_id, seq);
        CREATE INDEX reports_by_story ON reports(story_id, id);
    """),
    # Grouping needs every story's member leads each run; their anchors (names, places, numbers from
    # cue detection) are the slow part, so they are kept per lead text: a re-run recomputes none.
    (2, "lead_anchors", """
        CREATE TABLE lead_anchors (
            sha TEXT NOT NULL,
            language TEXT NOT NULL,
            anchors TEXT NOT NULL,
            PRIMARY KEY (sha, language)
        );
    """),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class StoreLockedError(StoreError):
    """Another run of the same job holds the lock: exit code 3."""

    exit_code = 3


class JobLock:
    """Exclusive, non-blocking advisory lock on `<store>.lock`; released on exit or process death."""

    def __init__(self, store_path: Path) -> None:
        self.path = Path(f"{store_path}.lock")
        self._fd: int | None = None

    def acquire(self) -> JobLock:
        import fcntl

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create lock file: {exc.strerror or exc}.") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = ""
            with suppress(OSError, ValueError):
                holder = os.read(fd, 32).decode().strip()
            os.close(fd)
            raise StoreLockedError(
                f"{self.path}: another run of this job is in progress"
                f"{f' (pid {holder})' if holder else ''}. Wait for it to finish; this run did nothing."
            ) from exc
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            import fcntl

            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def is_held_elsewhere(self) -> bool:
        """True when some other process holds the lock right now (for `history`)."""
        import fcntl

        if not self.path.exists():
            return False
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)
        return False

    def __enter__(self) -> JobLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class Store:
    """A job's SQLite file. Use `with store.transaction():` for every write."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.path}: cannot open store: {exc}. Check the 'store' path.") from exc
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.migrate()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise StoreError(f"{self.path}: not a usable storydiff store ({exc}). Point 'store' at a new "
                             "file or restore a backup.") from exc

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error: all of a step or none of it."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # ------------------------------------------------------------------------------- migrations

    def migrate(self) -> list[str]:
        """Apply the migrations this file lacks, each in its own transaction; return their names."""
        self.conn.execute("CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, "
                          "name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        done = {row[0] for row in self.conn.execute("SELECT version FROM _migrations")}
        if done and max(done) > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: store schema version {max(done)} is newer than this storydiff "
                             f"understands ({SCHEMA_VERSION}). Upgrade storydiff.")
        applied = []
        for version, name, sql in MIGRATIONS:
            if version in done:
                continue
            with self.transaction() as conn:
                for statement in _split_sql(sql):
                    conn.execute(statement)
                conn.execute("INSERT INTO _migrations VALUES (?, ?, ?)", (version, name, now_iso()))
            applied.append(f"{version:04d}_{name}")
        return applied

    def migrations(self) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self.conn.execute("SELECT version, name FROM _migrations ORDER BY version")]

    # ---------------------------------------------------------------------------------- sources

    def upsert_source(self, kind: str, location: str, outlet: str, language: str | None) -> int:
        self.conn.execute(
            "INSERT INTO sources (kind, location, outlet, language) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (kind, location) DO UPDATE SET outlet = excluded.outlet, language = excluded.language",
            (kind, location, outlet, language),
        )
        return int(self.conn.execute("SELECT id FROM sources WHERE kind = ? AND location = ?",
                                     (kind, location)).fetchone()[0])

    # ------------------------------------------------------------------------------ HTTP cache

    def validators(self, url: str) -> tuple[str | None, str | None]:
        row = self.conn.execute("SELECT etag, last_modified FROM http_cache WHERE url = ?", (url,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def save_validators(self, url: str, etag: str | None, last_modified: str | None, status: int) -> None:
        self.conn.execute(
            "INSERT INTO http_cache VALUES (?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET "
            "etag = excluded.etag, last_modified = excluded.last_modified, status = excluded.status, "
            "checked_at = excluded.checked_at",
            (url, etag, last_modified, status, now_iso()),
        )

    # -------------------------------------------------------------------------------- articles

    def save_article(self, *, url: str, source_id: int | None, outlet: str, title: str,
                     published: str | None, language: str | None, text: str, content_hash: str,
                     fetched_at: str) -> tuple[int, str]:
        """Store one fetched article; returns (article id, 'new' | 'changed' | 'unchanged')."""
        row = self.conn.execute("SELECT id FROM articles WHERE url = ?", (url,)).fetchone()
        if row is None:
            cur = self.conn.execute(
                "INSERT INTO articles (url, source_id, outlet, title, published, language, first_seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", (url, source_id, outlet, title, published, language, fetched_at))
            article_id = int(cur.lastrowid or 0)
            state = "new"
        else:
            article_id = int(row[0])
            latest = self.latest_version(article_id)
            if latest is not None and latest["content_hash"] == content_hash:
                return article_id, "unchanged"
            state = "changed"
            self.conn.execute("UPDATE articles SET title = ?, published = COALESCE(?, published) WHERE id = ?",
                              (title, published, article_id))
        seq = self.conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM article_versions WHERE article_id = ?",
                                (article_id,)).fetchone()[0]
        self.conn.execute(
            "INSERT INTO article_versions (article_id, seq, content_hash, title, text, fetched_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", (article_id, seq, content_hash, title, text, fetched_at))
        return article_id, state

    def latest_version(self, article_id: int) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM article_versions WHERE article_id = ? ORDER BY seq DESC LIMIT 1",
                                 (article_id,)).fetchone()

    def versions(self, article_id: int) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM article_versions WHERE article_id = ? ORDER BY seq",
                                 (article_id,)).fetchall()

    def article(self, article_id: int) -> sqlite3.Row:
        return self.conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()

    def source_article_urls(self, source_id: int, since: str | None) -> list[str]:
        """URLs of a source's articles first seen since `since`: re-checked while its feed is unchanged."""
        rows = self.conn.execute(
            "SELECT url FROM articles WHERE source_id = ? AND (? IS NULL OR first_seen >= ?) ORDER BY id",
            (source_id, since, since)).fetchall()
        return [r[0] for r in rows]

    def ungrouped_articles(self) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT a.* FROM articles a LEFT JOIN story_members m ON m.article_id = a.id "
            "WHERE m.article_id IS NULL ORDER BY a.id").fetchall()

    def save_statements(self, version_id: int, rows: list[tuple[int, int, int, str, str]]) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO statements (version_id, idx, start, end, text, sha) VALUES (?, ?, ?, ?, ?, ?)",
            [(version_id, *row) for row in rows])

    def has_statements(self, version_id: int) -> bool:
        return self.conn.execute("SELECT 1 FROM statements WHERE version_id = ? LIMIT 1",
                                 (version_id,)).fetchone() is not None

    def lead_anchors(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], frozenset[str]]:
        """Stored anchors of leads, by (sha256 of the lead, language); missing keys are left out."""
        found: dict[tuple[str, str], frozenset[str]] = {}
        wanted = set(keys)
        shas = sorted({sha for sha, _ in wanted})
        for start in range(0, len(shas), 500):
            chunk = shas[start:start + 500]
            rows = self.conn.execute(f"SELECT sha, language, anchors FROM lead_anchors WHERE sha IN "
                                     f"({','.join('?' * len(chunk))})", chunk).fetchall()
            for sha, language, anchors in rows:
                if (sha, language) in wanted:
                    found[(sha, language)] = frozenset(json.loads(anchors))
        return found

    def save_lead_anchors(self, items: dict[tuple[str, str], frozenset[str]]) -> None:
        """Remember computed lead anchors (derived data: any process may write the same rows)."""
        self.conn.executemany("INSERT OR IGNORE INTO lead_anchors (sha, language, anchors) VALUES (?, ?, ?)",
                              [(sha, lang, json.dumps(sorted(a))) for (sha, lang), a in items.items()])

    # --------------------------------------------------------------------------------- stories

    def stories(self) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM stories ORDER BY created_at, id").fetchall()

    def story_members(self, story_id: str) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT a.* FROM story_members m JOIN articles a ON a.id = m.article_id WHERE m.story_id = ? "
            "ORDER BY a.id", (story_id,)).fetchall()

    def add_story(self, story_id: str, title: str, at: str) -> None:
        self.conn.execute("INSERT INTO stories (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
                          (story_id, title, at, at))

    def add_member(self, story_id: str, article_id: int, at: str) -> None:
        self.conn.execute("INSERT INTO story_members (story_id, article_id, joined_at) VALUES (?, ?, ?)",
                          (story_id, article_id, at))
        self.conn.execute("UPDATE stories SET updated_at = MAX(updated_at, ?) WHERE id = ?", (at, story_id))

    def story_id_taken(self, story_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM stories WHERE id = ?", (story_id,)).fetchone() is not None

    # ------------------------------------------------------------------------------------ runs

    def start_run(self) -> int:
        with self.transaction() as conn:
            cur = conn.execute("INSERT INTO runs (started_at, pid) VALUES (?, ?)", (now_iso(), os.getpid()))
        return int(cur.lastrowid or 0)

    def update_run(self, run_id: int, **fields: Any) -> None:
        """Set run columns; lists are stored as JSON. Call inside a transaction."""
        if not fields:
            return
        values = [json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v for v in fields.values()]
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self.conn.execute(f"UPDATE runs SET {assignments} WHERE id = ?", [*values, run_id])

    def run(self, run_id: int) -> dict[str, Any]:
        return _run_dict(self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())

    def runs(self, limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM runs ORDER BY id DESC" + (" LIMIT ?" if limit else "")
        return [_run_dict(r) for r in self.conn.execute(sql, (limit,) if limit else ())]

    # --------------------------------------------------------------------------------- reports

    def latest_report(self, story_id: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM reports WHERE story_id = ? ORDER BY id DESC LIMIT 1",
                                 (story_id,)).fetchone()

    def save_report(self, *, story_id: str, input_hash: str, run_id: int, updated_at: str, title: str,
                    outlets: list[str], counts: dict[str, Any], files: list[str]) -> None:
        latest = self.latest_report(story_id)
        if latest is not None and latest["input_hash"] == input_hash:  # files were lost and rewritten
            self.conn.execute("UPDATE reports SET run_id = ?, files = ? WHERE id = ?",
                              (run_id, json.dumps(files), latest["id"]))
            return
        self.conn.execute(
            "INSERT INTO reports (story_id, input_hash, run_id, updated_at, title, outlets, counts, files) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (story_id, input_hash, run_id, updated_at, title, json.dumps(outlets, ensure_ascii=False),
             json.dumps(counts), json.dumps(files)))

    def current_reports(self) -> list[dict[str, Any]]:
        """The latest report of every story, newest update first (for the index)."""
        rows = self.conn.execute(
            "SELECT r.* FROM reports r JOIN (SELECT story_id, MAX(id) AS id FROM reports GROUP BY story_id) last "
            "ON last.id = r.id ORDER BY r.updated_at DESC, r.story_id").fetchall()
        return [_report_dict(r) for r in rows]

    def report_history(self, limit: int = 50) -> list[dict[str, Any]]:
        """Every report version written, newest first (for the Atom feed)."""
        rows = self.conn.execute("SELECT * FROM reports ORDER BY updated_at DESC, id DESC LIMIT ?",
                                 (limit,)).fetchall()
        return [_report_dict(r) for r in rows]


def _run_dict(row: sqlite3.Row) -> dict[str, Any]:
    data = dict(row)
    for key in ("stories_changed", "errors"):
        data[key] = json.loads(data[key] or "[]")
    return data


def _report_dict(row: sqlite3.Row) -> dict[str, Any]:
    data = dict(row)
    for key in ("outlets", "counts", "files"):
        data[key] = json.loads(data[key])
    return data


def _split_sql(sql: str) -> list[str]:
    body = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [part.strip() for part in body.split(";") if part.strip()]
