"""The PDF as a reader gets it: pages, outline, metadata, text (Cyrillic included), pixels, page size,
and a renderer that fetches nothing. Built once per module from the real pipeline on a tiny story."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from compare.report import pdf as report_pdf
from compare.report import render as report

STORY = Path(__file__).resolve().parent / "fixtures" / "bridge-story"
pytestmark = pytest.mark.slow  # builds a real comparison and renders PDFs


@pytest.fixture(scope="module")
def comparison() -> Any:
    from compare.config import Settings
    from compare.corpus.story import load_story
    from compare.pipeline import compare_story

    return compare_story(load_story(STORY), Settings(model="minilm", cache_path=None))


@pytest.fixture(scope="module")
def pdf_path(comparison: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    path.write_bytes(report.render_pdf(comparison))
    return path


def pdftotext(path: Path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext not installed (apt-get install poppler-utils; .ci/run does it)")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_pdf_has_pages_an_outline_per_event_and_metadata(pdf_path: Path, comparison: Any) -> None:
    from pypdf import PdfReader

    reader = PdfReader(pdf_path)
    assert len(reader.pages) >= 2
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # A4 landscape by default

    def titles(items: list[Any]) -> list[str]:
        out: list[str] = []
        for item in items:
            out.extend(titles(item) if isinstance(item, list) else [item.title])
        return out

    outline = titles(reader.outline)
    for section in ("Sources", "Overview", "Events side by side"):
        assert section in outline
    for event in comparison.events:
        assert any(t.startswith(f"{event.event_id} ") for t in outline), event.event_id
    meta = reader.metadata
    assert meta.title.startswith(comparison.title)
    assert meta.creator.startswith("storydiff")
    assert meta.creation_date is not None


def test_pdf_text_names_every_outlet_and_difference_type_in_cyrillic_too(pdf_path: Path,
                                                                          comparison: Any) -> None:
    text = pdftotext(pdf_path)
    flat = " ".join(text.split())
    for doc in comparison.documents:
        assert doc.outlet in flat, doc.outlet
    from compare.config import DEFAULT_MIN_CONFIDENCE

    for d in comparison.differences:  # the PDF carries the differences at or above --min-confidence
        listed = re.search(rf"\b{d.difference_id}\b", flat) is not None
        assert listed == (d.confidence >= DEFAULT_MIN_CONFIDENCE), d
        if d.confidence >= DEFAULT_MIN_CONFIDENCE:
            assert d.type.value in flat
    assert "Купʼянський вісник" in flat
    assert "Міст через Оскіл знову відкрили — «нарешті»" in flat
    assert "Page 1 of" in flat
    assert comparison.title in flat  # running header


def test_pdf_pages_are_not_blank(pdf_path: Path, tmp_path: Path) -> None:
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm not installed (apt-get install poppler-utils; .ci/run does it)")
    from PIL import Image, ImageStat

    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf_path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert pages
    for png in pages:
        image = Image.open(png).convert("L")
        dark = sum(image.histogram()[:200]) / (image.width * image.height)
        assert dark > 0.005, f"{png.name} looks blank"
        assert ImageStat.Stat(image).stddev[0] > 5


def test_page_size_is_configurable(comparison: Any) -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(report.render_pdf(comparison, page_size="A4 portrait")))
    box = reader.pages[0].mediabox
    assert float(box.width) < float(box.height)


def test_rendering_never_fetches(tmp_path: Path) -> None:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        secret = tmp_path / "secret.css"
        secret.write_text("body { color: red }")
        html = (f'<html><head><link rel="stylesheet" href="{base}/x.css"><link rel="stylesheet" '
                f'href="{secret.as_uri()}"></head><body><p>Купʼянськ</p><img src="{base}/a.png">'
                f'<div style="background: url({base}/b.png)">x</div></body></html>')
        pdf = report.html_to_pdf(html)
    finally:
        server.shutdown()
    assert pdf.startswith(b"%PDF")
    assert hits == []


def test_lean_user_agent_sheet_draws_the_same_pdf(comparison: Any) -> None:
    """The report's print markup skips WeasyPrint's universal pseudo-element styles: same bytes out."""
    html = report.render_html(comparison, for_pdf=True)
    assert report_pdf._report_ua_stylesheet() is not None  # the shipped WeasyPrint's sheet is the expected one
    assert report.html_to_pdf(html, report_markup=True) == report.html_to_pdf(html)


def test_lean_document_renders_itself_and_any_failure_of_it_falls_back_to_the_stock_sheet(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The lean sheet goes through a subclass of weasyprint.HTML (WeasyPrint has no public hook for its
    user-agent sheets): it must work on the shipped WeasyPrint, and can only ever cost speed elsewhere."""
    from weasyprint import HTML

    lean = report_pdf._lean_html_class(HTML, report_pdf._report_ua_stylesheet())
    assert report_pdf._write_pdf(lean(string="<ul><li>Купʼянськ</li></ul>", base_url=None)).startswith(b"%PDF")

    def changed_weasyprint(html_class: type, lean_ua: Any) -> type:
        raise AttributeError("a WeasyPrint whose cascade no longer asks the document for its sheets")

    monkeypatch.setattr(report_pdf, "_lean_html_class", changed_weasyprint)
    assert report.html_to_pdf("<ul><li>Купʼянськ</li></ul>", report_markup=True).startswith(b"%PDF")


