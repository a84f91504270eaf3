"""Browser fixtures: Debian's Chromium driven by Playwright (no browser download), and one real report.

The report is built once per session by the real pipeline from `tests/fixtures/bridge-story` (six outlets,
one in Ukrainian, so the outlet picker and Cyrillic both show). Every page records console errors, page
errors and requests, so each test can also prove that the page is clean and offline.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("STORYDIFF_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
STORY = Path(__file__).resolve().parents[1] / "fixtures" / "bridge-story"


def _chromium() -> str:
    path = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium") or ""
    if not path:
        pytest.skip(f"{CHROMIUM}: Chromium not installed (apt-get install chromium; .ci/run does it)")
    return path


@pytest.fixture(scope="session")
def bridge_comparison() -> Any:
    from compare.config import Settings
    from compare.corpus.story import load_story
    from compare.pipeline import compare_story

    return compare_story(load_story(STORY), Settings(model="minilm", cache_path=None))


@pytest.fixture(scope="session")
def report_file(bridge_comparison: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from compare.report.render import render_html

    path = tmp_path_factory.mktemp("review") / "report.html"
    path.write_text(render_html(bridge_comparison), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def report_url(report_file: Path) -> str:
    return report_file.as_uri()


@pytest.fixture(scope="module")  # one sync Playwright per thread: close it before other modules start theirs
def browser() -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class PageLog:
    """What a page did besides rendering: it must stay empty apart from loading the report itself."""

    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def _open(browser: Any, *, javascript: bool) -> tuple[Any, Any, PageLog]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, java_script_enabled=javascript)
    page = context.new_page()
    log = PageLog()
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: log.console_errors.append(f"pageerror: {e}"))
    page.on("request", lambda r: log.requests.append(r.url))
    page.log = log  # type: ignore[attr-defined]
    return context, page, log


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context, page, _ = _open(browser, javascript=True)
    yield page
    context.close()


@pytest.fixture
def nojs_page(browser: Any) -> Iterator[Any]:
    context, page, _ = _open(browser, javascript=False)
    yield page
    context.close()
