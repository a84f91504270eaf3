"""Every crash the fuzzers (fuzz/run.py) or their development turned up, kept as a regression test.

A crash is any exception other than a one-line `CompareError`. Each test feeds the minimal input to the
same target the fuzzer uses, and a short smoke run checks that every target still runs clean.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest

from compare.corpus.story import load_story
from compare.corpus.text import read_article
from compare.errors import CompareError, ConfigError, CorpusError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "fuzz"))

import targets  # noqa: E402  (fuzz/targets.py)


def story_folder(tmp_path: Path, manifest: str, files: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "story"
    folder.mkdir()
    for name, text in (files or {"a.txt": "The mayor said 12 people were hurt.", "b.txt": "Police said 15."}).items():
        (folder / name).write_text(text, "utf-8")
    (folder / "story.toml").write_text(manifest, "utf-8")
    return folder


# ------------------------------------------------------------------------------- found by fuzz/run.py

def test_manifest_path_too_long_for_the_filesystem_is_an_input_error(tmp_path: Path) -> None:
    """fuzz manifest: Path.is_dir() raised OSError(ENAMETOOLONG) on a 300-character article path."""
    folder = story_folder(tmp_path, f'[[articles]]\npath = "{"x" * 300}.txt"\noutlet = "A"\n'
                                    '[[articles]]\npath = "b.txt"\noutlet = "B"\n')
    with pytest.raises(CorpusError, match="cannot use this path"):
        load_story(folder)
    targets.target_manifest((folder / "story.toml").read_bytes())


def test_input_path_too_long_is_an_input_error(tmp_path: Path) -> None:
    """Same errno on the CLI's INPUT argument: Path.exists() does not swallow ENAMETOOLONG."""
    with pytest.raises(CorpusError, match="cannot open"):
        load_story(tmp_path / ("y" * 400))


# ------------------------------------------------------------ found while writing the fuzz targets

def test_job_file_with_infinite_or_nan_numbers_is_a_config_error(tmp_path: Path) -> None:
    """TOML allows inf and nan: `max_article_mb = inf` crashed with OverflowError (int(inf))."""
    pytest.importorskip("compare.runs.schedule")
    from compare.runs.schedule import load_job

    for option in ("max_article_mb = inf", "timeout = nan", "host_delay = -inf", "window_hours = nan"):
        job = tmp_path / "job.toml"
        job.write_text(f'[options]\n{option}\n[[sources]]\noutlet = "A"\nfeed = "http://127.0.0.1:9/rss"\n', "utf-8")
        with pytest.raises(ConfigError, match="finite number"):
            load_job(job)
        targets.target_job(job.read_bytes())


def test_deeply_nested_json_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CorpusError, match="nested too deeply"):
        load_story(path)
    targets.target_story_json(path.read_bytes())


def test_lone_surrogate_escapes_in_story_json_are_replaced(tmp_path: Path) -> None:
    """json.loads('"\\ud800"') gives a str that cannot be encoded: the report write used to crash."""
    path = tmp_path / "s.json"
    path.write_text('{"title": "\\ud800 title", "documents": [{"doc_id": "a", "outlet": "\\udfff", "text": '
                    '"Broken \\ud83d escape."}, {"doc_id": "b", "text": "Fine text."}]}', "utf-8")
    story = load_story(path)
    for value in (story.title, story.documents[0].outlet, story.documents[0].text):
        value.encode("utf-8")
        assert "\ufffd" in value


def test_url_that_urlparse_rejects_is_shown_as_text() -> None:
    """`http://[` made urllib.parse raise ValueError inside the report's link check."""
    from compare.report.render import safe_url

    assert safe_url("http://[") is None
    assert safe_url("https://[::1") is None
    assert safe_url("https://example.com/a b") is None


def test_html_entities_in_article_text_are_decoded_exactly_once(tmp_path: Path) -> None:
    """trafilatura's text output unescaped a second time: "&amp;lt;b&amp;gt;" became "<b>"."""
    page = tmp_path / "a.html"
    page.write_text("<html><body><article><p>The page literally says &amp;lt;b&amp;gt; and "
                    "&amp;#106;avascript, and AT&amp;amp;T, in a paragraph long enough to be the article."
                    "</p></article></body></html>", "utf-8")
    text = read_article(page)
    assert "&lt;b&gt;" in text and "&#106;avascript" in text and "AT&amp;T" in text


def test_nested_html_thousands_deep_is_extracted_or_refused(tmp_path: Path) -> None:
    page = tmp_path / "deep.html"
    page.write_text("<html><body>" + "<div>" * 5000 + "Deep text that is still the article." + "</div>" * 5000
                    + "</body></html>", "utf-8")
    with contextlib.suppress(CompareError):
        read_article(page)
    targets.target_html(page.read_bytes())


def test_default_ids_of_same_named_files_do_not_collide(tmp_path: Path) -> None:
    """a.html and a.txt in one story both slugged to 'a' and the story was refused as a duplicate."""
    folder = story_folder(tmp_path, '[[articles]]\npath = "a.txt"\noutlet = "A"\n'
                                    '[[articles]]\npath = "a.html"\noutlet = "B"\n',
                          {"a.txt": "The mayor said 12 people were hurt.",
                           "a.html": "<html><body><p>Police said 15 people were hurt.</p></body></html>"})
    assert [d.doc_id for d in load_story(folder).documents] == ["a", "a-html"]


# ------------------------------------------------------------------------------------- smoke run

@pytest.mark.parametrize("name", sorted(targets.TARGETS))
def test_fuzz_target_runs_clean_for_a_few_seconds(name: str) -> None:
    if name == "job" and not targets.job_parser_available():
        pytest.skip("compare.runs.schedule.load_job is not available yet")
    import run  # fuzz/run.py

    report = run.fuzz(name, seconds=3, batch=30, save=False)
    assert report.examples > 0
    assert report.crashes == {}, report.crashes
