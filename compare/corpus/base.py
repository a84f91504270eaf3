"""The Story type and the limits every reader of stories shares."""

from __future__ import annotations

from dataclasses import dataclass

from compare.model import Document

DEFAULT_MAX_ARTICLE_BYTES = 20 * 1024 * 1024

MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}


@dataclass(frozen=True, slots=True)
class Story:
    story_id: str
    title: str
    description: str
    documents: tuple[Document, ...]
    source: str  # where it was read from, for messages
    warnings: tuple[str, ...] = ()  # one-line notes the CLI prints (e.g. identical articles)
