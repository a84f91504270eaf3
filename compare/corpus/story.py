"""Read a story: a folder with `story.toml`, a story JSON file, or one line of a JSON Lines file.

Everything here is I/O at the edge of the pipeline. Article bytes are untrusted: they are decoded with
charset detection, size-capped, and rejected with a one-line `CorpusError` naming the file when they
cannot be used.
"""

from __future__ import annotations

import codecs
import json
import re
import stat
import tomllib
from dataclasses import dataclass, replace
from datetime import date, time
from pathlib import Path
from typing import Any

from compare.errors import CorpusError
from compare.model import Document

DEFAULT_MAX_ARTICLE_BYTES = 20 * 1024 * 1024
# More documents than this is almost certainly a folder of something else (or an attack on the O(n^2)
# aligner); the report cannot show them side by side anyway. Raise with --max-documents.
DEFAULT_MAX_DOCUMENTS = 200
MANIFEST = "story.toml"
MAX_MANIFEST_BYTES = 1024 * 1024
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}


@dataclass(frozen=True, slots=True)
class Story:
    story_id: str
    title: str
    description: str
    documents: tuple[Document, ...]
    source: str  # where it was read from, for messages
    warnings: tuple[str, ...] = ()  # one-line notes the CLI prints (e.g. identical articles)


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
            raise CorpusError(f"{where}: 'path' must be a string, got {_type_name(rel)}.")
        outlet = entry.get("outlet")
        if outlet is None or (isinstance(outlet, str) and not outlet.strip()):
            raise CorpusError(f"{where} ({rel}) has no 'outlet'. Name the outlet that published it.")
        if not isinstance(outlet, str):
            raise CorpusError(f"{where} ({rel}): 'outlet' must be a string, got {_type_name(outlet)}.")
        file_path = _article_path(folder, root, rel, where)
        if file_path in seen_paths:
            raise CorpusError(
                f"{where}: {rel} is already listed as entry {seen_paths[file_path]}. List each article once."
            )
        seen_paths[file_path] = number
        synthetic = entry.get("synthetic", False)
        if not isinstance(synthetic, bool):
            raise CorpusError(f"{where} ({rel}): 'synthetic' must be true or false, got {_type_name(synthetic)}.")
        # A pre-segmented article (an annotated corpus such as ECB+, whose claim gold counts sentences): one
        # sentence per line, used unchanged and in order, as a story JSON's `sentences`; blank lines are skipped.
        per_line = entry.get("one_sentence_per_line", False)
        if not isinstance(per_line, bool):
            raise CorpusError(
                f"{where} ({rel}): 'one_sentence_per_line' must be true or false, got {_type_name(per_line)}."
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
            outlet=_clean(outlet.strip()),
            text=text,
            title=_clean(_opt_str(entry, "title", manifest_path) or ""),
            url=_opt_str(entry, "url", manifest_path),
            published=_opt_date(entry, manifest_path),
            language=_opt_language(entry, manifest_path),
            source_path=str(file_path),
            synthetic=synthetic,
            sentences=sentences,
        ))
    story_id = _opt_str(manifest, "id", manifest_path) or _slug(root.name)
    return Story(story_id, _clean(title), _clean(description), tuple(documents), str(folder))


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


def read_article(path: Path, *, max_bytes: int = DEFAULT_MAX_ARTICLE_BYTES) -> str:
    """Read one article file as text: decode, extract HTML, strip Markdown syntax."""
    raw = read_bytes(path, max_bytes=max_bytes)
    suffix = path.suffix.lower()
    text = decode(raw, path, html=suffix in HTML_SUFFIXES)
    if suffix in HTML_SUFFIXES or (suffix not in MARKDOWN_SUFFIXES and looks_like_html(text)):
        text = extract_html(text, path)
    elif suffix in MARKDOWN_SUFFIXES:
        text = strip_markdown(text)
    text = normalise_text(text)
    if not text.strip():
        raise CorpusError(f"{path}: no article text found. Check the file is the article itself.")
    return text


