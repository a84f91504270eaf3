"""Lexicon loading and rules: the per-language word lists (compare/lexicons/*.toml) compiled into
matching rules, the span helpers the cue finders share, and lexical cues (hedges, negation, loaded terms)."""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from compare.model import Cue, CueType

APOS = "'ʼ’"
_WORDCH = rf"[\w{APOS}]"

# ------------------------------------------------------------------------------ linear-time helpers
# Every context check looks at most this many characters before or after a match. Without the bound,
# each match searched (or copied) the whole text before it, and a statement of thousands of numbers or of
# one repeated word took time quadratic in its length (issue 16). Every rule here is about the few words
# next to a match; 200 characters is some 30 words.
CONTEXT_CHARS = 200
# The fixed grammar's look-backs ("No. ", "more than ", "between ", "in early ") span a word or three;
# `$`-anchored search tries every start in its window, so these get a shorter one.
NEAR_CHARS = 48


def ends_before(pattern: re.Pattern[str], text: str, pos: int, window: int = CONTEXT_CHARS) -> re.Match[str] | None:
    """`pattern` (anchored with `$`) matched against the text just before `pos`, as if it ended there.

    Searches `text` itself between `pos - window` and `pos`: `$` matches at `pos`, lookbehinds and `\\b`
    still see the characters before the window, and nothing is copied."""
    return pattern.search(text, max(0, pos - window), pos)


def _after(text: str, pos: int) -> str:
    """The text right after `pos`, at most CONTEXT_CHARS of it (for patterns anchored with `^`)."""
    return text[pos:pos + CONTEXT_CHARS]


def blank_before(text: str, pos: int) -> bool:
    """True when only whitespace comes before `pos` (`not text[:pos].strip()` without the copy)."""
    return last_before(text, pos) == ""


def end_before(text: str, pos: int) -> int:
    """`len(text[:pos].rstrip())` without the copy."""
    while pos > 0 and text[pos - 1].isspace():
        pos -= 1
    return pos


def last_before(text: str, pos: int) -> str:
    """The last non-space character before `pos`, or "" (`text[:pos].rstrip()[-1:]` without the copy)."""
    end = end_before(text, pos)
    return text[end - 1] if end else ""


