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
    from compare.report.render import json_schema

    for field in json_schema()["properties"]:
        assert re.search(rf"`{field}(\[\])?`", JSON_DOC), f"docs/json-report.md does not document JSON field {field!r}"


CLI_DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


def _long_options(name: str) -> list[str]:
    import click

    command = cli.get_command(click.Context(cli), name)
    assert command is not None, name
    return [opt for param in command.params if isinstance(param, click.Option)
            for opt in (*param.opts, *param.secondary_opts) if opt.startswith("--") and opt != "--help"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_and_option_is_in_the_cli_reference(name: str) -> None:
    assert f"## storydiff {name}\n" in CLI_DOC, f"docs/cli.md has no section for storydiff {name}"
    section = CLI_DOC.split(f"## storydiff {name}\n", 1)[1].split("\n## ", 1)[0]
    for option in _long_options(name):
        assert re.search(rf"`[^`]*{re.escape(option)}\b", section), \
            f"docs/cli.md, storydiff {name}: option {option} is not documented"


def test_benchmark_scripts_write_only_under_docs() -> None:
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        assert "README" not in script.read_text(encoding="utf-8"), f"{script.name} refers to the README"


def test_mkdocs_nav_lists_every_docs_page() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f": {page.name}\n" in nav, f"mkdocs.yml nav does not list docs/{page.name}"
