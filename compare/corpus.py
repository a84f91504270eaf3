"""Read a story: a folder with `story.toml`, a story JSON file, or one line of a JSON Lines file.

Everything here is I/O at the edge of the pipeline. Article bytes are untrusted: they are decoded with
charset detection, size-capped, and rejected with a one-line `CorpusError` naming the file when they
cannot be used.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compare.errors import CorpusError
from compare.model import Document

DEFAULT_MAX_ARTICLE_BYTES = 20 * 1024 * 1024
MANIFEST = "story.toml"
TEXT_SUFFIXES = {".txt", ".text", ""}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}


@dataclass(frozen=True, slots=True)
class Story:
    story_id: str
    title: str
    description: str
    documents: tuple[Document, ...]
    source: str  # where it was read from, for messages


def load_story(path: str | Path, *, max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES,
               story_id: str | None = None) -> Story:
    """Load a story folder, story JSON file or JSON Lines file (`story_id` picks a line, else the first)."""
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"{path}: no such file or folder. Pass a story folder or a story JSON file.")
    if path.is_dir():
        story = load_story_folder(path, max_article_bytes=max_article_bytes)
    elif path.suffix.lower() == ".jsonl":
        stories = load_jsonl(path)
        if not stories:
            raise CorpusError(f"{path}: no stories in this JSON Lines file.")
        if story_id is None:
            story = stories[0]
        else:
            matches = [s for s in stories if s.story_id == story_id]
            if not matches:
                raise CorpusError(f"{path}: no story with id {story_id!r}.")
            story = matches[0]
    else:
        raw = read_bytes(path, max_bytes=max_article_bytes * 4)
        story = story_from_json(parse_json(raw, path), source=str(path))
    check_story(story)
    return story


def check_story(story: Story) -> None:
    """Reject stories the pipeline cannot compare, before any work or output happens."""
    docs = story.documents
    if len(docs) < 2:
        raise CorpusError(
            f"{story.source}: a story needs at least 2 documents to compare, got {len(docs)}. "
            "Add another article."
        )
    seen: dict[str, int] = {}
    for doc in docs:
        if doc.doc_id in seen:
            raise CorpusError(
                f"{story.source}: duplicate document id {doc.doc_id!r}. Give each document its own id."
            )
        seen[doc.doc_id] = 1
    if not any(d.text.strip() for d in docs):
        raise CorpusError(f"{story.source}: every document is empty; nothing to compare.")


# ---------------------------------------------------------------------------------------- folders

def load_story_folder(folder: Path, *, max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES) -> Story:
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise CorpusError(
            f"{folder}: no {MANIFEST} in this folder. Create one listing the articles "
            "(see README, 'Input formats')."
        )
    manifest = parse_toml(read_bytes(manifest_path, max_bytes=1024 * 1024), manifest_path)
    articles = manifest.get("articles")
    if not isinstance(articles, list) or not articles:
        raise CorpusError(f"{manifest_path}: no [[articles]] entries. Add one per article file.")
    title = _opt_str(manifest, "title", manifest_path) or folder.name
    description = _opt_str(manifest, "description", manifest_path) or ""
    documents = []
    for number, entry in enumerate(articles, start=1):
        where = f"{manifest_path}: [[articles]] entry {number}"
        if not isinstance(entry, dict):
            raise CorpusError(f"{where} is not a table.")
        rel = entry.get("path")
        if not isinstance(rel, str) or not rel:
            raise CorpusError(f"{where} has no 'path'. Name the article file.")
        outlet = entry.get("outlet")
        if not isinstance(outlet, str) or not outlet.strip():
            raise CorpusError(f"{where} ({rel}) has no 'outlet'. Name the outlet that published it.")
        file_path = (folder / rel).resolve()
        if not file_path.is_file():
            raise CorpusError(f"{folder / rel}: article file not found (listed in {manifest_path}).")
        text = read_article(file_path, max_bytes=max_article_bytes)
        doc_id = _opt_str(entry, "id", manifest_path) or _slug(Path(rel).stem)
        documents.append(Document(
            doc_id=doc_id,
            outlet=outlet.strip(),
            text=text,
            title=_opt_str(entry, "title", manifest_path) or "",
            url=_opt_str(entry, "url", manifest_path),
            published=_opt_date(entry, manifest_path),
            language=_opt_str(entry, "language", manifest_path),
            source_path=str(file_path),
            synthetic=bool(entry.get("synthetic", False)),
        ))
    story_id = _opt_str(manifest, "id", manifest_path) or _slug(folder.resolve().name)
    return Story(story_id, title, description, tuple(documents), str(folder))


def read_article(path: Path, *, max_bytes: int = DEFAULT_MAX_ARTICLE_BYTES) -> str:
    """Read one article file as text: decode, extract HTML, strip Markdown syntax."""
    raw = read_bytes(path, max_bytes=max_bytes)
    text = decode(raw, path)
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES or (suffix not in MARKDOWN_SUFFIXES and _looks_like_html(text)):
        text = extract_html(text, path)
    elif suffix in MARKDOWN_SUFFIXES:
        text = strip_markdown(text)
    text = normalise_text(text)
    if not text.strip():
        raise CorpusError(f"{path}: no article text found. Check the file is the article itself.")
    return text


def read_bytes(path: Path, *, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise CorpusError(
                f"{path}: file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit. "
                "Raise --max-article-mb if this is really one article."
            )
        data = path.read_bytes()
    except CorpusError:
        raise
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read file: {exc.strerror or exc}.") from exc
    if not data.strip():
        raise CorpusError(f"{path}: file is empty. Remove it from the story or add the article text.")
    return data


def decode(raw: bytes, path: Path) -> str:
    """Decode bytes as UTF-8, else the encoding charset-normalizer finds; refuse binary files."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CorpusError(f"{path}: looks like a binary file, not text. Convert it to text or HTML first.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None or best.encoding is None:
        raise CorpusError(
            f"{path}: cannot tell the text encoding (not UTF-8 and no other encoding fits). "
            "Save it as UTF-8."
        )
    text = str(best)
    if _control_share(text) > 0.05:
        raise CorpusError(f"{path}: looks like a binary file, not text. Convert it to text first.")
    return text


