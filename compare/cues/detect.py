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

import json
import math
import re
import tomllib
from bisect import bisect_right, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from compare.model import Cue, CueType

_APOS = "'ʼ’"
_WORDCH = rf"[\w{_APOS}]"

# ------------------------------------------------------------------------------ linear-time helpers
# Every context check looks at most this many characters before or after a match. Without the bound,
# each match searched (or copied) the whole text before it, and a statement of thousands of numbers or of
# one repeated word took time quadratic in its length (issue 16). Every rule here is about the few words
# next to a match; 200 characters is some 30 words.
CONTEXT_CHARS = 200
# The fixed grammar's look-backs ("No. ", "more than ", "between ", "in early ") span a word or three;
# `$`-anchored search tries every start in its window, so these get a shorter one.
_NEAR_CHARS = 48


def _ends_before(pattern: re.Pattern[str], text: str, pos: int, window: int = CONTEXT_CHARS) -> re.Match[str] | None:
    """`pattern` (anchored with `$`) matched against the text just before `pos`, as if it ended there.

    Searches `text` itself between `pos - window` and `pos`: `$` matches at `pos`, lookbehinds and `\\b`
    still see the characters before the window, and nothing is copied."""
    return pattern.search(text, max(0, pos - window), pos)


def _after(text: str, pos: int) -> str:
    """The text right after `pos`, at most CONTEXT_CHARS of it (for patterns anchored with `^`)."""
    return text[pos:pos + CONTEXT_CHARS]


def _blank_before(text: str, pos: int) -> bool:
    """True when only whitespace comes before `pos` (`not text[:pos].strip()` without the copy)."""
    return _last_before(text, pos) == ""


def _end_before(text: str, pos: int) -> int:
    """`len(text[:pos].rstrip())` without the copy."""
    while pos > 0 and text[pos - 1].isspace():
        pos -= 1
    return pos


def _last_before(text: str, pos: int) -> str:
    """The last non-space character before `pos`, or "" (`text[:pos].rstrip()[-1:]` without the copy)."""
    end = _end_before(text, pos)
    return text[end - 1] if end else ""


class _Spans:
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
    return rf"(?<![\w{_APOS}-])" + body + rf"(?![\w{_APOS}]|-\w)"


def _alternation(phrases: Iterable[str]) -> str | None:
    """One alternation of the phrases, longest first, word-bounded like `_phrase_regex`.

    The word-boundary lookarounds wrap the whole alternation instead of each phrase: `re` compiles each
    character set anew, and per-phrase lookarounds made building the lexicons most of a run's segment stage.
    """
    items = sorted({p for p in phrases if p.strip()}, key=len, reverse=True)
    if not items:
        return None
    plain = [r"\s+".join(re.escape(w) for w in p.split()) for p in items if not p.startswith("n't")]
    parts = [rf"(?<![\w{_APOS}-])(?:{'|'.join(plain)})(?![\w{_APOS}]|-\w)"] if plain else []
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


def _context_ok(rule: Rule, text: str, start: int, end: int, context_any: bool | None = None) -> bool:
    """The rule's context holds around text[start:end] (CONTEXT_CHARS either side; `context_any`: the
    statement-wide word test when the caller already ran it once for the statement)."""
    after = _after(text, end) if rule.not_followed_by or rule.followed_by else ""
    if rule.not_followed_by and rule.not_followed_by.search(after):
        return False
    if rule.followed_by and not rule.followed_by.search(after):
        return False
    if rule.not_preceded_by and _ends_before(rule.not_preceded_by, text, start):
        return False
    if rule.preceded_by and not _ends_before(rule.preceded_by, text, start):
        return False
    if rule.context_any and not (context_any if context_any is not None else rule.context_any.search(text)):
        return False
    if rule.lowercase:
        matched = text[start:end]
        last = _last_before(text, start)
        sentence_start = not last or last in ".!?:;“\"("
        if matched != matched.lower() and not (sentence_start and matched[1:] == matched[1:].lower()):
            return False
    return True


def _apply(rules: Iterable[Rule], text: str) -> list[tuple[Rule, re.Match[str]]]:
    out = []
    for rule in rules:
        anywhere = None  # the statement-wide test, run once per rule rather than once per match
        for m in rule.pattern.finditer(text):
            if m.end() <= m.start():
                continue
            if rule.context_any and anywhere is None:
                anywhere = bool(rule.context_any.search(text))
            if _context_ok(rule, text, m.start(), m.end(), anywhere):
                out.append((rule, m))
    return out


def _longest(cues: list[Cue]) -> list[Cue]:
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
            for _, m in _apply(rules, text)]
    return _longest(cues)


# --------------------------------------------------------------------------------------------- names


@dataclass(frozen=True)
class Gazetteer:
    canonical_by_variant: dict[str, str]
    kind_by_variant: dict[str, CueType]
    pattern: re.Pattern[str]


def _name_entries() -> list[tuple[CueType, dict[str, Any]]]:
    entries: list[tuple[CueType, dict[str, Any]]] = []
    for filename in ("places.toml", "en.toml"):
        try:
            data = tomllib.loads(resources.files("compare.lexicons").joinpath(filename).read_text("utf-8"))
        except (FileNotFoundError, OSError):
            continue
        entries += [(CueType.PLACE, e) for e in data.get("place", [])]
        entries += [(CueType.ENTITY, e) for e in data.get("entity", [])]
    return entries


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Known places and names with their spelling variants (places.toml plus en.toml), and countries."""
    by_variant: dict[str, str] = {}
    kinds: dict[str, CueType] = {}
    alternatives = []
    for kind, entry in _name_entries():
        for variant in entry.get("variants", []):
            by_variant.setdefault(_fold(variant), entry["canonical"])
            kinds.setdefault(_fold(variant), kind)
            if kind == CueType.PLACE:
                alternatives.append(re.escape(variant) + rf"(?![\w{_APOS}]|-[A-Z])")
        for stem in entry.get("stems", []):
            by_variant.setdefault(_fold(stem), entry["canonical"])
            kinds.setdefault(_fold(stem), kind)
            if kind == CueType.PLACE:
                alternatives.append(re.escape(stem) + r"\w*")
    for country in _countries():
        if _fold(country) not in by_variant:
            by_variant[_fold(country)] = country
            kinds[_fold(country)] = CueType.PLACE
            alternatives.append(re.escape(country) + rf"(?![\w{_APOS}])")
    alternatives.sort(key=len, reverse=True)
    pattern = re.compile(rf"(?<![\w{_APOS}-])(?:" + "|".join(alternatives) + ")")
    return Gazetteer(by_variant, kinds, pattern)


def _countries() -> list[str]:
    """English country names (from Babel's CLDR data when available; a geographic fact, not a guess)."""
    try:
        from babel import Locale
    except ImportError:  # pragma: no cover - babel comes with trafilatura
        return []
    names = [n for code, n in Locale("en").territories.items() if code.isalpha() and "&" not in n
             and "(" not in n and len(n) > 3]
    return sorted(set(names) - {"World", "Europe", "Americas", "Oceania", "Africa", "Asia", "Georgia", "Jordan",
                                 "Chad", "Turkey", "Guinea", "Niger", "Jersey", "Congo - Kinshasa"})


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("ʼ", "'").replace("’", "'")).strip()


@lru_cache(maxsize=1)
def _variant_rank() -> dict[str, int]:
    return {variant: rank for rank, variant in enumerate(gazetteer().canonical_by_variant)}


