"""`storydiff annotate`: one JSON line per input line with the statement's cues, through the real CLI;
bad input is one line on stderr and exit code 2, like the rest of the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from compare.annotate import annotate_lines
from compare.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "compare", "annotate", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env={"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})


def test_text_file_gives_one_json_line_per_input_line_with_offsets_into_the_statement(tmp_path: Path) -> None:
    lines = ["Russia reportedly took more than 80% of the town on Friday, the ministry said.", "",
             "Kyiv denied it."]
    path = tmp_path / "statements.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run(str(path), "--language", "en", "--reference-date", "2025-11-21", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == [1, 2, 3]
    first = records[0]["cues"]
    for cue in first:
        assert lines[0][cue["start"]:cue["end"]] == cue["text"]
    by_type = {c["type"]: c for c in first}
    assert by_type["hedge"]["text"] == "reportedly"
    assert by_type["number"]["value"] == {"value": 80, "unit": "%", "qualifier": ">"}
    assert by_type["date"]["value"]["iso"] == "2025-11-21"
    assert by_type["attribution"]["source"] == "the ministry"
    assert records[1]["cues"] == []
    assert {"place", "negation"} <= {c["type"] for c in records[2]["cues"]}


def test_json_lines_keep_ids_and_per_line_language_and_reference(tmp_path: Path) -> None:
    path = tmp_path / "statements.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"id": "a1", "text": "The strike began on Monday.", "reference": "2025-11-21"},
        {"id": 7, "text": "Войска якобы вошли в Купянск.", "language": "ru"},
    ]) + "\n\n", encoding="utf-8")
    records = list(annotate_lines(path))
    assert [r["id"] for r in records] == ["a1", 7]
    assert records[0]["cues"][0]["value"] == {"weekday": "Monday", "iso": "2025-11-17"}
    assert "hedge" in {c["type"] for c in records[1]["cues"]}


def test_same_cues_as_the_compare_pipeline(tmp_path: Path) -> None:
    from compare.cues.detect import detect_cues
    from compare.report.render import cue_json

    text = "At least 12 people were killed in Kupiansk, officials said."
    path = tmp_path / "one.txt"
    path.write_text(text, encoding="utf-8")
    (record,) = annotate_lines(path, language="en")
    assert record["cues"] == [cue_json(c) for c in detect_cues(text, language="en")]


@pytest.mark.parametrize(("content", "args", "fragment"), [
    ('{"id": 1, "text": "ok"}\n{"id": 2, "text": \n', [], "invalid JSON"),
    ('{"id": 1}\n', [], '"text"'),
    ('["not", "an", "object"]\n', ["--language", "en"], None),
    ('{"id": 1, "text": "ok", "language": 5}\n', [], "language"),
    ('{"id": 1, "text": "ok", "reference": "next week"}\n', [], "reference date"),
    ("A statement.\n", ["--language", "english!"], "--language"),
    ("A statement.\n", ["--reference-date", "21/11/2025"], "--reference-date"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, content: str, args: list[str], fragment: str | None) -> None:
    path = tmp_path / ("in.jsonl" if content.startswith(("{", "[")) else "in.txt")
    path.write_text(content, encoding="utf-8")
    result = run(str(path), *args, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1
    if fragment:
        assert fragment in result.stderr


def test_missing_file_and_folder_are_refused(tmp_path: Path) -> None:
    for target in (tmp_path / "nope.txt", tmp_path):
        result = run(str(target), cwd=tmp_path)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_library_raises_input_error_not_exit(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        list(annotate_lines(tmp_path / "missing.jsonl"))
