"""Resolved settings for one comparison. The CLI and job files build these; stages only read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from compare.corpus import DEFAULT_MAX_ARTICLE_BYTES
from compare.errors import ConfigError
from compare.report import DEFAULT_MIN_CONFIDENCE, check_min_confidence

FORMATS = ("html", "pdf", "json")


@dataclass(frozen=True, slots=True)
class Settings:
    model: str = "auto"  # backend name (auto, minilm, use, e5) or a local model folder
    threshold: float | None = None  # link score cut-off; None = the shipped scorer's tuned value
    formats: tuple[str, ...] = FORMATS
    cache_path: Path | None = field(default=None)  # embedding cache; None = no cache
    max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES
    page_size: str = "A4 landscape"
    # differences below this are folded in the HTML and left out of the PDF (compare.report)
    min_confidence: float = DEFAULT_MIN_CONFIDENCE

    def __post_init__(self) -> None:
        check_min_confidence(self.min_confidence, "min_confidence")
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise ConfigError(f"threshold {self.threshold}: must be between 0 and 1.")
        bad = [f for f in self.formats if f not in FORMATS]
        if bad or not self.formats:
            raise ConfigError(
                f"format {','.join(bad) or '(none)'}: unknown. Choose from {', '.join(FORMATS)}."
            )


def parse_formats(value: str) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(f.strip().lower() for f in value.split(",") if f.strip()))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ConfigError(
            f"--format {value!r}: unknown format {', '.join(bad) or '(none)'}. "
            f"Choose from {', '.join(FORMATS)}."
        )
    return formats