@lru_cache(maxsize=65536)
def canonical_name(text: str) -> str:
    """A spelling-independent name: the gazetteer's canonical form, else the name transliterated to ASCII.

    Cached: a story repeats its names, and a nightly run sees the same ones in every story."""
    gaz = gazetteer()
    text = re.sub(rf"[{_APOS}]s$", "", text.strip())
    folded = _fold(text)
    if folded in gaz.canonical_by_variant:
        return gaz.canonical_by_variant[folded]
    # Russian/Ukrainian declension: a known spelling (5+ letters) plus a short non-ASCII case ending
    # ("Купянске"). Only the three possible cuts are looked up; of several hits the gazetteer's first wins.
    if " " not in folded:
        hits = [folded[:-cut] for cut in (1, 2, 3)
                if len(folded) - cut >= 5 and folded[:-cut] in gaz.canonical_by_variant
                and folded[-cut:].isalpha() and not folded[-cut:].isascii()]
        if hits:
            return gaz.canonical_by_variant[min(hits, key=_variant_rank().__getitem__)]
    from anyascii import anyascii

    ascii_name = anyascii(text)
    ascii_name = re.sub(r"['`’ʼ]", "", ascii_name)
    return re.sub(r"\s+", " ", ascii_name).strip()


def name_key(name: str) -> str:
    """A loose key under which transliteration variants of one name usually collide ("Kupiansk" and
    "Kupyansk", "Dmitri" and "Dmitry"): ASCII, lower case, y/i/j and doubled letters folded."""
    from anyascii import anyascii

    key = anyascii(canonical_name(name)).lower()
    key = re.sub(r"[^a-z ]", "", key)
    key = re.sub(r"(?<=[a-z])(?:iy|yi|ii|yy|ij|ei|ey)\b", "i", key)
    key = re.sub(r"[yj]", "i", key)
    key = re.sub(r"kh", "h", key)
    key = re.sub(r"(.)\1", r"\1", key)
    return key


# Words that introduce a name without being part of it.
TITLES = {
    "president", "general", "gen", "governor", "gov", "mayor", "minister", "prime", "foreign", "defence",
    "defense", "chief", "commander", "commander-in-chief", "col", "colonel", "lt", "lieutenant", "major",
    "sgt", "sergeant", "captain", "capt", "admiral", "mr", "mrs", "ms", "dr", "chancellor", "senator",
    "judge", "king", "queen", "prince", "sir", "lord", "secretary", "spokesman", "spokeswoman", "intelligence",
    "deputy", "ambassador", "envoy", "marshal", "patriarch", "metropolitan", "rep", "sen", "adm", "maj",
    "field", "vice", "acting", "former", "late", "opposition", "leader", "head", "director", "professor",
    "prof", "state", "interior", "economy", "finance", "health", "justice", "energy",
}
_TITLE_LINK = {"of", "the", "for", "and"}
_NOT_NAMES = {
    "The", "A", "An", "This", "That", "These", "Those", "It", "He", "She", "They", "We", "I", "In", "On",
    "At", "But", "And", "Or", "However", "Meanwhile", "According", "Despite", "While", "As", "After",
    "Before", "When", "Since", "Its", "His", "Her", "Their", "Our", "There", "Here", "If", "For", "By",
    "With", "From", "Some", "Many", "Most", "Other", "Others", "Additionally", "Also", "Still", "Yet",
    "Although", "Both", "Earlier", "Later", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
    "Saturday", "Sunday", "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December", "Nov", "Oct", "Dec", "Jan", "Feb", "Aug", "Sept", "Sep",
    "Apr", "Jun", "Jul", "Mar", "Mr", "Mrs", "Ms", "Dr",
    "No", "Not", "Over", "About", "More", "Less", "Russian", "Ukrainian", "Western", "Asked", "Under",
    "Independent", "Neither", "Two", "Three", "One", "Four", "Five", "Several", "Among",
    "Speaking", "Officials", "Local", "Residents", "What", "Why", "How", "Who", "Where", "Everything",
    "European", "British", "American", "French", "German", "Polish", "Pro-Kremlin", "Pro-Russian", "Today",
    "Tonight", "Yesterday", "Tomorrow", "Only", "Private", "Government", "Police", "Troops", "Dozens",
    "Hundreds", "Thousands", "Rescuers", "Witnesses", "Analysts", "Doctors", "Sources", "Investigators",
    "Protesters", "Volunteers", "Workers", "Dockers", "Strikers", "Management", "Sappers", "Ambulances",
    "Negotiators", "Lawyers", "Critics", "Shoppers", "Activists", "Militants", "Rebels", "Soldiers",
    "Separatists", "Authorities", "Nobody", "None", "Nothing", "Never", "Notwithstanding", "Nonetheless",
    "Noting", "Then", "Now", "Once", "All", "Each", "Every", "Any", "Such", "Following", "During",
    "Until", "Within", "Without", "Across", "Near", "Outside", "Inside", "Up", "Down", "Almost", "Nearly",
    "Roughly", "Around", "Eleven", "Twelve", "Six", "Seven", "Eight", "Nine", "Ten", "Seventeen",
    "Twenty-five", "Fewer", "Between", "Close", "Just", "Possibly", "Reportedly", "Apparently", "Presumably",
    "Last", "Next", "Early", "Late", "Mid", "Kremlin-backed", "Fat-cat", "Extremist", "Fascist", "Cowardly",
    "Aggression", "Invasion", "Reports", "Insurance", "Prices", "Exports", "Unemployment", "Inflation",
    "Heavy", "Flights", "Flooding", "Fighting", "Shelling", "Water", "Power", "Rain", "Crews", "Annotated",
    "Wage", "Strike", "Talks", "Construction", "Relief", "Results", "Polls", "Voters", "Schools", "Election",
    "Parliament", "Initial", "Satellite", "Turnout", "Rainfall", "Air", "Traffic", "Article",
    "Brigade", "Block", "Route", "Flight", "Storm", "Covid-19", "Russia-backed",
}
_PLACE_PREP = re.compile(
    r"\b(?:in|near|outside|at|from|into|towards?|around|across|of|off|over|via|between|left|reached|"
    r"entered|captured|liberated|taken|took|hit|shelled|retook|recaptured|held|hold|holds|fled|leave|left|"
    r"and)\s+(?:the\s+)?(?:(?:village|town|city|port|region|district|settlement|ports|capital)\s+of\s+)?$"
)
_CAPSEQ = re.compile(rf"(?<![\w{_APOS}])(?:[A-ZА-ЯЁІЇЄҐÀ-Ý][\w{_APOS}.&-]*)(?:\s+(?:of\s+the\s+|of\s+|for\s+the\s+|"
                     rf"the\s+|de\s+|al-|sans\s+)?(?:[A-ZА-ЯЁІЇЄҐÀ-Ý]|\d+(?:st|nd|rd|th)\s+[A-Z])"
                     rf"[\w{_APOS}&-]*)*")
_PLACE_HINT_WORDS = {"region", "oblast", "district", "river", "port", "village", "town", "city", "bay",
                     "valley", "county", "province", "bridge", "station", "square", "street", "hills", "hill",
                     "sea", "lake", "mountains", "island", "islands", "avenue", "coast", "gulf", "reservoir"}
_PLACE_SUFFIX = re.compile(r"(?:sk|ivka|ovka|evka|ivske|opil|opol|grad|hrad|gorod|horod|ivtsi|burg|ville|ford|"
                           r"by|holm|stadt|pol)$")
_ORG_WORDS = {"ministry", "staff", "agency", "army", "forces", "brigade", "command", "council", "union",
              "office", "service", "company", "authority", "government", "committee", "department", "police",
              "guard", "news", "wire", "herald", "observer", "press", "times", "post", "gazette", "review",
              "voice", "daily", "terminals", "institute", "group", "organization", "organisation", "commission",
              "court", "bank", "railways", "board", "international", "watch", "cross", "association",
              "federation", "party", "analysis", "independent", "journal", "tribune", "telegraph", "network",
              "corporation", "ltd", "inc", "battalion", "regiment", "division", "corps", "fleet", "nations",
              "union's", "security", "intelligence", "parliament", "assembly", "duma", "rada", "kremlin",
              "pentagon", "bureau", "foundation", "centre", "center", "university", "hospital", "school"}


