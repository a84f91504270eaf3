"""Hostile article content is shown as text, never run as markup, and rendering makes no request.

The payload corpus (`tests/payloads/xss.jsonl`, XSS cheat-sheet families) is planted in every field a
reader controls: story title and description, outlet names, article titles, URLs, document ids and the
article text itself (plain text and HTML articles, read through the real story-folder loader). The
reports are then checked where it matters: in the DOM of a real Chromium (no script runs, no dialog,
no element or attribute the templates do not make, only http(s) links), in the PDF's text and link
annotations, and in the JSON. A local HTTP server on 127.0.0.1 counts requests to prove that HTML
extraction, PDF rendering and the browser view never touch the network.
"""

from __future__ import annotations

import html
import http.server
import json
import re
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from compare.config import Settings
from compare.corpus.base import Story
from compare.corpus.story import load_story
from compare.pipeline import compare_story
from compare.report.render import (
    BIDI_CONTROLS,
    TYPE_MARKERS,
    html_to_pdf,
    render_html,
    render_pdf,
    safe_url,
    show_bidi_controls,
    templates_dir,
    to_json,
)

HERE = Path(__file__).resolve().parent
SETTINGS = Settings(model="minilm", cache_path=None)
PAYLOAD_FILE = HERE / "payloads" / "xss.jsonl"
CHUNK = 8  # payloads per story (one document each); keeps the number of PDFs small
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def load_payloads() -> list[dict[str, str]]:
    rows = [json.loads(line) for line in PAYLOAD_FILE.read_text("utf-8").splitlines() if line.strip()]
    return [r for r in rows if "payload" in r]


