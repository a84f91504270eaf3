"""HTML rendering: the Jinja2 environment and filters, the browser and print layouts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compare.config import DEFAULT_MIN_CONFIDENCE, check_min_confidence  # noqa: F401 (re-exported)
from compare.errors import RenderError
from compare.model import (
    Comparison,
    DifferenceType,
)
from compare.report.view import Segment, confident_only, view_model

if TYPE_CHECKING:
    from jinja2 import Environment


def templates_dir() -> Path:
    """`report_templates/` beside the package (source checkout or editable install), else installed data."""
    here = Path(__file__).resolve().parents[2] / "report_templates"
    if here.is_dir():
        return here
    import sys

    installed = Path(sys.prefix) / "share" / "storydiff" / "report_templates"
    if installed.is_dir():
        return installed
    raise RenderError("report_templates: folder not found. Reinstall storydiff.")


@lru_cache(maxsize=4)
def _environment(path: str, for_pdf: bool = False) -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(path), autoescape=select_autoescape(["html", "j2"],
                      default_for_string=True, default=True), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, finalize=_finalize_pdf if for_pdf else _finalize)
    env.filters["tojson_safe"] = _json_for_script
    return env


# Explicit bidi embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI). In article
# text, outlet names or titles they can reorder what a reader sees ("Trojan Source"), even beyond the
# field that carries them (e.g. swap the figures in a difference's explanation). The report shows them
# as visible code points instead; the JSON keeps the exact text.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def show_bidi_controls(text: str) -> str:
    return BIDI_CONTROLS.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


def _finalize(value: Any) -> Any:
    """Applied to every `{{ }}` output before escaping; trusted Markup (CSS, JS) passes through."""
    from markupsafe import Markup

    if isinstance(value, str) and not isinstance(value, Markup) and BIDI_CONTROLS.search(value):
        return show_bidi_controls(value)
    return value


# WeasyPrint lays out an `overflow-wrap: anywhere` run in time quadratic in its length (a 20,000-letter
# token took minutes). The print view gets a zero-width space every BREAK_EVERY characters of a run longer
# than LONG_RUN, so each run it lays out is short and the whole is linear (issue 16). Only the PDF's
# markup changes: the review view and the JSON keep the exact text, and links (`://`, `#`) are left alone.
LONG_RUN = 40

BREAK_EVERY = 20

_LONG_RUN = re.compile(rf"[^\s\u200b]{{{LONG_RUN + 1},}}")


def breakable(text: str) -> str:
    """`text` with a zero-width space (a break opportunity) every BREAK_EVERY characters of long runs."""
    return _LONG_RUN.sub(lambda m: "\u200b".join(m.group()[i:i + BREAK_EVERY]
                                                  for i in range(0, len(m.group()), BREAK_EVERY)), text)


def _finalize_pdf(value: Any) -> Any:
    """`_finalize`, then break opportunities in over-long runs (not in links)."""
    from markupsafe import Markup

    value = _finalize(value)
    if isinstance(value, str) and not isinstance(value, Markup) and len(value) > LONG_RUN \
            and "://" not in value and not value.startswith("#"):
        return breakable(value)
    return value


def _json_for_script(value: Any) -> Any:
    from markupsafe import Markup

    text = json.dumps(value, ensure_ascii=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def _asset(name: str) -> str:
    return (templates_dir() / name).read_text("utf-8")


def render_html(comparison: Comparison, *, for_pdf: bool = False, page_size: str = "A4 landscape",
                max_full_events: int | None = None, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> str:
    """The review view, or with `for_pdf` the print layout (no script, no controls).

    `max_full_events` (PDF only) keeps side-by-side tables for that many events and lists the rest in a
    summary: WeasyPrint holds every laid-out page in memory (~3.5 MB per 8-outlet event).
    `min_confidence`: the review view shows the differences at or above it and puts the rest behind a
    "show N less certain" control (the reader can move the threshold); the PDF leaves the rest out and
    says how many.
    """
    env = _environment(str(templates_dir()), for_pdf)
    template = env.get_template("report.html.j2")
    left_out: dict[str | None, int] = {}
    if for_pdf:
        comparison, left_out = confident_only(comparison, min_confidence)
    view = view_model(comparison, min_confidence=min_confidence)
    view["left_out"] = sum(left_out.values())
    for event in view["events"]:
        event["left_out"] = left_out.get(event["id"], 0)
    view["summary_events"] = []
    view["all_events"] = view["events"]
    if for_pdf and max_full_events is not None and len(view["events"]) > max_full_events:
        view["events"], view["summary_events"] = _split_long_tail(view["events"], max_full_events)
    if for_pdf:
        for statement in _view_statements(view):
            statement["segments"] = coalesce_segments(statement["segments"])
    languages = _PdfLanguages() if for_pdf else None
    return template.render(
        report=view, for_pdf=for_pdf, page_size=page_size,
        screen_css=_pdf_screen_css() if for_pdf else _asset("css/screen.css"), print_css=_asset("css/print.css"),
        script=_asset("js/report.js"), types=[t.value for t in DifferenceType],
        lang_attr=languages or _lang_attribute, lang_css=languages.css if languages else lambda: "",
    )


def _lang_attribute(code: str) -> Any:
    """` lang="uk"`: the review view marks each text's language with the attribute."""
    from markupsafe import Markup, escape

    return Markup(' lang="{}"').format(escape(code))


