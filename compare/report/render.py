"""Turn a Comparison into the JSON document, the HTML review view and the PDF.

Computing and rendering are separate: `view_model` pre-splits every statement into highlighted
segments, and the Jinja2 templates in `report_templates/` only lay them out (autoescaped, strict
undefined). PDF goes through WeasyPrint with a URL fetcher that refuses everything, so rendering never
touches the network. Outputs are rendered in memory first and written atomically, all or nothing.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from compare.config import DEFAULT_MIN_CONFIDENCE, check_min_confidence  # noqa: F401 (re-exported)
from compare.errors import OutputError, RenderError
from compare.model import (
    DIFFERENCE_DESCRIPTIONS,
    Comparison,
    Cue,
    Difference,
    DifferenceType,
    Highlight,
    Statement,
    StatementRef,
)

if TYPE_CHECKING:
    from jinja2 import Environment

    from compare.report.pdf_worker import PdfWorker

logger = logging.getLogger(__name__)

SCHEMA_VERSION = "1.1"  # 1.1: settings.granularity, settings.min_confidence, statements[].notice


# ------------------------------------------------------------------------------------------- JSON

def cue_json(cue: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": cue.type.value, "start": cue.start, "end": cue.end, "text": cue.text}
    if cue.value is not None:
        out["value"] = cue.value
    if cue.source is not None:
        out["source"] = cue.source
    return out


def statement_notices(document_text: str, statements: Sequence[Statement]) -> dict[int, str]:
    """Why a statement is not a whole sentence or was not read in full, by statement index (issue 16):
    a piece of an over-long run of text the segmenter cut, or cue detection bounded to its start."""
    from compare.cues.detect import cue_limit
    from compare.cues.lexicon import end_before
    from compare.segment import MAX_SEGMENT_CHARS, forced_cuts

    notices: dict[int, str] = {}
    cuts = forced_cuts(document_text)
    if cuts:
        ends = {end_before(document_text, c) for c in cuts}
        starts = {c + len(document_text[c:c + 64]) - len(document_text[c:c + 64].lstrip()) for c in cuts}
        for s in statements:
            if s.end in ends or s.start in starts:
                notices[s.index] = (f"Part of a run of text without sentence ends, split into statements of at most "
                                    f"{MAX_SEGMENT_CHARS:,} characters.")
    for s in statements:
        limit = cue_limit(s.text)
        if limit is not None:
            note = f"Cues were looked for in the first {limit:,} of its {len(s.text):,} characters only."
            notices[s.index] = f"{notices[s.index]} {note}" if s.index in notices else note
    return notices


def _statement_json(s: Statement, notice: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"index": s.index, "text": s.text, "start": s.start, "end": s.end,
                           "language": s.language, "cues": [cue_json(c) for c in s.cues]}
    if notice:
        out["notice"] = notice
    return out


def to_json(comparison: Comparison, *, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> dict[str, Any]:
    """The machine-readable report (see `compare/schema/report.schema.json`).

    Every difference is kept with its confidence; `min_confidence` is recorded in `settings` as the
    threshold the HTML and PDF of the same run used."""
    meta = {k: v for k, v in comparison.meta.items() if not k.startswith("_")}
    by_doc: dict[str, list[Statement]] = defaultdict(list)
    for s in comparison.statements:
        by_doc[s.doc_id].append(s)

    def ref(r: StatementRef) -> dict[str, Any]:
        return {"doc_id": r.doc_id, "index": r.index}

    return {
        "schema_version": SCHEMA_VERSION,
        "generator": meta.get("generator", "storydiff"),
        "created": meta.get("created"),
        "story": {"id": comparison.story_id, "title": comparison.title,
                  "description": comparison.description},
        "settings": {**{k: meta.get(k)
                        for k in ("model", "model_spec", "threshold", "scorer", "calibration", "languages",
                                  "granularity")},
                     "min_confidence": min_confidence},
        "documents": [
            {
                "doc_id": d.doc_id, "outlet": d.outlet, "title": d.title, "url": d.url,
                "published": d.published, "language": d.language, "synthetic": d.synthetic,
                "text": d.text,
                "statements": [_statement_json(s, notices.get(s.index))
                               for notices in [statement_notices(d.text, by_doc[d.doc_id])]
                               for s in by_doc[d.doc_id]],
            }
            for d in comparison.documents
        ],
        "links": [
            {"a": ref(lk.a), "b": ref(lk.b), "score": lk.score, "cosine": lk.cosine, "fuzzy": lk.fuzzy,
             "overlap": lk.overlap}
            for lk in comparison.links
        ],
        "clusters": [
            {"id": e.event_id, "members": [ref(m) for m in e.members], "doc_ids": list(e.doc_ids),
             "cohesion": e.cohesion}
            for e in comparison.events
        ],
        "differences": [
            {"id": d.difference_id, "type": d.type.value, "cluster": d.event_id,
             "doc_ids": list(d.doc_ids), "missing": list(d.missing),
             "statements": [ref(r) for r in sorted({StatementRef(e.doc_id, e.index) for e in d.evidence})],
             "evidence": [{"doc_id": e.doc_id, "index": e.index, "start": e.start, "end": e.end,
                           "text": e.text} for e in d.evidence],
             "explanation": d.explanation, "confidence": d.confidence}
            for d in comparison.differences
        ],
        "unique": [ref(r) for r in comparison.unique],
        "timings": meta.get("timings", {}),
    }


@lru_cache(maxsize=1)
def json_schema() -> dict[str, Any]:
    text = resources.files("compare.schema").joinpath("report.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=1)
def _fast_validator() -> Callable[[Any], Any]:
    """The schema compiled to Python once per process (fastjsonschema): about 20x faster than walking it
    with jsonschema (118 ms -> 6 ms for the demo report), which matters when a nightly run writes many
    reports. Formats are not checked, as with jsonschema's default."""
    import fastjsonschema

    return fastjsonschema.compile(json_schema(), use_formats=False, use_default=False)  # never writes defaults


