"""Reading stories: folders with story.toml, story JSON, JSON Lines; clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compare.corpus.json_input import load_jsonl, story_from_json
from compare.corpus.story import load_story
from compare.corpus.text import strip_markdown
from compare.errors import CorpusError


def test_story_folder_reads_txt_markdown_and_html_with_manifest_metadata(tiny_story: Path) -> None:
    story = load_story(tiny_story)
    assert story.title == "Bridge reopens after repairs"
    assert [d.outlet for d in story.documents] == ["Velmora Courier", "Coastal Review", "Harbour Voice"]
    courier, review, voice = story.documents
    assert courier.url == "https://example.org/courier/bridge"
    assert courier.published == "2025-03-14T08:00:00Z"
    assert courier.synthetic is True
    assert "**" not in review.text and "front matter" not in review.text
    assert "ten months" in review.text


def test_html_article_keeps_paragraphs_and_drops_navigation_and_footer(tiny_story: Path) -> None:
    voice = load_story(tiny_story).documents[2]
    assert "reopened to traffic on Thursday" in voice.text
    assert "\n\n" in voice.text  # paragraph boundaries survive
    for boilerplate in ("Home", "Most read", "All rights reserved"):
        assert boilerplate not in voice.text


def test_story_json_with_presegmented_sentences_keeps_them_unchanged() -> None:
    story = story_from_json({
        "id": "s1", "documents": [
            {"doc_id": "a", "sentences": ["One.  Two spaces inside.", "Second sentence"], "extra": 1},
            {"doc_id": "b", "text": "Plain text. Another."},
        ], "gold_pairs": [],
    }, source="inline")
    assert story.documents[0].sentences == ("One.  Two spaces inside.", "Second sentence")
    assert story.documents[0].outlet == "a"  # outlet defaults to the id


def test_jsonl_file_loads_every_story_and_compare_picks_by_id(tmp_path: Path) -> None:
    path = tmp_path / "stories.jsonl"
    lines = [
        {"id": "first", "documents": [{"doc_id": "a", "text": "A."}, {"doc_id": "b", "text": "B."}]},
        {"id": "second", "documents": [{"doc_id": "c", "text": "C."}, {"doc_id": "d", "text": "D."}]},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert [s.story_id for s in load_jsonl(path)] == ["first", "second"]
    assert load_story(path, story_id="second").documents[0].doc_id == "c"
    with pytest.raises(CorpusError, match="no story with id 'third'"):
        load_story(path, story_id="third")


def test_one_document_is_refused_with_the_file_named(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"id": "x", "documents": [{"doc_id": "a", "text": "Only one."}]}))
    with pytest.raises(CorpusError, match=r"one\.json: a story needs at least 2 documents"):
        load_story(path)


def test_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"id": "x",\n  "documents": [}\n')
    with pytest.raises(CorpusError, match=r"bad\.json: invalid JSON at line 2, column"):
        load_story(path)


def test_invalid_manifest_reports_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "story.toml").write_text('title = "x"\n[[articles]\npath = "a.txt"\n')
    with pytest.raises(CorpusError, match=r"story\.toml: invalid TOML: .*line 2"):
        load_story(tmp_path)


def test_manifest_entry_without_outlet_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Text.")
    (tmp_path / "story.toml").write_text('[[articles]]\npath = "a.txt"\n')
    with pytest.raises(CorpusError, match="has no 'outlet'"):
        load_story(tmp_path)


def test_non_utf8_article_is_decoded_by_detection(tmp_path: Path) -> None:
    text = "Войска заявили, что город Купянск полностью освобождён. Генштаб это опроверг. " * 3
    (tmp_path / "ru.txt").write_bytes(text.encode("cp1251"))
    (tmp_path / "en.txt").write_text("The army said the town was taken.")
    (tmp_path / "story.toml").write_text(
        '[[articles]]\npath = "ru.txt"\noutlet = "R"\n[[articles]]\npath = "en.txt"\noutlet = "E"\n')
    story = load_story(tmp_path)
    assert "Купянск" in story.documents[0].text


def test_markdown_stripping_keeps_link_text_and_drops_syntax() -> None:
    assert strip_markdown("## Head\n\nSee [the report](http://x) and *this*.") == "Head\n\nSee the report and this."
