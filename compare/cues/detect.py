"""Find the cues inside one statement that differences rest on: hedges, negations, attributions,
numbers, dates, places, named entities and loaded terms, each with its span and a normalised value.

One parser for both uses: the differ compares the cues of aligned statements, and `storydiff
annotate` prints them. Word knowledge lives in data files (`compare/lexicons/<language>.toml`, one
schema for every language, documented at the top of en.toml): phrases, regular-expression patterns,
and context rules that keep a word only in the role where it signals something ("claimed that" is a
hedge, "claimed the title" is not; "may" the verb, not the month). The code here is language-neutral
except the English number/date grammar; Russian and Ukrainian numbers, dates and names are handled by
`compare/cues/multilingual.py`, which `detect_cues` calls for those languages.
"""

from __future__ import annotations

from datetime import date, datetime

from compare.cues.attribution import find_attributions
from compare.cues.dates import find_dates
from compare.cues.lexicon import CONTEXT_CHARS, Spans, find_lexical, lexicon
from compare.cues.names import find_places_and_entities
from compare.cues.numbers import find_numbers
from compare.cues.wording import find_learned_loaded, find_loaded
from compare.model import Cue, CueType

# ------------------------------------------------------------------------------------------ driver

# Defence in depth (issue 16): cues are looked for in at most this many characters of a statement. The
# segmenter never makes a statement this long (compare.segment.MAX_SEGMENT_CHARS); a pre-segmented
# statement or an `annotate` line can be, and the report then says where detection stopped.
MAX_CUE_CHARS = 10_000


def cue_limit(text: str) -> int | None:
    """Where cue detection stops in `text` (at a space near MAX_CUE_CHARS), or None when it reads it all."""
    if len(text) <= MAX_CUE_CHARS:
        return None
    space = text.rfind(" ", MAX_CUE_CHARS - CONTEXT_CHARS, MAX_CUE_CHARS)
    return space if space > 0 else MAX_CUE_CHARS


def detect_cues(text: str, *, language: str = "en", reference: date | None = None) -> tuple[Cue, ...]:
    """All cues of one statement, sorted by position; overlapping cues of one type are merged.

    A statement over MAX_CUE_CHARS is read up to `cue_limit(text)`: offsets stay offsets into `text`."""
    limit = cue_limit(text)
    if limit is not None:
        text = text[:limit]
    lex = lexicon(language)
    cues: list[Cue] = []
    cues += find_lexical(text, lex.hedge, CueType.HEDGE)
    cues += find_lexical(text, lex.negation, CueType.NEGATION)
    cues += find_attributions(text, lex)
    dates = find_dates(text, reference)
    cues += dates
    cues += find_numbers(text, [(d.start, d.end) for d in dates])
    cues += find_places_and_entities(text)
    cues += find_loaded(text, lex)
    if language[:2] == "en":
        cues += find_learned_loaded(text, lex)
    if language[:2] != "en":  # Russian/Ukrainian numbers, dates, names, sources (issue 7)
        from compare.cues import multilingual
        cues = multilingual.localise_cues(cues, text, language=language, reference=reference)
    return tuple(sorted(_dedupe(cues), key=lambda c: (c.start, c.end, c.type.value)))


def _dedupe(cues: list[Cue]) -> list[Cue]:
    """Drop a cue contained in a longer cue of the same type, and names inside dates."""
    dates = Spans((c.start, c.end) for c in cues if c.type == CueType.DATE)
    kept: list[Cue] = []
    for cue in sorted(cues, key=lambda c: (c.type.value, c.start, -(c.end - c.start))):
        if kept and kept[-1].type == cue.type and kept[-1].start <= cue.start and cue.end <= kept[-1].end:
            continue
        if cue.type in (CueType.PLACE, CueType.ENTITY) and dates.covers(cue.start, cue.end):
            continue
        kept.append(cue)
    return kept


def reference_date(published: str | None) -> date | None:
    if not published:
        return None
    try:
        return datetime.fromisoformat(published.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(published[:10])
        except ValueError:
            return None