def validate_json(document: dict[str, Any]) -> None:
    """Raise RenderError when a report does not match the shipped schema.

    The compiled validator answers yes or no; a failure is re-checked with jsonschema, whose best_match
    names the most relevant error and its path."""
    import fastjsonschema

    try:
        _fast_validator()(document)
        return
    except fastjsonschema.JsonSchemaException as fast_error:
        import jsonschema

        error = jsonschema.exceptions.best_match(
            jsonschema.validators.validator_for(json_schema())(json_schema()).iter_errors(document))
        if error is None:  # the two validators disagree: report the compiled one's finding
            raise RenderError(f"report JSON does not match its schema: {fast_error}") from fast_error
        path = "/".join(str(p) for p in error.absolute_path)
        raise RenderError(f"report JSON does not match its schema at /{path}: {error.message}") from fast_error


# ------------------------------------------------------------------------------------- view model

# A print-safe marker per type: survives black-and-white printing where the colours do not.
TYPE_MARKERS: dict[DifferenceType, str] = {
    DifferenceType.OMISSION: "O",
    DifferenceType.NUMBER: "#",
    DifferenceType.DATE: "D",
    DifferenceType.PLACE: "P",
    DifferenceType.ENTITY: "E",
    DifferenceType.ATTRIBUTION: "A",
    DifferenceType.HEDGING: "H",
    DifferenceType.NEGATION: "N",
    DifferenceType.WORDING: "W",
}
DEFAULT_COLUMNS = 4  # with more outlets than this the reader picks which are columns
PDF_FULL_EVENTS = 300  # beyond this a PDF summarises the events with the fewest conflicts (memory)
PAGE_LINES = 38  # an event taller than this cannot be kept on one page: let it break rather than leave a gap


@dataclass(frozen=True)
class Segment:
    text: str
    type: str | None = None  # difference type, "changed" for a plain word difference, None = same
    difference: str | None = None