def read_bytes(path: Path, *, max_bytes: int) -> bytes:
    """The file's bytes, refusing files over `max_bytes` without reading more than that."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise _too_big(path, size, max_bytes)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may have grown since stat()
    except CorpusError:
        raise
    except IsADirectoryError as exc:
        raise CorpusError(f"{path}: is a folder, not a file. Pass the story folder itself or a file.") from exc
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read file: {exc.strerror or exc}. Check it exists and is readable.") from exc
    if len(data) > max_bytes:
        raise _too_big(path, len(data), max_bytes)
    if not data.strip():
        raise CorpusError(f"{path}: file is empty. Remove it from the story or add the article text.")
    return data


def _too_big(path: Path, size: int, max_bytes: int) -> CorpusError:
    mb = 1024 * 1024
    return CorpusError(
        f"{path}: file is {size / mb:.1f} MB, over the {max_bytes / mb:.1f} MB limit. "
        "Raise --max-article-mb if this is really one article."
    )


# Signatures of common binary formats people drop into story folders by mistake.
_MAGIC = (
    (b"%PDF-", "a PDF document"), (b"PK\x03\x04", "a ZIP archive (e.g. .docx or .odt)"),
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"), (b"\x7fELF", "a program"), (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"{\\rtf", "an RTF document"), (b"7z\xbc\xaf", "a 7-Zip archive"), (b"RIFF", "a media file"),
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),  # before UTF-16: FF FE 00 00
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
# Candidates for legacy (non-UTF-8) articles; restricting charset-normalizer to these avoids exotic
# code pages (cp1006, cp037...) winning on short texts.
_LEGACY_ENCODINGS = [
    "cp1252", "latin_1", "iso8859_15", "cp1250", "iso8859_2", "cp1251", "koi8_r", "koi8_u", "iso8859_5",
    "mac_cyrillic", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "utf_16", "utf_32", "gb18030",
    "big5", "shift_jis", "euc_jp", "euc_kr",
]
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)


def decode(raw: bytes, path: Path | str, *, html: bool = False) -> str:
    """Decode an article's bytes: BOM, else UTF-8, else a declared HTML charset, else detection.

    Binary files and UTF-8 with broken bytes are refused with the position of the problem, rather
    than decoded into mojibake that would then be "compared".
    """
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise CorpusError(
                    f"{path}: starts with a {encoding.upper()} byte-order mark but byte {exc.start} is invalid. "
                    "Save it again as UTF-8."
                ) from exc
    for magic, kind in _MAGIC:
        if raw.startswith(magic):
            raise CorpusError(f"{path}: this is {kind}, not text. Save the article as text or HTML first.")
    if b"\x00" in raw[:8192]:
        raise CorpusError(f"{path}: looks like a binary file, not text. Convert it to text or HTML first.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc
    else:
        return _refuse_binary_text(text, path)
    if _mostly_utf8(raw):
        line = raw.count(b"\n", 0, first_bad.start) + 1
        raise CorpusError(
            f"{path}: invalid UTF-8 at byte {first_bad.start} (line {line}). "
            "Repair the file or save it again as UTF-8."
        )
    if html:
        declared = _declared_charset(raw)
        if declared:
            try:
                return _refuse_binary_text(raw.decode(declared), path)
            except UnicodeDecodeError:
                pass  # the declaration lies; fall through to detection
    from charset_normalizer import from_bytes

    results = from_bytes(raw, cp_isolation=_LEGACY_ENCODINGS)
    best = results.best()
    if best is None or best.encoding is None:
        raise CorpusError(
            f"{path}: cannot tell the text encoding (not UTF-8 and no other encoding fits). "
            "Save it as UTF-8."
        )
    # Short texts fit several code pages equally well; prefer the commonest (Western, then Cyrillic).
    ties = [m for m in results if m.chaos == best.chaos and m.coherence == best.coherence]
    for preferred in ("cp1252", "cp1251"):
        for match in ties:
            if preferred in match.could_be_from_charset:
                best = match
                break
        else:
            continue
        break
    return _refuse_binary_text(str(best), path)


def _refuse_binary_text(text: str, path: Path | str) -> str:
    if _control_share(text) > 0.05:
        raise CorpusError(f"{path}: looks like a binary file, not text. Convert it to text first.")
    return text


def _mostly_utf8(raw: bytes) -> bool:
    """True when bytes are UTF-8 with a few broken sequences, not a legacy 8-bit encoding.

    Legacy Cyrillic or Western text almost never forms valid multi-byte UTF-8 sequences, so many valid
    ones next to few invalid ones means a damaged UTF-8 file.
    """
    text = raw.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    return good >= 4 and good >= 5 * bad


def _declared_charset(raw: bytes) -> str | None:
    match = _META_CHARSET.search(raw[:4096])
    if not match:
        return None
    name = match.group(1).decode("ascii", "replace").lower()
    try:
        codec = codecs.lookup(name)
    except LookupError:
        return None
    if codec.name in {"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}:
        return None  # a meta tag readable as ASCII cannot really be UTF-16
    if codec.name in {"latin-1", "iso8859-1", "ascii"}:
        return "cp1252"  # what browsers do (WHATWG Encoding): these labels mean windows-1252
    return codec.name


def extract_html(html: str, path: Path | str) -> str:
    """Main text of an HTML page, one paragraph per block, with navigation and boilerplate dropped.

    Goes through trafilatura's element tree rather than its text output: the text output runs
    `html.unescape` over already-decoded text, so an article that says "&lt;b&gt;" would come out as
    "<b>" (and "&#106;avascript" as "javascript"). Escaping "&" first makes that last step a no-op.
    """
    import trafilatura
    from trafilatura.xml import xmltotxt

    try:
        document = trafilatura.bare_extraction(
            html, include_comments=False, include_tables=False, include_images=False, include_links=False,
            favor_precision=True, deduplicate=False, with_metadata=False,
        )
        body = getattr(document, "body", None)
        text = ""
        if body is not None:
            for element in body.iter():
                if element.text:
                    element.text = element.text.replace("&", "&amp;")
                if element.tail:
                    element.tail = element.tail.replace("&", "&amp;")
            text = xmltotxt(body, include_formatting=False)
    except RecursionError as exc:
        raise CorpusError(f"{path}: HTML nested too deeply to extract text. Save the article as text.") from exc
    except Exception as exc:  # trafilatura raises many internal types on broken markup
        raise CorpusError(f"{path}: cannot extract text from this HTML ({type(exc).__name__}).") from exc
    if not text or not text.strip():
        text = _fallback_html_text(html)
    if not text.strip():
        raise CorpusError(f"{path}: no article text found in this HTML page. Check it is the article itself.")
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
        raise CorpusError(f"{source}: a story must be a JSON object with 'documents', got {_type_name(data)}.")
    docs = data.get("documents")
    if docs is None:
        raise CorpusError(f"{source}: missing 'documents' list. Add one object per article.")
    if not isinstance(docs, list):
        raise CorpusError(f"{source}: 'documents' must be a list, got {_type_name(docs)}.")
    documents = []
    for number, entry in enumerate(docs):
        where = f"{source}: documents[{number}]"
        if not isinstance(entry, dict):
            raise CorpusError(f"{where} must be an object, got {_type_name(entry)}.")
        doc_id = entry.get("doc_id", entry.get("id"))
        if doc_id is None or doc_id == "":
            raise CorpusError(f"{where} has no 'doc_id'. Give each document an id.")
        if not isinstance(doc_id, str | int) or isinstance(doc_id, bool):
            raise CorpusError(f"{where}: 'doc_id' must be a string, got {_type_name(doc_id)}.")
        doc_id = _clean(str(doc_id))
        sentences = entry.get("sentences")
        if sentences is not None:
            if not isinstance(sentences, list) or not all(isinstance(s, str) for s in sentences):
                raise CorpusError(f"{where} ({doc_id}): 'sentences' must be a list of strings.")
            sentences = tuple(_clean(normalise_text(s)) for s in sentences)
            text = "\n".join(sentences)
        else:
            given = entry.get("text")
            if not isinstance(given, str):
                raise CorpusError(
                    f"{where} ({doc_id}) needs 'text' (a string) or 'sentences', "
                    f"got {'nothing' if given is None else _type_name(given)}."
                )
            text = _clean(normalise_text(given))
        outlet = _json_str(entry, "outlet", where)
        documents.append(Document(
            doc_id=doc_id,
            outlet=outlet.strip() if outlet and outlet.strip() else doc_id,
            text=text,
            title=_json_str(entry, "title", where) or "",
            url=_json_str(entry, "url", where),
            published=_json_str(entry, "published", where),
            language=_check_language(_json_str(entry, "language", where), where),
            sentences=sentences,
        ))
    story_id = data.get("id")
    if story_id is not None and (not isinstance(story_id, str | int) or isinstance(story_id, bool)):
        raise CorpusError(f"{source}: 'id' must be a string, got {_type_name(story_id)}.")
    story_id = _clean(str(story_id)) if story_id not in (None, "") else "story"
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
        raise CorpusError(f"{where}: '{key}' must be a string, got {_type_name(value)}.")
    return _clean(value)


def _clean(text: str) -> str:
    """Replace lone surrogates (legal in JSON escapes, unencodable in UTF-8) with U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _type_name(value: Any) -> str:
    names = {dict: "a table/object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number"}
    return names.get(type(value), type(value).__name__)


