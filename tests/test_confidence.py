"""Confidence on the report side: the JSON keeps every difference, the review view sorts and folds by the
threshold, the PDF carries only the differences at or above it and says how many it left out, and
`--min-confidence` (and the job file's `min_confidence`) set it, refusing bad values with exit 2.

Confidences are set on hand-made comparisons here; the library has none hard-coded."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_report import hand_made

from compare.config import Settings
from compare.errors import ConfigError
from compare.model import Comparison, Difference, DifferenceType, Evidence, Highlight
from compare.report import render as report

ROOT = Path(__file__).resolve().parents[1]


def varied(low: float = 0.2, high: float = 0.9, omission: float = 0.4) -> Comparison:
    """hand_made() with three differences of different confidences: D1 number (high), D3 wording (low), both
    in E1 and each with its highlights, and D2 the "only B reports this" omission."""
    base = hand_made()
    number, only_b = base.differences
    wording = Difference("D3", DifferenceType.WORDING, "E1", ("a", "b"),
                         (Evidence("a", 0, 18, 26, "repaired"),), "wording differs: 'repaired'", confidence=low)
    return replace(base, meta=dict(base.meta),
                   differences=(replace(number, confidence=high), replace(only_b, confidence=omission), wording),
                   highlights=(*base.highlights, Highlight("a", 0, 27, 30, DifferenceType.WORDING, "D3")))


def test_the_default_threshold_is_one_constant() -> None:
    assert report.DEFAULT_MIN_CONFIDENCE == 0.5
    assert Settings().min_confidence == report.DEFAULT_MIN_CONFIDENCE


def test_json_keeps_every_difference_with_its_confidence_and_records_the_threshold() -> None:
    comparison = varied()
    document = report.to_json(comparison, min_confidence=0.95)
    report.validate_json(document)
    assert document["schema_version"] == "1.1"
    assert {d["id"]: d["confidence"] for d in document["differences"]} == {"D1": 0.9, "D2": 0.4, "D3": 0.2}
    assert document["settings"]["min_confidence"] == 0.95
    assert report.to_json(comparison)["settings"]["min_confidence"] == report.DEFAULT_MIN_CONFIDENCE


def test_review_view_sorts_each_event_by_confidence_and_splits_at_the_threshold() -> None:
    view = report.view_model(varied(low=0.2, high=0.9))
    event = view["events"][0]
    assert [d["id"] for d in event["differences"]] == ["D1", "D3"]
    assert [d["id"] for d in event["certain"]] == ["D1"] and [d["id"] for d in event["uncertain"]] == ["D3"]
    assert view["counts"]["certain"] == 1  # D1; D2 (0.4) and D3 (0.2) are below 0.5
    # The most confident first even where the differ listed it last; equal confidences keep their order.
    view = report.view_model(varied(low=0.95, high=0.6), min_confidence=0.7)
    assert [d["id"] for d in view["events"][0]["certain"]] == ["D3"]
    assert [d["id"] for d in view["events"][0]["uncertain"]] == ["D1"]


def test_coverage_cell_carries_the_highest_confidence_of_its_conflicts() -> None:
    view = report.view_model(varied(low=0.2, high=0.9))
    cells = {c["doc_id"]: c for c in view["events"][0]["cells"]}
    assert cells["a"]["status"] == "conflicting" and cells["a"]["confidence_label"] == "0.90"
    html = report.render_html(varied(low=0.2, high=0.9))
    assert 'aria-label="E1, Outlet &lt;A&gt;: conflicting, confidence 0.90"' in html
    pdf_html = report.render_html(varied(low=0.2, high=0.3), for_pdf=True, min_confidence=0.25)
    assert "◆ conflicting 0.30" in pdf_html


def test_review_view_folds_the_less_certain_behind_a_details_element() -> None:
    html = report.render_html(varied(low=0.2, high=0.9))
    certain, rest = html.split('<details class="less-certain">', 1)
    assert 'data-diff="D1" data-confidence="0.9"' in certain and 'id="diff-D3"' not in certain
    assert 'id="diff-D3"' in rest.split("</details>", 1)[0]
    assert '<span class="n-less">1</span> less certain' in rest
    assert 'name="min" min="0" max="1" step="0.01" value="0.50"' in html
    assert '"min_confidence": 0.5' in html  # for the script
    # No fold is shown when every difference is confident enough.
    assert '<details class="less-certain" hidden>' in report.render_html(varied(low=0.6, high=0.9))


def test_pdf_carries_only_differences_at_or_above_the_threshold_and_says_how_many_it_left_out() -> None:
    html = report.render_html(varied(low=0.2, high=0.9, omission=0.4), for_pdf=True)
    assert 'id="diff-D1"' in html
    assert 'id="diff-D3"' not in html and 'id="diff-D2"' not in html
    assert "it leaves out 2 less certain differences" in html
    assert "1 less certain left out" in html  # E1's D3
    # D3's highlight went with it (the statements' markers, not the legend's); D1's stays
    assert '<mark class="hl hl--wording"><span class="marker">W</span>' not in html
    assert '<mark class="hl hl--number"><span class="marker">#</span>' in html
    # The threshold itself is kept; a lower one keeps more.
    html = report.render_html(varied(low=0.5, high=0.9, omission=0.4), for_pdf=True)
    assert 'id="diff-D3"' in html and "it leaves out 1 less certain difference." in html
    html = report.render_html(varied(), for_pdf=True, min_confidence=0.0)
    assert all(f'id="diff-D{n}"' in html for n in (1, 2, 3)) and "none has confidence below 0.00" in html
    # The review view (not for_pdf) keeps every difference.
    assert all(f'id="diff-D{n}"' in report.render_html(varied()) for n in (1, 2, 3))


def test_confident_only_leaves_the_comparison_alone_when_nothing_is_below() -> None:
    comparison = varied(low=0.6, high=0.9, omission=0.7)
    assert report.confident_only(comparison, 0.5) == (comparison, {})
    kept, left_out = report.confident_only(comparison, 0.65)
    assert [d.difference_id for d in kept.differences] == ["D1", "D2"] and left_out == {"E1": 1}
    assert all(h.difference_id != "D3" for h in kept.highlights)


@pytest.mark.slow
def test_rendered_pdf_says_how_many_it_left_out(tmp_path: Path) -> None:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext not installed (apt-get install poppler-utils; .ci/run does it)")
    path = tmp_path / "report.pdf"
    path.write_bytes(report.render_pdf(varied(low=0.2, high=0.9, omission=0.4), min_confidence=0.3))
    text = " ".join(subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())
    assert "This PDF lists only the differences with confidence 0.30 or more: it leaves out 1 less certain" in text
    assert "D1" in text and "D2" in text and "conf. 0.90" in text
    assert "wording differs" not in text


@pytest.mark.parametrize("value", ["0", "1", "0.25", "1.0"])
def test_check_min_confidence_accepts_0_to_1(value: str) -> None:
    assert report.check_min_confidence(value) == float(value)


@pytest.mark.parametrize("value", ["-0.1", "1.01", "nan", "inf", "high", "", True, None])
def test_check_min_confidence_refuses_anything_else_naming_the_option(value: Any) -> None:
    with pytest.raises(ConfigError, match=r"^--min-confidence .*: must be a number from 0 to 1 \(default 0.5\)\.$"):
        report.check_min_confidence(value)
    with pytest.raises(ConfigError, match="min_confidence"):
        Settings(min_confidence=value)  # type: ignore[arg-type]


def test_cli_min_confidence_reaches_every_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`storydiff compare --min-confidence X`: the JSON records X (and keeps every difference), the HTML's
    control starts at X. The pipeline is replaced by a comparison with known confidences."""
    import compare.pipeline
    from compare.cli import cli

    seen: dict[str, Any] = {}

    def fake_compare_story(story: Any, settings: Settings, **_: Any) -> Comparison:
        seen["settings"] = settings
        comparison = varied(low=0.2, high=0.9)
        comparison.meta["model"] = "fake"
        return comparison

    monkeypatch.setattr(compare.pipeline, "compare_story", fake_compare_story)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["compare", str(ROOT / "tests" / "fixtures" / "tiny"), "-o", str(out),
                                      "--format", "json,html", "--min-confidence", "0.8", "--quiet", "--no-cache"])
    assert result.exit_code == 0, result.output
    assert seen["settings"].min_confidence == 0.8
    document = json.loads((out / "report.json").read_text("utf-8"))
    assert document["settings"]["min_confidence"] == 0.8
    assert len(document["differences"]) == 3
    html = (out / "report.html").read_text("utf-8")
    assert 'value="0.80"' in html and "(confidence below <span class=\"thr\">0.80</span>)" in html


@pytest.mark.parametrize("value", ["2", "nan", "-1", "sure"])
def test_cli_bad_min_confidence_is_one_line_and_exit_2(tmp_path: Path, value: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "compare", "compare", str(ROOT / "tests" / "fixtures" / "tiny"),
                           "-o", str(tmp_path / "out"), f"--min-confidence={value}", "--no-cache"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == [f"storydiff: error: --min-confidence {value!r}: must be a number from 0 to 1 (default 0.5)."]
    assert proc.stdout == "" and not (tmp_path / "out").exists()


def test_job_file_min_confidence(tmp_path: Path) -> None:
    from compare.runs.schedule import load_job

    job = tmp_path / "job.toml"
    sources = '[[sources]]\noutlet = "A"\nfeed = "http://a.test/f"\n'
    job.write_text(sources)
    assert load_job(job).options.min_confidence == report.DEFAULT_MIN_CONFIDENCE
    job.write_text(f"[options]\nmin_confidence = 0.7\n{sources}")
    assert load_job(job).options.min_confidence == 0.7
    job.write_text(f"[options]\nmin_confidence = 1.5\n{sources}")
    with pytest.raises(ConfigError, match=r"\[options\] min_confidence = 1.5: must be between 0 and 1"):
        load_job(job)
