"""The job's site: `index.html` listing the stories and their reports, and the run history."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from compare import __version__
from compare.runs.job import Job


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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
    parsed = parse_time(value)
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if parsed else value


def _older_exists(store: Any, row: dict[str, Any]) -> bool:
    return store.conn.execute("SELECT 1 FROM reports WHERE story_id = ? AND id < ? LIMIT 1",
                              (row["story_id"], row["id"])).fetchone() is not None


def _absolute(job: Job, relative: str) -> str:
    base = job.options.base_url
    return f"{base.rstrip('/')}/{relative}" if base else relative
