"""Packaged data: fitted weights, the demo site. `backend_section` reads the per-backend weight files."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from compare.errors import ConfigError


def backend_section(filename: str, path: str | Path | None, backend: str | None, *, what: str, refit: str,
                    fallback: str = "") -> tuple[str, dict[str, Any], str]:
    """(section name, section, file version) for `backend` (an `Embedder.name`) from a weights file with
    `backends` sections and a `fallback` name: the packaged `filename`, or the file at `path`. Embedding
    backends score on different scales, so each has its own fitted section."""
    if path is None:
        text = resources.files("compare.data").joinpath(filename).read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    data = json.loads(text)
    sections = data.get("backends", {})
    name = backend if backend is not None and backend in sections else str(data.get("fallback", fallback))
    if name not in sections:
        raise ConfigError(f"{what}: no section for {backend!r} (nor a fallback {name!r}). Refit with {refit}.")
    return name, sections[name], str(data.get("version", "0"))
