"""The view model: statements pre-split into highlighted segments, events laid out for the templates."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from compare.config import DEFAULT_MIN_CONFIDENCE, check_min_confidence  # noqa: F401 (re-exported)
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
from compare.report.json_report import statement_notices

if TYPE_CHECKING:

    pass


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
