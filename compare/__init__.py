"""storydiff: compare how different outlets report the same story.

Usage::

    from pathlib import Path
    import compare

    comparison = compare.compare_story(compare.load_story("corpora/kupyansk"))
    compare.write_outputs(Path("out"), compare.render_all(comparison, ["html", "json"]))

Pipeline: corpus -> segment -> cues -> embed -> align -> differ -> report (see docs/architecture.md).
The names in `__all__` are the public API; everything else may move between releases.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from compare.errors import CompareError

__version__ = "0.1.0"

__all__ = [
    "CompareError",
    "Comparison",
    "Cue",
    "CueType",
    "Difference",
    "DifferenceType",
    "Document",
    "Event",
    "Evidence",
    "Settings",
    "Statement",
    "StatementRef",
    "Story",
    "compare_story",
    "load_story",
    "render_all",
    "write_outputs",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time the names load on first use (below)
    from compare.config import Settings
    from compare.corpus.base import Story
    from compare.corpus.story import load_story
    from compare.model import (
        Comparison,
        Cue,
        CueType,
        Difference,
        DifferenceType,
        Document,
        Event,
        Evidence,
        Statement,
        StatementRef,
    )
    from compare.pipeline import compare_story
    from compare.report.render import render_all, write_outputs

# Public name -> the module that defines it. Imported on first access, so `import compare` (and with it
# `storydiff --help`) does not pay for numpy, the aligner or the report templates.
_LAZY = {
    "Settings": "compare.config",
    "Story": "compare.corpus.base",
    "load_story": "compare.corpus.story",
    "compare_story": "compare.pipeline",
    "render_all": "compare.report.render",
    "write_outputs": "compare.report.render",
    **{name: "compare.model" for name in ("Comparison", "Cue", "CueType", "Difference", "DifferenceType",
                                          "Document", "Event", "Evidence", "Statement", "StatementRef")},
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