def split_segments(text: str, highlights: Sequence[Highlight]) -> list[Segment]:
    """Cut a statement into plain and highlighted runs; typed highlights win over plain changes."""
    marks: list[tuple[str | None, str | None] | None] = [None] * len(text)
    for h in sorted(highlights, key=lambda h: h.type is not None):
        for i in range(max(0, h.start), min(len(text), h.end)):
            marks[i] = (h.type.value if h.type else "changed", h.difference_id)
    segments: list[Segment] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or marks[i] != marks[start]:
            mark = marks[start]
            segments.append(Segment(text[start:i], mark[0] if mark else None, mark[1] if mark else None))
            start = i
    return segments


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are clickable; anything else is shown as text."""
    if not url:
        return None
    url = url.strip()
    # Whitespace, quotes, angle brackets, backslashes and control characters never appear in a real
    # (percent-encoded) URL; a "link" carrying them is shown as text. urlparse raises on e.g. "http://[".
    if any(ch.isspace() or not ch.isprintable() or ch in "\"'<>`\\" for ch in url):
        return None
    try:
        parsed = urlparse(url)
    except ValueError:
        return None
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return url
    return None


def cue_label(cue: Cue) -> str:
    """One line a reader understands: `number “over 80%” = > 80 %`, `attribution “said” ← General Staff`."""
    label = f"{cue.type.value} “{cue.text}”"
    shown = _cue_value(cue.value)
    if shown and shown.casefold() != cue.text.casefold():
        label += f" = {shown}"
    if cue.source and cue.source.casefold() != cue.text.casefold():
        label += f" ← {cue.source}"
    return label


def _cue_value(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, dict):
        return str(value)
    if "value" in value:
        qualifier = {"~": "about", "=": "", ">": "more than", ">=": "at least", "<": "less than",
                     "<=": "at most"}.get(str(value.get("qualifier") or ""), str(value.get("qualifier") or ""))
        return " ".join(str(v) for v in (qualifier, value["value"], value.get("unit")) if v not in (None, ""))
    for key in ("iso", "canonical", "frame"):
        if value.get(key):
            return str(value[key])
    return ", ".join(f"{k} {v}" for k, v in value.items() if v not in (None, ""))


def statement_id(doc_id: str, index: int) -> str:
    return f"s-{doc_id}-{index}"


def confidence_label(value: float) -> str:
    """How a confidence is shown: two decimals, the scale of `--min-confidence` and the threshold control."""
    return f"{value:.2f}"


def view_model(comparison: Comparison, *, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> dict[str, Any]:
    """Everything the templates show, precomputed: the templates only lay it out.

    Each event's differences come most confident first, split at `min_confidence` into `certain` (shown)
    and `uncertain` (behind the review view's "show N less certain" control)."""
    highlights: dict[StatementRef, list[Highlight]] = defaultdict(list)
    for h in comparison.highlights:
        highlights[StatementRef(h.doc_id, h.index)].append(h)
    outlets = {d.doc_id: d.outlet for d in comparison.documents}
    doc_order = [d.doc_id for d in comparison.documents]
    statements_by_doc: dict[str, list[Statement]] = defaultdict(list)
    for s in comparison.statements:
        statements_by_doc[s.doc_id].append(s)
    doc_lang = {d.doc_id: (d.language or next((s.language for s in statements_by_doc[d.doc_id]), "") or "")
                for d in comparison.documents}
    notices = {d.doc_id: statement_notices(d.text, statements_by_doc[d.doc_id]) for d in comparison.documents}
    diffs_by_event: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    diffs_by_statement: dict[StatementRef, list[str]] = defaultdict(list)
    for d in comparison.differences:
        diffs_by_event[d.event_id].append(_difference_view(comparison, d, outlets, min_confidence))
        for ref in dict.fromkeys(StatementRef(e.doc_id, e.index) for e in d.evidence):
            diffs_by_statement[ref].append(d.difference_id)
    for views in diffs_by_event.values():
        views.sort(key=lambda v: -v["confidence"])  # stable: equal confidences keep the differ's order

    def statement_view(ref: StatementRef) -> dict[str, Any]:
        s = comparison.statement(ref)
        sid = statement_id(s.doc_id, s.index)
        return {"doc_id": s.doc_id, "index": s.index, "id": sid, "ctx": f"ctx-{s.doc_id}-{s.index}",
                "text": s.text, "language": s.language or doc_lang[s.doc_id], "outlet": outlets[s.doc_id],
                "segments": split_segments(s.text, highlights[ref]),
                "cues": [cue_label(c) for c in s.cues], "cues_id": f"cues-{sid}",
                "differences": diffs_by_statement.get(ref, []),
                "notice": notices.get(s.doc_id, {}).get(s.index)}

    events = []
    for event in comparison.events:
        cells = []
        members_by_doc: dict[str, list[StatementRef]] = defaultdict(list)
        for m in event.members:
            members_by_doc[m.doc_id].append(m)
        event_diffs = diffs_by_event.get(event.event_id, [])
        # How sure a "conflicting" is: the most confident conflicting difference this outlet is part of.
        conflict_confidence: dict[str, float] = {}
        for dv in event_diffs:
            if dv["type"] != DifferenceType.OMISSION.value:
                for doc in dv["doc_ids"]:
                    conflict_confidence[doc] = max(conflict_confidence.get(doc, 0.0), dv["confidence"])
        for doc_id in doc_order:
            confidence = conflict_confidence.get(doc_id) if doc_id in members_by_doc else None
            cells.append({
                "doc_id": doc_id, "outlet": outlets[doc_id], "lang": doc_lang[doc_id],
                "statements": [statement_view(r) for r in members_by_doc.get(doc_id, [])],
                "status": ("absent" if doc_id not in members_by_doc
                           else "conflicting" if confidence is not None else "reported"),
                "confidence": confidence,
                "confidence_label": confidence_label(confidence) if confidence is not None else "",
                "certain": confidence is not None and confidence >= min_confidence,
            })
        first = comparison.statement(event.members[0])
        events.append({
            "id": event.event_id, "anchor": f"event-{event.event_id}", "title": _headline(first.text),
            "title_lang": first.language or doc_lang[first.doc_id],
            "cells": cells, "differences": event_diffs, "doc_ids": list(event.doc_ids),
            "certain": [d for d in event_diffs if d["certain"]],
            "uncertain": [d for d in event_diffs if not d["certain"]],
            "types": sorted({d["type"] for d in event_diffs}), "cohesion": event.cohesion,
            "long": _estimated_lines(cells, event_diffs) > PAGE_LINES,
        })
    unique_by_doc: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ref in comparison.unique:
        unique_by_doc[ref.doc_id].append(statement_view(ref))
    # "Only X reports this" omissions point at one unique statement: show them together.
    unique_diff: dict[str, dict[str, Any]] = {}
    for d in comparison.differences:
        if d.event_id is None:
            view = next(v for v in diffs_by_event[None] if v["id"] == d.difference_id)
            for ev in d.evidence:
                unique_diff.setdefault(statement_id(ev.doc_id, ev.index), view)
    counts = Counter(d.type.value for d in comparison.differences)
    legend = [{"type": t.value, "description": DIFFERENCE_DESCRIPTIONS[t], "count": counts.get(t.value, 0),
               "marker": TYPE_MARKERS[t]} for t in DifferenceType]
    documents = [{
        "doc_id": d.doc_id, "outlet": d.outlet, "title": d.title, "url": d.url, "href": safe_url(d.url),
        "published": d.published or "", "published_display": _published(d.published),
        "language": doc_lang[d.doc_id], "synthetic": d.synthetic,
        "statement_count": len(statements_by_doc[d.doc_id]),
        "events": sum(1 for e in comparison.events if d.doc_id in e.doc_ids),
        "paragraphs": _article_view(d.text, statements_by_doc[d.doc_id]),
    } for d in comparison.documents]
    meta = {k: v for k, v in comparison.meta.items() if not k.startswith("_")}
    meta.setdefault("generator", "storydiff")
    meta.setdefault("created", "")
    return {
        "title": comparison.title, "description": comparison.description, "story_id": comparison.story_id,
        "documents": documents, "events": events, "legend": legend,
        "markers": {t.value: m for t, m in TYPE_MARKERS.items()},
        "unique": [{"doc_id": d, "outlet": outlets[d], "lang": doc_lang[d], "statements": unique_by_doc[d]}
                   for d in doc_order if unique_by_doc.get(d)],
        "unique_diff": unique_diff,
        "omissions_unique": diffs_by_event.get(None, []),
        "differences": comparison.differences, "meta": meta, "outlets": outlets,
        "columns": doc_order[:DEFAULT_COLUMNS] if len(doc_order) > DEFAULT_COLUMNS else doc_order,
        "picker": len(doc_order) > DEFAULT_COLUMNS,
        "min_confidence": min_confidence, "min_confidence_label": confidence_label(min_confidence),
        "counts": {"events": len(comparison.events), "differences": len(comparison.differences),
                   "certain": sum(1 for d in comparison.differences if d.confidence >= min_confidence),
                   "unique": len(comparison.unique), "statements": len(comparison.statements),
                   "events_with_differences": sum(1 for e in events if e["differences"])},
    }


def _estimated_lines(cells: list[dict[str, Any]], diffs: list[dict[str, Any]]) -> int:
    """Rough printed height of an event in 8 pt lines on an A4 landscape page (~170 characters a line)."""
    per_column = max(12, 170 // max(1, len(cells)))
    tallest = max((sum(-(-len(s["text"]) // per_column) for s in c["statements"]) for c in cells), default=1)
    return 5 + tallest + sum(1 + len(d["explanation"]) // 170 for d in diffs)


def _difference_view(comparison: Comparison, d: Difference, outlets: dict[str, str],
                     min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> dict[str, Any]:
    """A difference with the evidence and the cues it rests on, resolved to statements and outlets."""
    evidence = []
    for ev in d.evidence:
        try:
            s = comparison.statement(StatementRef(ev.doc_id, ev.index))
        except KeyError:
            continue
        lo, hi = ev.start - s.start, ev.end - s.start  # evidence offsets are document offsets
        cues = [cue_label(c) for c in s.cues if c.start < hi and c.end > lo] if lo < hi else []
        evidence.append({"doc_id": ev.doc_id, "outlet": outlets.get(ev.doc_id, ev.doc_id), "text": ev.text,
                         "statement_id": statement_id(ev.doc_id, ev.index), "language": s.language,
                         "cues": cues})
    return {"id": d.difference_id, "anchor": f"diff-{d.difference_id}", "type": d.type.value,
            "marker": TYPE_MARKERS[d.type], "explanation": d.explanation, "doc_ids": list(d.doc_ids),
            "missing": [outlets.get(m, m) for m in d.missing], "confidence": d.confidence,
            "confidence_label": confidence_label(d.confidence), "certain": d.confidence >= min_confidence,
            "evidence": evidence if d.type != DifferenceType.OMISSION else [],
            "evidence_outlets": list(dict.fromkeys(e["outlet"] for e in evidence)),
            "cue_count": sum(len(e["cues"]) for e in evidence)}


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def _article_view(text: str, statements: Sequence[Statement]) -> list[list[dict[str, Any]]]:
    """The full article as paragraphs of runs; runs that are statements carry the ids the events use."""
    runs: list[dict[str, Any]] = []
    pos = 0
    for s in sorted(statements, key=lambda s: s.start):
        if s.start < pos or s.end > len(text):
            continue  # overlapping or out-of-range span: show the text once, unlinked
        if s.start > pos:
            runs.append({"text": text[pos:s.start], "id": None})
        runs.append({"text": text[s.start:s.end], "id": f"ctx-{s.doc_id}-{s.index}",
                     "target": statement_id(s.doc_id, s.index), "language": s.language})
        pos = s.end
    if pos < len(text):
        runs.append({"text": text[pos:], "id": None})
    paragraphs: list[list[dict[str, Any]]] = [[]]
    for run in runs:
        if run["id"] is not None:
            paragraphs[-1].append(run)
            continue
        for i, part in enumerate(_PARAGRAPH_BREAK.split(run["text"])):
            if i:
                paragraphs.append([])  # a blank line between statements starts a new paragraph
            if part:
                paragraphs[-1].append({"text": part, "id": None})
    return [p for p in paragraphs if p]


def _published(value: str | None) -> str:
    """`2025-11-21T09:00:00+03:00` -> `2025-11-21 09:00 +03:00`: the reader's date, not a timestamp."""
    if not value:
        return ""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if len(value) <= 10:
        return parsed.date().isoformat()
    offset = parsed.strftime("%z")
    zone = f" {offset[:3]}:{offset[3:]}" if offset else ""
    return parsed.strftime("%Y-%m-%d %H:%M") + zone


def _headline(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


# --------------------------------------------------------------------------------------- templates

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


def confident_only(comparison: Comparison, min_confidence: float) -> tuple[Comparison, dict[str | None, int]]:
    """The comparison less its differences below `min_confidence` (and their typed highlights), and how
    many were left out per event (`None`: statements only one outlet carries). The PDF is drawn from it."""
    kept = tuple(d for d in comparison.differences if d.confidence >= min_confidence)
    if len(kept) == len(comparison.differences):
        return comparison, {}
    dropped = {d.difference_id for d in comparison.differences} - {d.difference_id for d in kept}
    left_out = Counter(d.event_id for d in comparison.differences if d.difference_id in dropped)
    highlights = tuple(h for h in comparison.highlights if h.difference_id not in dropped)
    return replace(comparison, differences=kept, highlights=highlights), dict(left_out)


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
