"""Turn a Comparison into the JSON document, the HTML review view and the PDF.

Computing and rendering are separate: `view_model` pre-splits every statement into highlighted
segments, and the Jinja2 templates in `report_templates/` only lay them out (autoescaped, strict
undefined). PDF goes through WeasyPrint with a URL fetcher that refuses everything, so rendering never
touches the network. Outputs are rendered in memory first and written atomically, all or nothing.

This module renders every requested format (`render_all`) and writes them (`write_outputs`); the formats
live in `json_report` (the JSON document and its schema), `view` (the view model), `html` (Jinja2) and
`pdf` (WeasyPrint), and their public names are importable from here too.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compare.config import DEFAULT_MIN_CONFIDENCE, check_min_confidence  # noqa: F401 (re-exported)
from compare.errors import OutputError
from compare.model import Comparison

# The report's public names, importable from here as before the split (issue 17): each lives in its module.
from compare.report.html import BIDI_CONTROLS as BIDI_CONTROLS
from compare.report.html import BREAK_EVERY as BREAK_EVERY
from compare.report.html import breakable as breakable
from compare.report.html import render_html as render_html
from compare.report.html import show_bidi_controls as show_bidi_controls
from compare.report.html import templates_dir as templates_dir
from compare.report.json_report import cue_json as cue_json
from compare.report.json_report import json_schema as json_schema
from compare.report.json_report import to_json as to_json
from compare.report.json_report import validate_json as validate_json
from compare.report.pdf import html_to_pdf as html_to_pdf
from compare.report.pdf import render_pdf as render_pdf
from compare.report.view import PDF_FULL_EVENTS as PDF_FULL_EVENTS
from compare.report.view import TYPE_MARKERS as TYPE_MARKERS
from compare.report.view import confident_only as confident_only
from compare.report.view import safe_url as safe_url
from compare.report.view import view_model as view_model

if TYPE_CHECKING:
    from compare.report.pdf_worker import PdfWorker

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------ output

def render_all(comparison: Comparison, formats: Sequence[str], *, page_size: str = "A4 landscape",
               json_extra: dict[str, Any] | None = None, pdf_worker: PdfWorker | None = None,
               min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> dict[str, bytes]:
    """Render every requested format in memory: nothing is written unless all succeed.

    `min_confidence` is the threshold of the HTML's confidence control and the PDF's cut (see
    `render_html`); the JSON keeps every difference and records it.
    `json_extra` adds top-level keys to the JSON report (a scheduled run's `versions`), so the document
    is encoded once. With a `pdf_worker` (see `compare.report.pdf_worker`) the PDF is laid out in that process
    while this one renders the JSON and HTML; the bytes are the same."""
    rendered: dict[str, bytes] = {}
    print_html = None
    if "pdf" in formats:
        print_html = render_html(comparison, for_pdf=True, page_size=page_size, max_full_events=PDF_FULL_EVENTS,
                                 min_confidence=min_confidence)
        if pdf_worker is not None:
            pdf_worker.send(print_html)
    if "json" in formats:
        document = {**to_json(comparison, min_confidence=min_confidence), **(json_extra or {})}
        validate_json(document)
        rendered["report.json"] = (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()
    if "html" in formats:
        rendered["report.html"] = render_html(comparison, min_confidence=min_confidence).encode("utf-8")
    if print_html is not None:
        pdf = None
        if pdf_worker is not None:
            from compare.report.pdf_worker import HelperFailed

            try:
                pdf = pdf_worker.result()
            except HelperFailed as exc:  # the helper broke, not the document: lay it out here instead
                logger.warning("PDF helper failed (%s); rendering the PDF in this process", exc)
        rendered["report.pdf"] = pdf if pdf is not None else html_to_pdf(print_html, report_markup=True)
    return rendered


@lru_cache(maxsize=1)
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_outputs(outdir: Path, files: dict[str, bytes]) -> list[Path]:
    """Write files atomically (temp file + rename); on any failure remove what this call wrote."""
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{outdir}: cannot create output folder: {exc.strerror or exc}.") from exc
    if not os.access(outdir, os.W_OK):
        raise OutputError(f"{outdir}: output folder is not writable. Choose another with -o.")
    temps: list[tuple[Path, Path]] = []
    try:
        for name, data in files.items():
            fd, temp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=outdir)
            os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            temps.append((Path(temp_name), outdir / name))
    except OSError as exc:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        for leftover in outdir.glob(".report.*.tmp"):
            leftover.unlink(missing_ok=True)
        raise OutputError(f"{outdir}: cannot write report: {exc.strerror or exc}. "
                          "Free some space or choose another folder with -o.") from exc
    for tmp, final in temps:
        os.replace(tmp, final)
    return [final for _, final in temps]
