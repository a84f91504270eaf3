"""Resolved settings for one comparison. The CLI and job files build these; stages only read them."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compare.corpus.base import DEFAULT_MAX_ARTICLE_BYTES
from compare.errors import ConfigError

FORMATS = ("html", "pdf", "json")
# What a link means. "claim" (default): the two statements report the same specific claim, and events are
# cliques of such statements, at most one per outlet; differences are only computed there. "event": the
# older, broader ECB+ sense (every sentence about the same happening), kept as a coarser view.
GRANULARITIES = ("claim", "event")

# A difference whose confidence is below this is "less certain": the review view lists it behind a
# "show N less certain" control and the PDF leaves it out (saying how many). `--min-confidence` sets it
# per run; the JSON keeps every difference whatever the threshold.
DEFAULT_MIN_CONFIDENCE = 0.5


def check_min_confidence(value: Any, where: str = "--min-confidence") -> float:
    """The threshold as a float in [0, 1], or ConfigError (exit 2) naming `where`."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise ConfigError(f"{where} {value!r}: must be a number from 0 to 1 (default {DEFAULT_MIN_CONFIDENCE}).")
    return number


@dataclass(frozen=True, slots=True)
class Settings:
    model: str = "auto"  # backend name (auto, minilm, use, e5) or a local model folder
    threshold: float | None = None  # link probability cut-off; None = the shipped scorer's tuned value
    formats: tuple[str, ...] = FORMATS
    cache_path: Path | None = field(default=None)  # embedding cache; None = no cache
    max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES
    page_size: str = "A4 landscape"
    granularity: str = "claim"
    # differences below this are folded in the HTML and left out of the PDF (compare.report.render)
    min_confidence: float = DEFAULT_MIN_CONFIDENCE

    def __post_init__(self) -> None:
        if self.granularity not in GRANULARITIES:
            raise ConfigError(f"granularity {self.granularity!r}: unknown. Choose from {', '.join(GRANULARITIES)}.")
        check_min_confidence(self.min_confidence, "min_confidence")
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise ConfigError(f"threshold {self.threshold}: must be between 0 and 1.")
        bad = [f for f in self.formats if f not in FORMATS]
        if bad or not self.formats:
            raise ConfigError(
                f"format {','.join(bad) or '(none)'}: unknown. Choose from {', '.join(FORMATS)}."
            )


# CSS @page sizes: keywords and lengths only, so the value cannot inject CSS into the PDF stylesheet.
_PAGE_SIZE = re.compile(r"^(?:[a-z0-9]+|\d+(?:\.\d+)?(?:mm|cm|in|pt|px)(?:\s+\d+(?:\.\d+)?(?:mm|cm|in|pt|px))?)"
                        r"(?:\s+(?:landscape|portrait))?$", re.I)


def check_page_size(value: str) -> str:
    """The `--page-size` (and job option `page_size`) value with its spaces normalised, or ConfigError."""
    value = " ".join(value.split())
    if not _PAGE_SIZE.match(value):
        raise ConfigError(f"--page-size {value!r}: not a CSS page size. Use e.g. 'A4 landscape', 'letter', "
                          "'210mm 297mm'.")
    return value


def parse_formats(value: str) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(f.strip().lower() for f in value.split(",") if f.strip()))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ConfigError(
            f"--format {value!r}: unknown format {', '.join(bad) or '(none)'}. "
            f"Choose from {', '.join(FORMATS)}."
        )
    return formats
