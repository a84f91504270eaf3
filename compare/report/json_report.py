"""The JSON report: the document, its schema and validation."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from compare.config import DEFAULT_MIN_CONFIDENCE, check_min_confidence  # noqa: F401 (re-exported)
from compare.errors import RenderError
from compare.model import (
    Comparison,
    Statement,
    StatementRef,
)

if TYPE_CHECKING:

    pass


SCHEMA_VERSION = "1.1"  # 1.1: settings.granularity, settings.min_confidence, statements[].notice


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