def _looks_like_org(words: Sequence[str]) -> bool:
    return any(w.lower().strip(".,") in _ORG_WORDS for w in words)


def _strip_titles(words: list[str]) -> tuple[list[str], int]:
    """Drop leading titles ("President", "Chief of the General Staff"); returns the rest and how many
    words were dropped. Keeps everything when nothing but titles would remain."""
    i = 0
    last_title = -1
    while i < len(words):
        w = words[i].lower().rstrip(".")
        if w in TITLES or (w in _ORG_WORDS and last_title >= 0):
            last_title = i
        elif not (w in _TITLE_LINK and last_title >= 0):
            break
        i += 1
    cut = last_title + 1
    if cut == 0 or cut >= len(words):
        return words, 0
    # "Chief of the General Staff Valery Gerasimov": a person's name follows the title.
    return words[cut:], cut


_ORG_AFTER_PLACE = re.compile(r"\s+(?:[A-Z][a-z]+\s+)*(?:Herald|Times|Wire|Post|Daily|Independent|Observer|"
                              r"Review|Gazette|Metro|Railways|Regional|Energy|Terminals)\b")


class _Taken:
    """Non-overlapping spans already given to a name, kept sorted: an overlap test in log time."""

    def __init__(self) -> None:
        self.spans: list[tuple[int, int]] = []

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_right(self.spans, (end, -1))  # spans starting before `end`
        return any(self.spans[j][1] > start for j in range(max(0, i - 2), i))

    def add(self, span: tuple[int, int]) -> None:
        insort(self.spans, span)


def find_places_and_entities(text: str) -> list[Cue]:
    gaz = gazetteer()
    cues: list[Cue] = []
    taken = _Taken()
    for m in gaz.pattern.finditer(text):
        if _ORG_AFTER_PLACE.match(_after(text, m.end())):
            continue  # part of an organisation's name ("Kyiv Daily Wire", "The Moscow Times")
        cues.append(Cue(CueType.PLACE, m.start(), m.end(), m.group(0), {"canonical": canonical_name(m.group(0))}))
        taken.add(m.span())
    for m in _CAPSEQ.finditer(text):
        start, end = m.span()
        name = m.group(0)
        while name and name[-1] in ".-":
            name = name[:-1]
        # Split at a possessive ("Ukraine's General Staff"): the owner is a name of its own.
        possessive = re.search(rf"[{_APOS}]s\s+", name)
        parts = [(start, start + possessive.start()), (start + possessive.end(), start + len(name))] \
            if possessive else [(start, start + len(name))]
        for p_start, p_end in parts:
            _add_name(text, p_start, p_end, cues, taken, gaz)
    return cues


_MODIFIER_END = re.compile(r"-(?:held|backed|controlled|installed|led|based|born|made|style|era)$")
_POSSESSIVE_END = re.compile(rf"[{_APOS}]s?$")


def _add_name(text: str, start: int, end: int, cues: list[Cue], taken: _Taken, gaz: Gazetteer) -> None:
    name = text[start:end]
    if _MODIFIER_END.search(name, max(0, len(name) - 20)):
        return  # "Ukrainian-held", "Kremlin-backed": a modifier, not a name
    possessive = _POSSESSIVE_END.search(name, max(0, len(name) - 2))
    if possessive:
        name = name[:possessive.start()]
    end = start + len(name)
    # Words with their spans, found once: dropping leading non-names and trailing links word by word
    # used to re-slice the name each time (quadratic in a long run of capitalised words).
    spans = [(start + w.start(), start + w.end()) for w in re.finditer(r"\S+", name)]
    first, last = 0, len(spans)
    while first < last and text[spans[first][0]:spans[first][1]] in _NOT_NAMES:
        first += 1
    while last > first and text[spans[last - 1][0]:spans[last - 1][1]].lower() in _TITLE_LINK:
        last -= 1
    if first == last:
        return
    start = spans[first][0]
    if last < len(spans):
        end = spans[last - 1][1]
    words = [text[s:e] for s, e in spans[first:last]]
    rest, dropped = _strip_titles(words)
    had_title = dropped > 0
    if dropped:
        start = text.index(rest[0], start)
    words = rest
    name = text[start:end]
    if taken.overlaps(start, end):
        return
    if len(name) < 2 or not any(ch.isalpha() for ch in name):
        return
    at_sentence_start = _last_before(text, start) in ("", "“", "\"", "(")
    folded = _fold(name)
    known = folded in gaz.canonical_by_variant
    if at_sentence_start and len(words) == 1 and not known and not had_title \
            and not (name.isupper() and len(name) >= 2) and not _name_like_start(text, end):
        return  # a capitalised first word is usually just the start of the sentence
    kind = gaz.kind_by_variant.get(folded)
    if kind is None:
        is_place = ((bool(_ends_before(_PLACE_PREP, text, start)) and not _looks_like_org(words) and not had_title
                     and not _person_like(words))
                    or words[-1].lower() in _PLACE_HINT_WORDS
                    or (len(words) == 1 and bool(_PLACE_SUFFIX.search(words[0].lower()))
                        and not _looks_like_org(words)))
        kind = CueType.PLACE if is_place else CueType.ENTITY
    cues.append(Cue(kind, start, end, name, {"canonical": canonical_name(name)}))
    taken.add((start, end))


def _person_like(words: Sequence[str]) -> bool:
    return len(words) == 2 and all(w[:1].isupper() and w[1:].islower() for w in words) and \
        words[-1].lower().endswith(("ov", "ev", "in", "enko", "uk", "sky", "skyi", "ski", "ko", "ich", "vich"))


def _name_like_start(text: str, end: int) -> bool:
    """A sentence-initial single capitalised word followed by a possessive or a reporting verb is a name."""
    return bool(_NAME_LIKE_AFTER.match(_after(text, end)))


_NAME_LIKE_AFTER = re.compile(rf"(?:[{_APOS}]s\b|\s+(?:said|says|told|reported|reports|announced|added|also|has|"
                              r"had|was|is|could|will|would|cut|thanked|claimed|claims|insists|denied|confirmed)\b"
                              r"|,\s)")


# ------------------------------------------------------------------------------------------ numbers

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "a hundred": 100, "dozen": 12, "a dozen": 12,
}
FRACTIONS = {"half": 50.0, "a half": 50.0, "a third": 33.3, "one third": 33.3, "a quarter": 25.0,
             "one quarter": 25.0, "two-thirds": 66.7, "two thirds": 66.7, "three-quarters": 75.0,
             "three quarters": 75.0, "a fifth": 20.0, "a tenth": 10.0}
VAGUE = {"tens of thousands": 10_000, "hundreds of thousands": 100_000, "dozens": 12, "scores": 20,
         "hundreds": 100, "thousands": 1_000, "millions": 1_000_000}
SCALE_WORDS = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000, "trillion": 10**12,
               "bn": 1_000_000_000, "m": 1_000_000, "k": 1_000, "mn": 1_000_000}
QUALIFIERS = [
    ("more than", ">"), ("over", ">"), ("above", ">"), ("in excess of", ">"), ("upwards of", ">"),
    ("just over", ">"), ("well over", ">"), ("at least", ">="), ("no fewer than", ">="), ("no less than", ">="),
    ("a minimum of", ">="), ("less than", "<"), ("fewer than", "<"), ("under", "<"), ("below", "<"),
    ("just under", "<"), ("up to", "<="), ("at most", "<="), ("no more than", "<="), ("as many as", "<="),
    ("a maximum of", "<="), ("about", "~"), ("around", "~"), ("roughly", "~"), ("approximately", "~"),
    ("some", "~"), ("an estimated", "~"), ("estimated", "~"), ("an approximate", "~"), ("circa", "~"),
    ("nearly", "~<"), ("almost", "~<"), ("close to", "~<"), ("just shy of", "~<"),
]
_QUALIFIER_MAP = dict(QUALIFIERS)
_QUALIFIER_BEFORE = re.compile(
    r"(?<![\w-])(?P<qual>" + "|".join(r"\s+".join(map(re.escape, q.split()))
                                       for q, _ in sorted(QUALIFIERS, key=lambda x: -len(x[0])))
    + r")\s+$", re.IGNORECASE)
