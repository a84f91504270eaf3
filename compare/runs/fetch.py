"""Fetch sources politely and turn them into articles: feeds (feedparser), pages (trafilatura), folders.

The HTTP side is httpx with a per-request timeout, a few retries with exponential backoff (only for
timeouts, connection errors, 429 and 5xx), a User-Agent that names the tool, conditional GET
(If-None-Match / If-Modified-Since from the validators the store keeps per URL), a politeness delay
between two requests to the same host, a size cap enforced while streaming, and a redirect limit.
Pages that do not declare a charset are decoded with charset-normalizer, not assumed UTF-8.

Nothing here touches the store: `fetch_source` returns what it found, including per-URL errors, and the
caller stores it in one transaction.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlparse

from compare import __version__
from compare.errors import CompareError

logger = logging.getLogger(__name__)

USER_AGENT = f"storydiff/{__version__} (scheduled comparison runs; +https://pypi.org/project/storydiff/)"
HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
FEED_TYPES = ("xml", "rss", "atom")
MIN_TEXT_CHARS = 80
ARTICLE_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml")


class FetchError(CompareError):
    """One URL could not be fetched or used; recorded in the run, never fatal to the run."""


@dataclass(frozen=True, slots=True)
class FetchSettings:
    user_agent: str = USER_AGENT
    timeout: float = 20.0  # seconds, per request (connect, read, write, pool)
    retries: int = 2  # extra attempts after the first, for transient failures only
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    host_delay: float = 1.0  # seconds between two requests to the same host
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    max_items: int = 50  # feed entries looked at per run


@dataclass(frozen=True, slots=True)
class Response:
    url: str  # after redirects
    status: int  # 200, or 304 when not modified
    content: bytes = b""
    text: str = ""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def detect_encoding(data: bytes) -> str:
    """Encoding of a body with no declared charset (httpx's `default_encoding` hook)."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return best.encoding if best is not None and best.encoding else "utf-8"


class Fetcher:
    """An httpx client with the politeness rules above; `sleep` and `clock` are injectable for tests."""

    def __init__(self, settings: FetchSettings | None = None, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        import httpx

        self.settings = settings or FetchSettings()
        self._sleep = sleep
        self._clock = clock
        self._last_hit: dict[str, float] = {}
        self.requests = 0
        self.client = httpx.Client(
            headers={"User-Agent": self.settings.user_agent,
                     "Accept": "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
                               "application/xml;q=0.9,*/*;q=0.5"},
            timeout=httpx.Timeout(self.settings.timeout), follow_redirects=True,
            max_redirects=self.settings.max_redirects, default_encoding=detect_encoding,
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait_for_host(self, url: str) -> None:
        host = urlparse(url).netloc.lower()
        last = self._last_hit.get(host)
        if last is not None and self.settings.host_delay > 0:
            wait = self.settings.host_delay - (self._clock() - last)
            if wait > 0:
                self._sleep(wait)
        self._last_hit[host] = self._clock()

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Response:
        """GET with retries; 304 when the validators still match. Raises FetchError with a one-line reason."""
        import httpx

        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempts = 1 + max(0, self.settings.retries)
        last_error = "no attempt made"
        for attempt in range(attempts):
            if attempt:
                self._sleep(self.settings.backoff * (2 ** (attempt - 1)))
            self._wait_for_host(url)
            self.requests += 1
            try:
                return self._get_once(url, headers)
            except httpx.TooManyRedirects as exc:
                raise FetchError(f"{url}: more than {self.settings.max_redirects} redirects.") from exc
            except httpx.TimeoutException:
                last_error = f"timed out after {self.settings.timeout:g} s"
            except httpx.TransportError as exc:
                last_error = f"connection failed ({type(exc).__name__}: {str(exc)[:120]})"
            except _Retryable as exc:
                last_error = str(exc)
        raise FetchError(f"{url}: {last_error} ({attempts} attempt{'s' if attempts > 1 else ''}).")

    def _get_once(self, url: str, headers: dict[str, str]) -> Response:
        import httpx

        with self.client.stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status == 304:
                return Response(str(response.url), 304, etag=response.headers.get("etag") or headers.get(
                    "If-None-Match"), last_modified=response.headers.get("last-modified")
                    or headers.get("If-Modified-Since"))
            if status == 429 or status >= 500:
                raise _Retryable(f"HTTP {status} {response.reason_phrase}".strip())
            if status >= 400:
                raise FetchError(f"{url}: HTTP {status} {response.reason_phrase}.".replace(" .", "."))
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.settings.max_bytes:
                raise FetchError(f"{url}: {int(declared) / 1e6:.1f} MB, over the "
                                 f"{self.settings.max_bytes / 1e6:.1f} MB limit (max_article_mb).")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.settings.max_bytes:
                    raise FetchError(f"{url}: body over the {self.settings.max_bytes / 1e6:.1f} MB limit "
                                     "(max_article_mb).")
                chunks.append(chunk)
            data = b"".join(chunks)
            decoded = httpx.Response(status, headers={"content-type": response.headers.get("content-type", "")},
                                     content=data, default_encoding=detect_encoding)
            return Response(
                url=str(response.url), status=status, content=data, text=decoded.text,
                content_type=response.headers.get("content-type", "").split(";")[0].strip().lower(),
                etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified"),
            )


class _Retryable(Exception):
    """A transient HTTP status worth another attempt."""


# ---------------------------------------------------------------------------------------- sources

@dataclass(frozen=True, slots=True)
class Source:
    """One `[[sources]]` entry of a job file."""

    outlet: str
    kind: str  # feed | url | folder
    location: str  # URL, or absolute folder path
    language: str | None = None


@dataclass(frozen=True, slots=True)
class FetchedArticle:
    url: str
    outlet: str
    title: str
    text: str
    published: str | None  # ISO 8601, UTC
    language: str | None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def content_hash(self) -> str:
        return content_hash(self.title, self.text)


@dataclass(slots=True)
class SourceResult:
    """What one source gave this run: new or re-fetched articles, unchanged URLs, errors, validators."""

    source: Source
    articles: list[FetchedArticle] = field(default_factory=list)
    not_modified: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    fetched: int = 0  # responses with a body
    validators: dict[str, tuple[str | None, str | None, int]] = field(default_factory=dict)  # non-article URLs


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title.strip()}\n\n{text.strip()}".encode()).hexdigest()


Validators = Callable[[str], tuple[str | None, str | None]]


def fetch_source(source: Source, fetcher: Fetcher, *, validators: Validators,
                 known_urls: Callable[[], list[str]] = list,
                 should_stop: Callable[[], bool] = lambda: False) -> SourceResult:
    """Everything new from one source. Per-URL failures land in `errors`; nothing raises."""
    result = SourceResult(source)
    try:
        if source.kind == "feed":
            _fetch_feed(source, fetcher, result, validators, known_urls, should_stop)
        elif source.kind == "url":
            entry = {"link": source.location}
            _fetch_page(source, fetcher, result, validators, entry)
        elif source.kind == "folder":
            _read_folder(source, result)
        else:  # pragma: no cover - the job loader rejects other kinds
            raise FetchError(f"{source.location}: unknown source kind {source.kind!r}.")
    except CompareError as exc:
        result.errors.append(_error(source, source.location, str(exc)))
    except Exception as exc:  # a source must never take the run down with it
        logger.debug("source %s failed", source.location, exc_info=True)
        result.errors.append(_error(source, source.location, f"{type(exc).__name__}: {exc}"))
    return result


def _error(source: Source, url: str, message: str) -> dict[str, str]:
    return {"outlet": source.outlet, "source": source.location, "url": url, "error": message}


def _fetch_feed(source: Source, fetcher: Fetcher, result: SourceResult, validators: Validators,
                known_urls: Callable[[], list[str]], should_stop: Callable[[], bool]) -> None:
    import feedparser

    etag, modified = validators(source.location)
    response = fetcher.get(source.location, etag=etag, last_modified=modified)
    if response.not_modified:
        result.not_modified.append(source.location)
        # The feed is unchanged, but its articles may have been edited: re-check them conditionally.
        entries: list[dict[str, Any]] = [{"link": url} for url in known_urls()]
    else:
        result.fetched += 1
        parsed = feedparser.parse(response.content, response_headers={"content-location": response.url})
        if parsed.bozo and not parsed.entries:
            reason = getattr(parsed, "bozo_exception", None)
            raise FetchError(f"{source.location}: not a valid RSS or Atom feed"
                             f"{f' ({str(reason)[:120]})' if reason else ''}.")
        if not parsed.entries and not parsed.feed:
            raise FetchError(f"{source.location}: not a valid RSS or Atom feed (no channel, no entries).")
        entries = [dict(e) for e in parsed.entries[: fetcher.settings.max_items]]
    errors_before = len(result.errors)
    for entry in entries:
        if should_stop():
            return
        _fetch_page(source, fetcher, result, validators, entry)
    if not response.not_modified and len(result.errors) == errors_before:
        # Only remember the feed once all its items are stored: a failed item is retried next run.
        result.validators[source.location] = (response.etag, response.last_modified, response.status)


def _entry_published(entry: Mapping[str, Any]) -> str | None:
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if value:
            year, month, day, hour, minute, second = value[:6]
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC).isoformat().replace("+00:00", "Z")
    return None


def _fetch_page(source: Source, fetcher: Fetcher, result: SourceResult, validators: Validators,
                entry: Mapping[str, Any]) -> None:
    url = urldefrag(str(entry.get("link") or "")).url
    if urlparse(url).scheme not in ("http", "https"):
        result.errors.append(_error(source, url or source.location, f"{url or '(no link)'}: feed entry has no "
                                    "http(s) link."))
        return
    try:
        etag, modified = validators(url)
        response = fetcher.get(url, etag=etag, last_modified=modified)
        if response.not_modified:
            result.not_modified.append(url)
            return
        result.fetched += 1
        if response.content_type and not response.content_type.startswith(HTML_TYPES):
            raise FetchError(f"{url}: not an HTML page (content type {response.content_type}).")
        title, text, published = extract_page(response.text, url)
    except CompareError as exc:
        result.errors.append(_error(source, url, str(exc)))
        return
    result.articles.append(FetchedArticle(
        url=url, outlet=source.outlet, title=str(entry.get("title") or title or "").strip(), text=text,
        published=_entry_published(entry) or published, language=source.language,
        etag=response.etag, last_modified=response.last_modified,
    ))


def extract_page(html: str, url: str) -> tuple[str, str, str | None]:
    """(title, main text, published) of an HTML page; the text via `compare.corpus.text.extract_html`."""
    from compare.corpus.text import extract_html, looks_like_html, normalise_text

    if not looks_like_html(html):
        text = normalise_text(html).strip()
        if not text:
            raise FetchError(f"{url}: the page is empty.")
        return "", text, None
    text = normalise_text(extract_html(html, url))
    if len(text.strip()) < MIN_TEXT_CHARS:  # a menu or a cookie notice, not an article
        raise FetchError(f"{url}: no article text found (only {len(text.strip())} characters of text).")
    title, published = "", None
    try:
        import trafilatura

        meta = trafilatura.extract_metadata(html)
        if meta is not None:
            title = (meta.title or "").strip()
            published = meta.date or None
    except Exception:  # metadata is a bonus; the text is what matters
        pass
    return title, text, published


def _read_folder(source: Source, result: SourceResult) -> None:
    """Every article file of a local folder (a story.toml, when present, supplies titles and dates)."""
    from compare.corpus.story import MANIFEST
    from compare.corpus.text import read_article

    folder = Path(source.location)
    if not folder.is_dir():
        raise FetchError(f"{folder}: folder not found.")
    listed: dict[Path, dict[str, Any]] = {}
    manifest = folder / MANIFEST
    if manifest.is_file():
        from compare.corpus.json_input import parse_toml
        from compare.corpus.text import read_bytes

        data = parse_toml(read_bytes(manifest, max_bytes=1024 * 1024), manifest)
        for entry in data.get("articles", []):
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                listed[(folder / entry["path"]).resolve()] = entry
    files = sorted(listed) if listed else sorted(
        p.resolve() for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    for path in files:
        entry = listed.get(path, {})
        try:
            text = read_article(path)
        except CompareError as exc:
            result.errors.append(_error(source, str(path), str(exc)))
            continue
        published = entry.get("published")
        if published is not None and hasattr(published, "isoformat"):
            published = published.isoformat()
        if published is None:
            published = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat().replace("+00:00", "Z")
        title = str(entry.get("title") or _first_line(text) or path.stem)
        result.fetched += 1
        result.articles.append(FetchedArticle(
            url=str(entry.get("url") or path.as_uri()), outlet=str(entry.get("outlet") or source.outlet),
            title=title, text=text, published=str(published), language=entry.get("language") or source.language,
        ))


def _first_line(text: str) -> str:
    line = text.strip().split("\n", 1)[0].strip()
    return line if 0 < len(line) <= 200 else ""