class Spans:
    """Spans answering "is this point / span inside one of them?" in log time (sorted starts and a
    running maximum of ends), where a scan of every span made long statements quadratic."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self.starts = [s for s, _ in ordered]
        self.max_end: list[int] = []
        best = -1
        for _, e in ordered:
            best = max(best, e)
            self.max_end.append(best)

    def _reach(self, pos: int) -> int:
        i = bisect_right(self.starts, pos)
        return self.max_end[i - 1] if i else -1

    def has_point(self, pos: int) -> bool:
        """Some span has start <= pos < end."""
        return self._reach(pos) > pos

    def covers(self, start: int, end: int) -> bool:
        """Some span has start' <= start and end <= end'."""
        return self._reach(start) >= end

# ------------------------------------------------------------------------------------------ lexicon


@dataclass(frozen=True)
class Rule:
    """One phrase/pattern and the context it must (not) appear in."""

    pattern: re.Pattern[str]
    not_followed_by: re.Pattern[str] | None = None
    followed_by: re.Pattern[str] | None = None
    not_preceded_by: re.Pattern[str] | None = None
    preceded_by: re.Pattern[str] | None = None
    context_any: re.Pattern[str] | None = None
    lowercase: bool = False
    frame: str | None = None
    neutral: bool = False
    kind: str | None = None  # attribution: "verb" or "marker"


@dataclass(frozen=True)
class Lexicon:
    language: str
    hedge: tuple[Rule, ...]
    negation: tuple[Rule, ...]
    attribution: tuple[Rule, ...]
    loaded: tuple[Rule, ...]
    loaded_filters: tuple[Rule, ...]
    # All verbs / all markers as one pattern each (compare/cues/multilingual.py finds sources with them).
    attribution_verbs: re.Pattern[str] | None = None
    attribution_markers: re.Pattern[str] | None = None


def _phrase_regex(phrase: str) -> str:
    words = phrase.split()
    body = r"\s+".join(re.escape(w) for w in words)
    if phrase.startswith("n't"):
        return body + r"\b"
    return rf"(?<![\w{APOS}-])" + body + rf"(?![\w{APOS}]|-\w)"


def _alternation(phrases: Iterable[str]) -> str | None:
    """One alternation of the phrases, longest first, word-bounded like `_phrase_regex`.

    The word-boundary lookarounds wrap the whole alternation instead of each phrase: `re` compiles each
    character set anew, and per-phrase lookarounds made building the lexicons most of a run's segment stage.
    """
    items = sorted({p for p in phrases if p.strip()}, key=len, reverse=True)
    if not items:
        return None
    plain = [r"\s+".join(re.escape(w) for w in p.split()) for p in items if not p.startswith("n't")]
    parts = [rf"(?<![\w{APOS}-])(?:{'|'.join(plain)})(?![\w{APOS}]|-\w)"] if plain else []
    return "|".join(parts + [_phrase_regex(p) for p in items if p.startswith("n't")])


def _after_pattern(phrases: Sequence[str], regexes: Sequence[str]) -> re.Pattern[str] | None:
    parts = []
    alt = _alternation(phrases)
    if alt:
        parts.append(rf"^[\s,]*(?:{alt})")
    parts += [f"(?:{r})" for r in regexes]
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def _before_pattern(phrases: Sequence[str], regexes: Sequence[str]) -> re.Pattern[str] | None:
    parts = []
    alt = _alternation(phrases)
    if alt:
        parts.append(rf"(?:{alt})[\s,]*$")
    parts += [f"(?:{r})" for r in regexes]
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def _rules(section: dict[str, Any], phrases_key: str = "phrases", **extra: Any) -> list[Rule]:
    """Rules from one TOML table: its phrases and patterns, with its context keys."""
    context: dict[str, Any] = {
        "not_followed_by": _after_pattern(section.get("not_followed_by", []), section.get("not_followed_by_re", [])),
        "followed_by": _after_pattern(section.get("followed_by", []), section.get("followed_by_re", [])),
        "not_preceded_by": _before_pattern(section.get("not_preceded_by", []),
                                           section.get("not_preceded_by_re", [])),
        "preceded_by": _before_pattern(section.get("preceded_by", []), section.get("preceded_by_re", [])),
        "context_any": (re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in section["context_any"]) + ")",
                                   re.IGNORECASE) if section.get("context_any") else None),
        "lowercase": bool(section.get("lowercase", False)),
    }
    out = []
    alt = _alternation(section.get(phrases_key, []))
    if alt:
        out.append(Rule(re.compile(alt, re.IGNORECASE), **context, **extra))
    for regex in section.get("patterns", []) if phrases_key == "phrases" else []:
        out.append(Rule(re.compile(regex, re.IGNORECASE), **context, **extra))
    return out


def _with_contextual(section: dict[str, Any]) -> list[Rule]:
    """Plain rules plus contextual ones; a contextual entry replaces the plain entry for its phrases."""
    contextual = section.get("contextual", [])
    special = {p.lower() for c in contextual for p in c.get("phrases", [])}
    plain = dict(section, phrases=[p for p in section.get("phrases", []) if p.lower() not in special])
    return _rules(plain) + [r for c in contextual for r in _rules(c)]


@lru_cache(maxsize=8)
def lexicon(language: str) -> Lexicon:
    """The cue lexicon for a language (falls back to English when none is shipped)."""
    data = _load_lexicon_data(language) or _load_lexicon_data("en") or {}
    hedge = data.get("hedge", {})
    negation = data.get("negation", {})
    attribution = data.get("attribution", {})
    loaded = data.get("loaded", {})
    hedge_rules = _with_contextual(hedge)
    negation_rules = _with_contextual(negation)
    # A contextual attribution entry replaces the plain entry for its phrases.
    contextual_attr = attribution.get("contextual", [])
    special = {p.lower() for c in contextual_attr for p in c.get("phrases", [])}
    attr_rules = _rules({"phrases": [v for v in attribution.get("verbs", []) if v.lower() not in special]},
                        kind="verb")
    attr_rules += _rules({"phrases": [m for m in attribution.get("markers", []) if m.lower() not in special]},
                         kind="marker")
    attr_rules += [r for c in contextual_attr for r in _rules(c, kind=c.get("kind", "verb"))]
    loaded_rules = [r for term in loaded.get("terms", [])
                    for r in _rules(term, frame=term.get("frame", "loaded"), neutral=bool(term.get("neutral")))]
    filters = [r for c in loaded.get("contextual", []) for r in _rules(c)]
    verbs = _alternation(attribution.get("verbs", []))
    markers = _alternation(attribution.get("markers", []))
    return Lexicon(language, tuple(hedge_rules), tuple(negation_rules), tuple(attr_rules), tuple(loaded_rules),
                   tuple(filters), re.compile(verbs, re.IGNORECASE) if verbs else None,
                   re.compile(markers, re.IGNORECASE) if markers else None)


def _load_lexicon_data(language: str) -> dict[str, Any] | None:
    try:
        text = resources.files("compare.lexicons").joinpath(f"{language}.toml").read_text("utf-8")
    except (FileNotFoundError, OSError):
        return None
    return tomllib.loads(text)


def context_ok(rule: Rule, text: str, start: int, end: int, context_any: bool | None = None) -> bool:
    """The rule's context holds around text[start:end] (CONTEXT_CHARS either side; `context_any`: the
    statement-wide word test when the caller already ran it once for the statement)."""
    after = _after(text, end) if rule.not_followed_by or rule.followed_by else ""
    if rule.not_followed_by and rule.not_followed_by.search(after):
        return False
    if rule.followed_by and not rule.followed_by.search(after):
        return False
    if rule.not_preceded_by and ends_before(rule.not_preceded_by, text, start):
        return False
    if rule.preceded_by and not ends_before(rule.preceded_by, text, start):
        return False
    if rule.context_any and not (context_any if context_any is not None else rule.context_any.search(text)):
        return False
    if rule.lowercase:
        matched = text[start:end]
        last = last_before(text, start)
        sentence_start = not last or last in ".!?:;“\"("
        if matched != matched.lower() and not (sentence_start and matched[1:] == matched[1:].lower()):
            return False
    return True


def apply(rules: Iterable[Rule], text: str) -> list[tuple[Rule, re.Match[str]]]:
    out = []
    for rule in rules:
        anywhere = None  # the statement-wide test, run once per rule rather than once per match
        for m in rule.pattern.finditer(text):
            if m.end() <= m.start():
                continue
            if rule.context_any and anywhere is None:
                anywhere = bool(rule.context_any.search(text))
            if context_ok(rule, text, m.start(), m.end(), anywhere):
                out.append((rule, m))
    return out


def longest(cues: list[Cue]) -> list[Cue]:
    """Drop cues contained in a longer cue of the same type (the longer phrase is the cue).

    In (start, longest first) order every kept cue starts at or before the current one, so it is inside
    a kept cue of its type exactly when the furthest end kept so far reaches its end: one pass."""
    kept: list[Cue] = []
    reach: dict[CueType, int] = {}
    for cue in sorted(cues, key=lambda c: (c.start, -(c.end - c.start))):
        if reach.get(cue.type, -1) >= cue.end:
            continue
        kept.append(cue)
        reach[cue.type] = max(reach.get(cue.type, -1), cue.end)
    return kept


def find_lexical(text: str, rules: Iterable[Rule] | None, kind: CueType) -> list[Cue]:
    """Hedges and negations: the matched phrase, value its lower-case form."""
    if not rules:
        return []
    cues = [Cue(kind, m.start(), m.end(), m.group(0), re.sub(r"\s+", " ", m.group(0).lower()))
            for _, m in apply(rules, text)]
    return longest(cues)