_NUMWORD_RE = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
_FRACTION_RE = "|".join(sorted((re.escape(w).replace(r"\ ", r"\s+") for w in FRACTIONS), key=len, reverse=True))
_VAGUE_RE = "|".join(sorted((re.escape(w).replace(r"\ ", r"\s+") for w in VAGUE), key=len, reverse=True))
NUMBER_RE = re.compile(
    r"(?<![\w.,/:-])(?:(?P<cur>[$€£])\s?)?"
    r"(?:(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    rf"|(?P<vague>(?:{_VAGUE_RE}))(?=\s+of\b)"
    rf"|(?P<frac>(?:{_FRACTION_RE}))(?=\s+of\b)"
    rf"|(?P<word>(?:{_NUMWORD_RE})(?:-(?:{_NUMWORD_RE}))?)(?![\w-]))"
    r"(?P<scale>\s?(?:thousand|million|billion|trillion)\b|(?:bn|mn|m|k)\b)?"
    r"(?P<pct>\s?%|\s+per\s?cent\b|\s+percent\b|\s+percentage\s+points?\b)?",
    re.IGNORECASE,
)
MEASURE_UNITS = [
    (r"km/h|kph|kilometres?\s+(?:an|per)\s+hour|mph", "km/h"), (r"cubic\s+met(?:re|er)s?|m3|m³", "m3"),
    (r"square\s+kilomet(?:re|er)s?|sq\s?km|km2|km²", "km2"), (r"kilomet(?:re|er)s?|km", "km"),
    (r"miles?", "mile"), (r"met(?:re|er)s?|m", "m"), (r"centimet(?:re|er)s?|cm", "cm"),
    (r"millimet(?:re|er)s?|mm", "mm"), (r"hectares?|ha", "hectare"), (r"tonnes?|tons?", "tonne"),
    (r"kilograms?|kg", "kg"), (r"dollars?", "USD"), (r"euros?", "EUR"), (r"pounds?\s+sterling", "GBP"),
    (r"crowns?", "crown"), (r"hryvnias?|hryvnia", "hryvnia"), (r"roubles?|rubles?", "rouble"),
    (r"degrees", "degree"),
]
_MEASURE_RE = re.compile(r"\s*(?P<unit>" + "|".join(f"(?:{p})" for p, _ in MEASURE_UNITS) + r")(?![\w/])",
                         re.IGNORECASE)
_CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP"}
_FUNCTION_WORDS = set(
    "a an the of to in on at by for from with and or but as is are was were be been being has have had it its this "
    "that these those which who whom whose there than then so such not no per each more most other others "
    "over under about after before into onto out up down off all both said says told while when where if "
    "will would could should may might can must did does do also still only just yet again ago later earlier "
    "percent year-old years-old times a.m. p.m. local this next last km m".split()
)
_ADJ_BEFORE_NOUN = re.compile(r"^(?:[a-z-]+(?:ed|en|al|an|ian|ish|ese|ive|ic|ary|ary|ing|le)|more|other|additional|"
                              r"new|young|old|small|large|big|heavy|light|military|civilian|foreign|local|"
                              r"armoured|armored|wounded|injured|dead|missing|displaced|unarmed)$")
_IRREGULAR = {"people": "person", "children": "child", "men": "man", "women": "woman", "crew": "crew",
              "police": "police", "staff": "staff", "personnel": "personnel", "troops": "troop",
              "dead": "dead", "wounded": "wounded", "injured": "injured", "killed": "killed",
              "sheep": "sheep", "aircraft": "aircraft", "fish": "fish", "buses": "bus", "series": "series",
              "news": "news", "lives": "life", "wives": "wife", "feet": "foot", "teeth": "tooth",
              "mice": "mouse", "geese": "goose", "outskirts": "outskirts", "headquarters": "headquarters",
              "premises": "premises", "media": "media"}
_ID_WORDS = re.compile(r"(?:#|\b(?:No|Nos|Nr|Route|Article|Block|Flight|Section|Platform|Gate|Room|"
                       r"Chapter|Resolution|Highway|Building|Unit|Line|Bus|Page|Item|Clause|"
                       r"Pier|Berth|Terminal|Act|Part|aged|age|House|Code|Season|Episode|"
                       r"Phase|Stage|Level|Grade|Type|Model|version|Group|District))\.?\s*$")


@lru_cache(maxsize=65536)
def singular(word: str) -> str:
    """English singular of a lower-cased noun, for matching lexicon entries ("villages" -> "village",
    "buses" -> "bus", "people" -> "person"); words with no singular of their own stay as they are."""
    word = word.lower().strip(_APOS)
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if re.search(r"(?:ch|sh|ss|x|z)es$", word):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def _number_value(raw: str) -> float | None:
    raw = re.sub(r"\s+", " ", raw.strip().lower())
    if raw in NUMBER_WORDS:
        return float(NUMBER_WORDS[raw])
    parts = re.split(r"[- ]", raw)
    if all(p in NUMBER_WORDS for p in parts):
        return float(sum(NUMBER_WORDS[p] for p in parts))
    try:
        return float(raw.replace(",", ""))
    except ValueError:
        return None


_NOUN_AFTER = re.compile(r"\s+([A-Za-z][a-z-]*)(?:\s+([a-z][a-z-]*))?")


def _noun_after(text: str, pos: int) -> tuple[str | None, int]:
    """The counted noun right after a number ("17 ships", "15 wounded soldiers") and where it ends."""
    m = _NOUN_AFTER.match(_after(text, pos))
    if not m:
        return None, pos
    first, second = m.group(1), m.group(2)
    if first.lower() in _FUNCTION_WORDS or first.endswith("ly") or (first[0].isupper() and not second):
        return None, pos
    adjective = bool(_ADJ_BEFORE_NOUN.match(first.lower())) and (
        first.lower() not in _IRREGULAR or first.lower() in ("wounded", "injured", "dead", "killed"))
    if first[0].isupper() or adjective:
        if second and second not in _FUNCTION_WORDS and not second.endswith(("ed", "ly")):
            return second, pos + m.end(2)
        if first[0].isupper():
            return None, pos
    return first, pos + m.end(1)


