"""Read a story: a folder with `story.toml`, a story JSON file, or one line of a JSON Lines file.

Everything here is I/O at the edge of the pipeline. Article bytes are untrusted: they are decoded with
charset detection, size-capped, and rejected with a one-line `CorpusError` naming the file when they
cannot be used.
"""

from __future__ import annotations

import re
import stat
from dataclasses import replace
from datetime import date, time
from pathlib import Path
from typing import Any

from compare.corpus.base import DEFAULT_MAX_ARTICLE_BYTES, Story
from compare.corpus.json_input import (
    check_language,
    clean_text,
    load_jsonl,
    parse_json,
    parse_toml,
    story_from_json,
    type_name,
)
from compare.corpus.text import read_article, read_bytes
from compare.errors import CorpusError
from compare.model import Document

# More documents than this is almost certainly a folder of something else (or an attack on the O(n^2)
# aligner); the report cannot show them side by side anyway. Raise with --max-documents.
DEFAULT_MAX_DOCUMENTS = 200
MANIFEST = "story.toml"
MAX_MANIFEST_BYTES = 1024 * 1024


def load_story(path: str | Path, *, max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES,
               story_id: str | None = None, max_documents: int = DEFAULT_MAX_DOCUMENTS) -> Story:
    """Load a story folder, story JSON file or JSON Lines file (`story_id` picks a line, else the first)."""
    path = Path(path)
    try:
        path.stat()
    except FileNotFoundError as exc:
        raise CorpusError(f"{path}: no such file or folder. Pass a story folder or a story JSON file.") from exc
    except OSError as exc:  # name too long, permission denied on a parent, ...
        raise CorpusError(f"{path}: cannot open ({exc.strerror or exc}). Pass a story folder or a story JSON file.") \
            from exc
    if path.is_file() and path.name == MANIFEST:
        path = path.parent  # `storydiff compare story/story.toml` means the folder
    if path.is_dir():
        story = load_story_folder(path, max_article_bytes=max_article_bytes, max_documents=max_documents)
    elif not path.is_file():
        raise CorpusError(f"{path}: not a regular file or folder. Pass a story folder or a story JSON file.")
    elif path.suffix.lower() == ".jsonl":
        stories = load_jsonl(path, max_line_bytes=max_article_bytes * 4)
        if not stories:
            raise CorpusError(f"{path}: no stories in this JSON Lines file. Add one JSON object per line.")
        if story_id is None:
            story = stories[0]
        else:
            matches = [s for s in stories if s.story_id == story_id]
            if not matches:
                raise CorpusError(f"{path}: no story with id {story_id!r}. Check --story.")
            story = matches[0]
    else:
        raw = read_bytes(path, max_bytes=max_article_bytes * 4)
        story = story_from_json(parse_json(raw, path), source=str(path))
    warnings = check_story(story, max_documents=max_documents)
    return replace(story, warnings=story.warnings + warnings) if warnings else story


def check_story(story: Story, *, max_documents: int = DEFAULT_MAX_DOCUMENTS) -> tuple[str, ...]:
    """Reject stories the pipeline cannot compare, before any work or output happens.

    Returns warnings for stories that can be compared but look odd: two documents with identical
    text (wire copy reprinted by two outlets is common and legitimate, so it is not an error).
    """
    docs = story.documents
    if len(docs) < 2:
        raise CorpusError(
            f"{story.source}: a story needs at least 2 documents to compare, got {len(docs)}. "
            "Add another article."
        )
    if len(docs) > max_documents:
        raise CorpusError(
            f"{story.source}: {len(docs)} documents, over the limit of {max_documents}. "
            "Split the story or raise --max-documents."
        )
    seen: dict[str, Document] = {}
    for doc in docs:
        if doc.doc_id in seen:
            raise CorpusError(
                f"{story.source}: duplicate document id {doc.doc_id!r}. Give each document its own id."
            )
        seen[doc.doc_id] = doc
    for doc in docs:
        if not doc.text.strip():
            raise CorpusError(
                f"{doc.source_path or story.source}: document {doc.doc_id!r} has no text. "
                "Remove it or add the article text."
            )
    warnings = []
    by_text: dict[str, str] = {}
    for doc in docs:
        key = " ".join(doc.text.split())
        if key in by_text:
            warnings.append(f"{story.source}: documents {by_text[key]!r} and {doc.doc_id!r} have identical text; "
                            "they are compared anyway (e.g. the same wire copy).")
        else:
            by_text[key] = doc.doc_id
    return tuple(warnings)


# ---------------------------------------------------------------------------------------- folders

