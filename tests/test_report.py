"""The report's view model and HTML, without a browser: escaping of untrusted text, the legend generated
from DifferenceType, the context view reproducing each article, and the JSON contract."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from compare.errors import RenderError
from compare.model import (
    Comparison,
    Cue,
    CueType,
    Difference,
    DifferenceType,
    Document,
    Event,
    Evidence,
    Highlight,
    Statement,
)
from compare.report import html as rhtml
from compare.report import render as report
from compare.report import view as report_view

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def hand_made(outlet_b: str = "Вісник </script><b>") -> Comparison:
    """Two outlets, one event with a number difference, one statement only B carries."""
    a_text = f"About 120 workers repaired the bridge. {HOSTILE}"
    b_text = "Близько 150 робітників ремонтували міст.\n\nМіст відкрили у вівторок."
    docs = (
        Document("a", "Outlet <A>", a_text, title=f"Title {HOSTILE}", url="javascript:alert(1)", language="en",
                 published="2025-06-03T08:00:00+03:00"),
        Document("b", outlet_b, b_text, title="Міст — «нарешті»", url="https://example.com/b?x=1&y=2",
                 language="uk"),
    )
    a0 = Statement("a", 0, 0, 38, a_text[:38], "en",
                   (Cue(CueType.NUMBER, 0, 17, "About 120 workers", {"value": 120, "unit": "worker",
                                                                     "qualifier": "~"}),))
    a1 = Statement("a", 1, 39, len(a_text), a_text[39:], "en")
    b0 = Statement("b", 0, 0, 40, b_text[:40], "uk",
                   (Cue(CueType.NUMBER, 0, 22, "Близько 150 робітників", {"value": 150, "qualifier": "~"}),))
    b1 = Statement("b", 1, 42, len(b_text), b_text[42:], "uk")
    assert b_text[b1.start:b1.end] == b1.text and a_text[a1.start:a1.end] == a1.text
    event = Event("E1", (a0.ref, b0.ref), ("a", "b"), 0.8)
    diff = Difference("D1", DifferenceType.NUMBER, "E1", ("a", "b"),
                      (Evidence("a", 0, 0, 17, "About 120 workers"), Evidence("b", 0, 0, 22, b_text[:22])),
                      f"figures differ {HOSTILE}")
    only_b = Difference("D2", DifferenceType.OMISSION, None, ("a", "b"), (Evidence("b", 1, 42, 68, b1.text),),
                        "Only B reports this.", missing=("a",))
    highlights = (Highlight("a", 0, 6, 9, DifferenceType.NUMBER, "D1"), Highlight("b", 0, 8, 11,
                                                                                   DifferenceType.NUMBER, "D1"),
                  Highlight("a", 0, 18, 26, None, None))
    return Comparison("s", f"Story {HOSTILE}", "desc", docs, (a0, a1, b0, b1), (), (event,), (diff, only_b),
                      (a1.ref, b1.ref), highlights, {"generator": "storydiff test", "created": "2025-06-04T00:00:00"})


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


def test_untrusted_text_is_escaped_and_only_http_links_are_clickable() -> None:
    html = report.render_html(hand_made())
    doc = parse(html)
    assert not any(tag == "img" for tag, _ in doc.tags)
    assert not any(k.startswith("on") for _, attrs in doc.tags for k in attrs)
    assert html.count("<script") == 3  # the class switch, the JSON data and the report script: nothing injected
    hrefs = [attrs["href"] for tag, attrs in doc.tags if tag == "a" and attrs.get("href")]
    assert "javascript:alert(1)" not in hrefs
    assert "https://example.com/b?x=1&y=2" in hrefs
    assert all(h.startswith(("#", "http://", "https://")) for h in hrefs)


def test_json_in_script_cannot_close_the_script_element() -> None:
    html = report.render_html(hand_made(outlet_b="</script><script>alert(1)</script>"))
    data = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    assert data is not None
    assert json.loads(data.group(1))["outlets"]["b"] == "</script><script>alert(1)</script>"


def test_legend_and_markers_come_from_difference_type() -> None:
    view = report.view_model(hand_made())
    assert [item["type"] for item in view["legend"]] == [t.value for t in DifferenceType]
    markers = [report.TYPE_MARKERS[t] for t in DifferenceType]
    assert len(set(markers)) == len(markers)
    css = (report.templates_dir() / "css" / "screen.css").read_text()
    for t in DifferenceType:
        assert f".hl--{t.value}" in css, f"no highlight colour for {t.value}"


def test_segments_cover_each_statement_exactly() -> None:
    comparison = hand_made()
    view = report.view_model(comparison)
    for event in view["events"]:
        for cell in event["cells"]:
            for s in cell["statements"]:
                assert "".join(seg.text for seg in s["segments"]) == s["text"]
    a0 = view["events"][0]["cells"][0]["statements"][0]
    assert [(seg.text, seg.type) for seg in a0["segments"] if seg.type] == [("120", "number"), ("repaired", "changed")]


def test_context_view_reproduces_each_article() -> None:
    comparison = hand_made()
    view = report.view_model(comparison)
    for doc, shown in zip(comparison.documents, view["documents"], strict=True):
        text = "\n\n".join("".join(run["text"] for run in para) for para in shown["paragraphs"])
        assert text.split() == doc.text.split()
        ids = [run["id"] for para in shown["paragraphs"] for run in para if run["id"]]
        assert ids == [f"ctx-{s.doc_id}-{s.index}" for s in comparison.statements_of(doc.doc_id)]
    assert len(view["documents"][1]["paragraphs"]) == 2


def test_differences_link_to_the_cues_they_rest_on() -> None:
    view = report.view_model(hand_made())
    d1 = view["events"][0]["differences"][0]
    assert [ev["statement_id"] for ev in d1["evidence"]] == ["s-a-0", "s-b-0"]
    assert d1["evidence"][0]["cues"] == ["number “About 120 workers” = about 120 worker"]
    html = report.render_html(hand_made())
    assert 'href="#s-a-0"' in html and 'id="s-a-0"' in html
    assert 'aria-describedby="why-D1"' in html and 'id="why-D1"' in html


def test_statements_and_sources_carry_their_language() -> None:
    html = report.render_html(hand_made())
    assert re.search(r'<p class="statement" id="s-b-0" lang="uk"', html)
    assert '<td lang="uk">Міст — «нарешті»</td>' in html


def test_an_omission_only_one_outlet_carries_has_a_permalink() -> None:
    html = report.render_html(hand_made())
    assert 'id="diff-D2"' in html and 'href="#diff-D2"' in html


def test_pdf_html_has_no_script_and_no_controls() -> None:
    html = report.render_html(hand_made(), for_pdf=True, page_size="A4 portrait")
    assert "<script" not in html
    assert 'id="filters"' not in html
    assert "size: A4 portrait" in html
    assert '<meta name="dcterms.created" content="2025-06-04T00:00:00">' in html


def test_pdf_markup_gives_languages_by_shared_rules_not_attributes() -> None:
    """In the print layout each text's language comes from one rule per language (styles WeasyPrint can
    share), not a lang attribute per element; the review view keeps the attributes."""
    html = report.render_html(hand_made(), for_pdf=True)
    body = html[html.index("<body"):]
    assert " lang=" not in body
    rules = dict(re.findall(r'\[data-l="(\d+)"\] \{ -weasy-lang: "([a-z]+)"; \}', body))
    assert sorted(rules.values()) == ["en", "uk"]
    uk = next(n for n, code in rules.items() if code == "uk")
    assert f'<p class="statement stmt" data-l="{uk}">Близько' in body
    assert f'<td data-l="{uk}">Міст — «нарешті»</td>' in body
    assert 'id="event-E1"' in body and 'href="#event-E1"' in body  # anchors kept, on the heading


def test_pdf_language_rule_cannot_break_out_of_its_style() -> None:
    assert rhtml._css_string("uk") == '"uk"'
    assert rhtml._css_string('x"}</style><b>') == '"x\\000022\\00007d\\00003c\\00002fstyle\\00003e\\00003cb\\00003e"'
    base = hand_made()
    docs = (base.documents[0], replace(base.documents[1], language='uk"}</style><script>x</script>'))
    statements = tuple(replace(s, language=docs[1].language) if s.doc_id == "b" else s for s in base.statements)
    html = report.render_html(replace(base, documents=docs, statements=statements), for_pdf=True)
    assert "<script" not in html and html.count("</style>") == 3


def test_published_dates_read_as_dates() -> None:
    assert report_view._published("2025-06-03T08:00:00+03:00") == "2025-06-03 08:00 +03:00"
    assert report_view._published("2025-06-03") == "2025-06-03"
    assert report_view._published("sometime") == "sometime"


def test_json_report_still_matches_its_schema() -> None:
    document = report.to_json(hand_made())
    report.validate_json(document)
    assert {"schema_version", "documents", "clusters", "differences", "unique"} <= set(document)


def test_a_report_that_breaks_its_schema_is_refused_with_the_path_of_the_problem() -> None:
    document = report.to_json(hand_made())
    document["differences"][0]["type"] = 7
    with pytest.raises(RenderError, match=r"at /differences/0/type: 7 is not one of \['omission'"):
        report.validate_json(document)
    del document["schema_version"]
    with pytest.raises(RenderError, match="schema_version"):
        report.validate_json(document)


def test_written_reports_are_readable_by_others(tmp_path: Path) -> None:
    written = report.write_outputs(tmp_path, {"report.html": b"<p>x</p>"})
    assert written == [tmp_path / "report.html"]
    assert (tmp_path / "report.html").stat().st_mode & 0o044 == 0o044


@pytest.mark.parametrize("url", ["ftp://x", "file:///etc/passwd", "data:text/html,x", " javascript:x", "//evil"])
def test_safe_url_refuses_non_http(url: str) -> None:
    assert report.safe_url(url) is None


def test_a_very_long_pdf_summarises_the_events_with_fewest_conflicts() -> None:
    from compare.model import Event

    base = hand_made()
    events = (*base.events, Event("E2", base.events[0].members, ("a", "b"), 0.7))
    comparison = Comparison(base.story_id, base.title, base.description, base.documents, base.statements, (),
                            events, base.differences, base.unique, base.highlights, dict(base.meta))
    html = report.render_html(comparison, for_pdf=True, max_full_events=1)
    assert 'id="event-E1"' in html  # E1 has the number conflict: in full; E2 in the summary
    assert '<tr>\n        <th scope="row"><span class="eid" id="event-E2">E2</span>' in html
    assert "1 more events, in brief" in html
    assert html.count('<tr data-event="') == 2  # the coverage matrix still lists every event
    assert "in brief" not in report.render_html(comparison)


# ------------------------------------------------------------------------------ bounds (issue 16)

def _with_long_run(token: str) -> Comparison:
    """hand_made() with one more statement in A: a long run of figures the segmenter had to cut."""
    from compare.segment import sentence_spans

    base = hand_made()
    a = base.documents[0]
    text = a.text + "\n\n" + token
    extra = [Statement("a", 2 + i, s, e, text[s:e], "en")
             for i, (s, e) in enumerate(sentence_spans(text[len(a.text) + 2:], "en"))]
    extra = [replace(s, start=s.start + len(a.text) + 2, end=s.end + len(a.text) + 2) for s in extra]
    return replace(base, documents=(replace(a, text=text), base.documents[1]),
                   statements=base.statements + tuple(extra), unique=base.unique + tuple(s.ref for s in extra))


def test_statements_cut_from_an_over_long_run_carry_a_notice_in_json_and_html() -> None:
    comparison = _with_long_run(" ".join(str(n) for n in range(2000)))
    document = report.to_json(comparison)
    report.validate_json(document)
    assert document["schema_version"] == "1.1"
    statements = document["documents"][0]["statements"]
    assert all("notice" not in s for s in statements[:2])  # ordinary sentences: no notice, no new field
    noticed = [s for s in statements[2:] if "notice" in s]
    assert noticed and all("without sentence ends" in s["notice"] for s in noticed)
    assert "without sentence ends" in report.render_html(comparison)


def test_the_print_view_breaks_long_runs_and_the_review_view_keeps_the_text() -> None:
    token = "x" * 5000
    comparison = _with_long_run(token)
    screen = report.render_html(comparison)
    printed = report.render_html(comparison, for_pdf=True)
    assert "\u200b" not in screen
    assert "x" * (report.BREAK_EVERY + 1) not in printed and "\u200b" in printed
    assert report.breakable("short words stay") == "short words stay"
    assert report.breakable(token).replace("\u200b", "") == token