def extract_html(html: str, path: Path | str) -> str:
    """Main text of an HTML page, one paragraph per block, with navigation and boilerplate dropped."""
    import trafilatura

    try:
        text = trafilatura.extract(
            html, output_format="txt", include_comments=False, include_tables=False,
            include_images=False, include_links=False, favor_precision=True, deduplicate=False,
        )
    except Exception as exc:  # trafilatura raises many internal types on broken markup
        raise CorpusError(f"{path}: cannot extract text from this HTML ({type(exc).__name__}).") from exc
    if not text or not text.strip():
        text = _fallback_html_text(html)
    if not text.strip():
        raise CorpusError(f"{path}: no article text found in this HTML page.")
    # trafilatura puts one block per line; make paragraphs explicit for the segmenter.
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


def _fallback_html_text(html: str) -> str:
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(html)
    except Exception:
        return ""
    for bad in tree.xpath("//script|//style|//nav|//footer|//header|//aside|//noscript"):
        bad.drop_tree()
    blocks = [p.text_content().strip() for p in tree.xpath("//p|//h1|//h2|//h3|//li")]
    return "\n\n".join(b for b in blocks if b)


_MD_RULES = [
    (re.compile(r"\A\+\+\+\n.*?\n\+\+\+\n", re.S), ""),  # TOML front matter
    (re.compile(r"\A---\n.*?\n---\n", re.S), ""),  # YAML front matter
    (re.compile(r"^#{1,6}\s+", re.M), ""),
    (re.compile(r"^>\s?", re.M), ""),
    (re.compile(r"^\s*[-*+]\s+", re.M), ""),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"\1"),
    (re.compile(r"`([^`]+)`"), r"\1"),
]


def strip_markdown(text: str) -> str:
    """Markdown to plain text, keeping paragraphs: the report shows what a reader would read."""
    for pattern, repl in _MD_RULES:
        text = pattern.sub(repl, text)
    return text