def load_story_folder(folder: Path, *, max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES,
                      max_documents: int = DEFAULT_MAX_DOCUMENTS) -> Story:
    """A folder with `story.toml` listing its articles; every article must lie inside the folder."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise CorpusError(
            f"{folder}: no {MANIFEST} in this folder. Create one listing the articles "
            "(see docs/input-formats.md)."
        )
    manifest = parse_toml(read_bytes(manifest_path, max_bytes=MAX_MANIFEST_BYTES), manifest_path)
    articles = manifest.get("articles")
    if articles is None:
        raise CorpusError(f"{manifest_path}: no [[articles]] entries. Add one per article file.")
    if not isinstance(articles, list) or not articles:
        raise CorpusError(f"{manifest_path}: 'articles' must be a list of [[articles]] tables, one per file.")
    if len(articles) > max_documents:  # before reading thousands of files
        raise CorpusError(
            f"{manifest_path}: {len(articles)} articles, over the limit of {max_documents}. "
            "Split the story or raise --max-documents."
        )
    title = _opt_str(manifest, "title", manifest_path) or folder.name
    description = _opt_str(manifest, "description", manifest_path) or ""
    root = folder.resolve()
    documents: list[Document] = []
    seen_paths: dict[Path, int] = {}
    for number, entry in enumerate(articles, start=1):
        where = f"{manifest_path}: [[articles]] entry {number}"
        if not isinstance(entry, dict):
            raise CorpusError(f"{where} is not a table. Write it as [[articles]] with path and outlet.")
        rel = entry.get("path")
        if rel is None or rel == "":
            raise CorpusError(f"{where} has no 'path'. Name the article file.")
        if not isinstance(rel, str):
            raise CorpusError(f"{where}: 'path' must be a string, got {type_name(rel)}.")
        outlet = entry.get("outlet")
        if outlet is None or (isinstance(outlet, str) and not outlet.strip()):
            raise CorpusError(f"{where} ({rel}) has no 'outlet'. Name the outlet that published it.")
        if not isinstance(outlet, str):
            raise CorpusError(f"{where} ({rel}): 'outlet' must be a string, got {type_name(outlet)}.")
        file_path = _article_path(folder, root, rel, where)
        if file_path in seen_paths:
            raise CorpusError(
                f"{where}: {rel} is already listed as entry {seen_paths[file_path]}. List each article once."
            )
        seen_paths[file_path] = number
        synthetic = entry.get("synthetic", False)
        if not isinstance(synthetic, bool):
            raise CorpusError(f"{where} ({rel}): 'synthetic' must be true or false, got {type_name(synthetic)}.")
        # A pre-segmented article (an annotated corpus such as ECB+, whose claim gold counts sentences): one
        # sentence per line, used unchanged and in order, as a story JSON's `sentences`; blank lines are skipped.
        per_line = entry.get("one_sentence_per_line", False)
        if not isinstance(per_line, bool):
            raise CorpusError(
                f"{where} ({rel}): 'one_sentence_per_line' must be true or false, got {type_name(per_line)}."
            )
        text = read_article(file_path, max_bytes=max_article_bytes)
        sentences = None
        if per_line:
            sentences = tuple(line.strip() for line in text.split("\n") if line.strip())
            text = "\n".join(sentences)
        doc_id = _opt_str(entry, "id", manifest_path)
        if not doc_id:  # default id from the file name; "a.html" and "a.txt" both listed get distinct ids
            taken = {d.doc_id for d in documents}
            doc_id = _slug(Path(rel).stem)
            if doc_id in taken:
                doc_id = _slug(Path(rel).name)
        documents.append(Document(
            doc_id=doc_id,
            outlet=clean_text(outlet.strip()),
            text=text,
            title=clean_text(_opt_str(entry, "title", manifest_path) or ""),
            url=_opt_str(entry, "url", manifest_path),
            published=_opt_date(entry, manifest_path),
            language=_opt_language(entry, manifest_path),
            source_path=str(file_path),
            synthetic=synthetic,
            sentences=sentences,
        ))
    story_id = _opt_str(manifest, "id", manifest_path) or _slug(root.name)
    return Story(story_id, clean_text(title), clean_text(description), tuple(documents), str(folder))


def _article_path(folder: Path, root: Path, rel: str, where: str) -> Path:
    """Resolve a manifest `path`, refusing anything outside the story folder (`..`, absolute, symlinks)."""
    if "\x00" in rel:
        raise CorpusError(f"{where}: 'path' contains a NUL character. Name a file inside {folder}.")
    candidate = folder / rel
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError) as exc:  # symlink loops
        raise CorpusError(f"{candidate}: cannot resolve this path ({exc}). Fix the link or the manifest.") from exc
    if not resolved.is_relative_to(root):
        raise CorpusError(
            f"{candidate}: outside the story folder (listed in {where.split(': [[')[0]}). "
            "Articles must be files inside the story folder; copy the file there."
        )
    try:
        mode = resolved.stat().st_mode
    except FileNotFoundError as exc:
        raise CorpusError(f"{candidate}: article file not found (listed in {where.split(': [[')[0]}).") from exc
    except OSError as exc:  # e.g. ENAMETOOLONG, which Path.is_dir() does not swallow
        raise CorpusError(f"{where}: cannot use this path ({exc.strerror or exc}). Name a file in the folder.") \
            from exc
    if stat.S_ISDIR(mode):
        raise CorpusError(f"{candidate}: is a folder, not an article file. Name a file in the manifest.")
    if not stat.S_ISREG(mode):
        raise CorpusError(f"{candidate}: not a regular file (device, pipe or socket). Name a text or HTML file.")
    return resolved


# ------------------------------------------------------------------------------------------- JSON


# ---------------------------------------------------------------------------------------- helpers

def _opt_str(table: dict[str, Any], key: str, path: Path) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CorpusError(f"{path}: '{key}' must be a string, got {type_name(value)}. Quote the value.")
    return clean_text(value)


def _opt_language(entry: dict[str, Any], path: Path) -> str | None:
    return check_language(_opt_str(entry, "language", path), str(path))


def _opt_date(entry: dict[str, Any], path: Path) -> str | None:
    value = entry.get("published")
    if value is None:
        return None
    if isinstance(value, str):
        from datetime import datetime

        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise CorpusError(
                f"{path}: 'published' = {value!r} is not an ISO date/time (e.g. 2025-11-21T09:00:00Z)."
            ) from exc
        return value
    if isinstance(value, date | time):  # TOML dates, datetimes and times
        return value.isoformat()
    raise CorpusError(f"{path}: 'published' must be an ISO date/time, got {type_name(value)}.")


def _slug(name: str) -> str:
    slug = re.sub(r"[^\w-]+", "-", name.lower(), flags=re.UNICODE).strip("-")
    return slug or "doc"