def find_numbers(text: str, date_spans: Sequence[tuple[int, int]] = ()) -> list[Cue]:
    """Quantities with value, unit and qualifier; years, dates, identifiers and times are not quantities."""
    cues: list[Cue] = []
    skip_until = -1
    in_date = _Spans(date_spans)
    for m in NUMBER_RE.finditer(text):
        if m.start() < skip_until:
            continue
        s, e = m.start(), m.end()
        if in_date.has_point(s):
            continue
        after = _after(text, e)
        raw = m.group("num") or m.group("word") or ""
        if m.group("num"):
            if _ends_before(_LETTER_BEFORE, text, s, _NEAR_CHARS) or _NOT_A_COUNT_AFTER.match(after):
                continue  # F-16, Covid-19, 92nd, 3 p.m., 09:00, 2-1, SU1402
            if _ends_before(_ID_WORDS, text, s, _NEAR_CHARS):
                continue  # No. 4, Route 7, Article 5, aged 61
            if _ends_before(_CAP_WORD_BEFORE, text, s, _NEAR_CHARS) \
                    and not _ends_before(_SENTENCE_FIRST_WORD_BEFORE, text, s, _NEAR_CHARS) \
                    and not _ends_before(_QUALIFIER_BEFORE, text, s, _NEAR_CHARS):
                continue  # Block 12, Brigade 92 (a capitalised word right before)
        value: float | None
        unit: str | None = None
        qualifier = "="
        end = e
        if m.group("vague"):
            value = float(VAGUE[re.sub(r"\s+", " ", m.group("vague").lower())])
            qualifier = ">"
            of = _OF.match(after)
            noun, noun_end = _noun_after(text, e + (len(of.group(0)) if of else 0))
            if noun:
                unit, end = singular(noun), noun_end
        elif m.group("frac"):
            value = FRACTIONS[re.sub(r"\s+", " ", m.group("frac").lower())]
            unit = "%"
        else:
            value = _number_value(raw)
            if value is None:
                continue
            if m.group("word") and raw.lower() == "one" and (_OF.match(after)
                                                             or _ends_before(_NO_BEFORE, text, s, _NEAR_CHARS)):
                continue  # "one of the victims", "no one"
            if m.group("scale"):
                scale = m.group("scale").strip().lower()
                if scale in ("m", "k", "mn", "bn") and not m.group("cur") and not re.match(r"\s", m.group("scale")):
                    if scale == "m" and not m.group("cur"):
                        value, end = value, m.start("scale")  # "40m" without a currency: metres, below
                    else:
                        value *= SCALE_WORDS[scale]
                elif scale in ("m", "k", "mn", "bn") and re.match(r"\s", m.group("scale")) and not m.group("cur"):
                    end = m.start("scale")
                else:
                    value *= SCALE_WORDS[scale]
            if m.group("pct"):
                unit = "pp" if "point" in m.group("pct").lower() else "%"
            elif m.group("cur"):
                unit = _CURRENCY[m.group("cur")]
            else:
                measure = _MEASURE_RE.match(text, end)
                if measure:
                    word = measure.group("unit")
                    unit = next(u for p, u in MEASURE_UNITS if re.fullmatch(p, word, re.IGNORECASE))
                    end = measure.end()
                else:
                    noun, noun_end = _noun_after(text, end)
                    if noun and m.group("num") and _YEARISH.match(raw) and noun.lower() not in _IRREGULAR \
                            and not noun.lower().endswith("s"):
                        noun = None
                    if noun:
                        unit, end = singular(noun), noun_end
            if m.group("num") and _YEARISH.match(raw) and unit is None:
                continue  # a year is a date, not a quantity
            if m.group("word") and unit is None and not _COUNT_VERB_AFTER.match(after) \
                    and not _ends_before(_QUALIFIER_BEFORE, text, s, _NEAR_CHARS):
                continue  # "two sides", "one resident said": a number word needs a count or a verb
        start = s
        qual = _ends_before(_QUALIFIER_BEFORE, text, s, _NEAR_CHARS)
        if qual and not _ends_before(_PHRASAL_UP_TO, text, s, _NEAR_CHARS):
            qualifier = _QUALIFIER_MAP[re.sub(r"\s+", " ", qual.group("qual").lower())]
            start = qual.start("qual")
        between = _ends_before(_BETWEEN_BEFORE, text, s, _NEAR_CHARS)
        range_end = _RANGE_END.match(_after(text, end))
        extra: dict[str, Any] = {}
        if between and range_end and between.group(1).lower() == "between":
            start = between.start(1)
            qualifier = ">="
            extra["max"] = _number_value(range_end.group(1))
            end = end + range_end.end()
            skip_until = end
            noun, noun_end = _noun_after(text, end)
            if unit is None and noun:
                unit = singular(noun)
        payload: dict[str, Any] = {"value": int(value) if float(value).is_integer() else round(value, 4),
                                   "unit": unit, "qualifier": qualifier, **extra}
        cues.append(Cue(CueType.NUMBER, start, end, text[start:end], payload))
    return cues


_YEARISH = re.compile(r"^(1[6-9]\d\d|20\d\d)$")
_LETTER_BEFORE = re.compile(r"[A-Za-z]-?$")
_NOT_A_COUNT_AFTER = re.compile(r"(?:st|nd|rd|th)\b|[:/]\d|-\d|\s?[ap]\.?m\.?(?!\w)"
                                r"|(?!(?:mm|cm|km|kg|m|bn|mn|k|ha)\b)[A-Za-z]")
_CAP_WORD_BEFORE = re.compile(r"\b[A-Z][a-z]+\s+$")
_SENTENCE_FIRST_WORD_BEFORE = re.compile(r"(?:^|[.!?]\s+)[A-Z][a-z]+\s+$")
_OF = re.compile(r"\s+of\b")
_NO_BEFORE = re.compile(r"\bno\s+$", re.IGNORECASE)
_COUNT_VERB_AFTER = re.compile(r"\s+(?:of\s+the|of\s+them|of\s+us|were|was|had|have|are|died|remain|remained|"
                               r"survived)\b")
_BETWEEN_BEFORE = re.compile(r"\b(between|from)\s+$", re.IGNORECASE)
_RANGE_END = re.compile(r"\s+(?:and|to|-)\s+(\d[\d,.]*)")
# "revised up to 34": a phrasal verb, not the qualifier "up to".
_PHRASAL_UP_TO = re.compile(r"\b(?:revised|rose|risen|climbed|went|gone|go|goes|rising|shot|ramped)\s+up\s+to\s+$",
                            re.IGNORECASE)

# -------------------------------------------------------------------------------------------- dates

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
MONTH_ABBR = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
              "sept": 9, "oct": 10, "nov": 11, "dec": 12}
WEEKDAYS = {d: i for i, d in enumerate(
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])}
_MONTH_FULL = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_MONTH_RE = (rf"(?:{_MONTH_FULL}|JANUARY|FEBRUARY|MARCH|APRIL|MAY|JUNE|JULY|AUGUST|SEPTEMBER|OCTOBER|NOVEMBER|"
             r"DECEMBER|Jan\.?|Feb\.?|Mar\.|Apr\.?|Jun\.|Jul\.|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)")
_WEEKDAY_RE = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DAYPART = r"(?:\s+(?:morning|afternoon|evening|night))?"
_YEAR = r"(?:1[6-9]\d\d|20\d\d)"
DATE_RE = re.compile(
    rf"(?P<dateline>^(?:[A-Z][A-Z'.-]+(?:\s+[A-Z][A-Z'.-]+)*),\s+(?P<dl_m>{_MONTH_RE})\s+(?P<dl_d>\d{{1,2}})(?!\d))"
    rf"|(?P<md>(?:(?P<wd1>{_WEEKDAY_RE}),?\s+)?(?P<m1>{_MONTH_RE})\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?![\d:])"
    rf"(?:,?\s+(?P<y1>{_YEAR})(?!\d))?)"
    rf"|(?P<dm>(?:(?P<wd2>{_WEEKDAY_RE}),?\s+)?(?:the\s+)?(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?"
    rf"(?P<m2>{_MONTH_RE})(?:,?\s+(?P<y2>{_YEAR})(?!\d))?)"
    r"|(?P<iso>(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2}))"
    r"|(?P<us>(?P<m5>\d{1,2})/(?P<d5>\d{1,2})/(?P<y5>\d{4}))"
    rf"|(?P<my>(?:(?P<part2>early|mid|late|end\s+of)[- ])?(?P<m6>{_MONTH_FULL})\s+(?P<y6>{_YEAR})(?!\d))"
    rf"|(?P<wd>(?:(?P<rel_wd>last|next|this|coming)\s+)?(?P<day>{_WEEKDAY_RE})(?P<poss>['’]s)?{_DAYPART}\b)"
    r"|(?P<rel>\b(?i:yesterday|today|tonight|tomorrow|last\s+night|this\s+(?:morning|afternoon|evening)|"
    r"(?:earlier|later)\s+this\s+(?:week|month|year)|(?:last|next|this|past)\s+(?:week|month|year|weekend)|"
    r"over\s+the\s+weekend|(?:a|one|two|three|four|five|six|seven|\d+)\s+(?:days?|weeks?)\s+(?:ago|earlier|later)|"
    r"(?:several\s+|a\s+few\s+)?weeks\s+(?:ago|earlier)|"
    r"the\s+day\s+before|a\s+day\s+(?:after|before|earlier|later)|overnight)\b)"
    rf"|(?P<mo>\b(?:(?P<part>early|mid|late)[- ])?(?P<m4>{_MONTH_FULL})\b)"
    rf"|(?P<yr>(?<![\w,.$€£-]){_YEAR}(?![\d,.]\d|\d|%))"
    r"|(?P<ord>\bthe\s+(?P<d4>[1-3]?\d)(?:st|nd|rd|th)\b(?!\s+[A-Z])(?!\s+(?:floor|century|anniversary|time|day|round|"
    r"brigade|army|division|largest|biggest|place)))",
)
_FUTURE = re.compile(r"\b(?:will|would|shall|is\s+due|are\s+due|due\s+to|expected|scheduled|set\s+to|plans?\s+to|"
                     r"is\s+to|are\s+to|forecast|until|next|coming|tomorrow|going\s+to|deadline|expires)\b",
                     re.IGNORECASE)