class _PdfLanguages:
    """The print layout's language marks: `data-l="N"` plus one CSS rule per language.

    WeasyPrint turns every `lang` (and `id`) attribute into a declaration of that element's own, so an
    element carrying one, and everything inside it, gets a computed style no other element can share:
    the demo's 2,800 elements had 1,767 styles, each computed property by property. A rule per
    language (`[data-l="1"] { -weasy-lang: "uk" }`) gives the same language to the text with a
    declaration block that all of that language's elements share. Anchor ids sit on leaf elements for
    the same reason (_event.html.j2). The drawn PDF is the same.
    """

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def __call__(self, code: str) -> Any:
        from markupsafe import Markup

        if not code:
            return Markup("")  # like lang="": the language of the enclosing element
        number = self.codes.setdefault(code, len(self.codes))
        return Markup(f' data-l="{number}"')

    def css(self) -> Any:
        """The rules, for a <style> at the end of the body: by then the body has named every language."""
        from markupsafe import Markup

        return Markup(" ".join(f'[data-l="{n}"] {{ -weasy-lang: {_css_string(code)}; }}'
                               for code, n in self.codes.items()))


def _css_string(text: str) -> str:
    """A CSS string literal for any text: everything but ASCII letters, digits and '-' as a hex escape, so
    a language code from the input can neither end the string nor the <style> element."""
    return '"' + "".join(ch if (ch.isascii() and ch.isalnum()) or ch == "-" else f"\\{ord(ch):06x}"
                         for ch in text) + '"'


def _view_statements(view: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for event in view["events"]:
        for cell in event["cells"]:
            yield from cell["statements"]
    for group in view["unique"]:
        yield from group["statements"]


def coalesce_segments(segments: Sequence[Segment]) -> list[Segment]:
    """One highlight per run of words instead of one per word (PDF only).

    Plain word changes come one word at a time; WeasyPrint lays out and draws each `<mark>` (and its
    dotted border) as its own inline box, so "same region" as one mark costs half. Runs of the same type
    and difference separated only by spaces merge; the words and their highlight stay the same.
    """
    merged: list[Segment] = []
    for seg in segments:
        if (seg.type and len(merged) >= 2 and not merged[-1].type and not merged[-1].text.strip()
                and merged[-2].type == seg.type and merged[-2].difference == seg.difference):
            space = merged.pop()
            previous = merged.pop()
            seg = Segment(previous.text + space.text + seg.text, seg.type, seg.difference)
        merged.append(seg)
    return merged


# Screen-only rules the PDF never matches (hover/focus states, script-driven controls, the context panel,
# tooltips): WeasyPrint tests every selector against every element, so the print layout gets the sheet
# without them.
_SCREEN_ONLY = re.compile(r":hover|:focus|:target|\.js\b|\.toolbar|\.context|\.ctx|\.tip\b|\bbutton\b|\bkbd\b"
                          r"|\.cues|\.evidence|\.ev-cues|\.collapsed|\.skip|\.no-match|\.hidden-col|\.is-hidden"
                          r"|\.current|\.dimmed|\.article|\[data-diff\]|\.statement:hover|\.toc\b")


@lru_cache(maxsize=1)
def _pdf_screen_css() -> str:
    """screen.css less the rules in `_SCREEN_ONLY` and its @media blocks (print.css covers the page)."""
    css = _asset("css/screen.css")
    try:
        import tinycss2
    except ImportError:  # pragma: no cover - a WeasyPrint dependency
        return css
    kept = []
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type == "qualified-rule":
            selectors = [sel.strip() for sel in tinycss2.serialize(rule.prelude).split(",")]
            selectors = [sel for sel in selectors if not _SCREEN_ONLY.search(sel)]
            if selectors:
                kept.append(f"{', '.join(selectors)} {{{tinycss2.serialize(rule.content).strip()}}}")
        elif rule.type == "at-rule" and rule.at_keyword != "media":
            kept.append(tinycss2.serialize([rule]))
    return "\n".join(kept)


def _split_long_tail(events: list[dict[str, Any]], keep: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Keep in full the `keep` events with the most conflicting differences (in report order); the rest go
    to the summary."""
    def weight(event: dict[str, Any]) -> tuple[int, int]:
        conflicts = sum(1 for d in event["differences"] if d["type"] != DifferenceType.OMISSION.value)
        return (-conflicts, -len(event["differences"]))

    ranked = sorted(range(len(events)), key=lambda i: (*weight(events[i]), i))
    full = set(ranked[:keep])
    return ([e for i, e in enumerate(events) if i in full], [e for i, e in enumerate(events) if i not in full])
