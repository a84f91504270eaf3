"""Split documents into statements (sentences) that keep exact character offsets into the source.

Segmenters: pysbd (rule-based, "Golden Rules" for news abbreviations, initials, "U.S.", decimals) for
English and other Latin-script languages; razdel for Russian and Ukrainian, which pysbd handles worse
(abbreviations like "г.", "т.ч.", initials in Cyrillic). Both are maintained, deterministic and fast
enough; see docs/multilingual.md for the comparison. Paragraph breaks are always sentence breaks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from compare.model import Document, Statement

_PARAGRAPH = re.compile(r"\n[ \t]*\n+")
CYRILLIC_LANGUAGES = {"ru", "uk", "be", "bg"}
PYSBD_LANGUAGES = {"en", "de", "es", "fr", "it", "nl", "pl", "da", "ru", "bg", "el", "hi", "mr", "zh",
                   "ja", "ar", "fa", "hy", "my", "am", "ur", "kk", "sk"}


def segment(document: Document, *, language: str | None = None) -> tuple[Statement, ...]:
    """Statements of a document. Pre-segmented documents keep their sentences exactly, in order."""
    lang = (language or document.language or detect_language(document.text)).lower()[:2]
    if document.sentences is not None:
        return tuple(_presegmented(document, lang))
    spans = list(sentence_spans(document.text, lang))
    return tuple(
        Statement(doc_id=document.doc_id, index=i, start=s, end=e, text=document.text[s:e],
                  language=statement_language(document.text[s:e], lang))
        for i, (s, e) in enumerate(spans)
    )


def _presegmented(document: Document, lang: str) -> Iterator[Statement]:
    offset = 0
    assert document.sentences is not None
    for i, sentence in enumerate(document.sentences):
        yield Statement(document.doc_id, i, offset, offset + len(sentence), sentence,
                        statement_language(sentence, lang))
        offset += len(sentence) + 1  # joined by "\n"


def statement_language(text: str, document_language: str) -> str:
    """A sentence's own language when it clearly differs from its document's (a quote in Ukrainian
    inside a Russian article, an English sentence in a Ukrainian one); else the document's."""
    from compare.cues.multilingual import statement_language as detect

    return detect(text, document_language)


def sentence_spans(text: str, language: str = "en") -> Iterator[tuple[int, int]]:
    """Half-open (start, end) spans of the sentences of `text`, whitespace trimmed, never empty."""
    for p_start, p_end in paragraph_spans(text):
        paragraph = text[p_start:p_end]
        for s, e in _split_paragraph(paragraph, language):
            s, e = _trim(paragraph, s, e)
            if e > s:
                yield p_start + s, p_start + e