def normalise_text(text: str) -> str:
    """Unify line endings and drop NULs; offsets are computed on the result."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


# ------------------------------------------------------------------------------------------- JSON

def parse_json(raw: bytes, path: Path) -> Any:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 (byte {exc.start}). JSON must be UTF-8.") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorpusError(
            f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}."
        ) from exc


def parse_toml(raw: bytes, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 (byte {exc.start}). Save it as UTF-8.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CorpusError(f"{path}: invalid TOML: {exc}.") from exc


def load_jsonl(path: Path) -> list[Story]:
    """Every story of a JSON Lines file (the evaluation format), in file order."""
    stories = []
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read file: {exc.strerror or exc}.") from exc
    with handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line.decode("utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                column = getattr(exc, "colno", 1)
                raise CorpusError(f"{path}: invalid JSON at line {lineno}, column {column}.") from exc
            stories.append(story_from_json(data, source=f"{path}:{lineno}"))
    return stories


def story_from_json(data: Any, *, source: str) -> Story:
    """Build a Story from the story JSON shape; unknown fields are ignored."""
    if not isinstance(data, dict):
        raise CorpusError(f"{source}: a story must be a JSON object with 'documents'.")
    docs = data.get("documents")
    if not isinstance(docs, list):
        raise CorpusError(f"{source}: missing 'documents' list.")
    documents = []
    for number, entry in enumerate(docs):
        where = f"{source}: documents[{number}]"
        if not isinstance(entry, dict):
            raise CorpusError(f"{where} is not an object.")
        doc_id = entry.get("doc_id", entry.get("id"))
        if not isinstance(doc_id, str | int) or isinstance(doc_id, bool) or str(doc_id) == "":
            raise CorpusError(f"{where} has no 'doc_id'.")
        sentences = entry.get("sentences")
        if sentences is not None:
            if not isinstance(sentences, list) or not all(isinstance(s, str) for s in sentences):
                raise CorpusError(f"{where}: 'sentences' must be a list of strings.")
            sentences = tuple(normalise_text(s) for s in sentences)
            text = "\n".join(sentences)
        else:
            text = entry.get("text")
            if not isinstance(text, str):
                raise CorpusError(f"{where} ({doc_id}) needs 'text' (a string) or 'sentences'.")
            text = normalise_text(text)
        outlet = entry.get("outlet")
        documents.append(Document(
            doc_id=str(doc_id),
            outlet=str(outlet) if isinstance(outlet, str) and outlet.strip() else str(doc_id),
            text=text,
            title=_str_or(entry.get("title"), ""),
            url=_str_or(entry.get("url"), None),
            published=_str_or(entry.get("published"), None),
            language=_str_or(entry.get("language"), None),
            sentences=sentences,
        ))
    story_id = _str_or(data.get("id"), None) or "story"
    return Story(
        story_id=str(story_id),
        title=_str_or(data.get("title"), None) or str(story_id),
        description=_str_or(data.get("description"), ""),
        documents=tuple(documents),
        source=source,
    )


# ---------------------------------------------------------------------------------------- helpers

def _opt_str(table: dict[str, Any], key: str, path: Path) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CorpusError(f"{path}: '{key}' must be a string, got {type(value).__name__}.")
    return value


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
    if hasattr(value, "isoformat"):  # TOML dates and datetimes
        return value.isoformat()
    raise CorpusError(f"{path}: 'published' must be an ISO date/time.")


def _str_or(value: Any, default: Any) -> Any:
    return value if isinstance(value, str) else default


def _slug(name: str) -> str:
    slug = re.sub(r"[^\w-]+", "-", name.lower(), flags=re.UNICODE).strip("-")
    return slug or "doc"


def _looks_like_html(text: str) -> bool:
    head = text[:2048].lstrip().lower()
    return head.startswith(("<!doctype html", "<html")) or ("<body" in head and "</" in head)


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\n\r\t\f")
    return bad / min(len(text), 65536)