# ---------------------------------------------------------------------------------------- helpers

def _opt_str(table: dict[str, Any], key: str, path: Path) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CorpusError(f"{path}: '{key}' must be a string, got {_type_name(value)}. Quote the value.")
    return _clean(value)


_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")


def _opt_language(entry: dict[str, Any], path: Path) -> str | None:
    return _check_language(_opt_str(entry, "language", path), str(path))


def _check_language(value: str | None, where: str) -> str | None:
    """A BCP 47-style tag ('en', 'uk', 'pt-BR'): it becomes an HTML lang attribute and picks the segmenter."""
    if value is None or value == "":
        return None
    if not _LANGUAGE.match(value):
        raise CorpusError(f"{where}: 'language' = {value[:40]!r} is not a language code. Use e.g. 'en', 'ru', 'uk'.")
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
    if isinstance(value, date | time):  # TOML dates, datetimes and times
        return value.isoformat()
    raise CorpusError(f"{path}: 'published' must be an ISO date/time, got {_type_name(value)}.")


def _slug(name: str) -> str:
    slug = re.sub(r"[^\w-]+", "-", name.lower(), flags=re.UNICODE).strip("-")
    return slug or "doc"


def looks_like_html(text: str) -> bool:
    """A text file is treated as HTML only when it starts like a page, never for prose quoting tags."""
    head = text[:2048].lstrip().lower()
    if not head.startswith("<"):
        return False
    return head.startswith(("<!doctype html", "<html")) or ("<body" in head and "</" in head)


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\n\r\t\f")
    return bad / min(len(text), 65536)