def paragraph_spans(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for match in _PARAGRAPH.finditer(text):
        if match.start() > start:
            yield start, match.start()
        start = match.end()
    if start < len(text):
        yield start, len(text)


# pysbd's rules take time quadratic in a paragraph's length on some inputs (a long list of dates takes 80 s
# at 120 KB), and razdel holds whole paragraphs in memory. A paragraph longer than this is segmented in
# pieces cut after sentence-final punctuation (else at a space, else anywhere), so each call is bounded and
# the whole is linear (issue 16). Ordinary paragraphs are far shorter and are never cut.
MAX_SEGMENT_CHARS = 4000
_PIECE_END = re.compile(r"[.!?…][\"'»”’)]*\s+")


def _pieces(paragraph: str, limit: int = MAX_SEGMENT_CHARS) -> list[tuple[int, int]]:
    """Spans covering `paragraph`, each at most `limit` long, cut at a sentence end or a space where possible."""
    spans, start = [], 0
    while len(paragraph) - start > limit:
        window_end = start + limit
        cut = None
        for m in _PIECE_END.finditer(paragraph, start + limit // 2, window_end):
            cut = m.end()
        if cut is None:
            space = paragraph.rfind(" ", start + limit // 2, window_end)
            cut = space + 1 if space > start else window_end
        spans.append((start, cut))
        start = cut
    spans.append((start, len(paragraph)))
    return spans


def forced_cuts(text: str) -> list[int]:
    """Offsets in `text` where an over-long paragraph was cut at a space or mid-word, not at a sentence end:
    the statements either side of one are pieces of one run of text (the report says so)."""
    cuts = []
    for p_start, p_end in paragraph_spans(text):
        if p_end - p_start <= MAX_SEGMENT_CHARS:
            continue
        paragraph = text[p_start:p_end]
        for _, end in _pieces(paragraph)[:-1]:
            if not any(m.end() == end for m in _PIECE_END.finditer(paragraph, max(0, end - 16), end)):
                cuts.append(p_start + end)
    return cuts


def _split_paragraph(paragraph: str, language: str) -> list[tuple[int, int]]:
    if not paragraph.strip():
        return []
    if len(paragraph) > MAX_SEGMENT_CHARS:
        return [(offset + s, offset + e) for offset, end in _pieces(paragraph)
                for s, e in _split_paragraph(paragraph[offset:end], language)]
    if language in CYRILLIC_LANGUAGES or (language not in PYSBD_LANGUAGES and _mostly_cyrillic(paragraph)):
        from razdel import sentenize

        return _merge_abbreviations(paragraph, [(s.start, s.stop) for s in sentenize(paragraph)])
    pieces = _pysbd(language if language in PYSBD_LANGUAGES else "en").segment(paragraph)
    # Locate each piece from a moving cursor: offsets are exact even when sentences repeat.
    spans, cursor = [], 0
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        found = paragraph.find(piece, cursor)
        if found < 0:  # pysbd normalised something; fall back to the rest of the paragraph
            spans.append((cursor, len(paragraph)))
            cursor = len(paragraph)
            break
        spans.append((found, found + len(piece)))
        cursor = found + len(piece)
    if cursor < len(paragraph) and paragraph[cursor:].strip():
        spans.append((cursor, len(paragraph)))
    return spans


# Abbreviations razdel splits after (mostly Ukrainian ones; its rules are tuned on Russian). NEVER_FINAL
# always continue the sentence ("вул. Гагаріна"); MAYBE_FINAL only before a lowercase word or a digit.
NEVER_FINAL = frozenset("вул просп пров пл бл ім див напр смт обл р-н м-н ген полк п-к буд кв".split())
MAYBE_FINAL = frozenset("тис млн млрд грн руб год хв р рр ст км".split())
_LAST_WORD = re.compile(r"([\w-]+)\.$")


def _merge_abbreviations(paragraph: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged:
            prev_start, prev_end = merged[-1]
            match = _LAST_WORD.search(paragraph[prev_start:prev_end].rstrip())
            word = match.group(1).lower() if match else ""
            following = paragraph[start:end].lstrip()[:1]
            if word in NEVER_FINAL or (word in MAYBE_FINAL and following and
                                       (following.islower() or following.isdigit() or following in ",;:")):
                merged[-1] = (prev_start, end)
                continue
        merged.append((start, end))
    return merged


@lru_cache(maxsize=8)
def _pysbd(language: str):  # type: ignore[no-untyped-def]
    import pysbd

    return pysbd.Segmenter(language=language, clean=False)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _mostly_cyrillic(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    return sum("\u0400" <= c <= "\u04ff" for c in letters) / len(letters) > 0.5


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's main language (py3langid, bundled model), 'en' when unsure.

    A short Latin-script text (a headline) or a low-confidence guess counts as English: one
    misdetected headline ("AMD to Acquire Server Innovator SeaMicro" -> Nigerian Pidgin) must not
    switch a whole English story to the multilingual model.
    """
    sample = text[:4000].strip()
    if not sample:
        return "en"
    if _mostly_cyrillic(sample) and re.search(r"[іїєґІЇЄҐ]", sample):
        return "uk"  # Ukrainian-only letters decide quickly; langid decides the rest
    try:
        code, probability = _identifier().classify(sample)
    except Exception:  # a detector failure must never stop a comparison
        return "ru" if _mostly_cyrillic(sample) else "en"
    code = str(code)
    if code != "en" and not _mostly_cyrillic(sample) and (probability < 0.9 or len(sample) < 100):
        return "en"
    return code


@lru_cache(maxsize=1)
def _identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
