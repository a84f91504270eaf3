"""Russian and Ukrainian segmentation keeps exact offsets and handles abbreviations, initials and
numbers (razdel plus a merge for abbreviations it splits after)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from compare.model import Document
from compare.segment import detect_language, segment, sentence_spans

DATA = Path(__file__).resolve().parent / "data" / "segment_ru_uk.txt"


def labelled() -> dict[str, list[str]]:
    """The labelled sentences per language (one per line; blank line = paragraph break)."""
    out: dict[str, list[str]] = {}
    lang = ""
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        if line.startswith("@"):
            lang = line[1:]
            out[lang] = []
        else:
            out[lang].append(line)
    return out


def as_article(lines: list[str]) -> str:
    return "\n\n".join(" ".join(p.split("\n")) for p in "\n".join(lines).split("\n\n"))


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_labelled_articles_split_exactly_into_their_sentences(language: str) -> None:
    lines = labelled()[language]
    text = as_article(lines)
    found = [text[s:e] for s, e in sentence_spans(text, language)]
    assert found == [line for line in lines if line]


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_statement_offsets_point_into_the_source(language: str) -> None:
    text = as_article(labelled()[language])
    doc = Document(doc_id="d", outlet="o", text=text, language=language)
    statements = segment(doc)
    assert statements and all(text[s.start:s.end] == s.text for s in statements)
    assert [s.index for s in statements] == list(range(len(statements)))
    assert {s.language for s in statements} == {language}


def test_ukrainian_apostrophes_and_initials_stay_inside_a_sentence() -> None:
    text = "За словами В. Зеленського, бої в Куп’янську тривають. Генштаб це підтвердив."
    assert [text[s:e] for s, e in sentence_spans(text, "uk")] == [
        "За словами В. Зеленського, бої в Куп’янську тривають.", "Генштаб це підтвердив."]


def test_a_quoted_sentence_in_another_language_is_marked_as_such() -> None:
    text = "Russia claimed the town. Генштаб ЗСУ спростував заяви про захоплення міста. Fighting goes on."
    statements = segment(Document(doc_id="d", outlet="o", text=text, language="en"))
    assert [s.language for s in statements] == ["en", "uk", "en"]


def test_document_language_is_detected_when_the_manifest_gives_none() -> None:
    assert detect_language("Генштаб ЗСУ спростував заяви Москви про захоплення Куп’янська.") == "uk"
    assert detect_language("Генштаб ВСУ опроверг заявления Москвы о взятии Купянска.") == "ru"
    assert detect_language("The General Staff denied Moscow's claim to have taken the town.") == "en"
    assert detect_language("AMD to Acquire Server Innovator SeaMicro") == "en"  # langid says Pidgin: unsure
    manifest = Document(doc_id="d", outlet="o", text="Бои продолжаются на окраине города.", language="uk")
    assert segment(manifest)[0].language == "uk"  # the manifest wins unless a sentence clearly differs


# ------------------------------------------------------------------------------ bounds (issue 16)

def test_an_over_long_paragraph_is_segmented_in_bounded_pieces_with_exact_offsets() -> None:
    from compare.segment import MAX_SEGMENT_CHARS, forced_cuts

    text = "Officials said 40 people left. " + " ".join(str(n) for n in range(3000)) + " The end."
    spans = list(sentence_spans(text, "en"))
    assert spans[0] == (0, len("Officials said 40 people left."))
    assert all(e - s <= MAX_SEGMENT_CHARS for s, e in spans)
    assert all(text[s:e] == text[s:e].strip() and text[s:e] for s, e in spans)
    assert all(a[1] <= b[0] for a, b in pairwise(spans))
    assert "".join(text[s:e] for s, e in spans).replace(" ", "") == text.replace(" ", "")
    cuts = forced_cuts(text)
    assert cuts and all(text[c - 1] == " " for c in cuts)  # cut at spaces, never inside a number


def test_prose_paragraphs_are_never_cut() -> None:
    from compare.segment import forced_cuts

    text = "The mayor said the bridge was closed. " * 200  # 7,600 characters of ordinary sentences
    assert forced_cuts(text) == []
    assert all(text[s:e].endswith(".") for s, e in sentence_spans(text, "en"))
