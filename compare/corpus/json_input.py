"""Stories as JSON and JSON Lines, and the TOML and JSON parsing the readers share (errors name line and column)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from compare.corpus.base import DEFAULT_MAX_ARTICLE_BYTES, Story
from compare.corpus.text import normalise_text
from compare.errors import CorpusError
from compare.model import Document


def parse_json(raw: bytes, path: Path | str) -> Any:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 (byte {exc.start}). JSON must be UTF-8; save it as UTF-8.") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorpusError(
            f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}. Fix the JSON syntax."
        ) from exc
    except RecursionError as exc:
        raise CorpusError(f"{path}: JSON nested too deeply to be a story. Check the file.") from exc


def parse_toml(raw: bytes, path: Path | str) -> dict[str, Any]:
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 (byte {exc.start}). Save it as UTF-8.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CorpusError(f"{path}: invalid TOML: {exc}. Fix the TOML syntax.") from exc
    except RecursionError as exc:
        raise CorpusError(f"{path}: TOML nested too deeply to be a story manifest. Check the file.") from exc


def load_jsonl(path: Path, *, max_line_bytes: int = DEFAULT_MAX_ARTICLE_BYTES * 4) -> list[Story]:
    """Every story of a JSON Lines file (the evaluation format), in file order."""
    stories = []
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read file: {exc.strerror or exc}. Check it is readable.") from exc
    with handle:
        for lineno, line in enumerate(iter(lambda: handle.readline(max_line_bytes + 1), b""), start=1):
            if len(line) > max_line_bytes:
                raise CorpusError(
                    f"{path}: line {lineno} is over {max_line_bytes / 1024 / 1024:.1f} MB. "
                    "Raise --max-article-mb if this is really one story."
                )
            if not line.strip():
                continue
            if lineno == 1 and b"\x00" in line[:8192]:
                raise CorpusError(f"{path}: looks like a binary file, not JSON Lines. Check the file.")
            try:
                data = json.loads(line.decode("utf-8-sig"))
            except UnicodeDecodeError as exc:
                raise CorpusError(f"{path}: line {lineno} is not UTF-8 (byte {exc.start}). Save it as UTF-8.") from exc
            except json.JSONDecodeError as exc:
                raise CorpusError(
                    f"{path}: invalid JSON at line {lineno}, column {exc.colno}: {exc.msg}. Fix that line."
                ) from exc
            except RecursionError as exc:
                raise CorpusError(f"{path}: line {lineno} is nested too deeply to be a story.") from exc
            stories.append(story_from_json(data, source=f"{path}:{lineno}"))
    return stories


def story_from_json(data: Any, *, source: str) -> Story:
    """Build a Story from the story JSON shape; unknown fields are ignored, known ones are type-checked."""
    if not isinstance(data, dict):
        raise CorpusError(f"{source}: a story must be a JSON object with 'documents', got {type_name(data)}.")
    docs = data.get("documents")
    if docs is None:
        raise CorpusError(f"{source}: missing 'documents' list. Add one object per article.")
    if not isinstance(docs, list):
        raise CorpusError(f"{source}: 'documents' must be a list, got {type_name(docs)}.")
    documents = []
    for number, entry in enumerate(docs):
        where = f"{source}: documents[{number}]"
        if not isinstance(entry, dict):
            raise CorpusError(f"{where} must be an object, got {type_name(entry)}.")
        doc_id = entry.get("doc_id", entry.get("id"))
        if doc_id is None or doc_id == "":
            raise CorpusError(f"{where} has no 'doc_id'. Give each document an id.")
        if not isinstance(doc_id, str | int) or isinstance(doc_id, bool):
            raise CorpusError(f"{where}: 'doc_id' must be a string, got {type_name(doc_id)}.")
        doc_id = clean_text(str(doc_id))
        sentences = entry.get("sentences")
        if sentences is not None:
            if not isinstance(sentences, list) or not all(isinstance(s, str) for s in sentences):
                raise CorpusError(f"{where} ({doc_id}): 'sentences' must be a list of strings.")
            sentences = tuple(clean_text(normalise_text(s)) for s in sentences)
            text = "\n".join(sentences)
        else:
            given = entry.get("text")
            if not isinstance(given, str):
                raise CorpusError(
                    f"{where} ({doc_id}) needs 'text' (a string) or 'sentences', "
                    f"got {'nothing' if given is None else type_name(given)}."
                )
            text = clean_text(normalise_text(given))
        outlet = _json_str(entry, "outlet", where)
        documents.append(Document(
            doc_id=doc_id,
            outlet=outlet.strip() if outlet and outlet.strip() else doc_id,
            text=text,
            title=_json_str(entry, "title", where) or "",
            url=_json_str(entry, "url", where),
            published=_json_str(entry, "published", where),
            language=check_language(_json_str(entry, "language", where), where),
            sentences=sentences,
        ))
    story_id = data.get("id")
    if story_id is not None and (not isinstance(story_id, str | int) or isinstance(story_id, bool)):
        raise CorpusError(f"{source}: 'id' must be a string, got {type_name(story_id)}.")
    story_id = clean_text(str(story_id)) if story_id not in (None, "") else "story"
    return Story(
        story_id=story_id,
        title=_json_str(data, "title", source) or story_id,
        description=_json_str(data, "description", source) or "",
        documents=tuple(documents),
        source=source,
    )


def _json_str(table: dict[str, Any], key: str, where: str) -> str | None:
    """An optional string field: null/absent is None, anything but a string is an error."""
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CorpusError(f"{where}: '{key}' must be a string, got {type_name(value)}.")
    return clean_text(value)


def clean_text(text: str) -> str:
    """Replace lone surrogates (legal in JSON escapes, unencodable in UTF-8) with U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def type_name(value: Any) -> str:
    names = {dict: "a table/object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number"}
    return names.get(type(value), type(value).__name__)


_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")


def check_language(value: str | None, where: str) -> str | None:
    """A BCP 47-style tag ('en', 'uk', 'pt-BR'): it becomes an HTML lang attribute and picks the segmenter."""
    if value is None or value == "":
        return None
    if not _LANGUAGE.match(value):
        raise CorpusError(f"{where}: 'language' = {value[:40]!r} is not a language code. Use e.g. 'en', 'ru', 'uk'.")
    return value
