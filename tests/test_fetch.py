"""Fetching against a real HTTP server on 127.0.0.1 serving the demo site and broken fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compare.runs.demo_server import demo_site, serve_in_thread
from compare.runs.fetch import Fetcher, FetchError, FetchSettings, Source, fetch_source

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
FAST = FetchSettings(timeout=2.0, retries=0, backoff=0.01, host_delay=0.0)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("site")
    shutil.copytree(demo_site(), root, dirs_exist_ok=True)
    shutil.copytree(FIXTURES / "broken", root / "broken")
    server = serve_in_thread(root)
    yield server
    server.shutdown()
    server.server_close()


def no_validators(url: str) -> tuple[None, None]:
    return None, None


def test_conditional_get_returns_not_modified_with_stored_etag(site) -> None:  # type: ignore[no-untyped-def]
    url = f"{site.base_url}/harbour/rss.xml"
    with Fetcher(FAST) as fetcher:
        first = fetcher.get(url)
        again = fetcher.get(url, etag=first.etag)
    assert first.status == 200 and first.etag and b"Harbour Gazette" in first.content
    assert again.not_modified and again.etag == first.etag


def test_requests_carry_a_user_agent_naming_storydiff(site) -> None:  # type: ignore[no-untyped-def]
    with Fetcher(FAST) as fetcher:
        fetcher.get(f"{site.base_url}/index.html?ua")
    assert site.requests[-1]["user_agent"].startswith("storydiff/")


def test_server_errors_are_retried_with_backoff_then_reported(site) -> None:  # type: ignore[no-untyped-def]
    slept: list[float] = []
    settings = FetchSettings(timeout=2.0, retries=2, backoff=0.5, host_delay=0.0)
    before = sum(1 for r in site.requests if r["path"] == "/_status/503")
    with Fetcher(settings, sleep=slept.append) as fetcher, pytest.raises(FetchError, match="HTTP 503"):
        fetcher.get(f"{site.base_url}/_status/503")
    assert sum(1 for r in site.requests if r["path"] == "/_status/503") - before == 3
    assert slept == [0.5, 1.0]


def test_not_found_is_not_retried(site) -> None:  # type: ignore[no-untyped-def]
    slept: list[float] = []
    with Fetcher(FetchSettings(retries=3, host_delay=0.0), sleep=slept.append) as fetcher, \
            pytest.raises(FetchError, match="HTTP 404"):
        fetcher.get(f"{site.base_url}/nothing-here.html")
    assert slept == []


def test_slow_server_times_out(site) -> None:  # type: ignore[no-untyped-def]
    settings = FetchSettings(timeout=0.3, retries=0, host_delay=0.0)
    with Fetcher(settings) as fetcher, pytest.raises(FetchError, match="timed out"):
        fetcher.get(f"{site.base_url}/_slow/2/harbour/rss.xml")


def test_body_over_the_size_cap_is_refused(site) -> None:  # type: ignore[no-untyped-def]
    settings = FetchSettings(max_bytes=1000, retries=0, host_delay=0.0)
    with Fetcher(settings) as fetcher, pytest.raises(FetchError, match="limit"):
        fetcher.get(f"{site.base_url}/_bytes/5000")


def test_redirects_are_followed_within_the_limit(site) -> None:  # type: ignore[no-untyped-def]
    with Fetcher(FetchSettings(max_redirects=3, retries=0, host_delay=0.0)) as fetcher:
        ok = fetcher.get(f"{site.base_url}/_redirect/2/courier/port-fire.html")
        assert ok.status == 200 and ok.url.endswith("/courier/port-fire.html")
        with pytest.raises(FetchError, match="redirects"):
            fetcher.get(f"{site.base_url}/_redirect/5/courier/port-fire.html")


def test_page_without_charset_is_decoded_by_detection(site) -> None:  # type: ignore[no-untyped-def]
    with Fetcher(FAST) as fetcher:
        page = fetcher.get(f"{site.base_url}/broken/cp1251.nocharset")
    assert "charset" not in page.content_type
    assert "зерновой склад" in page.text


def test_politeness_delay_spaces_requests_to_one_host(site) -> None:  # type: ignore[no-untyped-def]
    slept: list[float] = []
    now = [100.0]
    settings = FetchSettings(host_delay=2.0, retries=0)
    with Fetcher(settings, sleep=slept.append, clock=lambda: now[0]) as fetcher:
        fetcher.get(f"{site.base_url}/index.html")
        now[0] += 0.5
        fetcher.get(f"{site.base_url}/index.html")
    assert slept == [1.5]


def test_feed_source_yields_articles_with_text_titles_and_dates(site) -> None:  # type: ignore[no-untyped-def]
    source = Source("Harbour Gazette", "feed", f"{site.base_url}/harbour/rss.xml")
    with Fetcher(FAST) as fetcher:
        result = fetch_source(source, fetcher, validators=no_validators)
    assert result.errors == []
    titles = {a.title for a in result.articles}
    assert "Fire destroys grain warehouse at Port of Marlow" in titles
    fire = next(a for a in result.articles if "port-fire" in a.url)
    assert fire.published == "2025-11-18T22:05:00Z"
    assert "12 dock workers" in fire.text
    assert "Most read" not in fire.text and "All rights reserved" not in fire.text
    assert fire.etag


@pytest.mark.parametrize(("path", "kind", "message"), [
    ("broken/malformed.xml", "feed", "not a valid RSS or Atom feed"),
    ("_status/500", "feed", "HTTP 500"),
    ("broken/empty.html", "url", "no article text"),
    ("_bytes/300", "url", "not an HTML page"),
])
def test_a_broken_source_is_reported_not_raised(site, path: str, kind: str, message: str) -> None:  # type: ignore[no-untyped-def]
    source = Source("Broken", kind, f"{site.base_url}/{path}")
    with Fetcher(FAST) as fetcher:
        result = fetch_source(source, fetcher, validators=no_validators)
    assert result.articles == []
    assert len(result.errors) == 1 and message in result.errors[0]["error"]


def test_failing_feed_items_keep_the_feed_uncached(site) -> None:  # type: ignore[no-untyped-def]
    source = Source("Bad items", "feed", f"{site.base_url}/broken/bad-items.xml")
    with Fetcher(FAST) as fetcher:
        result = fetch_source(source, fetcher, validators=no_validators)
    messages = sorted(e["error"] for e in result.errors)
    assert len(messages) == 2 and "HTTP 404" in messages[0] + messages[1]
    assert any("not an HTML page" in m for m in messages)
    assert result.validators == {}  # so the next run fetches the feed again and retries the items


def test_folder_source_reads_article_files_with_manifest_dates() -> None:
    folder = Path(__file__).resolve().parents[1] / "examples" / "archive"
    result = fetch_source(Source("Desk archive", "folder", str(folder)), None,  # type: ignore[arg-type]
                          validators=no_validators)
    assert result.errors == []
    (article,) = result.articles
    assert article.published == "2025-11-19T20:00:00+00:00"
    assert article.url.startswith("file://") and "31 to 12" in article.text