_REL_DAYS = {"yesterday": -1, "last night": -1, "today": 0, "tonight": 0, "this morning": 0,
             "this afternoon": 0, "this evening": 0, "tomorrow": 1, "the day before": -1}
_MONTH_CONTEXT = re.compile(r"\b(?:in|since|until|till|by|from|of|during|before|after|through|early|late|mid|"
                            r"last|next|this|between|and|or|to|end\s+of|start\s+of|beginning\s+of)[\s-]+$",
                            re.IGNORECASE)


_THE_BEFORE = re.compile(r"\b(?:The|the)\s+$")
_THE_LOWER_BEFORE = re.compile(r"\bthe\s+$", re.IGNORECASE)
_ON_BEFORE = re.compile(r"\b(?:on|late\s+on|early\s+on)\s+$", re.IGNORECASE)
_EDGE_BEFORE = re.compile(r"\b(end|start|beginning)\s+of\s+$", re.IGNORECASE)
_IN_BEFORE = re.compile(r"\b(?:in|In)\s+$")
_YEAR_CONTEXT = re.compile(r"\b(?:in|since|by|until|till|from|of|before|after|during|between|and|to|early|late|"
                           r"mid|end\s+of|start\s+of|spring|summer|autumn|fall|winter)[\s-]+$", re.IGNORECASE)


def _month_number(token: str) -> int | None:
    token = token.lower().rstrip(".")
    return MONTHS.get(token) or MONTH_ABBR.get(token)


def _iso(year: int | None, month: int, day: int) -> str | None:
    if not year:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _weekday_date(reference: date, weekday: int, future: bool, modifier: str | None) -> date:
    """The date a weekday names: the past one by default, the next one in future-tense statements."""
    modifier = (modifier or "").lower()
    back = (reference.weekday() - weekday) % 7
    forward = (weekday - reference.weekday()) % 7
    if modifier == "last":
        return reference - timedelta(days=back or 7)
    if modifier in ("next", "coming"):
        return reference + timedelta(days=forward or 7)
    if back == 0:
        return reference
    if future:
        return reference + timedelta(days=forward)
    return reference - timedelta(days=back)


def find_dates(text: str, reference: date | None = None) -> list[Cue]:
    """Dates with an ISO value when it can be pinned down (weekdays resolved against `reference`)."""
    cues = []
    year = reference.year if reference else None
    future: list[bool] = []  # whether the statement is about the future: searched once, when first needed
    for m in DATE_RE.finditer(text):
        value: dict[str, Any] = {}
        start, end = m.span()
        after = _after(text, end)
        if m.group("dateline"):
            month = _month_number(m.group("dl_m"))
            day = int(m.group("dl_d"))
            if month is None:
                continue
            value = {"month": month, "day": day}
            if (iso := _iso(year, month, day)) is not None:
                value["iso"] = iso
        elif m.group("md") or m.group("dm"):
            month = _month_number(m.group("m1") or m.group("m2"))
            day = int(m.group("d1") or m.group("d2"))
            if month is None or not 1 <= day <= 31:
                continue
            if m.group("md") and _ends_before(_THE_BEFORE, text, start, _NEAR_CHARS) and re.match(r"\s+[A-Z]", after):
                continue  # "The April 6 Youth Movement"
            if (m.group("m1") or "").lower() == "may" and not re.match(r"\s+\d", _after(text, m.start("m1") + 3)):
                continue
            y = int(m.group("y1") or m.group("y2") or 0) or year
            value = {"month": month, "day": day}
            if (iso := _iso(y, month, day)) is not None:
                value["iso"] = iso
            if m.group("wd1") or m.group("wd2"):
                value["weekday"] = (m.group("wd1") or m.group("wd2")).capitalize()
        elif m.group("iso"):
            iso = _iso(int(m.group("y3")), int(m.group("m3")), int(m.group("d3")))
            if iso is None:
                continue
            value = {"iso": iso}
        elif m.group("us"):
            iso = _iso(int(m.group("y5")), int(m.group("m5")), int(m.group("d5")))
            if iso is None:
                continue
            value = {"iso": iso}
        elif m.group("my"):
            value = {"month": _month_number(m.group("m6")), "year": int(m.group("y6"))}
        elif m.group("wd"):
            if re.match(r"\s+(?:[A-Z][a-z]+)", after) and not re.match(
                    r"\s+(?:Morning|Afternoon|Evening|Night)\b", after):
                continue  # "The Sunday Times", "the Tuesday Group"
            weekday = WEEKDAYS[m.group("day").lower()]
            value = {"weekday": m.group("day").capitalize()}
            if reference:
                if not future:
                    future.append(bool(_FUTURE.search(text)))
                value["iso"] = _weekday_date(reference, weekday, future[0], m.group("rel_wd")).isoformat()
            on = _ends_before(_ON_BEFORE, text, start, _NEAR_CHARS)
            if on and _blank_before(text, on.start()):
                start = on.start()
        elif m.group("rel"):
            word = re.sub(r"\s+", " ", m.group("rel").lower())
            if word == "today" and (_ends_before(_THE_LOWER_BEFORE, text, start, _NEAR_CHARS) or (text[start].isupper()
                                    and re.match(r"\s+[a-z]+\s+(?:programme|show)", after))):
                continue
            value = {"relative": word}
            ago = re.match(r"(\w+) days? (ago|earlier)", word)
            weeks = re.match(r"(?:(\w+) )?weeks? (?:ago|earlier)$", word)
            if reference and weeks and weeks.group(1) not in ("several", "few"):
                # "two weeks ago": that week, give or take a few days; "weeks ago": at least a week back
                n = _number_value(weeks.group(1)) if weeks.group(1) not in (None, "a", "one") else 1
                if weeks.group(1) is None:
                    value["to"] = (reference - timedelta(days=7)).isoformat()
                elif n:
                    value["from"] = (reference - timedelta(days=7 * int(n) + 3)).isoformat()
                    value["to"] = (reference - timedelta(days=7 * int(n) - 3)).isoformat()
            elif reference and weeks:
                value["to"] = (reference - timedelta(days=7)).isoformat()
            elif reference and re.fullmatch(r"(?:last|this|past|next|earlier\s+this|later\s+this)\s+week", word):
                # the calendar week (Monday to Sunday) it names
                monday = reference - timedelta(days=reference.weekday())
                shift = {"last": -7, "next": 7}.get(word.split()[0], 0)
                first = monday + timedelta(days=shift)
                last = first + timedelta(days=6)
                if word.startswith("earlier"):
                    last = reference
                elif word.startswith("later"):
                    first = reference
                elif word.startswith("past"):
                    first, last = reference - timedelta(days=7), reference
                value.update({"from": first.isoformat(), "to": last.isoformat()})
            elif reference and word in _REL_DAYS:
                value["iso"] = (reference + timedelta(days=_REL_DAYS[word])).isoformat()
            elif reference and ago:
                n = _number_value(ago.group(1)) or (1 if ago.group(1) in ("a", "one") else None)
                if n:
                    value["iso"] = (reference - timedelta(days=int(n))).isoformat()
            elif reference and word in ("earlier this month", "later this month", "this month"):
                value.update(month=reference.month, year=reference.year)
            elif reference and word == "last month":
                previous = reference.replace(day=1) - timedelta(days=1)
                value.update(month=previous.month, year=previous.year)
            elif reference and word == "last year":
                value["year"] = reference.year - 1
            elif reference and word == "next year":
                value["year"] = reference.year + 1
        elif m.group("mo"):
            month_word = m.group("m4")
            if not (m.group("part") or _ends_before(_MONTH_CONTEXT, text, start, _NEAR_CHARS)):
                continue  # "May" the verb or a name, "March" the walk, "June Harper"
            if re.match(r"\s+[A-Z][a-z]", after) and not m.group("part"):
                continue
            value = {"month": _month_number(month_word)}
            part = m.group("part")
            value["part"] = part.lower() if part else None
            edge = _ends_before(_EDGE_BEFORE, text, start, _NEAR_CHARS)
            if edge and not part:
                value["part"] = "late" if edge.group(1).lower() == "end" else "early"  # "at the end of February"
        elif m.group("yr"):
            if not _ends_before(_YEAR_CONTEXT, text, start, _NEAR_CHARS):
                continue
            if re.match(r"\s+(?:people|residents|members|workers|troops|soldiers|homes|votes)\b", after):
                continue
            value = {"year": int(m.group("yr"))}
            prep = _ends_before(_IN_BEFORE, text, start, _NEAR_CHARS)
            if prep and _blank_before(text, prep.start()):
                start = prep.start()
        elif m.group("ord"):
            day = int(m.group("d4"))
            if not 1 <= day <= 31:
                continue
            value = {"day": day}
            if reference and (iso := _iso(reference.year, reference.month, day)) is not None:
                value["iso"] = iso
        span_text = text[start:end]
        if span_text.lower().startswith("on ") and not _blank_before(text, m.start()):
            start += 3
            span_text = text[start:end]
        cues.append(Cue(CueType.DATE, start, end, span_text, value))
    return cues


