"""The job file: `storydiff run`'s TOML (store, output, options, sources, cluster), read and checked."""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compare.config import DEFAULT_MIN_CONFIDENCE, FORMATS, check_page_size
from compare.errors import ConfigError
from compare.runs.fetch import FetchSettings, Source

GROUP_MODEL = "use"  # grouping thresholds were tuned with this model (benchmarks/grouping.py)

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
