"""`storydiff annotate`: the cue detector on its own, one statement per input line.

Reads plain text (one statement per line) or JSON Lines ({"id", "text", "language"?}); yields
{"id", "cues"} records in input order. Same cue code as `compare`, so what is measured here is what
the reports rest on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from compare.corpus import decode, read_bytes
from compare.cues import detect_cues
from compare.errors import CorpusError
from compare.report import cue_json
from compare.segment import detect_language

MAX_INPUT_BYTES = 200 * 1024 * 1024


def annotate_lines(path: Path, *, language: str | None = None,
                   reference: str | None = None) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        raise CorpusError(f"{path}: no such file. Pass a text file or a JSON Lines file.")
    ref_date = None
    if reference:
        try:
            ref_date = date.fromisoformat(reference)
        except ValueError as exc:
            raise CorpusError(f"--reference-date {reference!r}: not a YYYY-MM-DD date.") from exc
    text = decode(read_bytes(path, max_bytes=MAX_INPUT_BYTES), path)
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    is_jsonl = path.suffix.lower() in (".jsonl", ".ndjson") or (
        bool(lines) and lines[0].lstrip().startswith("{"))
    records = []
    for lineno, line in enumerate(lines, start=1):
        if is_jsonl:
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{path}: invalid JSON at line {lineno}, column {exc.colno}: "
                                  f"{exc.msg}.") from exc
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise CorpusError(f"{path}: line {lineno} needs a 'text' string.")
            records.append((item.get("id", lineno), item["text"], item.get("language")))
        else:
            records.append((lineno, line, None))
    for ident, statement, lang in records:
        lang = (lang or language or detect_language(statement)).lower()[:2]
        cues = detect_cues(statement, language=lang, reference=ref_date)
        yield {"id": ident, "cues": [cue_json(c) for c in cues]}
