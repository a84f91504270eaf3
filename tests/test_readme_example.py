"""The README's Python example runs: its code block, on the tiny fixture story, writing into a temp folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "the README should have exactly one Python example"
    code = blocks[0]
    assert 3 <= len([line for line in code.splitlines() if line.strip()]) <= 6, "keep the example short"
    assert "import compare" in code and '"corpora/kupyansk"' in code and 'Path("out")' in code
    return code


def test_the_readme_example_is_short_and_names_the_demo_story() -> None:
    readme_example()


@pytest.mark.model
def test_the_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYDIFF_CACHE", str(tmp_path / "cache"))
    story, out = ROOT / "tests" / "fixtures" / "tiny", tmp_path / "out"
    code = readme_example().replace('"corpora/kupyansk"', repr(str(story)))
    code = code.replace('Path("out")', f"Path({str(out)!r})")
    exec(compile(code, "README.md", "exec"), {"__name__": "readme_example"})
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert len(report["documents"]) >= 2 and report["differences"]
    assert (out / "report.html").read_text(encoding="utf-8").startswith("<!")
