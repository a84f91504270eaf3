"""The whole pipeline through the real CLI: story in, HTML + PDF + JSON out, with the real model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from compare.cli import main
from compare.corpus.story import load_story
from compare.pipeline import compare_story
from compare.report.render import json_schema, validate_json

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `storydiff ARGS` in-process (the model stays loaded between tests)."""
    old = sys.argv
    sys.argv = ["storydiff", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory: pytest.TempPathFactory, tiny_story: Path) -> Path:
    outdir = tmp_path_factory.mktemp("tiny-report")
    old = sys.argv
    sys.argv = ["storydiff", "compare", str(tiny_story), "-o", str(outdir), "--model", "minilm", "--quiet"]
    try:
        main()
    except SystemExit as exc:
        assert not exc.code, f"compare failed with exit code {exc.code}"
    finally:
        sys.argv = old
    return outdir


def test_compare_writes_html_pdf_and_json(tiny_report: Path) -> None:
    assert sorted(p.name for p in tiny_report.iterdir()) == ["report.html", "report.json", "report.pdf"]


def test_json_report_validates_and_offsets_point_into_the_sources(tiny_report: Path) -> None:
    report = json.loads((tiny_report / "report.json").read_text())
    validate_json(report)
    assert report["schema_version"].startswith("1.")
    texts = {d["doc_id"]: d["text"] for d in report["documents"]}
    for doc in report["documents"]:
        for s in doc["statements"]:
            assert texts[doc["doc_id"]][s["start"]:s["end"]] == s["text"]
            for cue in s["cues"]:
                assert s["text"][cue["start"]:cue["end"]] == cue["text"]
    for diff in report["differences"]:
        for ev in diff["evidence"]:
            assert texts[ev["doc_id"]][ev["start"]:ev["end"]] == ev["text"]


def test_same_bridge_event_is_aligned_across_all_three_outlets(tiny_report: Path) -> None:
    report = json.loads((tiny_report / "report.json").read_text())
    statements = {(d["doc_id"], s["index"]): s["text"] for d in report["documents"] for s in d["statements"]}
    reopen = [c for c in report["clusters"]
              if any("reopen" in statements[(m["doc_id"], m["index"])] for m in c["members"])]
    assert reopen, "the reopening is not aligned at all"
    assert set(reopen[0]["doc_ids"]) == {"courier", "review", "voice"}


def test_conflicting_cost_figures_are_flagged_as_a_number_difference(tiny_report: Path) -> None:
    report = json.loads((tiny_report / "report.json").read_text())
    numbers = [d for d in report["differences"] if d["type"] == "number"]
    words = {ev["text"] for d in numbers for ev in d["evidence"]}
    assert any("4.2 million euros" in w for w in words) and any("6 million euros" in w for w in words)


def test_html_report_is_self_contained_and_shows_every_outlet(tiny_report: Path) -> None:
    html = (tiny_report / "report.html").read_text()
    for outlet in ("Velmora Courier", "Coastal Review", "Harbour Voice"):
        assert outlet in html
    assert "<link " not in html and "src=\"http" not in html


def test_pdf_report_has_pages_and_extractable_text(tiny_report: Path) -> None:
    from pypdf import PdfReader

    reader = PdfReader(str(tiny_report / "report.pdf"))
    assert len(reader.pages) >= 1
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Velmora Courier" in text and "Aldren Bridge" in text


def test_python_dash_m_compare_runs_the_same_cli() -> None:
    result = subprocess.run([sys.executable, "-m", "compare", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0
    assert "compare" in result.stdout and "storydiff" in result.stdout


def test_one_document_exits_2_with_one_line_and_writes_nothing(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    story = tmp_path / "one.json"
    story.write_text(json.dumps({"id": "x", "documents": [{"doc_id": "a", "text": "Alone."}]}))
    outdir = tmp_path / "out"
    code, out, err = run_cli("compare", str(story), "-o", str(outdir), capsys=capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "one.json" in err and "Traceback" not in err
    assert not outdir.exists()


def test_unknown_format_is_a_usage_error(tmp_path: Path, tiny_story: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli("compare", str(tiny_story), "-o", str(tmp_path / "o"), "--format", "docx",
                           capsys=capsys)
    assert code == 2 and "docx" in err


def test_ecbplus_story_runs_through_compare(eval_dir: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli("compare", str(eval_dir / "ecbplus_topics_dev.jsonl"), "-o", str(tmp_path),
                             "--format", "json", "--model", "minilm", "--quiet", capsys=capsys)
    assert code == 0, err
    report = json.loads((tmp_path / "report.json").read_text())
    first = json.loads((eval_dir / "ecbplus_topics_dev.jsonl").open().readline())
    assert report["story"]["id"] == first["id"]
    given = [d["sentences"] for d in first["documents"]]
    produced = [[s["text"] for s in d["statements"]] for d in report["documents"]]
    assert produced == given  # pre-segmented sentences are the statements, unchanged
    assert report["links"], "no cross-document links on real annotated news"


def test_schema_describes_every_top_level_field() -> None:
    assert set(json_schema()["required"]) <= set(json_schema()["properties"])


def test_library_api_compares_without_writing_files(tiny_story: Path) -> None:
    comparison = compare_story(load_story(tiny_story))
    assert comparison.meta["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert len(comparison.documents) == 3 and comparison.events
