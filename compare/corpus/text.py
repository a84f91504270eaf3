"""Article text: bytes read with a size cap, decoded (BOMs, declared and detected charsets), refused when
binary, HTML extracted with trafilatura, Markdown stripped, whitespace normalised."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from compare.corpus.base import DEFAULT_MAX_ARTICLE_BYTES, HTML_SUFFIXES, MARKDOWN_SUFFIXES
from compare.errors import CorpusError


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