PAYLOADS = load_payloads()
# Long words get a story of their own: in the PDF they cost time quadratic in their length (see
# docs/security.md, "Known limits"), so the PDF check uses shorter ones (test_pdf_shows_long_words...).
_SHORT = [p for p in PAYLOADS if p["family"] != "long-word"]
LONG_WORDS = [p for p in PAYLOADS if p["family"] == "long-word"]
CHUNKS = [_SHORT[i::-(-len(_SHORT) // CHUNK)] for i in range(-(-len(_SHORT) // CHUNK))] + [LONG_WORDS]


def squash(text: str) -> str:
    """Whitespace-free form for comparing text across layouts (line wraps, table cells, paragraphs).

    NUL and CR never survive HTML parsing or the corpus's newline normalisation, so they are dropped.
    """
    return "".join(text.replace("\x00", "").replace("\ufffd", "").split())


def visible(text: str) -> str:
    return "".join(ch for ch in squash(text) if unicodedata.category(ch) != "Cf")


def toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings


# ------------------------------------------------------------------------------------------- stories

def write_hostile_story(folder: Path, chunk: list[dict[str, str]], *, origin: str = "http://127.0.0.1:9") -> Path:
    """A story folder whose every reader-controlled field carries the chunk's payloads."""
    folder.mkdir(parents=True)
    payloads = [p["payload"] for p in chunk]
    lines = [f"title = {toml_str(' / '.join(payloads))}", f"description = {toml_str(' ¶ '.join(payloads))}",
             f"id = {toml_str(payloads[0][:60])}"]
    for i, (row, payload) in enumerate(zip(chunk, payloads, strict=True)):
        as_html = i % 2 == 1
        name = f"{row['id']}.{'html' if as_html else 'txt'}"
        body = (f"Report {i} from the harbour town of Velmora, where {i + 2} ships waited on Monday. "
                f"{payload} The harbour reopened at {i + 6} o'clock after the storm passed.")
        if as_html:
            page = (f"<!DOCTYPE html><html><head><title>{html.escape(payload)}</title>"
                    f"<link rel='stylesheet' href='{origin}/style.css'></head><body><article>"
                    f"<h1>{html.escape(payload)}</h1><p>{html.escape(body)}</p>"
                    f"<p>Officials said the storm damaged {i + 3} piers along the northern quay overnight.</p>"
                    "</article></body></html>")
            (folder / name).write_text(page, "utf-8")
        else:
            (folder / name).write_text(body + "\n\nOfficials said the storm damaged piers along the quay.\n", "utf-8")
        lines += ["", "[[articles]]", f"path = {toml_str(name)}", f"outlet = {toml_str(payload)}",
                  f"title = {toml_str(payload)}", f"url = {toml_str(payload)}",
                  f"id = {toml_str(('doc ' + str(i) + ' ' + payload)[:80])}", 'language = "en"']
    (folder / "story.toml").write_text("\n".join(lines) + "\n", "utf-8")
    return folder


class BagOfWordsEmbedder:
    """Deterministic hashed bag-of-words vectors: similar sentences still link, in milliseconds.

    What is under test here is reading and rendering, not the model; 5000-character payload words
    would make every MiniLM batch pad to full length.
    """

    name = "test-bag-of-words"

    def encode(self, texts):  # type: ignore[no-untyped-def]
        import zlib

        import numpy as np

        vectors = np.zeros((len(texts), 256), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row, zlib.crc32(word.encode()) % 256] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vectors / norms


@pytest.fixture(scope="module")
def embedder() -> BagOfWordsEmbedder:
    return BagOfWordsEmbedder()


@pytest.fixture(scope="module")
def hostile_reports(tmp_path_factory: pytest.TempPathFactory, embedder) -> list[dict]:  # type: ignore[no-untyped-def]
    """For each chunk: the Story, the Comparison, and report.html / report.pdf / report.json on disk."""
    base = tmp_path_factory.mktemp("hostile")
    reports = []
    for number, chunk in enumerate(CHUNKS):
        story = load_story(write_hostile_story(base / f"story{number}", chunk))
        comparison = compare_story(story, SETTINGS, embedder=embedder)
        out = base / f"out{number}"
        out.mkdir()
        (out / "report.html").write_text(render_html(comparison), "utf-8")
        (out / "report.json").write_text(json.dumps(to_json(comparison), ensure_ascii=False), "utf-8")
        reports.append({"chunk": chunk, "story": story, "comparison": comparison, "out": out})
    return reports


def test_payload_corpus_is_large_and_varied() -> None:
    assert len(PAYLOADS) >= 50
    families = {p["family"] for p in PAYLOADS}
    assert len(families) >= 12, families
    assert len({p["payload"] for p in PAYLOADS}) == len(PAYLOADS), "duplicate payloads"


def test_loader_keeps_every_payload_as_literal_text(hostile_reports: list[dict]) -> None:
    for report in hostile_reports:
        story: Story = report["story"]
        for row, doc in zip(report["chunk"], story.documents, strict=True):
            payload = row["payload"]
            assert doc.outlet == payload.strip()
            assert doc.title == payload
            assert doc.url == payload
            if doc.source_path and doc.source_path.endswith(".html"):
                # HTML extraction drops invisible format characters (bidi controls, zero-width joiners).
                assert visible(payload) in visible(doc.text), (row["id"], doc.source_path, doc.text[:300])
            else:
                assert squash(payload) in squash(doc.text), (row["id"], doc.source_path, doc.text[:300])


def test_json_report_keeps_payloads_exactly(hostile_reports: list[dict]) -> None:
    for report in hostile_reports:
        data = json.loads((report["out"] / "report.json").read_text("utf-8"))
        for row, doc in zip(report["chunk"], data["documents"], strict=True):
            assert doc["outlet"] == row["payload"].strip()
            assert doc["url"] == row["payload"]


def test_jinja_template_syntax_in_input_is_not_evaluated(hostile_reports: list[dict]) -> None:
    page = "\n".join((r["out"] / "report.html").read_text("utf-8") for r in hostile_reports)
    assert "{{ 7*7 }}" in page and "{% for x in range(3) %}" in page
    assert "looplooploop" not in page
    assert "&lt;script&gt;window.__pwned=1" in page  # a raw "<script>" payload, escaped once


def test_only_http_links_are_clickable_in_html(hostile_reports: list[dict]) -> None:
    for report in hostile_reports:
        page = (report["out"] / "report.html").read_text("utf-8")
        for href in re.findall(r'href="([^"]*)"', page):
            target = html.unescape(href)
            assert target.startswith("#") or re.match(r"^https?://[^\s]+$", target), target


# -------------------------------------------------------------------------------------------- browser

def _template_vocabulary() -> tuple[set[str], set[str]]:
    """Every tag and attribute name the report templates can produce."""
    tags, attrs = {"html", "head", "body", "tbody"}, set()
    for path in templates_dir().rglob("*.j2"):
        source = re.sub(r"{[{%#].*?[}%#]}", " ", path.read_text("utf-8"), flags=re.S)
        for tag, rest in re.findall(r"<([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>", source):
            tags.add(tag.lower())
            attrs.update(a.lower() for a in re.findall(r"([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*(?==|\s|/?$)", rest))
    return tags, attrs


INTERACT = """() => {
  for (const sel of ['.statement', 'mark', 'th', 'td', 'summary', 'li', 'span', 'p', 'h1', 'h3']) {
    for (const el of Array.from(document.querySelectorAll(sel)).slice(0, 60)) {
      for (const type of ['mouseover', 'mouseenter', 'mousemove', 'pointerover', 'click']) {
        try { el.dispatchEvent(new MouseEvent(type, {bubbles: true, cancelable: true})); } catch (e) {}
      }
      try { el.focus(); } catch (e) {}
    }
  }
}"""

DOM_DUMP = """() => {
  const elements = [];
  for (const el of document.querySelectorAll('*')) {
    elements.push({tag: el.tagName.toLowerCase(), attrs: el.getAttributeNames(),
                   href: el.getAttribute('href'), src: el.getAttribute('src')});
  }
  return {pwned: window.__pwned === undefined ? null : String(window.__pwned), elements,
          text: document.documentElement.textContent, title: document.title,
          scripts: document.scripts.length};
}"""


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.skip("needs the Debian chromium package at /usr/bin/chromium")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_report(browser, path: Path) -> dict:  # type: ignore[no-untyped-def]
    """Load a report from file://, poke it like a reader would, and return what happened."""
    page = browser.new_page()
    events: dict[str, list[str]] = {"dialogs": [], "requests": [], "console": [], "errors": []}

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        events["dialogs"].append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda r: events["requests"].append(r.url))
    page.on("console", lambda m: events["console"].append(m.text))
    page.on("pageerror", lambda e: events["errors"].append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    # Interact like a reader (hover, focus, click statements, marks, cells; keyboard navigation) so a
    # handler that needs a gesture would fire if one had been injected. Events are dispatched from
    # script: real pointer moves over hundreds of elements would take minutes.
    page.evaluate(INTERACT)
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("Escape")
    page.wait_for_timeout(50)
    dom = page.evaluate(DOM_DUMP)
    page.close()
    return {**events, **dom}


@pytest.fixture(scope="module")
def baseline(browser, tmp_path_factory: pytest.TempPathFactory, embedder) -> dict:  # type: ignore[no-untyped-def]
    """The DOM of a benign report: what a report legitimately contains."""
    base = tmp_path_factory.mktemp("benign")
    chunk = [{"id": f"b{i}", "family": "benign", "payload": f"https://example.com/benign-{i}"} for i in range(3)]
    story = load_story(write_hostile_story(base / "story", chunk))
    comparison = compare_story(story, SETTINGS, embedder=embedder)
    (base / "report.html").write_text(render_html(comparison), "utf-8")
    return open_report(browser, base / "report.html")


@pytest.mark.browser
def test_no_payload_runs_or_adds_markup_in_chromium(hostile_reports: list[dict], browser, baseline: dict) -> None:  # type: ignore[no-untyped-def]
    tags, attrs = _template_vocabulary()
    attrs |= {a for e in baseline["elements"] for a in e["attrs"]}  # attributes the report's own script sets
    assert baseline["pwned"] is None and not baseline["dialogs"]
    checked = 0
    for report in hostile_reports:
        seen = open_report(browser, report["out"] / "report.html")
        ids = [row["id"] for row in report["chunk"]]
        assert seen["pwned"] is None, (ids, seen["pwned"])
        assert seen["dialogs"] == [], (ids, seen["dialogs"])
        assert [u for u in seen["requests"] if not u.startswith("file://")] == [], seen["requests"]
        assert seen["errors"] == [], (ids, seen["errors"])
        assert seen["scripts"] == baseline["scripts"]
        for element in seen["elements"]:
            assert element["tag"] in tags, (ids, element)
            unexpected = [a for a in element["attrs"] if a not in attrs or a.startswith("on")]
            assert not unexpected, (ids, element)
            if element["href"] is not None:
                assert element["href"].startswith("#") or re.match(r"^https?://", element["href"]), (ids, element)
            assert element["src"] is None, (ids, element)
        assert not BIDI_CONTROLS.search(seen["text"]), (ids, "a raw bidi control reached the page")
        text = squash(seen["text"])
        for row in report["chunk"]:
            assert squash(show_bidi_controls(row["payload"])) in text, f"{row['id']} not shown as text"
            checked += 1
        assert squash(show_bidi_controls(report["chunk"][0]["payload"]))[:200] in squash(seen["title"])
    assert checked == len(PAYLOADS)


# ------------------------------------------------------------------------------------------------ PDF

def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext"):
        # -raw keeps content-stream order: WeasyPrint draws each table cell's lines together.
        return subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                              text=True, check=True).stdout
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def without_markers(text: str) -> str:
    """Squashed visible text with the one-letter highlight markers removed (they may sit between any
    two characters in the PDF). A plain substring test then stays linear even for 5,000-letter words,
    where an optional-marker regex backtracks for minutes."""
    markers = set("".join(TYPE_MARKERS.values()))
    return "".join(ch for ch in visible(text) if ch not in markers)


def pdf_actions(path: Path) -> list[str]:
    """Every link URI and every JavaScript/Launch action in the PDF."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    found = []
    root = reader.trailer["/Root"]
    for key in ("/OpenAction", "/AA"):
        if key in root:
            found.append(f"root{key}")
    names = root.get("/Names")
    if names is not None:  # named destinations are fine; scripts and attachments are not
        found += [f"names{key}" for key in names.get_object() if key != "/Dests"]
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            action = annot.get("/A")
            if action is None:
                continue
            action = action.get_object()
            kind = action.get("/S")
            if kind == "/URI":
                found.append(str(action.get("/URI")))
            elif kind != "/GoTo":
                found.append(f"action {kind}")
    return found


@pytest.mark.slow
def test_pdf_shows_payloads_as_text_and_links_only_http(hostile_reports: list[dict]) -> None:
    for report in hostile_reports:
        if report["chunk"] is LONG_WORDS:
            continue  # see test_pdf_shows_long_words_as_wrapped_text
        comparison = report["comparison"]
        path = report["out"] / "report.pdf"
        path.write_bytes(render_pdf(comparison))
        text = visible(pdf_text(path))  # zero-width characters have no glyph to extract
        bare = without_markers(text)
        ids = [row["id"] for row in report["chunk"]]
        for row in report["chunk"]:
            payload = visible(show_bidi_controls(row["payload"]))
            assert payload[:300] in text, f"{row['id']}: outlet/title/url not literal in the PDF"
        for statement in comparison.statements:
            # Word by word, in 200-letter pieces: a very long word wraps over lines, cells and page breaks
            # (repeated table headers land inside it), but every piece of it must still be literal text.
            for word in show_bidi_controls(statement.text).split():
                word = without_markers(word)
                for piece in (word[i:i + 200] for i in range(0, len(word), 200)):
                    assert piece in bare, (ids, statement.text[:120], piece[:80])
        for action in pdf_actions(path):
            assert re.match(r"^https?://", action), (ids, action)
            assert action in {safe_url(d.url) for d in comparison.documents}, (ids, action)


@pytest.mark.slow
def test_pdf_shows_long_words_as_wrapped_text(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """The long-word payloads, cut to 1,200 characters, in every field: whole in the PDF text."""
    chunk = [{**row, "payload": row["payload"][:1200]} for row in LONG_WORDS]
    chunk.append({"id": "long-dash", "family": "long-word", "payload": "—" * 600})
    comparison = compare_story(load_story(write_hostile_story(tmp_path / "story", chunk)), SETTINGS,
                               embedder=embedder)
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(comparison))
    text = visible(pdf_text(path))
    for row in chunk:
        assert visible(row["payload"]) in text, row["id"]


# -------------------------------------------------------------------------------------------- network

class CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        body = b"body { color: red }" if self.path.endswith(".css") else b"GIF89a"
        self.send_response(200)
        self.send_header("Content-Type", "text/css" if self.path.endswith(".css") else "image/gif")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def counting_server() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 that records every request path."""
    hits: list[str] = []
    handler = type("Handler", (CountingHandler,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def remote_page(origin: str) -> str:
    return (HERE / "payloads" / "remote_resources.html").read_text("utf-8").replace("{ORIGIN}", origin)


def test_counting_server_sees_requests(counting_server: tuple[str, list[str]]) -> None:
    """Positive control: the server does count a real fetch, and WeasyPrint's default fetcher fetches."""
    import urllib.request

    from weasyprint import HTML

    origin, hits = counting_server
    urllib.request.urlopen(f"{origin}/probe.gif", timeout=5).read()
    assert hits == ["/probe.gif"]
    HTML(string=f'<img src="{origin}/default-fetcher.gif">').write_pdf()
    assert "/default-fetcher.gif" in hits


def test_html_extraction_of_input_articles_makes_no_request(counting_server: tuple[str, list[str]],
                                                             tmp_path: Path) -> None:
    origin, hits = counting_server
    story = tmp_path / "story"
    story.mkdir()
    (story / "remote.html").write_text(remote_page(origin), "utf-8")
    (story / "remote.xhtml").write_text(remote_page(origin), "utf-8")
    (story / "plain.txt").write_text("Dockers walked out at the port on Monday, the union said.", "utf-8")
    (story / "story.toml").write_text(
        '[[articles]]\npath = "remote.html"\noutlet = "A"\n\n[[articles]]\npath = "remote.xhtml"\noutlet = "B"\n'
        '\n[[articles]]\npath = "plain.txt"\noutlet = "C"\n', "utf-8")
    loaded = load_story(story)
    assert "dockers walked out" in loaded.documents[0].text.lower()
    assert "root:" not in loaded.documents[0].text  # no external entity was expanded
    assert hits == []


def test_pdf_rendering_makes_no_request(counting_server: tuple[str, list[str]], tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    origin, hits = counting_server
    # 1. The fetcher itself: raw HTML full of remote references renders offline.
    pdf = html_to_pdf(remote_page(origin))
    assert pdf.startswith(b"%PDF")
    # 2. A full report whose fields carry remote references.
    chunk = [{"id": "r1", "family": "network", "payload": f"<img src='{origin}/outlet.gif'>"},
             {"id": "r2", "family": "network", "payload": f"{origin}/article-url"},
             {"id": "r3", "family": "network", "payload": f"<link rel=stylesheet href='{origin}/x.css'>"}]
    story = load_story(write_hostile_story(tmp_path / "story", chunk, origin=origin))
    comparison = compare_story(story, SETTINGS, embedder=embedder)
    assert render_pdf(comparison).startswith(b"%PDF")
    assert hits == []


@pytest.mark.browser
def test_html_report_in_chromium_makes_no_request(counting_server: tuple[str, list[str]], tmp_path: Path,
                                                  browser, embedder) -> None:  # type: ignore[no-untyped-def]
    origin, hits = counting_server
    chunk = [{"id": "r1", "family": "network", "payload": f"<img src='{origin}/outlet.gif'>"},
             {"id": "r2", "family": "network", "payload": f"{origin}/article-url"},
             {"id": "r3", "family": "network", "payload": f"<iframe src='{origin}/frame'></iframe>"},
             {"id": "r4", "family": "network", "payload": f"<style>@import '{origin}/x.css';</style>"}]
    story = load_story(write_hostile_story(tmp_path / "story", chunk, origin=origin))
    comparison = compare_story(story, SETTINGS, embedder=embedder)
    report = tmp_path / "report.html"
    report.write_text(render_html(comparison), "utf-8")
    seen = open_report(browser, report)
    assert [u for u in seen["requests"] if not u.startswith("file://")] == []
    assert hits == []
    # Positive control: the same browser does reach the server when a page really asks.
    control = tmp_path / "control.html"
    control.write_text(f'<img src="{origin}/control.gif">', "utf-8")
    open_report(browser, control)
    assert hits == ["/control.gif"]
