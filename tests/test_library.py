"""The library side of storydiff behaves like a library: no click outside the CLI modules, a typed public API."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "compare"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_cli_modules_import_click() -> None:
    offenders = [str(p.relative_to(PACKAGE)) for p in sorted(PACKAGE.rglob("*.py"))
                 if p.relative_to(PACKAGE).parts[0] != "cli" and {"click", "rich"} & _imports(p)]
    assert offenders == []


def test_every_public_name_resolves_and_the_package_is_marked_typed() -> None:
    import compare

    assert (PACKAGE / "py.typed").is_file()
    for name in compare.__all__:
        assert getattr(compare, name) is not None, name
    assert issubclass(compare.CompareError, Exception)


def test_import_compare_loads_no_heavy_module() -> None:
    """`storydiff --help` stays fast: the public names load on first use, not on `import compare`."""
    code = ("import sys, compare; "
            "print(sorted(m for m in ('numpy', 'click', 'jinja2', 'compare.pipeline') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]"
