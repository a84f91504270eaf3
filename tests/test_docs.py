"""The README and docs/ are the manual: every command is documented and has help text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from compare.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
JSON_DOC = (ROOT / "docs" / "json-report.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_and_is_in_the_readme(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) > 3
    assert f"storydiff {name}" in README


def test_readme_starts_with_the_two_commands_ci_and_users_run() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert quick.index("make demo") < quick.index("make test")
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_docs_document_every_json_top_level_field() -> None:
    from compare.report import json_schema

    for field in json_schema()["properties"]:
        assert re.search(rf"`{field}(\[\])?`", JSON_DOC), f"docs/json-report.md does not document JSON field {field!r}"
