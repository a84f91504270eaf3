"""The HTML review view in a real browser (Debian Chromium via Playwright): filters, outlet columns,
permalinks, context view, keyboard, tooltips, no-JS reading, no network, no console errors, axe-core."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from compare.model import DifferenceType

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def visible_events(page: Any) -> list[str]:
    return page.eval_on_selector_all("article.event", "els => els.filter(e => e.offsetParent !== null).map(e => e.id)")


def visible_columns(page: Any, event_id: str) -> list[str]:
    return page.eval_on_selector_all(
        f"#{event_id} table.side-by-side thead th",
        "els => els.filter(e => e.offsetParent !== null).map(e => e.dataset.outlet)")


def query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def assert_clean(page: Any, url: str) -> None:
    """No console errors, and the only request the page made is loading the report file itself."""
    log = page.log
    assert log.console_errors == []
    assert [u for u in log.requests if u.split("?")[0].split("#")[0] != url] == []


def test_page_makes_no_network_request_and_logs_no_error(page: Any, report_url: str) -> None:
    page.goto(report_url)
    page.keyboard.press("j")
    page.locator("mark.hl[data-diff]").first.hover()
    page.locator("main .statement").first.click()
    page.keyboard.press("Escape")
    page.check('input[name="only"]')
    page.fill('input[name="q"]', "bridge")
    assert_clean(page, report_url)


def test_overview_lists_sources_matrix_and_counts_per_type(page: Any, report_url: str, bridge_comparison: Any) -> None:
    page.goto(report_url)
    sources = page.locator("table.sources tbody tr")
    assert sources.count() == len(bridge_comparison.documents)
    assert page.locator("table.sources").inner_text().count("—") >= 1  # the Civic Post has no link
    # Only http(s) links are clickable: the East Ledger's javascript: URL is shown as text.
    hrefs = page.eval_on_selector_all("table.sources a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert hrefs and all(h.startswith(("http://", "https://")) for h in hrefs)
    assert page.locator(".unsafe-url").inner_text() == "javascript:alert(1)"
    rows = page.locator("table.matrix tbody tr")
    assert rows.count() == len(bridge_comparison.events)
    first_cell = rows.first.locator("td.cov a").first
    assert first_cell.get_attribute("href") == f"#event-{bridge_comparison.events[0].event_id}"
    legend_types = page.eval_on_selector_all("[data-total-type]", "els => els.map(e => e.dataset.totalType)")
    assert legend_types == [t.value for t in DifferenceType]
    for t in DifferenceType:
        expected = sum(1 for d in bridge_comparison.differences if d.type == t)
        assert page.locator(f'[data-total-type="{t.value}"]').inner_text() == str(expected)


def test_type_filter_hides_events_updates_counts_and_url(page: Any, report_url: str, bridge_comparison: Any) -> None:
    page.goto(report_url)
    all_events = visible_events(page)
    assert len(all_events) == len(bridge_comparison.events)
    for t in DifferenceType:
        if t != DifferenceType.NUMBER:
            page.uncheck(f'input[name="type"][value="{t.value}"]')
    shown = visible_events(page)
    with_number = {f"event-{d.event_id}" for d in bridge_comparison.differences if d.type == DifferenceType.NUMBER}
    assert with_number and set(shown) == with_number
    diffs_shown = page.eval_on_selector_all(
        "li.diff", "els => els.filter(e => e.offsetParent !== null).map(e => e.dataset.type)")
    assert set(diffs_shown) == {"number"}
    status = page.locator("#filter-status").inner_text()
    assert status.startswith(f"{len(shown)} of {len(all_events)} events shown")
    assert query(page)["types"] == ["number"]
    # The state survives a reload from the URL.
    page.goto(page.url)
    assert set(visible_events(page)) == with_number
    assert not page.is_checked('input[name="type"][value="date"]')


def test_outlet_only_and_search_filters_combine(page: Any, report_url: str, bridge_comparison: Any) -> None:
    page.goto(report_url)
    page.select_option('select[name="outlet"]', "civic-post")
    civic = {f"event-{e.event_id}" for e in bridge_comparison.events if "civic-post" in e.doc_ids}
    assert set(visible_events(page)) == civic
    assert query(page)["outlet"] == ["civic-post"]
    page.select_option('select[name="outlet"]', "")
    page.check('input[name="only"]')
    with_diffs = {f"event-{e}" for e in {d.event_id for d in bridge_comparison.differences} if e}
    assert set(visible_events(page)) == with_diffs
    page.fill('input[name="q"]', "workers")
    shown = visible_events(page)
    assert shown and all("workers" in page.locator(f"#{e}").inner_text().lower() for e in shown)
    page.fill('input[name="q"]', "no statement says this xyzzy")
    assert visible_events(page) == []
    assert page.locator("#no-match").is_visible()
    page.click("#no-match button")
    assert len(visible_events(page)) == len(bridge_comparison.events)


def test_outlet_picker_shows_four_columns_and_keeps_choice_in_url(page: Any, report_url: str,
                                                                  bridge_comparison: Any) -> None:
    docs = [d.doc_id for d in bridge_comparison.documents]
    assert len(docs) > 4
    page.goto(report_url)
    event = f"event-{bridge_comparison.events[0].event_id}"
    assert visible_columns(page, event) == docs[:4]
    # The collapsed outlets are offered under each event; adding one makes it a column.
    collapsed = page.locator(f"#{event} button.add-col:visible")
    assert collapsed.count() == len(docs) - 4
    collapsed.first.click()
    assert visible_columns(page, event) == docs[:5]
    page.uncheck(f'input[name="col"][value="{docs[0]}"]')
    assert visible_columns(page, event) == docs[1:5]
    assert query(page)["cols"] == [",".join(docs[1:5])]
    page.goto(page.url)
    assert visible_columns(page, event) == docs[1:5]


def test_permalinks_point_at_unique_anchors_and_open_there(page: Any, report_url: str,
                                                           bridge_comparison: Any) -> None:
    page.goto(report_url)
    ids = page.eval_on_selector_all("[id]", "els => els.map(e => e.id)")
    assert len(ids) == len(set(ids))
    for d in bridge_comparison.differences:
        link = page.locator(f'a.permalink[href="#diff-{d.difference_id}"]')
        assert link.count() == 1, d.difference_id
    for e in bridge_comparison.events:
        assert page.locator(f'a.permalink[href="#event-{e.event_id}"]').count() == 1
    target = bridge_comparison.differences[-1].difference_id
    page.goto(f"{report_url}#diff-{target}")
    assert page.locator(f"#diff-{target}").is_visible()
    top = page.evaluate(f"document.getElementById('diff-{target}').getBoundingClientRect().top")
    assert 0 <= top < 900


def test_clicking_a_statement_shows_it_in_its_full_article(page: Any, report_url: str,
                                                          bridge_comparison: Any) -> None:
    page.goto(report_url)
    statement = page.locator("article.event .statement").first
    doc_id = statement.get_attribute("data-doc")
    index = int(statement.get_attribute("data-index"))
    text = next(s.text for s in bridge_comparison.statements_of(doc_id) if s.index == index)
    statement.click()
    panel = page.locator("#context")
    assert panel.is_visible()
    focus = panel.locator(".ctx.focus")
    assert focus.count() == 1
    assert " ".join(focus.inner_text().split()) == " ".join(text.split())
    article_text = bridge_comparison.document(doc_id).text
    assert panel.locator(".article-text").inner_text().split()[:5] == article_text.split()[:5]
    page.keyboard.press("Escape")
    assert not panel.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('statement')")
    # Enter on a focused statement does the same without a mouse.
    statement.focus()
    page.keyboard.press("Enter")
    assert panel.is_visible()


def test_keyboard_moves_between_differences_with_visible_focus(page: Any, report_url: str) -> None:
    page.goto(f"{report_url}?min=0")  # every difference unfolded: j/k skip the less certain ones otherwise
    order = page.eval_on_selector_all("li.diff", "els => els.map(e => e.id)")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.id") == order[0]
    page.keyboard.press("n")
    assert page.evaluate("document.activeElement.id") == order[1]
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
    assert page.url.endswith(f"#{order[1]}")
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.id") == order[0]
    page.keyboard.press("p")
    assert page.evaluate("document.activeElement.id") == order[-1]
    # Typing in the search box does not navigate.
    page.fill('input[name="q"]', "")
    page.focus('input[name="q"]')
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.name") == "q"


def test_focusing_a_highlight_shows_its_explanation(page: Any, report_url: str) -> None:
    page.goto(report_url)
    mark = page.locator("mark.hl[data-diff]").first
    diff = mark.get_attribute("data-diff")
    described = mark.get_attribute("aria-describedby")
    assert described == f"why-{diff}"
    explanation = page.locator(f"#{described}").inner_text()
    mark.focus()
    tip = page.locator("#tip")
    assert tip.is_visible()
    assert explanation in tip.inner_text()
    page.keyboard.press("Escape")
    assert not tip.is_visible()
    # Hovering a statement shows its cues.
    statement = page.locator(".statement[aria-describedby]").first
    cues = page.locator(f"#{statement.get_attribute('aria-describedby')} li").all_inner_texts()
    page.mouse.move(0, 0)
    statement.hover(position={"x": 2, "y": 2})
    page.wait_for_timeout(50)
    if page.locator("#tip").is_visible() and "Cues" in tip.inner_text():
        assert cues[0] in tip.inner_text()


def test_every_statement_and_source_carries_its_language(page: Any, report_url: str) -> None:
    page.goto(report_url)
    assert page.evaluate("document.documentElement.lang") == "en"
    missing = page.eval_on_selector_all(".statement", "els => els.filter(e => !e.lang).length")
    assert missing == 0
    ukrainian = page.locator('.statement[lang="uk"]')
    assert ukrainian.count() >= 1
    assert "Міст" in page.locator('table.sources td[lang="uk"]').inner_text()
    assert page.locator('.article[lang="uk"]').count() == 1


def test_readable_without_javascript(nojs_page: Any, report_url: str, bridge_comparison: Any) -> None:
    page = nojs_page
    page.goto(report_url)
    assert not page.locator("#filters").is_visible()
    assert len(visible_events(page)) == len(bridge_comparison.events)
    event = f"event-{bridge_comparison.events[0].event_id}"
    assert len(visible_columns(page, event)) == len(bridge_comparison.documents)
    assert page.locator("li.diff").first.is_visible()
    assert page.locator("ul.cues").first.is_visible()
    assert page.locator("#articles .article").first.is_visible()
    assert page.locator("a.ctx-link").first.is_visible()
    assert page.log.requests == [report_url]


def test_browser_print_hides_controls_and_keeps_highlights(page: Any, report_url: str) -> None:
    page.goto(f"{report_url}?min=0")  # the typed highlights of less certain differences are dimmed otherwise
    page.emulate_media(media="print")
    assert not page.locator("#filters").is_visible()
    assert not page.locator("#articles").is_visible()
    assert page.locator("mark.hl[data-diff]").first.is_visible()
    assert page.locator("mark.hl[data-diff] .marker").first.is_visible()
    pdf = page.pdf(format="A4", landscape=True)
    assert pdf.startswith(b"%PDF")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_axe_finds_no_serious_or_critical_violation(browser: Any, report_url: str, javascript: bool) -> None:
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport={"width": 1400, "height": 900}, java_script_enabled=True)
    page = context.new_page()
    try:
        page.goto(report_url)
        if javascript:
            page.locator("mark.hl[data-diff]").first.focus()
        else:  # axe itself needs script: put the page back into its no-JS state instead
            page.evaluate("""() => { document.documentElement.classList.remove('js');
                                     document.getElementById('filters').hidden = true; }""")
        results = Axe().run(page)
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert bad == []
    finally:
        context.close()


def test_outlet_filter_works_for_document_ids_with_spaces(page: Any, tmp_path: Any) -> None:
    """Manifest ids may hold spaces; the filter must not split "civic post" into two outlets."""
    import re
    import shutil

    from compare.config import Settings
    from compare.corpus.story import load_story
    from compare.pipeline import compare_story
    from compare.report.render import render_html

    folder = tmp_path / "story"
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "bridge-story", folder)
    manifest = (folder / "story.toml").read_text("utf-8")
    manifest = re.sub(r'path = "([a-z-]+)\.txt"',
                      lambda m: f'path = "{m[1]}.txt"\nid = "{m[1].replace("-", " ")} (web)"', manifest)
    (folder / "story.toml").write_text(manifest, "utf-8")
    comparison = compare_story(load_story(folder), Settings(model="minilm", cache_path=None))
    assert "civic post (web)" in {d.doc_id for d in comparison.documents}
    path = tmp_path / "report.html"
    path.write_text(render_html(comparison), encoding="utf-8")
    page.goto(path.as_uri())
    page.select_option('select[name="outlet"]', "civic post (web)")
    civic = {f"event-{e.event_id}" for e in comparison.events if "civic post (web)" in e.doc_ids}
    assert civic and set(visible_events(page)) == civic
    assert not page.log.console_errors