def test_weasyprint_without_ua_counter_style_renders_with_the_stock_sheet(monkeypatch: pytest.MonkeyPatch) -> None:
    """WeasyPrint 62 (allowed by pyproject) has HTML5_UA_COUNTER_STYLE, not UA_COUNTER_STYLE: the lean
    sheet is skipped there instead of failing every PDF with an ImportError."""
    import weasyprint.html

    monkeypatch.delattr(weasyprint.html, "UA_COUNTER_STYLE")
    report_pdf._report_ua_stylesheet.cache_clear()
    try:
        assert report_pdf._report_ua_stylesheet() is None
        assert report.html_to_pdf("<p>Купʼянськ</p>", report_markup=True).startswith(b"%PDF")
    finally:
        report_pdf._report_ua_stylesheet.cache_clear()


def test_pdf_from_the_helper_process_is_the_one_rendered_in_process(comparison: Any) -> None:
    from compare.report.pdf_worker import PdfWorker

    with PdfWorker.start() as worker:
        files = report.render_all(comparison, ("json", "html", "pdf"), pdf_worker=worker)
    assert set(files) == {"report.json", "report.html", "report.pdf"}
    assert files["report.pdf"] == report.render_pdf(comparison)


def test_helper_ignores_modules_in_the_current_directory(
        comparison: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -c` puts the working directory first on sys.path; a user's tempfile.py there must not
    break the PDF (the storydiff script itself never imports from the working directory)."""
    from compare.report.pdf_worker import PdfWorker

    (tmp_path / "tempfile.py").write_text("raise ImportError('shadowed by the working directory')\n")
    monkeypatch.chdir(tmp_path)
    with PdfWorker.start() as worker:
        files = report.render_all(comparison, ("pdf",), pdf_worker=worker)
    assert files["report.pdf"].startswith(b"%PDF")


def test_a_helper_that_died_is_a_render_error() -> None:
    from compare.errors import RenderError
    from compare.report.pdf_worker import HelperFailed, PdfWorker

    with PdfWorker.start() as worker:
        worker._process.kill()
        worker._process.wait()
        worker.send("<p>never rendered</p>")
        with pytest.raises(HelperFailed, match="PDF helper failed") as failure:
            worker.result()
    assert isinstance(failure.value, RenderError)


def test_a_helper_that_died_leaves_the_pdf_to_this_process(comparison: Any) -> None:
    """A broken helper (killed, out of memory) is not a broken document: the run still gets its PDF."""
    from compare.report.pdf_worker import PdfWorker

    with PdfWorker.start() as worker:
        worker._process.kill()
        worker._process.wait()
        files = report.render_all(comparison, ("json", "pdf"), pdf_worker=worker)
    assert files["report.pdf"] == report.render_pdf(comparison)
