"""The review view's confidence controls in a real browser: differences sorted by confidence, the less certain
ones behind a visible "show N less certain" <details>, the threshold control (keyboard too, kept in the URL),
the coverage grid's confidence, and the same report read without JavaScript. Also the layout of a 7-outlet
story at 1,400 pixels: no horizontal scrolling in the coverage grid, no headings broken inside a word.

The confidences are set here, on a copy of the bridge story's comparison: the library never hard-codes them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from compare.model import Document

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# By difference id; the bridge story's one event has D1..D6.
CONFIDENCES = {"D1": 0.9, "D2": 0.3, "D3": 0.75, "D4": 0.1, "D5": 0.5, "D6": 0.45}
SORTED = sorted(CONFIDENCES, key=lambda d: -CONFIDENCES[d])  # D1 D3 D5 D6 D2 D4
CERTAIN = [d for d in SORTED if CONFIDENCES[d] >= 0.5]  # the default threshold keeps 0.5 itself


@pytest.fixture(scope="module")
def varied() -> Any:
    """The bridge story in the coarse view (--granularity event): one event holding six differences, which
    is what these controls are exercised on."""
    from compare.config import Settings
    from compare.corpus.story import load_story
    from compare.pipeline import compare_story

    story = Path(__file__).resolve().parents[1] / "fixtures" / "bridge-story"
    comparison = compare_story(load_story(story), Settings(model="minilm", cache_path=None, granularity="event"))
    assert {d.difference_id for d in comparison.differences} == set(CONFIDENCES)
    return replace(comparison, meta=dict(comparison.meta),
                   differences=tuple(replace(d, confidence=CONFIDENCES[d.difference_id])
                                     for d in comparison.differences))


@pytest.fixture(scope="module")
def varied_url(varied: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    from compare.report.render import render_html

    path = tmp_path_factory.mktemp("confidence") / "report.html"
    path.write_text(render_html(varied), encoding="utf-8")
    return path.as_uri()


def shown_diffs(page: Any) -> list[str]:
    """In page order. checkVisibility, unlike offsetParent, sees that the content of a closed <details> is not
    rendered (Chromium hides it with content-visibility, not display)."""
    return page.eval_on_selector_all(
        "article.event li.diff", "els => els.filter(e => e.checkVisibility()).map(e => e.dataset.diff)")


def all_diffs(page: Any) -> list[str]:
    return page.eval_on_selector_all("article.event li.diff", "els => els.map(e => e.dataset.diff)")


def test_differences_sorted_confident_shown_rest_behind_show_n_less_certain(page: Any, varied_url: str) -> None:
    page.goto(varied_url)
    assert all_diffs(page) == SORTED
    assert shown_diffs(page) == CERTAIN
    summary = page.locator("details.less-certain > summary")
    assert summary.is_visible()
    assert " ".join(summary.inner_text().split()) == "Show 3 less certain differences (confidence below 0.50)"
    for d, c in CONFIDENCES.items():
        assert f"{c:.2f}" in page.locator(f"#diff-{d} .conf").text_content()
    summary.click()
    assert shown_diffs(page) == SORTED
    assert summary.inner_text().startswith("Hide 3 less certain")
    # A highlight of a folded difference is dimmed; unfolded, it shows.
    page.locator("details.less-certain > summary").click()
    # the view updates after the toggle event
    page.wait_for_selector("mark.hl.dimmed[data-diff]", state="attached", timeout=5000)
    dimmed = page.eval_on_selector_all("mark.hl.dimmed[data-diff]", "els => [...new Set(els.map(e => e.dataset.diff))]")
    assert dimmed and set(dimmed) <= set(SORTED) - set(CERTAIN)
    assert not page.log.console_errors


def test_threshold_control_refilters_by_keyboard_and_keeps_it_in_the_url(page: Any, varied_url: str) -> None:
    page.goto(varied_url)
    slider = page.locator("#min-conf")
    assert slider.is_visible() and float(slider.input_value()) == 0.5
    slider.focus()
    page.keyboard.press("Home")  # threshold 0: everything is confident enough
    assert page.locator("#min-conf-value").inner_text() == "0.00"
    assert shown_diffs(page) == SORTED
    assert not page.locator("details.less-certain").is_visible()
    assert parse_qs(urlparse(page.url).query)["min"] == ["0.00"]
    page.keyboard.press("End")
    assert shown_diffs(page) == []
    assert "Show 6 less certain" in page.locator("details.less-certain > summary").inner_text()
    for _ in range(25):  # 1.00 -> 0.75 with the arrow keys, a hundredth at a time
        page.keyboard.press("ArrowLeft")
    assert page.locator("#min-conf-value").inner_text() == "0.75"
    assert shown_diffs(page) == ["D1", "D3"]
    assert "4 less certain" in page.locator("#filter-status").inner_text()
    # The state survives a reload from the URL, and Reset goes back to the report's threshold.
    page.goto(page.url)
    assert float(page.locator("#min-conf").input_value()) == 0.75
    assert shown_diffs(page) == ["D1", "D3"]
    page.click('button[data-action="reset"]')
    assert shown_diffs(page) == CERTAIN
    assert "min" not in parse_qs(urlparse(page.url).query)


def test_less_certain_controls_work_from_the_keyboard(page: Any, varied_url: str) -> None:
    page.goto(varied_url)
    # The "show all" button in the toolbar opens every fold; the summaries open one each.
    button = page.locator('button[data-action="less-certain"]')
    assert " ".join(button.inner_text().split()) == "Show all 3 less certain"
    button.focus()
    page.keyboard.press("Enter")
    assert shown_diffs(page) == SORTED
    assert button.get_attribute("aria-pressed") == "true"
    page.keyboard.press("Space")
    assert shown_diffs(page) == CERTAIN
    page.locator("details.less-certain > summary").focus()
    page.keyboard.press("Enter")
    assert shown_diffs(page) == SORTED
    page.keyboard.press("Enter")
    assert shown_diffs(page) == CERTAIN
    # j/k move over the differences on show only; a permalink to a folded one unfolds it.
    page.locator("body").focus()
    seen = []
    for _ in range(len(CERTAIN)):
        page.keyboard.press("j")
        seen.append(page.evaluate("document.activeElement.dataset.diff"))
    assert seen == CERTAIN
    page.goto(f"{varied_url}#diff-D4")
    assert page.locator("#diff-D4").is_visible()


def test_coverage_grid_says_how_confident_conflicting_is(page: Any, varied: Any, varied_url: str) -> None:
    page.goto(varied_url)
    cells = page.locator("table.matrix td.cov--conflicting")
    assert cells.count() >= 1
    for i in range(cells.count()):
        cell = cells.nth(i)
        doc = varied.documents[int(cell.evaluate("td => td.cellIndex")) - 1].doc_id
        expected = max(d.confidence for d in varied.differences if d.type.value != "omission" and doc in d.doc_ids)
        assert cell.locator(".cov-conf").inner_text() == f"{expected:.2f}"
        assert f"confidence {expected:.2f}" in cell.locator("a").get_attribute("aria-label")


def test_without_javascript_the_less_certain_fold_still_opens(nojs_page: Any, varied_url: str) -> None:
    page = nojs_page
    page.goto(varied_url)
    assert not page.locator("#filters").is_visible()
    assert shown_diffs(page) == CERTAIN
    summary = page.locator("details.less-certain > summary")
    assert summary.is_visible() and "Show 3 less certain" in summary.inner_text()
    summary.focus()
    page.keyboard.press("Enter")
    assert shown_diffs(page) == SORTED
    assert page.locator("#diff-D4 .conf").is_visible()
    assert page.log.requests == [varied_url]


def test_seven_outlets_fit_a_1400_pixel_window_and_headings_keep_their_words(page: Any, bridge_comparison: Any,
                                                                            tmp_path: Path) -> None:
    from compare.report.render import render_html

    seventh = Document("harbour-news-and-regional-bulletin", "Harbour News and Regional Bulletin",
                       "Nothing about the bridge.", language="en")
    comparison = replace(bridge_comparison, meta=dict(bridge_comparison.meta),
                         documents=(*bridge_comparison.documents, seventh))
    assert len(comparison.documents) == 7
    path = tmp_path / "report.html"
    path.write_text(render_html(comparison), encoding="utf-8")
    page.goto(path.as_uri())
    assert page.evaluate("window.innerWidth") == 1400
    wrap = page.evaluate("(() => { const w = document.querySelector('.matrix-wrap');"
                         " return [w.scrollWidth, w.clientWidth]; })()")
    assert wrap[0] <= wrap[1], f"coverage grid scrolls sideways: {wrap}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    last = page.locator("table.matrix thead th.outlet").last
    box = last.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1400
    # Each single-word heading of the sources table is laid out on one line.
    lines = page.eval_on_selector_all("table.sources thead th", """els => els.map(th => {
        const r = document.createRange(); r.selectNodeContents(th);
        return [th.textContent.trim(), new Set([...r.getClientRects()].map(x => Math.round(x.top))).size]; })""")
    for word, count in lines:
        assert count == 1, f"{word!r} is broken over {count} lines"
    assert {w for w, _ in lines} >= {"Statements", "Events", "Lang."}
