"""PDF rendering through WeasyPrint, offline (a URL fetcher that refuses everything)."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from compare.config import DEFAULT_MIN_CONFIDENCE, check_min_confidence  # noqa: F401 (re-exported)
from compare.errors import RenderError
from compare.model import (
    Comparison,
)
from compare.report.html import render_html
from compare.report.view import PDF_FULL_EVENTS

if TYPE_CHECKING:

    pass

logger = logging.getLogger(__name__)


def render_pdf(comparison: Comparison, *, page_size: str = "A4 landscape",
               max_full_events: int | None = PDF_FULL_EVENTS,
               min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> bytes:
    """The PDF: only the differences at or above `min_confidence`, with a note of how many it left out."""
    html = render_html(comparison, for_pdf=True, page_size=page_size, max_full_events=max_full_events,
                       min_confidence=min_confidence)
    return html_to_pdf(html, title=comparison.title, report_markup=True)


# WeasyPrint's user-agent sheet gives *every* element a ::marker and five footnote/note pseudo-elements
# (`::marker {…}`, `::footnote-call {…}`, …), and it computes a style for each: 5 × 2,800 styles for the
# demo, most of the cascade's time. The report's print markup has list items only as <li> and no
# footnotes, so for it the markers are scoped to <li> and the note rules dropped; nothing drawn changes.
_UA_UNIVERSAL_MARKER = "\n::marker {"

_UA_NOTES = re.compile(r"\n::(?:footnote|note)-[a-z]+ \{[^}]*\}")


@lru_cache(maxsize=1)
def _report_ua_stylesheet() -> Any:
    """WeasyPrint's HTML user-agent sheet less its universal pseudo-element rules, or None when this
    WeasyPrint's sheet does not have the rules as expected (then the stock sheet is used).

    The counter style is looked up by name: WeasyPrint 62 (which pyproject allows) calls it
    HTML5_UA_COUNTER_STYLE and has no UA_COUNTER_STYLE, and an ImportError here would fail every PDF."""
    from weasyprint import CSS
    from weasyprint import html as weasy_html

    counter_style = getattr(weasy_html, "UA_COUNTER_STYLE", None)
    try:
        ua = resources.files("weasyprint.css").joinpath("html5_ua.css").read_text("utf-8")
    except (OSError, ModuleNotFoundError):  # pragma: no cover - packaging of another WeasyPrint
        return None
    if counter_style is None or ua.count(_UA_UNIVERSAL_MARKER) != 1 or len(_UA_NOTES.findall(ua)) != 5:
        return None
    lean = _UA_NOTES.sub("\n", ua.replace(_UA_UNIVERSAL_MARKER, "\nli::marker {"))
    return CSS(string=lean, counter_style=counter_style)


def html_to_pdf(html: str, *, title: str = "", report_markup: bool = False) -> bytes:
    """WeasyPrint with a fetcher that allows only inline data: (the report's own assets).

    `report_markup`: the HTML is this module's print layout (list items only as <li>, no footnotes), which
    lets WeasyPrint skip styling pseudo-elements that cannot occur in it (see `_report_ua_stylesheet`).
    """
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except ImportError as exc:  # pragma: no cover - weasyprint is a hard dependency
        raise RenderError(f"PDF: WeasyPrint is not available ({exc}).") from exc

    class OfflineFetcher(URLFetcher):  # type: ignore[misc]
        """Refuses every URL except data: — article text must never make the renderer fetch."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols={"data"})

    lean_ua = _report_ua_stylesheet() if report_markup else None
    if lean_ua is not None:
        try:  # the lean sheet only saves time: any surprise, and the stock document runs
            return _write_pdf(_lean_html_class(HTML, lean_ua)(string=html, base_url=None, url_fetcher=OfflineFetcher()))
        except Exception as exc:
            logger.warning("PDF: the lean user-agent sheet failed (%s: %s); using WeasyPrint's own",
                           type(exc).__name__, exc)
    try:
        return _write_pdf(HTML(string=html, base_url=None, url_fetcher=OfflineFetcher()))
    except Exception as exc:
        raise RenderError(f"PDF rendering failed: {type(exc).__name__}: {exc}") from exc


def _write_pdf(document: Any) -> bytes:
    pdf: bytes = document.write_pdf()
    return pdf


@lru_cache(maxsize=2)
def _lean_html_class(html_class: type, lean_ua: Any) -> type:
    """A subclass of weasyprint.HTML whose documents use `lean_ua` as their HTML user-agent sheet.

    WeasyPrint has no public way to change its user-agent sheets (`stylesheets=` adds user sheets, which
    cannot remove a rule). Its cascade asks the document object for them (`HTML._ua_stylesheets`), so this
    class answers for its own documents: WeasyPrint's classes and module state stay untouched, and a
    WeasyPrint without that method simply renders with its stock sheet (see `html_to_pdf` for the fallback
    on any error)."""

    class LeanUserAgentHTML(html_class):  # type: ignore[misc]
        def _ua_stylesheets(self, *args: Any, **kwargs: Any) -> list[Any]:
            sheets: list[Any] = list(super()._ua_stylesheets(*args, **kwargs) or [])
            return [lean_ua, *sheets[1:]]

    return LeanUserAgentHTML
