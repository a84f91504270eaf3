"""`storydiff annotate`: the cue detector on its own, one statement per input line.

Reads plain text (one statement per line) or JSON Lines ({"id", "text", "language"?, "reference"?});
yields {"id", "cues"} records in input order. Same cue code as `compare` (`cues.detect_cues`, the
report's `cue_json`), so what is measured here is what the reports rest on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from compare.corpus.text import decode, read_bytes
from compare.cues.detect import detect_cues
from compare.errors import CorpusError, InputError
from compare.report.json_report import cue_json
from compare.segment import detect_language

MAX_INPUT_BYTES = 200 * 1024 * 1024
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?$")


def _language(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _LANGUAGE.match(value.strip()):
        raise InputError(f"{where}: language {value!r} is not a language code. Use e.g. en, ru or uk.")
    return value.strip().lower()[:2]


def _reference(value: Any, where: str) -> date:
    if not isinstance(value, str):
        raise InputError(f"{where}: reference date {value!r} is not a YYYY-MM-DD string. Write e.g. 2025-11-21.")
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError as exc:
        raise InputError(f"{where}: reference date {value!r} is not a YYYY-MM-DD date. Write e.g. 2025-11-21.") \
            from exc


def annotate_lines(path: Path, *, language: str | None = None,
                   reference: str | None = None) -> Iterator[dict[str, Any]]:
    """Cues of every statement in `path`, one record per input line (blank JSON Lines lines are skipped).

    Language: the line's own "language", else `language`, else detected per statement. Weekdays and
    "yesterday" resolve against the line's "reference" date, else `reference`.
    """
    if path.is_dir():
        raise CorpusError(f"{path}: is a folder. Pass a text file or a JSON Lines file.")
    if not path.is_file():
        raise CorpusError(f"{path}: no such file. Pass a text file or a JSON Lines file.")
    default_language = _language(language, "--language") if language is not None else None
    default_reference = _reference(reference, "--reference-date") if reference else None
    text = decode(read_bytes(path, max_bytes=MAX_INPUT_BYTES), path)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    first = next((line for line in lines if line.strip()), "")
    is_jsonl = path.suffix.lower() in (".jsonl", ".ndjson") or first.lstrip().startswith("{")
    records: list[tuple[str | int | float, str, str | None, date | None]] = []
    for lineno, line in enumerate(lines, start=1):
        where = f"{path}: line {lineno}"
        if not is_jsonl:
            records.append((lineno, line.lstrip("\ufeff"), default_language, default_reference))
            continue
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{where}: invalid JSON at column {exc.colno}: {exc.msg}. "
                              "Write one JSON object per line.") from exc
        if not isinstance(item, dict):
            raise CorpusError(f"{where}: expected a JSON object like {{\"id\": 1, \"text\": \"...\"}}.")
        if not isinstance(item.get("text"), str):
            raise CorpusError(f"{where}: needs a \"text\" string. Add the statement as \"text\".")
        ident = item.get("id", lineno)
        if not isinstance(ident, str | int | float) or isinstance(ident, bool):
            raise CorpusError(f"{where}: \"id\" must be a string or a number.")
        lang = _language(item["language"], where) if item.get("language") is not None else default_language
        ref = _reference(item["reference"], where) if item.get("reference") is not None else default_reference
        records.append((ident, item["text"], lang, ref))
    for ident, statement, lang, ref in records:
        lang = lang or (detect_language(statement).lower()[:2] if statement.strip() else "en")
        cues = detect_cues(statement, language=lang, reference=ref)
        yield {"id": ident, "cues": [cue_json(c) for c in cues]}