def _inside_date(text: str, start: int, end: int) -> bool:
    return _Spans((c.start, c.end) for c in find_dates(text)).covers(start, end)


# ------------------------------------------------------------------------------------ attributions

# Auxiliaries and asides between a subject and its reporting verb ("has also", ", on Monday,"). Each
# repetition starts at a word, with the spaces and at most one comma before it, so a run of spaces can be
# split only one way (the former `\s*,?\s*...\s*` nesting backtracked over every split).
_AUX = re.compile(r"(?:\s*(?:,\s*)?(?:has\s+been|has|have|had|also|repeatedly|previously|later|earlier|again|"
                  r"would|will|was|were|is|are|then|now|separately|publicly|already|once|on\s+\w+day|in\s+a\s+"
                  r"statement|on\s+Telegram|in\s+his\s+nightly\s+address))+\s*$", re.IGNORECASE)
_NP_STOP = {"that", "which", "who", "whom", "when", "while", "because", "but", "if", "as", "after", "before",
            "since", "where", "so", "then", "than", "and", "or", "said", "says", "told", "reported", "was", "were",
            "is", "are", "had", "has", "have", "it", "its", "on", "with", "by", "to", "not", "no", "been",
            "could", "would", "will", "may", "might", "should", "can", "did", "do", "does", "there", "this",
            "these", "those"}
_NP_INNER = {"of", "the", "for", "at", "in", "from", "close", "to", "on", "by", "with"}
_PRONOUNS = {"he", "she", "they", "it", "we", "i", "you"}
_NON_AGENT = {"plan", "schedule", "design", "demand", "rules", "law", "tradition", "need", "size"}
_TOKEN_RE = re.compile(rf"[\w{_APOS}.&-]+|[,;:!?“”\"()–—]")


def _np_before(text: str, pos: int, depth: int = 0) -> tuple[int, str] | None:
    """The noun phrase that ends at `pos` (the subject of a reporting verb), as (start, text).

    Reads only the CONTEXT_CHARS before `pos` (a phrase is at most 9 words), and follows at most two
    appositive commas back ("A, B, C said" once recursed over the whole list)."""
    lo = max(0, pos - CONTEXT_CHARS)
    if lo:  # start the window at a word boundary, never inside a token
        space = re.compile(r"\s").search(text, lo, pos)
        lo = space.end() if space else pos
    tokens = list(_TOKEN_RE.finditer(text, lo, pos))
    i = len(tokens) - 1
    start = None
    words = 0
    while i >= 0 and words < 9:
        tok = tokens[i].group(0)
        low = tok.lower()
        if not re.match(r"[\w]", tok):
            break
        if low in _NP_STOP and not (low in _NP_INNER and start is not None):
            if low in _PRONOUNS and start is None:
                start = tokens[i].start()
                words += 1
            break
        if low in _PRONOUNS:
            if start is None:
                start = tokens[i].start()
            break
        start = tokens[i].start()
        words += 1
        i -= 1
    if start is None:
        return None
    # Leading linking words are not part of the phrase ("of the ministry" -> "the ministry").
    phrase = text[start:pos].strip()
    while True:
        first = phrase.split(" ", 1)[0].lower()
        if first in _NP_INNER - {"the"} and " " in phrase:
            phrase = phrase.split(" ", 1)[1]
            start = pos - len(text[start:pos].rstrip()) + (len(text[start:pos].rstrip()) - len(phrase))
            continue
        break
    start = text.index(phrase, start) if phrase in text[start:pos] else start
    # Appositive or aside before a comma: "The union's president, Mara Quint, said";
    # "Two residents, speaking on condition of anonymity, said"; "Interfax, quoting an official, said".
    head_end = _end_before(text, start)
    if depth < 2 and head_end and text[head_end - 1] == ",":
        prev = _np_before(text, head_end - 1, depth + 1)
        if prev is not None and (prev[0] == 0 or _last_before(text, prev[0]) in ".!?“\"") \
                and not re.search(r"\b(?:said|says|told|reported)\b", prev[1]):
            first_word = phrase.split(" ", 1)[0].lower()
            if first_word.endswith("ing") or first_word in ("who", "interviewed", "speaking", "quoting", "citing"):
                return prev  # the aside is dropped
            proper_name = all(w[:1].isupper() for w in phrase.split())
            role_like = len(prev[1].split()) <= 6 and not re.search(r"\b[a-z]+ed\b", prev[1])
            role_start = prev[1][:1].isupper() or prev[1].lower().startswith(("the ", "a ", "an "))
            if proper_name and role_like and role_start:
                return prev[0], text[prev[0]:pos].strip()  # role, then the person's name
    return start, phrase


_NOT_NP_AFTER = re.compile(r"\s+(?:\w+day|Telegram|Facebook|X|state|local|a\b)")


def _np_after(text: str, pos: int) -> tuple[int, str] | None:
    """The noun phrase that starts at `pos` (a source after "according to", "said", "told")."""
    m = re.compile(r"\s+").match(text, pos)
    begin = m.end() if m else pos
    end = begin
    for words, tok in enumerate(_TOKEN_RE.finditer(text, begin)):
        word = tok.group(0)
        low = word.lower().rstrip(".")
        if not re.match(r"\w", word) or (low in _NP_STOP and low not in _NP_INNER) or words >= 8:
            break
        if low in ("on", "in", "at") and words and _NOT_NP_AFTER.match(text, tok.end()):
            break
        end = tok.end()
    if end == begin:
        return None
    phrase = text[begin:end].rstrip(".")
    return begin, phrase


def find_attributions(text: str, lex: Lexicon) -> list[Cue]:
    cues: list[Cue] = []
    matches = sorted(_apply(lex.attribution, text), key=lambda rm: (rm[1].start(), -(rm[1].end() - rm[1].start())))
    reach = -1  # the furthest end of a cue so far
    for rule, m in matches:
        # Every cue starts at or before its match, so at or before this one: the furthest end decides.
        if reach > m.start():
            continue
        cue = _attribution_at(text, rule, m)
        if cue is not None:
            cues.append(cue)
            reach = max(reach, cue.end)
    return cues


_NAME_THEN_ROLE = re.compile(rf"[A-Z][\w{_APOS}-]+(?:\s+[A-Z][\w{_APOS}-]+)+,\s+[^,]{{1,80}},")
_QUOTED_AS_SAYING = re.compile(r"\s+(.+?)\s+as\s+saying\b")


def _attribution_at(text: str, rule: Rule, m: re.Match[str]) -> Cue | None:
    """The attribution one lexicon match makes, if any (reads only the context around the match)."""
    if rule.kind == "marker":
        after = _np_after(text, m.end())
        if after is None or after[1].lower().split()[-1] in _NON_AGENT:
            return None
        return _attribution(text, m.start(), after[0] + len(after[1]), after[1])
    verb = m.group(0).lower()
    aux = _ends_before(_AUX, text, m.start(), 2 * _NEAR_CHARS)
    subject_end = aux.start() if aux else _end_before(text, m.start())
    head_end = _end_before(text, subject_end)
    before = _np_before(text, subject_end) if head_end else None
    inverted = not head_end or text[head_end - 1] in ",”\"’"
    if inverted and head_end and text[head_end - 1] == ",":
        candidate = _np_before(text, head_end - 1)
        if candidate and candidate[0] == 0 and "," in candidate[1] and len(candidate[1].split()) <= 8:
            before, inverted = candidate, False  # "The union's president, Mara Quint, said"
        elif head_end <= 2 * CONTEXT_CHARS and _NAME_THEN_ROLE.fullmatch(text, 0, head_end):
            before, inverted = (0, text[:head_end - 1]), False  # "Mara Quint, general secretary of X, said"
    if verb.startswith("quoted"):
        quoted = _QUOTED_AS_SAYING.match(_after(text, m.end()))
        if quoted and before:
            return _attribution(text, before[0], m.end() + quoted.end(), quoted.group(1))
    if before and not inverted:
        return _attribution(text, before[0], m.end(), before[1])
    after = _np_after(text, m.end())
    if inverted and after and head_end:
        # "..., said Anna Berg, a spokeswoman"; "..., the ministry said" has its source before.
        return _attribution(text, m.start(), after[0] + len(after[1]), after[1])
    if _blank_before(text, m.start()):
        return None  # "Reports of looting...": a sentence does not start with its reporting verb
    return _attribution(text, m.start(), m.end(), None)


def _attribution(text: str, start: int, end: int, source: str | None) -> Cue:
    while end > start and text[end - 1] in ".,;:!? ":
        end -= 1
    if source:
        source = source.strip().rstrip(".,;:!?")
    return Cue(CueType.ATTRIBUTION, start, end, text[start:end], None, source or None)


# ------------------------------------------------------------------------------------------ loaded

def find_loaded(text: str, lex: Lexicon, *, include_neutral: bool = False) -> list[Cue]:
    """Framing and evaluative terms with their frame. Neutral terms ("captured") only on request."""
    cues = []
    for rule, m in _apply(lex.loaded, text):
        if rule.neutral and not include_neutral:
            continue
        if any(f.pattern.fullmatch(m.group(0)) and not _context_ok(f, text, m.start(), m.end())
               for f in lex.loaded_filters):
            continue
        value: dict[str, Any] = {"frame": rule.frame}
        if rule.neutral:
            value["neutral"] = True
        cues.append(Cue(CueType.LOADED, m.start(), m.end(), m.group(0), value))
    return _longest(cues)


# Learned loaded wording (issue 15): a logistic regression over word tokens, fitted on news sentences whose
# biased words trained annotators marked (BABE; benchmarks/fit_loaded_words.py, data compare/data/
# loaded_words.json). It finds the evaluative words no framing list names ("bizarre", "slammed", "radical
# left"); its cues carry frame "evaluative" and `learned`, and only `detect_cues` reports them: the differ's
# framing comparison (`framing_terms`) stays on the curated lexicon.
_WORD = re.compile(rf"\w+(?:[-{_APOS}]\w+)*")
_LEARNED_SKIP_WORDS = frozenset("""
a an the and or but if of to in on at by for with from as is are was were be been being it its this that these
those he she they we you i his her their our your my me him them us who whom whose which what when where why how
not no nor so than then there here also just very more most less least some any all each every both either
neither one two three four five six seven eight nine ten said says say would will can could should may might
must do does did has have had about after before into over under up down out off again further once during
while because until against between through above below only own same too s t don now new mr mrs ms
""".split())


def word_tokens(text: str) -> list[tuple[int, int, str]]:
    """Word tokens (start, end, lower-cased word); hyphenated and apostrophe words stay whole."""
    return [(m.start(), m.end(), m.group(0).lower().replace("’", "'").replace("ʼ", "'")) for m in _WORD.finditer(text)]


def _stem(word: str) -> str:
    for suffix in ("ically", "ally", "ingly", "edly", "ness", "ment", "ing", "ied", "ies", "ly", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def loaded_token_features(text: str) -> list[tuple[int, dict[str, float], tuple[int, int]]]:
    """(index, features, span) for each token that could be a loaded word: not a function word, a number or
    a one- or two-letter word. The features are the token's (word, stem, last letters, capitalisation) and
    its neighbours' words."""
    toks = word_tokens(text)
    out = []
    for i, (s, e, w) in enumerate(toks):
        if w in _LEARNED_SKIP_WORDS or len(w) < 3 or w[0].isdigit():
            continue
        raw = text[s:e]
        feats = {f"w={w}": 1.0, f"st={_stem(w)}": 1.0, f"suf={w[-3:]}": 1.0}
        if raw[0].isupper() and i > 0 and text[toks[i - 1][1]:s].strip() not in (".", "\"", "“", "'"):
            feats["cap"] = 1.0
        if "-" in w:
            feats["hyphen"] = 1.0
        feats[f"p={toks[i - 1][2] if i else '<s>'}"] = 1.0
        feats[f"n={toks[i + 1][2] if i + 1 < len(toks) else '</s>'}"] = 1.0
        out.append((i, feats, (s, e)))
    return out


@lru_cache(maxsize=1)
def _loaded_model() -> dict[str, Any] | None:
    try:
        data = resources.files("compare.data").joinpath("loaded_words.json").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    model: dict[str, Any] = json.loads(data)
    return model


def find_learned_loaded(text: str, lex: Lexicon | None = None) -> list[Cue]:
    """Words the learned loaded-wording model scores at or above its threshold, except in the senses the
    lexicon's loaded filters rule out ("slammed the door", "admitted to hospital")."""
    model = _loaded_model()
    if not model:
        return []
    filters = (lex or lexicon("en")).loaded_filters
    weights, bias, threshold = model["weights"], model["bias"], model["threshold"]
    cues = []
    for _, feats, (s, e) in loaded_token_features(text):
        z = bias + sum(weights.get(f, 0.0) * v for f, v in feats.items())
        p = 1.0 / (1.0 + math.exp(-z))
        if p >= threshold and not any(f.pattern.fullmatch(text[s:e]) and not _context_ok(f, text, s, e)
                                      for f in filters):
            cues.append(Cue(CueType.LOADED, s, e, text[s:e], {"frame": "evaluative", "learned": True,
                                                             "score": round(p, 3)}))
    return cues


def framing_terms(text: str, *, language: str = "en") -> list[Cue]:
    """Loaded and neutral terms for an act (the differ compares how outlets name the same act)."""
    return find_loaded(text, lexicon(language), include_neutral=True)


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
    dates = _Spans((c.start, c.end) for c in cues if c.type == CueType.DATE)
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
